"""The GPU training job specs run `audio-sentiment train` with valid options."""

import os

import pytest
import yaml

from pipelines import train
from tests.deploy.test_images import ROOT


def load(name: str) -> dict:
    with open(os.path.join(ROOT, "deploy", "training", name)) as f:
        return yaml.safe_load(f)


def check_args(args: list[str]) -> None:
    from sentiment_model import models

    parsed, unknown = train.parse_known_args(args)
    assert unknown == []
    assert parsed.features.startswith("gs://") and parsed.model_dir.startswith("gs://")
    assert parsed.architecture == models.DEFAULT_ARCHITECTURE  # the nightly job trains the default


def test_vertex_job_asks_for_a_gpu_and_runs_train():
    spec = load("vertex-custom-job.yaml")
    (pool,) = spec["workerPoolSpecs"]
    assert pool["machineSpec"]["acceleratorCount"] >= 1
    assert pool["containerSpec"]["imageUri"].endswith("/train-gpu:TAG")
    check_args(pool["containerSpec"]["args"])


def test_kubernetes_job_asks_for_a_gpu_and_runs_train():
    job = load("k8s-job.yaml")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert container["image"].endswith("/train-gpu:TAG")
    check_args(container["args"])


@pytest.mark.parametrize("name", ["flink-deployment.yaml", "beam-job-server.yaml"])
def test_flink_manifests_are_valid_yaml_with_the_worker_pool(name):
    with open(os.path.join(ROOT, "deploy", "flink", name)) as f:
        docs = list(yaml.safe_load_all(f))
    assert docs and all("kind" in d for d in docs)
    if name == "flink-deployment.yaml":
        containers = docs[0]["spec"]["taskManager"]["podTemplate"]["spec"]["containers"]
        pool = next(c for c in containers if c["name"] == "beam-worker-pool")
        assert pool["args"] == ["--worker_pool"]
        assert pool["ports"][0]["containerPort"] == 50000
