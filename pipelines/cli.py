"""The ``audio-sentiment`` command: one subcommand per job.

    audio-sentiment featurize --input ... --output ... [Beam options]
    audio-sentiment train --features DIR --model-dir DIR [--architecture NAME]
    audio-sentiment score --input ... --model-dir DIR --output DIR [--run-date D]
    audio-sentiment report --scores DIR --output DIR
    audio-sentiment evaluate --scores DIR --labels labels.csv [--output DIR]
    audio-sentiment compare --features DIR [--features DIR ...] --output DIR
    audio-sentiment make-demo-data --output DIR
    audio-sentiment demo [--workdir build/demo]

featurize, score and demo pass the options Beam registers (``--runner``,
``--direct_num_workers``, ``--project`` ...) to Beam's PipelineOptions; a
word neither the command nor Beam knows stops it before any work (status 2).
Every command but ``make-demo-data`` also runs as ``python -m
pipelines.<command>``, with the same options.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import warnings
from collections.abc import Callable

from pipelines.process import skip_gc_at_exit
from sentiment_model import quiet
from sentiment_model.errors import AudioSentimentError

SUBCOMMANDS = {
    "featurize": ("pipelines.featurize", "MFCC features -> TFRecord shards (Beam job)"),
    "train": ("pipelines.train", "train a model on featurize shards and export it"),
    "score": ("pipelines.score", "score recordings with a model -> Parquet (Beam job)"),
    "report": ("pipelines.report", "HTML report with charts from score outputs"),
    "evaluate": ("pipelines.evaluate", "scores against ground-truth labels"),
    "compare": ("pipelines.compare", "train several architectures, one comparison table"),
    "make-demo-data": ("pipelines.demo", "write the generated demo corpus"),
    "demo": ("pipelines.demo", "generate demo audio and run the pipeline on it"),
}


# options of every command, taken out before the command parses its own
GLOBAL_FLAGS = ("--debug", "--verbose")
# commands whose work runs TensorFlow, imported up front without its start-up lines
TENSORFLOW_COMMANDS = ("train", "score", "compare", "demo")
# warnings of Beam's local workers that ask nothing of the user
_WORKER_NOISE = ("No semi_persistent_directory found", "Resource module is not available")
_WORKER_MESSAGE = re.compile(r'message: "((?:[^"\\]|\\.)*)"')


class _WorkerLines(logging.Filter):
    """Beam's local runner logs each worker-process record as its whole
    protobuf (``Worker: severity: WARN timestamp {...} message: "..."
    log_location: ...``): keep the message, drop the ones in ``_WORKER_NOISE``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not (isinstance(record.msg, str) and record.msg.startswith("Worker: ")):
            return not any(noise in record.getMessage() for noise in _WORKER_NOISE)
        text = record.getMessage()
        found = _WORKER_MESSAGE.search(text)
        message = found.group(1).encode().decode("unicode_escape") if found else text
        if any(noise in message for noise in _WORKER_NOISE):
            return False
        record.msg, record.args = "worker: %s", (message,)
        return True


def configure_logging(*, verbose: bool = False) -> None:
    """INFO lines with the time on stderr; Beam, absl, TensorFlow and numba
    at WARNING, and Beam's worker records shortened (``verbose``: all of it)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s",
                        datefmt="%H:%M:%S", stream=sys.stderr)
    if verbose:
        return
    # Keras says this at the end of every first epoch over a tf.data dataset of
    # unknown length (all of train's): the epoch ends when the data does
    warnings.filterwarnings("ignore", message="Your input ran out of data",
                            category=UserWarning)
    for noisy in ("apache_beam", "absl", "tensorflow", "numba"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _WorkerLines) for f in handler.filters):
            handler.addFilter(_WorkerLines())


def run_job(job: Callable, argv: list[str] | None, *, debug: bool = False,
            verbose: bool = False) -> int:
    """Runs ``job(argv)``. A project error prints one line and exits with
    status 2, any other failure one line and status 1 (``debug``: raised,
    with its traceback); URLs in them are shown without credentials."""
    from sentiment_model.storage import redact

    configure_logging(verbose=verbose)
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
    verbose = "--verbose" in argv[1:]
    if verbose:
        os.environ[quiet.VERBOSE_ENV] = "1"  # Beam's worker processes inherit it
    quiet.set_tensorflow_log_level()  # before TensorFlow is imported
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in SUBCOMMANDS:
        width = max(len(name) for name in SUBCOMMANDS)
        lines = ["usage: audio-sentiment COMMAND [options] [Beam options]", "", "commands:"]
        lines += [f"  {name.ljust(width)}  {text}" for name, (_, text) in SUBCOMMANDS.items()]
        lines += ["", "audio-sentiment COMMAND --help shows a command's options; --debug "
                  "shows the traceback of a failure; --verbose shows Beam's and "
                  "TensorFlow's own log lines."]
        print("\n".join(lines), file=sys.stderr if argv and argv[0] not in ("-h", "--help")
              else sys.stdout)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    import importlib

    skip_gc_at_exit()
    command, rest = argv[0], argv[1:]
    debug = "--debug" in rest
    rest = [a for a in rest if a not in GLOBAL_FLAGS]
    if command in TENSORFLOW_COMMANDS:
        quiet.import_tensorflow()
    module = importlib.import_module(SUBCOMMANDS[command][0])
    job = module.run_make_data if command == "make-demo-data" else module.run
    return run_job(job, rest, debug=debug, verbose=verbose)


if __name__ == "__main__":
    sys.exit(main())
