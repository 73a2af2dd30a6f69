"""Flex Template entry point: ``JOB=featurize|score python launch.py --param=value ...``.

The launcher passes the template parameters and Dataflow's own options as
``--name=value`` arguments; they go to the same CLI a local run uses.
"""

import os
import sys

from pipelines.cli import main

if __name__ == "__main__":
    job = os.environ.get("JOB", "score")
    if job not in ("featurize", "score"):
        sys.exit(f"JOB must be featurize or score, not {job!r}")
    sys.exit(main([job, *sys.argv[1:]]))
