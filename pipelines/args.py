"""Command-line rules every job shares.

* An option that neither the job nor Beam knows stops the job before any
  work, with a suggestion (``--segment-second: unknown option; did you mean
  --segment-seconds?``); only options Beam registers (``PipelineOptions``
  subclasses: standard, direct, Dataflow, Flink, Spark, portable ...) are
  handed to Beam. Jobs without a pipeline (train, report, evaluate ...)
  accept Beam's storage options only (``--s3_endpoint_url`` ...,
  :data:`STORAGE_OPTION_CLASSES`), for the storage they read and write.
* ``--output`` names every job's output; ``--out`` is still read, with a
  warning (:data:`OLD_SPELLINGS`).
* ``--run-date`` is exactly ``YYYY-MM-DD``.
"""

from __future__ import annotations

import argparse
import datetime
import difflib
import re
import sys
from collections.abc import Iterable

from sentiment_model.errors import ConfigError

_RUN_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def job_parser(job: str, description: str | None) -> argparse.ArgumentParser:
    """The parser of ``audio-sentiment JOB`` (no abbreviations: ``--run`` must
    never be taken for ``--run-date``, nor a Beam option for one of ours)."""
    return argparse.ArgumentParser(prog=f"audio-sentiment {job}", description=description,
                                   formatter_class=argparse.RawDescriptionHelpFormatter,
                                   allow_abbrev=False)


# earlier spellings still read (with a warning), for one release
OLD_SPELLINGS = {"--out": "--output"}


def add_output(parser: argparse.ArgumentParser, *, help: str, required: bool) -> None:
    """``--output DIR`` (its old spelling ``--out`` is rewritten by
    :func:`parse_job_args`)."""
    parser.add_argument("--output", required=required, help=help)


def _new_spellings(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    known = set(_option_strings(parser))
    out = []
    for word in argv:
        name, sep, value = word.partition("=")
        new = OLD_SPELLINGS.get(name)
        if new in known and name not in known:
            print(f"{parser.prog}: {name} is the old spelling of {new}, read as {new}; it "
                  "will go in a later release", file=sys.stderr)
            word = new + sep + value
        out.append(word)
    return out


def run_date(text: str | None) -> str | None:
    """``text`` checked as a ``run_date`` partition value (``YYYY-MM-DD``).

    Raises:
        ConfigError: any other spelling (``20261124``, ``2026-W48-2`` ...),
            or not a calendar day.
    """
    if text is None:
        return None
    try:
        if not _RUN_DATE.fullmatch(text):
            raise ValueError
        datetime.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--run-date {text!r}: expected a day as YYYY-MM-DD, "
                          "e.g. 2026-11-24") from None
    return text


STORAGE_OPTION_CLASSES = ("S3Options",)


def _beam_parser(*, storage_only: bool = False) -> argparse.ArgumentParser:
    """Every option Beam registers, the way ``PipelineOptions`` reads them
    (``storage_only``: those of :data:`STORAGE_OPTION_CLASSES`)."""
    from apache_beam.options.pipeline_options import PipelineOptions, _BeamArgumentParser

    parser = _BeamArgumentParser(allow_abbrev=False, add_help=False)
    classes: dict[str, type] = {}
    for cls in PipelineOptions.__subclasses__():
        if not storage_only or cls.__name__ in STORAGE_OPTION_CLASSES:
            classes.setdefault(str(cls), cls)
    for cls in classes.values():
        cls._add_argparse_args(parser)
    return parser


def _option_strings(parser: argparse.ArgumentParser) -> list[str]:
    return [s for action in parser._actions if action.help is not argparse.SUPPRESS
            for s in action.option_strings if s.startswith("--")]


def unknown_message(unknown: Iterable[str], known: list[str]) -> str:
    """One line naming each unknown word, with the closest known option."""
    parts = []
    previous_was_option = False
    for word in unknown:
        if word.startswith("-") and word != "-":
            name = word.split("=", 1)[0]
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            parts.append(f"{name}: unknown option"
                         + (f"; did you mean {close[0]}?" if close else ""))
            previous_was_option = "=" not in word
        elif not previous_was_option:
            parts.append(f"{word!r}: unexpected argument (options start with --)")
        else:
            previous_was_option = False  # the unknown option's value
    return "; ".join(parts)


def parse_job_args(parser: argparse.ArgumentParser, argv: list[str] | None, *,
                   beam: bool) -> tuple[argparse.Namespace, list[str]]:
    """Parses a job's arguments.

    Args:
        parser: the job's own options.
        argv: the words after the job name (``None``: ``sys.argv[1:]``).
        beam: the job runs a Beam pipeline, so Beam's options are allowed
            (otherwise only its storage options).

    Returns:
        (the job's options, the words for Beam's ``PipelineOptions``: hand
        them to :func:`sentiment_model.storage.configure`).

    Raises:
        ConfigError: a word neither the job nor Beam knows.
    """
    argv = _new_spellings(parser, list(sys.argv[1:] if argv is None else argv))
    args, rest = parser.parse_known_args(argv)
    known = _option_strings(parser)
    unknown = rest
    if rest:
        beam_parser = _beam_parser(storage_only=not beam)
        _, unknown = beam_parser.parse_known_args(rest)
        known += _option_strings(beam_parser)
    if unknown:
        raise ConfigError(unknown_message(unknown, known)
                          + f" ({parser.prog} --help lists the options)")
    return args, list(rest)
