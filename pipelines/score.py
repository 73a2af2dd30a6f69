"""score: recordings -> per-file and per-window sentiment in Parquet.

    python -m pipelines.score --input DIR_GLOB_URL_OR_MANIFEST [--model-dir MODEL] \\
        --output OUT_DIR [--run-date YYYY-MM-DD] [--segment-seconds 3]
        [--hop-seconds 1.5] [--channels auto|mix|split] [--mono-speakers 1|2]
        [Beam options]

Each recording (each of its channels for 2-channel files under the default
``--channels auto``) is read block by block and cut into overlapping windows
(with ``--mono-speakers 2`` a mono call is also diarized at its end, and each
speaker's own speech scored as a channel of its own for ``calls/``);
a recording no longer than one window is scored whole, as one utterance. A
speech detector (by default: speech where Silero VAD or the energy detector
finds it) picks the speech windows, which are scored by Beam's RunInference
with the model, and the windows are aggregated per
recording channel. Features come from the feature config stored with the
model, computed by the same code as featurize.

Writes ``OUT_DIR/files/`` (one row per recording channel), ``OUT_DIR/segments/``
(per window), ``OUT_DIR/calls/`` (per recording: agent and customer side by
side, talk time, non-talk time, overlap, interruptions) and ``OUT_DIR/errors/``
(Parquet; with ``--run-date`` as Hive partitions ``run_date=YYYY-MM-DD/``).
Outputs are staged under ``OUT_DIR/_staging/`` and published only when the
run has succeeded, replacing that date's partition whole, in one recoverable
step (``sentiment_model.publish``); one run at a time per output and date.
Every matched input ends up in ``files/`` or ``errors/``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import re
import sys
import uuid
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
from apache_beam.ml.inference.base import KeyedModelHandler, RunInference

from pipelines import args as cli_args
from pipelines import call_metadata, common, progress, sources
from pipelines import score_fns as fns
from schemas import tables
from sentiment_model import audio as audio_lib
from sentiment_model import publish, starter, storage
from sentiment_model import segments as seg
from sentiment_model.config import FeatureConfig
from sentiment_model.diarize import AGENT_RULES, DiarizeConfig
from sentiment_model.errors import ConfigError
from sentiment_model.model_card import ModelCard
from sentiment_model.talk import TalkConfig

CHANNEL_MODES = ("auto", *audio_lib.CHANNEL_MODES)
STAGING_DIR = publish.STAGING_DIR
RUNS_DIR = "_runs"
TABLES = (tables.FILES_TABLE, tables.SEGMENTS_TABLE, tables.CALLS_TABLE, tables.ERRORS_TABLE)


@dataclass(frozen=True)
class ScoreConfig:
    """Everything a score run was asked to do (saved in ``_runs/<run_id>.json``)."""

    input: str
    model_dir: str
    output: str
    segment: seg.SegmentConfig = dataclasses.field(default_factory=seg.SegmentConfig)
    channels: str = "auto"
    agent_channel: int = 0
    diarize: DiarizeConfig | None = None  # --mono-speakers 2: split a mono mix in two
    call_metadata: str | None = None
    talk: TalkConfig = dataclasses.field(default_factory=TalkConfig)
    run_date: str | None = None
    run_id: str = ""
    batch_size: int = 64
    overwrite: bool = False
    progress_interval_s: float = 10.0

    def validate(self) -> ScoreConfig:
        if self.channels not in CHANNEL_MODES:
            raise ConfigError(f"--channels {self.channels!r}: choose auto, mix or split")
        if self.agent_channel not in (0, 1):
            raise ConfigError(f"--agent-channel {self.agent_channel}: choose 0 or 1")
        self.talk.validate()
        if self.diarize is not None:
            self.diarize.validate()
        cli_args.run_date(self.run_date)
        if self.batch_size < 1:
            raise ConfigError("--batch-size must be positive")
        if not self.run_id:
            raise ConfigError("a score run needs a run_id (config_from_args makes one)")
        self.segment.validate()
        return self

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["segment"] = self.segment.to_dict()
        data["talk"] = self.talk.to_dict()
        data["diarize"] = None if self.diarize is None else self.diarize.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoreConfig:
        data = dict(data)
        data["segment"] = seg.SegmentConfig.from_dict(data["segment"])
        data["talk"] = TalkConfig.from_dict(data.get("talk", {}))
        diarize = data.get("diarize")
        data["diarize"] = None if diarize is None else DiarizeConfig.from_dict(diarize)
        return cls(**data).validate()

    def table_dir(self, table: str, *, staged: bool = False) -> str:
        """Where a table's files go: its partition, or the staging copy of it."""
        root = storage.join(self.output, STAGING_DIR, self.run_id) if staged else self.output
        path = storage.join(root, table)
        if self.run_date and not staged:
            path = storage.join(path, f"{tables.PARTITION_KEY}={self.run_date}")
        return path

    @property
    def lock_key(self) -> str:
        """One score run at a time per output and this key."""
        return f"score-{tables.PARTITION_KEY}={self.run_date}" if self.run_date \
            else "score-unpartitioned"


@dataclass(frozen=True)
class ScorePlan:
    """A validated config plus what start-up found (inputs, the model card)."""

    config: ScoreConfig
    input_spec: sources.InputSpec
    uris: tuple[str, ...]
    card: ModelCard
    progress_board: str | None = None  # pipelines.progress: the shared folder of a local run
    metadata: call_metadata.CallMetadata | None = None  # --call-metadata, read at start-up

    @property
    def metadata_columns(self) -> tuple[str, ...]:
        """The ``--call-metadata`` columns the tables gain (not ``call_id``)."""
        return self.metadata.extra_columns if self.metadata is not None else ()

    @property
    def labels(self) -> tuple[str, ...]:
        return self.card.labels

    @property
    def feature(self) -> FeatureConfig:
        return self.card.feature


def input_shape(card: ModelCard) -> tuple[int | None, ...]:
    """Shape of one model input (``None``: any length)."""
    fc, kind = card.feature, card.input_kind
    if kind == "pooled_sequence":
        return (1, fc.pooled_dims)
    if kind == "image":
        return (fc.image_frames, fc.frame_dims, 1)
    return (None, fc.frame_dims)


def prepare(config: ScoreConfig) -> ScorePlan:
    """Start-up checks, before any work: inputs, model directory, output.

    Raises:
        AudioSentimentError: nothing matched, a missing/incomplete/foreign or
            changed model, an output that holds other outputs.
    """

    config.validate()
    if config.segment.vad != "energy":
        from sentiment_model.vad import silero_model_path

        silero_model_path()  # installed and the pinned version, or one line now
    spec = sources.resolve_input(config.input)
    uris = tuple(sources.list_inputs(spec))
    card = ModelCard.read(starter.resolve(config.model_dir))
    metadata = None
    if config.call_metadata:
        metadata = call_metadata.read_call_metadata(
            config.call_metadata, reserved=call_metadata.table_reserved(card.labels))
    _check_output(config)
    return ScorePlan(config, spec, uris, card, metadata=metadata)


_OWN_PART = re.compile(r"part(-[0-9A-Za-z]+)?-\d{5}-of-\d{5}\.parquet")


def shard_prefix(config: ScoreConfig) -> str:
    """Shards are ``part-RUN_ID-SSSSS-of-NNNNN.parquet``: a run's files never
    take the names of the files they replace."""
    return f"part-{config.run_id}"


def own_files(directory: str) -> list[str]:
    """Score's shards directly inside ``directory`` (what publishing replaces)."""
    return [f.uri for f in storage.match(storage.join(directory, "*.parquet"))
            if _OWN_PART.fullmatch(storage.basename(f.uri))]


def foreign_files(directory: str) -> list[str]:
    """Files under ``directory`` (recursively) that score did not write: all
    but its ``part-[RUN_ID-]SSSSS-of-NNNNN.parquet`` shards directly inside."""
    prefix = directory.rstrip("/") + "/"
    found = storage.match(storage.join(directory, "**", "*"))
    return [f.uri for f in found
            if not _OWN_PART.fullmatch(f.uri[len(prefix):] if f.uri.startswith(prefix)
                                       else storage.basename(f.uri))]


def _check_output(config: ScoreConfig) -> None:
    common.check_writable(config.output)
    for table in TABLES:
        root = storage.join(config.output, table)
        if not storage.exists(root):
            continue
        replaced = config.table_dir(table)
        if storage.exists(replaced):
            # the commit replaces this folder whole: it must hold score's shards only
            foreign = foreign_files(replaced)
            if config.run_date is None:
                foreign = [u for u in foreign if f"/{tables.PARTITION_KEY}=" not in u]
            if foreign:
                raise ConfigError(
                    f"--output {config.output}: {table}/ holds {len(foreign)} file(s) score did "
                    f"not write (e.g. {foreign[0]}); move them or use another --output")
        parquet = [f.uri for f in storage.match(storage.join(root, "*.parquet"))]
        partitions = storage.match(storage.join(root, f"{tables.PARTITION_KEY}=*", "*"))
        if config.run_date and parquet:
            raise ConfigError(f"--output {config.output}: {table}/ holds unpartitioned files of "
                              "a run without --run-date; use another --output for nightly runs")
        if not config.run_date and partitions:
            raise ConfigError(f"--output {config.output}: {table}/ holds run_date partitions; "
                              "pass --run-date or use another --output")
        if not config.run_date and parquet and not config.overwrite:
            raise ConfigError(f"--output {config.output} already holds scores; pass "
                              "--overwrite to replace them (or --run-date for partitions)")


# ================================================================= pipeline
def build_pipeline(p: beam.Pipeline, plan: ScorePlan) -> dict[str, beam.PCollection]:
    """Attaches the score transforms to ``p``; they write the staged tables.

    Returns:
        the ``files``, ``segments``, ``calls`` and ``errors`` row PCollections.
    """
    config, card = plan.config, plan.card
    labels = plan.labels
    side = {}
    if config.call_metadata:
        side["metadata"] = beam.pvalue.AsDict(
            p
            | "CallMetadataUri" >> beam.Create([config.call_metadata])
            | "ReadCallMetadata" >> beam.ParDo(call_metadata.ReadCallMetadataFn(
                reserved=sorted(call_metadata.table_reserved(labels)))))

    uris, match_errors = p | "MatchAudio" >> sources.MatchAudio(plan.input_spec)
    read = (
        uris
        | "ReshuffleFiles" >> beam.Reshuffle()
        | "SegmentAudio" >> beam.ParDo(fns.SegmentAudioFn(
            feature=plan.feature, segment=config.segment, channels=config.channels,
            input_kind=card.input_kind, norm=card.normalization,
            total=len(plan.uris), interval_s=config.progress_interval_s,
            board=plan.progress_board, diarize=config.diarize,
        )).with_outputs("skipped", "summaries", "errors", main="inputs")
    )
    valid = read.inputs | "ValidateInputs" >> beam.ParDo(
        fns.ValidateInputFn(input_shape=input_shape(card))
    ).with_outputs("errors", "rejected", main="valid")
    handler = KeyedModelHandler(fns.SentimentModelHandler(
        config.model_dir, max_batch_size=config.batch_size,
        pad_frames=fns.window_frames(plan.feature, config.segment, card.input_kind)))
    predictions, dlq = valid.valid | "RunInference" >> RunInference(
        handler).with_exception_handling()
    scored = predictions | "ToScoredSegments" >> beam.ParDo(fns.ToScoredSegmentFn())
    failed = dlq.failed_inferences | "FailedBatches" >> beam.ParDo(
        fns.FailedBatchFn()).with_outputs("rejected", main="errors")

    segments = (
        [scored, read.skipped, valid.rejected, failed.rejected]
        | "FlattenSegments" >> beam.Flatten()
    )
    grouped = (
        {"summary": read.summaries, "segments": segments}
        | "GroupByChannel" >> beam.CoGroupByKey()
        | "AggregateChannels" >> beam.ParDo(fns.AggregateChannelFn(
            labels=labels, model_version=card.model_version,
            architecture=card.architecture, run_id=config.run_id,
            agent_channel=config.agent_channel, metadata_columns=plan.metadata_columns,
        ), **side).with_outputs("segments", "calls", "errors", main="files")
    )
    calls = (
        grouped.calls
        | "GroupByCall" >> beam.GroupByKey()
        | "BuildCalls" >> beam.ParDo(fns.BuildCallFn(
            labels=labels, agent_channel=config.agent_channel, talk=config.talk,
            model_version=card.model_version, architecture=card.architecture,
            run_id=config.run_id, metadata_columns=plan.metadata_columns), **side)
    )
    errors = (
        [match_errors, read.errors, valid.errors, failed.errors, grouped.errors]
        | "FlattenErrors" >> beam.Flatten()
    )
    outputs = {tables.FILES_TABLE: grouped.files, tables.SEGMENTS_TABLE: grouped.segments,
               tables.CALLS_TABLE: calls, tables.ERRORS_TABLE: errors}
    extra = call_metadata.metadata_fields(plan.metadata_columns)
    schemas = {tables.FILES_TABLE: tables.files_schema(labels, extra),
               tables.SEGMENTS_TABLE: tables.segments_schema(labels),
               tables.CALLS_TABLE: tables.calls_schema(labels, extra),
               tables.ERRORS_TABLE: tables.ERRORS_SCHEMA}
    for table, rows in outputs.items():
        (rows
         | f"Redact{table.title()}" >> beam.Map(common.redacted)
         | f"Write{table.title()}" >> beam.io.WriteToParquet(
            storage.join(config.table_dir(table, staged=True), shard_prefix(config)),
            schema=tables.with_metadata(schemas[table], table=table,
                                        project_version=common.project_version(),
                                        model_version=card.model_version,
                                        descriptions=call_metadata.descriptions(
                                            plan.metadata_columns)),
            codec=common.PARQUET_CODEC,
            shard_name_template="-SSSSS-of-NNNNN",
            file_name_suffix=".parquet",
        ))
    return outputs


# ================================================================== commit
def count_rows(directory: str, *, with_uris: bool = True) -> tuple[int, set[str]]:
    """Rows (from the Parquet footers) and, with ``with_uris``, the distinct
    URIs of the Parquet files in ``directory``."""
    import pyarrow.parquet as pq

    rows, uris = 0, set()
    for info in storage.match(storage.join(directory, "*.parquet")):
        with storage.open_read(info.uri) as f:
            parquet = pq.ParquetFile(f)
            rows += parquet.metadata.num_rows
            if with_uris:
                uris.update(parquet.read(columns=["uri"]).column("uri").to_pylist())
    return rows, uris


def commit(plan: ScorePlan) -> dict:
    """Publishes the staged tables and the run record in one recoverable step.

    Each table's partition (or the whole table without ``--run-date``) is
    replaced whole: the new shards are moved in, ``_runs/RUN_ID.json`` is
    written, then the old shards are deleted (:func:`sentiment_model.publish.
    publish`; a run killed meanwhile is finished by the next one).

    Returns:
        the run record (counts and accounting).
    """
    config = plan.config
    counts, seen = {}, {}
    for table in TABLES:
        counts[table], seen[table] = count_rows(
            config.table_dir(table, staged=True),
            with_uris=table in (tables.FILES_TABLE, tables.ERRORS_TABLE))
    matched = {storage.redact(u) for u in plan.uris}  # as the tables hold them
    scored_uris = seen[tables.FILES_TABLE]
    rejected_uris = seen[tables.ERRORS_TABLE] - scored_uris
    lost = sorted(matched - scored_uris - rejected_uris)
    record = {
        "run_id": config.run_id,
        "run_date": config.run_date,
        "finished_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "config": config.to_dict(),
        "model_version": plan.card.model_version,
        "model_architecture": plan.card.architecture,
        "rows": counts,
        "accounting": {"matched": len(matched), "scored": len(scored_uris & matched),
                       "rejected_only": len(rejected_uris & matched), "lost": len(lost)},
        "lost": lost[:100],
    }
    if plan.metadata is not None:
        record["call_metadata"] = call_metadata.accounting(plan.metadata, plan.uris)
    moves, deletes = [], []
    for table in TABLES:
        staged, place = config.table_dir(table, staged=True), config.table_dir(table)
        moves += [(uri, storage.join(place, storage.basename(uri))) for uri in own_files(staged)]
        deletes += own_files(place)
    text = storage.redact(json.dumps(record, indent=2))  # credentials never stored
    run_record = storage.join(config.output, RUNS_DIR, f"{config.run_id}.json")
    publish.publish(config.output, publish.Publication(
        run_id=config.run_id, key=config.lock_key, moves=tuple(moves),
        writes=((run_record, text + "\n"),), deletes=tuple(deletes)))
    return json.loads(text)


# ====================================================================== CLI
def parse_known_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    """(score's options, Beam's options); an option neither knows raises
    ConfigError. The --x_y spellings are for Dataflow Flex Template parameters."""
    parser = cli_args.job_parser("score", __doc__)
    d = seg.SegmentConfig()
    parser.add_argument("--input", required=True,
                        help="directory (recursive), glob, gs:// / s3:// URI, fsspec URL or "
                             "manifest (.txt or .csv with a 'path' column)")
    parser.add_argument("--model-dir", "--model_dir",
                        help="a model exported by `audio-sentiment train` (local or cloud); "
                             "default: the starter model packaged with audio-sentiment "
                             "(acted German and Amharic speech; see its model card)")
    cli_args.add_output(parser, help="output root (local, gs://, s3://)", required=True)
    parser.add_argument("--run-date", "--run_date", type=cli_args.run_date,
                        help="YYYY-MM-DD: write (replace) the run_date=... partition of each "
                             "table")
    parser.add_argument("--segment-seconds", "--segment_seconds", type=float, default=d.segment_s,
                        help="window length in seconds (default: %(default)s)")
    parser.add_argument("--hop-seconds", "--hop_seconds", type=float, default=d.hop_s,
                        help="step between windows in seconds (default: %(default)s)")
    parser.add_argument("--channels", default="auto", choices=CHANNEL_MODES,
                        help="auto (default): each channel of 2-channel files (agent and "
                             "customer), a mono mix otherwise; mix; split")
    parser.add_argument("--agent-channel", "--agent_channel", type=int, default=0,
                        choices=(0, 1),
                        help="the agent's channel of 2-channel files, the other is the "
                             "customer's (default: %(default)s)")
    parser.add_argument("--mono-speakers", "--mono_speakers", type=int, default=1,
                        choices=(1, 2),
                        help="voices in a mono recording: 1 (default: one voice, calls/ roles "
                             "'mix') or 2 (a mono call: diarized into agent and customer, who "
                             "fill calls/' role columns; about 1 CPU-second more per 40 s of call)")
    parser.add_argument("--agent-speaker", "--agent_speaker", choices=AGENT_RULES,
                        help="with --mono-speakers 2: the agent is the speaker heard first "
                             "(default, as when the agent answers) or second")
    parser.add_argument("--call-metadata", "--call_metadata",
                        help="CSV with a path column and the recorder's call_id, agent_id, "
                             "queue, started_at or any other columns, joined into calls/ and "
                             "files/ (inputs without a row are still scored)")
    parser.add_argument("--vad", default=d.vad, choices=("either", "silero", "energy"),
                        help="speech detector: either (default: speech where Silero VAD or "
                             "the energy detector finds it), silero (Silero VAD alone; "
                             "ignores tones and music) or energy (level above the noise floor)")
    parser.add_argument("--vad-threshold", type=float, default=d.vad_threshold,
                        help="silero: speech probability threshold (default: %(default)s)")
    parser.add_argument("--vad-margin-db", type=float, default=d.vad_margin_db,
                        help="energy: speech is this many dB above the noise floor "
                             "(default: %(default)s)")
    parser.add_argument("--vad-min-dbfs", type=float, default=d.vad_min_dbfs,
                        help="energy: and above this level in dBFS (default: %(default)s)")
    parser.add_argument("--batch-size", "--batch_size", type=int, default=64,
                        help="windows per model call, at most (default: %(default)s)")
    parser.add_argument("--overwrite", action="store_true",
                        help="without --run-date: replace the scores already in --output")
    parser.add_argument("--progress-interval", type=float, default=10.0,
                        help="seconds between progress lines, 0 for none (default: "
                             "%(default)s)")
    return cli_args.parse_job_args(parser, argv, beam=True)


def config_from_args(args: argparse.Namespace) -> ScoreConfig:
    segment = dataclasses.replace(seg.SegmentConfig(), segment_s=args.segment_seconds,
                                  hop_s=args.hop_seconds, vad=args.vad,
                                  vad_threshold=args.vad_threshold,
                                  vad_margin_db=args.vad_margin_db,
                                  vad_min_dbfs=args.vad_min_dbfs)
    segment = dataclasses.replace(segment, min_segment_s=min(segment.min_segment_s,
                                                             segment.segment_s),
                                  block_s=max(segment.block_s, segment.segment_s))
    return ScoreConfig(
        input=sources.absolute(args.input),
        model_dir=sources.absolute(args.model_dir) if args.model_dir else starter.REF,
        output=sources.absolute(args.output), segment=segment, channels=args.channels,
        agent_channel=args.agent_channel, diarize=diarize_config(args),
        call_metadata=sources.absolute(args.call_metadata) if args.call_metadata else None,
        run_date=args.run_date, run_id=uuid.uuid4().hex[:16], batch_size=args.batch_size,
        overwrite=args.overwrite, progress_interval_s=args.progress_interval,
    ).validate()


def diarize_config(args: argparse.Namespace) -> DiarizeConfig | None:
    """``--mono-speakers 2``'s diarization, with ``--agent-speaker``."""
    if args.mono_speakers == 1:
        if args.agent_speaker is not None:
            raise ConfigError("--agent-speaker needs --mono-speakers 2 (a mono recording is "
                              "one voice otherwise)")
        return None
    return DiarizeConfig(agent=args.agent_speaker or "first")


def summarize(record: dict, config: ScoreConfig) -> str:
    acc, rows = record["accounting"], record["rows"]
    where = f" (run_date={config.run_date})" if config.run_date else ""
    lines = [
        f"score: {acc['matched']} files matched -> {acc['scored']} scored, "
        f"{acc['rejected_only']} rejected, {acc['lost']} unaccounted",
        f"score: {rows['files']} file rows, {rows['segments']} segment rows, "
        f"{rows['calls']} call rows, {rows['errors']} error rows in "
        f"{config.output}/{{files,segments,calls,errors}}{where}",
    ]
    meta = record.get("call_metadata")
    if meta is not None:
        lines.append(
            f"score: --call-metadata: {meta['matched']} of {meta['rows']} rows matched an "
            f"input; {meta['inputs_without_row']} inputs without a row, "
            f"{meta['rows_without_input']} rows without an input, {meta['rows_with_problems']} "
            "rows with problems (listed in the run record)")
    return "\n".join(lines)


def run(argv: list[str] | None = None, test_pipeline: beam.Pipeline | None = None) -> dict:
    """Runs score; returns the run record.

    Raises:
        AudioSentimentError: on bad arguments, inputs or model, before any work.
    """
    args, pipeline_args = parse_known_args(argv)
    storage.configure(pipeline_args)
    config = config_from_args(args)
    common.recover_output(config.output, key=config.lock_key, run_id=config.run_id,
                          job=fns.JOB)
    plan = prepare(config)
    if config.model_dir == starter.REF:
        common.LOG.info("score: no --model-dir: scoring with the packaged %s",
                        starter.describe(plan.card))
    with common.locked_output(config.output, key=config.lock_key, run_id=config.run_id,
                              job=fns.JOB):
        common.LOG.info("score: %d input files matched by %s; model %s (%s)", len(plan.uris),
                        storage.redact(plan.input_spec.source), plan.card.architecture,
                        plan.card.model_version[:12])
        p, workers = common.job_pipeline(
            pipeline_args, job=fns.JOB, n_inputs=len(plan.uris), test_pipeline=test_pipeline,
            audio_s=None if test_pipeline is not None else common.local_audio_seconds(plan.uris))
        with progress.ProgressLine(fns.JOB, len(plan.uris),
                                   interval_s=config.progress_interval_s) as line:
            if test_pipeline is not None or common.is_local(p):
                plan = dataclasses.replace(plan, progress_board=line.board)
            build_pipeline(p, plan)
            with common.one_thread_workers(workers):
                line.wait(p.run(), remote=plan.progress_board is None)
        record = commit(plan)
    print(storage.redact(summarize(record, config)), file=sys.stderr)
    return record


if __name__ == "__main__":
    # Run the imported module, not this __main__ copy (DoFns must pickle by name).
    from pipelines.cli import main

    sys.exit(main(["score", *sys.argv[1:]]))
