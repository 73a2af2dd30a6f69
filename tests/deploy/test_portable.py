"""featurize through Beam's PortableRunner with an external worker pool: the
submission path a Flink cluster uses (deploy/flink/run.sh), on loopback."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import read_examples


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("localhost", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on port {port} after {timeout_s} s")


def venv_env() -> dict:
    """This interpreter's environment first on PATH: the worker pool starts
    SDK workers as plain ``python``, which must be the one with Beam."""
    bin_dir = os.path.dirname(sys.executable)
    return {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}


@pytest.fixture
def job_service_and_worker_pool():
    job_port, pool_port = free_port(), free_port()
    env = venv_env()
    procs = [
        subprocess.Popen([sys.executable, "-m",
                          "apache_beam.runners.portability.local_job_service_main",
                          "--port", str(job_port)], env=env),
        subprocess.Popen([sys.executable, "-m", "apache_beam.runners.worker.worker_pool_main",
                          f"--service_port={pool_port}"], env=env),
    ]
    try:
        wait_for_port(job_port, procs[0])
        wait_for_port(pool_port, procs[1])
        yield job_port, pool_port
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def by_id(examples):
    return {ex["recording_id"][0]: ex for ex in examples}


def test_featurize_on_the_portable_runner_equals_the_local_run(
        corpus, features_dir, tmp_path, job_service_and_worker_pool):
    job_port, pool_port = job_service_and_worker_pool
    out = str(tmp_path / "portable")
    cmd = [sys.executable, "-m", "pipelines.featurize",
           "--input", corpus, "--labels", os.path.join(corpus, "labels.csv"), "--output", out,
           "--augment", "none", "--progress-interval", "3600",
           "--runner=PortableRunner", f"--job_endpoint=localhost:{job_port}",
           "--environment_type=EXTERNAL", f"--environment_config=localhost:{pool_port}"]
    try:  # a worker that cannot start makes the job wait forever: bound it
        done = subprocess.run(cmd, env=venv_env(), capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the portable run did not finish in 300 s:\n{(exc.stderr or '')[-3000:]}")
    assert done.returncode == 0, done.stderr[-3000:]
    with open(os.path.join(out, "metadata.json")) as f:
        metadata = json.load(f)
    assert metadata["accounting"]["lost"] == 0
    local = by_id(read_examples(features_dir))
    portable = by_id(read_examples(out))
    assert sorted(portable) == sorted(local) and len(local) == 18
    for key, ex in portable.items():
        assert ex.keys() == local[key].keys()
        for name, value in ex.items():
            assert list(value) == list(local[key][name]), (key, name)


def test_the_flink_launch_script_uses_the_options_tested_here():
    from tests.deploy.test_images import read

    script = read("deploy/flink/run.sh")
    for option in ("--runner=PortableRunner", "--job_endpoint=", "--environment_type=EXTERNAL",
                   "--environment_config=localhost:50000", "--runner=FlinkRunner",
                   "--flink_master="):
        assert option in script, option
