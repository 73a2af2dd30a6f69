"""featurize: audio anywhere -> MFCC features -> schema-checked TFRecord shards.

    python -m pipelines.featurize --input DIR_GLOB_URL_OR_MANIFEST \\
        [--labels labels.csv] --output OUT_DIR [--preset default] [Beam options]

Writes ``OUT_DIR/{train,eval,test}-SSSSS-of-NNNNN.tfrecord.gz`` (gzip'd
``tf.train.Example``s, see ``schemas/features.py``), ``schema.pbtxt``,
``feature_config.json``, ``metadata.json`` and ``errors/errors-*.parquet``
(one row per rejected input). Every matched input ends up in the shards or
in the errors; ``metadata.json["accounting"]`` proves it. The run writes under
``OUT_DIR/_staging/`` and publishes into ``OUT_DIR`` only when it has
succeeded (with ``--overwrite``, the earlier dataset stays until then); one
run at a time per output.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import uuid
from dataclasses import dataclass
from typing import Any

import apache_beam as beam

from pipelines import args as cli_args
from pipelines import common, labels, progress, sources, stats
from pipelines import featurize_fns as fns
from pipelines.tfrecord_sink import WriteTFRecords
from schemas import features as fk
from schemas import metadata as meta
from sentiment_model import audio as audio_lib
from sentiment_model import publish, storage
from sentiment_model.augment import RECOMMENDED as RECOMMENDED_AUGMENT
from sentiment_model.augment import AugmentConfig
from sentiment_model.config import PRESETS, FeatureConfig, preset
from sentiment_model.errors import ConfigError

SHARD_SUFFIXES = {"gzip": ".tfrecord.gz", "none": ".tfrecord"}
# what featurize writes (and --overwrite removes): nothing else in --output is touched
OWNED_OUTPUTS = (*(f"{split}-*-of-*{suffix}" for split in fk.SPLITS
                   for suffix in SHARD_SUFFIXES.values()),
                 meta.METADATA_FILE, meta.SCHEMA_FILE, meta.FEATURE_CONFIG_FILE,
                 f"{meta.ERRORS_DIR}/errors-*-of-*.parquet")


# ===================================================================== config
@dataclass(frozen=True)
class FeaturizeConfig:
    """Everything a featurize run was asked to do (saved in metadata.json)."""

    input: str
    output: str
    feature: FeatureConfig
    labels: str | None = None
    label_map: dict[str, str] | None = None
    classes: tuple[str, ...] | None = None
    channels: str = "mix"
    split_ratios: dict[str, float] = dataclasses.field(
        default_factory=lambda: {"train": 0.8, "eval": 0.1, "test": 0.1})
    split_seed: int = 0
    num_shards: int = 0
    compression: str = "gzip"
    augment: AugmentConfig = fns.NO_AUGMENTATION
    overwrite: bool = False
    progress_interval_s: float = 10.0
    run_id: str = ""

    def validate(self) -> FeaturizeConfig:
        if not self.run_id:
            raise ConfigError("a featurize run needs a run_id (config_from_args makes one)")
        if self.channels not in audio_lib.CHANNEL_MODES:
            raise ConfigError(f"--channels {self.channels!r}: choose mix or split")
        if self.compression not in SHARD_SUFFIXES:
            raise ConfigError(f"--compression {self.compression!r}: choose gzip or none")
        if self.num_shards < 0:
            raise ConfigError("--num-shards must be >= 0 (0 lets the runner decide)")
        self.feature.validate()
        self.augment.validate()
        if self.augment.enabled and not self.labels:
            raise ConfigError("--augment needs --labels: augmented copies only serve "
                              "training, and unlabelled examples are never trained on")
        return self

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["feature"] = self.feature.to_dict()
        data["augment"] = self.augment.to_dict()
        data["classes"] = list(self.classes) if self.classes else None
        return data

    @property
    def staged_output(self) -> str:
        """Where the run writes; published into ``output`` when it has succeeded."""
        return publish.staging_dir(self.output, self.run_id)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeaturizeConfig:
        data = dict(data)
        data["feature"] = FeatureConfig.from_dict(data["feature"])
        data["augment"] = AugmentConfig.from_dict(data.get("augment") or {})
        if data.get("classes"):
            data["classes"] = tuple(data["classes"])
        return cls(**data).validate()


@dataclass(frozen=True)
class FeaturizePlan:
    """A validated config plus what start-up found out (inputs, labels, splits)."""

    config: FeaturizeConfig
    input_spec: sources.InputSpec
    n_inputs: int
    label_table: labels.LabelTable | None
    speaker_splits: dict[str, str]
    split_source: str
    progress_board: str | None = None  # pipelines.progress: the shared folder of a local run

    @property
    def vocabulary(self) -> tuple[str, ...]:
        return self.label_table.vocabulary if self.label_table else ()


def prepare(config: FeaturizeConfig) -> FeaturizePlan:
    """Start-up checks: fails fast with one readable error, before any work.

    Raises:
        AudioSentimentError: nothing matched, unreadable label CSV, bad
            config, unwritable output.
    """
    config.validate()
    spec = sources.resolve_input(config.input)
    n_inputs = len(sources.list_inputs(spec))
    table = None
    speaker_splits: dict[str, str] = {}
    split_source = "file_hash"
    if config.labels:
        try:
            text = storage.read_text(config.labels)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"--labels {config.labels}: cannot read ({exc})") from None
        table = labels.parse_label_csv(text, csv_uri=config.labels,
                                       label_map=config.label_map, classes=config.classes)
        if not table.rows:
            raise ConfigError(f"--labels {config.labels}: no usable rows "
                              f"({len(table.errors)} rejected)")
        if table.has_split_column:
            split_source = "column"
        elif table.has_speaker_column:
            split_source = "speaker"
            counts: dict[str, int] = {}
            for row in table.rows:
                if row.speaker:
                    counts[row.speaker] = counts.get(row.speaker, 0) + 1
            speaker_splits = labels.assign_speaker_splits(
                counts, config.split_ratios, config.split_seed)
    common.check_output_dir(config.output, overwrite=config.overwrite, owned=OWNED_OUTPUTS)
    return FeaturizePlan(config, spec, n_inputs, table, speaker_splits, split_source)


# ================================================================= pipeline
def build_pipeline(p: beam.Pipeline, plan: FeaturizePlan):
    """Attaches the featurize transforms to ``p``. Returns the metadata PCollection."""
    config = plan.config
    cfg = config.feature
    schema = fk.build_schema(frame_dims=cfg.frame_dims, pooled_dims=cfg.pooled_dims,
                             labels=plan.vocabulary)
    schema_text = fk.schema_to_text(schema)

    uris, match_errors = p | "MatchAudio" >> sources.MatchAudio(plan.input_spec)
    error_streams = [match_errors]

    if plan.label_table is not None:
        rows = p | "ReadLabels" >> beam.Create(list(plan.label_table.rows))
        error_streams.append(p | "LabelRowErrors" >> beam.Create(list(plan.label_table.errors)))
        joined = (
            {
                "files": uris | "KeyFilesByName" >> beam.ParDo(fns.KeyByName()),
                "rows": rows | "KeyRowsByName" >> beam.ParDo(fns.KeyRowByName()),
            }
            | "GroupByName" >> beam.CoGroupByKey()
            | "JoinLabels" >> beam.ParDo(fns.JoinLabelsFn(
                vocabulary=plan.vocabulary, speaker_splits=plan.speaker_splits,
                ratios=config.split_ratios, seed=config.split_seed,
            )).with_outputs("errors", main="items")
        )
        items = joined.items
        error_streams.append(joined.errors)
    else:
        # fan the matched files out over workers (a match runs as one bundle)
        items = uris | "ReshuffleFiles" >> beam.Reshuffle() | "AssignSplits" >> beam.ParDo(
            fns.UnlabelledItemFn(ratios=config.split_ratios, seed=config.split_seed))

    decoded = items | "ReadAudio" >> beam.ParDo(fns.ReadAudioFn(
        total=plan.n_inputs, interval_s=config.progress_interval_s, board=plan.progress_board,
    )).with_outputs("errors", main="decoded")
    extracted = decoded.decoded | "ComputeFeatures" >> beam.ParDo(fns.ComputeFeaturesFn(
        feature=cfg, channels=config.channels, augment=config.augment,
    )).with_outputs("errors", main="examples")
    encoded = extracted.examples | "EncodeExamples" >> beam.ParDo(
        fns.EncodeExampleFn(schema_text=schema_text)
    ).with_outputs("errors", "written", "summary", *fk.SPLITS)
    error_streams += [decoded.errors, extracted.errors, encoded.errors]

    # --- shards, one set per split
    shard_names = []
    for split in fk.SPLITS:
        written = (
            encoded[split]
            | f"WriteShards{split.title()}" >> WriteTFRecords(
                storage.join(config.staged_output, split),
                file_name_suffix=SHARD_SUFFIXES[config.compression],
                num_shards=config.num_shards,
                shard_name_template="-SSSSS-of-NNNNN",
                compression=config.compression,
            )
        )
        shard_names.append(
            written
            | f"ShardNames{split.title()}" >> beam.Map(storage.basename)
            | f"TagSplit{split.title()}" >> beam.WithKeys(split)
        )

    # --- errors
    errors = error_streams | "FlattenErrors" >> beam.Flatten()
    errors | "WriteErrors" >> common.WriteErrors(
        storage.join(config.staged_output, meta.ERRORS_DIR))
    error_counts = (
        errors
        | "ErrorTypes" >> beam.Map(fns.error_type)
        | "CountErrorTypes" >> beam.combiners.Count.PerElement()
        | "ErrorCountsToDict" >> beam.combiners.ToDict()
    )

    # --- every matched input is written or rejected
    accounting = (
        {
            "matched": uris | "KeyMatched" >> beam.Map(fns.keyed_by_uri),
            "written": encoded.written | "KeyWritten" >> beam.Map(fns.keyed_by_uri),
            "rejected": errors | "KeyRejected" >> beam.Map(fns.keyed_by_uri),
        }
        | "GroupByUri" >> beam.CoGroupByKey()
        | "ClassifyInputs" >> beam.Map(stats.classify_input)
        | "CountOutcomes" >> beam.CombineGlobally(fns.AccountingFn())
    )

    dataset_stats = encoded.summary | "ComputeStats" >> beam.CombineGlobally(
        stats.DatasetStatsFn(cfg.frame_dims, cfg.pooled_dims,
                             per_speaker=cfg.normalize == "speaker"))
    all_shards = shard_names | "FlattenShardNames" >> beam.Flatten()

    static = {
        "schema_version": fk.SCHEMA_VERSION,
        "input": config.input,
        "labels_uri": config.labels,
        "channels": config.channels,
        "feature_config": cfg.to_dict(),
        "label_vocabulary": list(plan.vocabulary),
        "label_map": config.label_map,
        "split_source": plan.split_source,
        "split_ratios": config.split_ratios,
        "augment": config.augment.to_dict(),
    }
    return (
        p
        | "MetadataTrigger" >> beam.Create([None])
        | "WriteMetadata" >> beam.ParDo(
            fns.WriteMetadataFn(output=config.staged_output, static=static, schema_text=schema_text,
                            feature_config=cfg.to_dict()),
            beam.pvalue.AsSingleton(dataset_stats),
            beam.pvalue.AsSingleton(accounting),
            beam.pvalue.AsSingleton(error_counts),
            beam.pvalue.AsList(all_shards),
        )
    )


# ================================================================== publish
LOCK_KEY = "featurize"
_LAST = (meta.SCHEMA_FILE, meta.FEATURE_CONFIG_FILE, meta.METADATA_FILE)


def publish_dataset(config: FeaturizeConfig) -> None:
    """Replaces the dataset in ``output`` with the staged one in one
    recoverable step: the new files are moved in (``metadata.json``, which
    lists the shards, last), then the earlier run's files that were not
    replaced are deleted (only files matching :data:`OWNED_OUTPUTS`)."""
    folder = config.staged_output
    last = {name: i for i, name in enumerate(_LAST, 1)}
    staged = sorted((uri for uri in publish.staged_files(folder) if "/beam-temp" not in uri),
                    key=lambda uri: (last.get(storage.basename(uri), 0), uri))
    moves = tuple((uri, storage.join(config.output, uri[len(folder) + 1:])) for uri in staged)
    publish.publish(config.output, publish.Publication(
        run_id=config.run_id, key=LOCK_KEY, moves=moves,
        deletes=tuple(common.owned_files(config.output, OWNED_OUTPUTS))))


# ====================================================================== CLI
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", required=True,
                        help="directory (recursive), glob ('data/**/*.wav'), gs:// / s3:// URI, "
                             "fsspec URL (memory://, file://...) or manifest (.txt: one URI per "
                             "line; .csv: a 'path' column)")
    cli_args.add_output(parser, help="output directory (local, gs://, s3://)", required=True)
    parser.add_argument("--labels", help="label CSV: path,label[,speaker][,split] "
                                         "(or Filename,Class)")
    parser.add_argument("--label-map", "--label_map",
                        help="raw label -> class: a JSON file, 'a=x,b=y' or "
                             "'emotion-sentiment' (common emotion names -> sentiment)")
    parser.add_argument("--classes", help="comma-separated class vocabulary (fixes label ids)")
    parser.add_argument("--preset", default="default", choices=sorted(PRESETS),
                        help="feature preset (default: %(default)s)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="FIELD=VALUE",
                        help="override one feature config field, e.g. --set n_mfcc=20 "
                             "(booleans: true/false, yes/no, on/off, 1/0)")
    parser.add_argument("--channels", default="mix", choices=audio_lib.CHANNEL_MODES,
                        help="mix: one example per file (mono mix); split: one per channel")
    parser.add_argument("--split-ratios", default="0.8,0.1,0.1",
                        help="train,eval,test shares when the labels have no split column "
                             "(by speaker when known, else by file name hash)")
    parser.add_argument("--split-seed", type=int, default=0,
                        help="seed of the split (by speaker or file-name hash) and of the "
                             "augmentation "
                             "(default: %(default)s)")
    parser.add_argument("--num-shards", "--num_shards", type=int, default=0,
                        help="shards per split (0: the runner decides)")
    parser.add_argument("--compression", default="gzip", choices=sorted(SHARD_SUFFIXES),
                        help="shard compression (default: %(default)s, by ISA-L; float "
                             "features shrink only ~6%% under gzip)")
    parser.add_argument("--augment", metavar="SPEC",
                        help="training copies of the train split, e.g. "
                             "'noise=2,speed=0.9/1.1,snr=5/20,telephone=1': N white-noise "
                             "copies at an SNR in [LO, HI] dB, one speed-perturbed copy per "
                             "factor, N phone-line copies; 'none' for no copies (default "
                             f"with --labels: '{RECOMMENDED_AUGMENT}', the measured recipe; "
                             "without --labels: none)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the outputs of an earlier run in --output (kept until this "
                             "run has succeeded)")
    parser.add_argument("--progress-interval", type=float, default=10.0,
                        help="seconds between progress lines, 0 for none (default: "
                             "%(default)s)")


def parse_known_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    """(featurize's options, Beam's options); an option neither knows raises
    ConfigError."""
    parser = cli_args.job_parser("featurize", __doc__)
    add_arguments(parser)
    return cli_args.parse_job_args(parser, argv, beam=True)


def augment_spec(spec: str | None, *, labelled: bool) -> str | None:
    """The training copies to make: ``spec`` as given, none for ``"none"``, and
    when not given the recommended copies for a labelled run, none otherwise."""
    if spec is None:
        return RECOMMENDED_AUGMENT if labelled else None
    return None if spec.strip().lower() == "none" else spec


def config_from_args(args: argparse.Namespace) -> FeaturizeConfig:
    overrides = {}
    for item in args.overrides:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected FIELD=VALUE")
        key, value = item.split("=", 1)
        overrides[key.strip()] = value.strip()
    feature = preset(args.preset)
    if overrides:
        feature = feature.with_overrides(overrides)
    classes = tuple(c.strip() for c in args.classes.split(",") if c.strip()) if args.classes \
        else None
    return FeaturizeConfig(
        input=args.input,
        output=sources.absolute(args.output),
        labels=sources.absolute(args.labels) if args.labels else None,
        label_map=labels.parse_label_map(args.label_map),
        classes=classes,
        feature=feature,
        channels=args.channels,
        split_ratios=labels.parse_split_ratios(args.split_ratios),
        split_seed=args.split_seed,
        num_shards=args.num_shards,
        compression=args.compression,
        augment=AugmentConfig.parse(augment_spec(args.augment, labelled=bool(args.labels)),
                                    seed=args.split_seed),
        overwrite=args.overwrite,
        progress_interval_s=args.progress_interval,
        run_id=uuid.uuid4().hex[:16],
    ).validate()


def summarize(metadata: dict, output: str) -> str:
    """A few readable lines about a finished run."""
    acc = metadata["accounting"]
    examples = metadata.get("examples") or {}
    lines = [
        f"featurize: {acc['matched']} files matched -> {acc['written']} written "
        f"({sum(examples.values())} examples: "
        + ", ".join(f"{s} {examples.get(s, 0)}" for s in fk.SPLITS)
        + f"), {acc['rejected']} rejected, {acc['lost']} unaccounted",
        f"featurize: {metadata['total_audio_seconds'] / 3600:.3f} h of audio; "
        f"features in {output}",
    ]
    if metadata["errors"]:
        lines.append(f"featurize: {sum(metadata['errors'].values())} error rows "
                     f"({common.format_counts(metadata['errors'])}) in "
                     f"{storage.join(output, meta.ERRORS_DIR)}/")
    return "\n".join(lines)


def run(argv: list[str] | None = None, test_pipeline: beam.Pipeline | None = None) -> dict:
    """Runs featurize; returns the metadata written.

    Raises:
        AudioSentimentError: on bad arguments or inputs, before any work.
    """
    args, pipeline_args = parse_known_args(argv)
    storage.configure(pipeline_args)
    config = config_from_args(args)
    common.recover_output(config.output, key=LOCK_KEY, run_id=config.run_id,
                          job=fns.JOB)
    plan = prepare(config)
    common.LOG.info(
        "featurize: %d input files matched by %s", plan.n_inputs,
        storage.redact(plan.input_spec.source))
    with common.locked_output(config.output, key=LOCK_KEY, run_id=config.run_id, job=fns.JOB):
        p, workers = common.job_pipeline(pipeline_args, job=fns.JOB, n_inputs=plan.n_inputs,
                                         test_pipeline=test_pipeline)
        with progress.ProgressLine(fns.JOB, plan.n_inputs,
                                   interval_s=config.progress_interval_s) as line:
            if test_pipeline is not None or common.is_local(p):
                plan = dataclasses.replace(plan, progress_board=line.board)
            build_pipeline(p, plan)
            with common.one_thread_workers(workers):
                line.wait(p.run(), remote=plan.progress_board is None)
        publish_dataset(config)
    metadata_uri = storage.join(plan.config.output, meta.METADATA_FILE)
    metadata = meta.loads(storage.read_text(metadata_uri), source=metadata_uri)
    print(storage.redact(summarize(metadata, plan.config.output)), file=sys.stderr)
    return metadata


if __name__ == "__main__":
    # Run the imported module, not this __main__ copy: elements and DoFns must
    # pickle as pipelines.featurize.* on every runner.
    from pipelines.cli import main

    sys.exit(main(["featurize", *sys.argv[1:]]))
