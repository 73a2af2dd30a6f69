"""The ``audio-sentiment`` command: one subcommand per job.

    audio-sentiment featurize --input ... --output ... [Beam options]
    audio-sentiment train --features DIR --model-dir DIR [--architecture NAME]
    audio-sentiment score --input ... --model-dir DIR --output DIR [--run-date D]
    audio-sentiment report --scores DIR --out DIR
    audio-sentiment evaluate --scores DIR --labels labels.csv [--out DIR]
    audio-sentiment make-demo-data --output DIR
    audio-sentiment demo [--workdir build/demo]

Arguments a subcommand does not know are passed to Beam's PipelineOptions
(``--runner``, ``--direct_num_workers``, ``--project`` ...).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable

from pipelines.process import skip_gc_at_exit
from sentiment_model.errors import AudioSentimentError

SUBCOMMANDS = {
    "featurize": ("pipelines.featurize", "MFCC features -> TFRecord shards (Beam job)"),
    "train": ("sentiment_model.train", "train a model on featurize shards and export it"),
    "score": ("pipelines.score", "score recordings with a model -> Parquet (Beam job)"),
    "report": ("pipelines.report", "HTML report with charts from score outputs"),
    "evaluate": ("pipelines.evaluate", "scores against ground-truth labels"),
    "compare": ("sentiment_model.compare", "train several architectures, one comparison table"),
    "make-demo-data": ("pipelines.demo", "write the generated demo corpus"),
    "demo": ("pipelines.demo", "generate demo audio and run the pipeline on it"),
}


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s",
                        datefmt="%H:%M:%S", stream=sys.stderr)
    for noisy in ("apache_beam", "absl", "tensorflow", "numba"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def run_job(job: Callable, argv: list[str] | None, *, debug: bool = False) -> int:
    """Runs ``job(argv)``. A project error prints one line and exits with
    status 2, any other failure one line and status 1 (``debug``: raised,
    with its traceback); URLs in them are shown without credentials."""
    from sentiment_model.storage import redact

    configure_logging()
    try:
        job(argv)
    except AudioSentimentError as exc:
        if debug:
            raise
        print(f"audio-sentiment: error: {redact(str(exc))}", file=sys.stderr)
        return 2
    except Exception as exc:
        if debug:
            raise
        text = redact(" ".join(str(exc).split()))[:500]
        print(f"audio-sentiment: error: {type(exc).__name__}: {text} "
              "(--debug shows the traceback)", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in SUBCOMMANDS:
        width = max(len(name) for name in SUBCOMMANDS)
        lines = ["usage: audio-sentiment COMMAND [options] [Beam options]", "", "commands:"]
        lines += [f"  {name.ljust(width)}  {text}" for name, (_, text) in SUBCOMMANDS.items()]
        lines += ["", "audio-sentiment COMMAND --help shows a command's options; --debug "
                  "shows the traceback of a failure."]
        print("\n".join(lines), file=sys.stderr if argv and argv[0] not in ("-h", "--help")
              else sys.stdout)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    import importlib

    skip_gc_at_exit()
    command, rest = argv[0], argv[1:]
    debug = "--debug" in rest
    rest = [a for a in rest if a != "--debug"]
    module = importlib.import_module(SUBCOMMANDS[command][0])
    if command == "make-demo-data":
        return run_job(module.run_make_data, rest, debug=debug)
    return run_job(module.run, rest, debug=debug)


if __name__ == "__main__":
    sys.exit(main())
