"""Each pipeline constructed for Dataflow in dry-run mode: the job graph is
built and every DoFn pickled, without a Google account."""

import dataclasses
import json
import os
import re

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines import featurize, score
from schemas import features as fk
from sentiment_model import segments
from sentiment_model.audio import CHANNEL_MODES
from sentiment_model.augment import RECOMMENDED as RECOMMENDED_AUGMENT
from sentiment_model.config import PRESETS, FeatureConfig
from sentiment_model.model_card import CARD_VERSION, ModelCard
from tests.deploy.test_images import ROOT

WORKER_IMAGE = "europe-west1-docker.pkg.dev/p/audio-sentiment/worker:test"
DATAFLOW = ["--runner=DataflowRunner", "--project=test-project", "--region=europe-west1",
            "--temp_location=gs://test-bucket/tmp", "--no_auth", "--dry_run=True",
            "--sdk_location=container", f"--sdk_container_image={WORKER_IMAGE}",
            "--max_num_workers=7"]


def dry_run(build, plan, job_name: str):
    p = beam.Pipeline(options=PipelineOptions([*DATAFLOW, f"--job_name={job_name}"]))
    build(p, plan)
    result = p.run()
    job = result.job
    labels = {t.unique_name for t in job.proto_pipeline.components.transforms.values()}
    images = {env.payload for env in job.proto_pipeline.components.environments.values()}
    return job, labels, images


def test_featurize_builds_for_dataflow(corpus, tmp_path):
    args, _ = featurize.parse_known_args(["--input", corpus, "--labels",
                                          os.path.join(corpus, "labels.csv"),
                                          "--output", str(tmp_path)])
    plan = featurize.prepare(featurize.config_from_args(args))
    plan = dataclasses.replace(plan, config=dataclasses.replace(
        plan.config, output="gs://test-bucket/features"))
    job, labels, images = dry_run(featurize.build_pipeline, plan, "featurize-dry-run")
    for step in ("MatchAudio", "JoinLabels", "ReadAudio", "ComputeFeatures", "EncodeExamples",
                 "WriteShardsTrain", "WriteShardsEval", "WriteShardsTest", "WriteErrors",
                 "ComputeStats", "CountOutcomes", "WriteMetadata"):
        assert step in labels, step
    assert any(WORKER_IMAGE.encode() in payload for payload in images)
    assert job.options.get_all_options()["max_num_workers"] == 7
    assert job.proto.name == "featurize-dry-run"


def fake_card() -> ModelCard:
    cfg = FeatureConfig()
    return ModelCard.from_dict({"card_version": CARD_VERSION, "model_version": "0" * 64,
            "architecture": "bilstm_attention",
            "input_kind": "frames", "label_vocabulary": ["negative", "neutral", "positive"],
            "feature_config": cfg.to_dict(), "schema_version": fk.SCHEMA_VERSION,
            "normalization": {"frames": {"mean": [0.0] * 40, "std": [1.0] * 40},
                              "pooled": {"mean": [0.0] * 80, "std": [1.0] * 80}}})


def test_score_builds_for_dataflow():
    config = score.ScoreConfig(input="gs://test-bucket/recordings/2026-11-24/*.wav",
                               model_dir="gs://test-bucket/models/current",
                               output="gs://test-bucket/scores",
                               segment=segments.SegmentConfig(), run_date="2026-11-24",
                               run_id="dryrun").validate()
    spec = score.sources.InputSpec(config.input, "pattern", config.input)
    plan = score.ScorePlan(config, spec, ("gs://test-bucket/recordings/2026-11-24/a.wav",),
                           fake_card())
    _, labels, images = dry_run(score.build_pipeline, plan, "score-dry-run")
    for step in ("MatchAudio", "ReshuffleFiles", "SegmentAudio", "ValidateInputs",
                 "RunInference", "ToScoredSegments", "FailedBatches", "GroupByChannel",
                 "AggregateChannels", "WriteFiles", "WriteSegments", "WriteErrors"):
        assert step in labels, step
    assert any(WORKER_IMAGE.encode() in payload for payload in images)


@pytest.mark.parametrize(("job", "module", "values"), [
    ("featurize", featurize, {"input": "gs://b/corpus/", "output": "gs://b/features",
                              "labels": "gs://b/labels.csv", "label_map": "a=x",
                              "preset": "seed", "channels": "split", "num_shards": "4",
                              "augment": RECOMMENDED_AUGMENT}),
    ("score", score, {"input": "gs://b/rec/", "model_dir": "gs://b/m", "output": "gs://b/s",
                      "run_date": "2026-11-24", "segment_seconds": "2", "hop_seconds": "1",
                      "channels": "split", "agent_channel": "1",
                      "call_metadata": "gs://b/recorder.csv", "batch_size": "32"}),
])
def test_flex_template_parameters_are_job_options(job, module, values):
    with open(os.path.join(ROOT, "deploy", "dataflow", f"{job}_metadata.json")) as f:
        metadata = json.load(f)
    names = [p["name"] for p in metadata["parameters"]]
    assert sorted(names) == sorted(values)
    argv = [f"--{name}={values[name]}" for name in names]
    args, unknown = module.parse_known_args([*argv, "--temp_location=gs://b/tmp"])
    assert unknown == ["--temp_location=gs://b/tmp"]  # Beam's options pass through
    for name in names:
        assert str(getattr(args, name)) == values[name] or getattr(args, name) == float(
            values[name])
    required = [p["name"] for p in metadata["parameters"] if not p["isOptional"]]
    with pytest.raises(SystemExit):  # a required option missing is refused
        module.parse_known_args([a for a in argv if not a.startswith(f"--{required[0]}=")])


@pytest.mark.parametrize(("job", "name", "choices"), [
    ("featurize", "preset", sorted(PRESETS)),
    ("featurize", "channels", list(CHANNEL_MODES)),
    ("score", "channels", list(score.CHANNEL_MODES)),
])
def test_flex_template_regexes_accept_every_choice_of_the_job(job, name, choices):
    with open(os.path.join(ROOT, "deploy", "dataflow", f"{job}_metadata.json")) as f:
        [param] = [p for p in json.load(f)["parameters"] if p["name"] == name]
    for choice in choices:
        assert any(re.fullmatch(regex, choice) for regex in param["regexes"]), choice


def test_launch_script_featurizes_with_the_default_recipe_copies():
    with open(os.path.join(ROOT, "deploy", "dataflow", "launch.sh")) as f:
        script = f.read()
    assert f'"^~^augment=${{AUGMENT-{RECOMMENDED_AUGMENT}}}"' in script
