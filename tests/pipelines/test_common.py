import os

import pytest

from pipelines import common

TWO_CORES = (2, 24.0)
MULTI = ["--direct_num_workers", "2", "--direct_running_mode", "multi_processing"]


def test_a_local_job_of_several_files_gets_a_worker_process_per_core():
    assert common.local_workers([], n_inputs=14, machine=TWO_CORES) == (MULTI, 2)
    assert common.local_workers(["--temp_location", "/tmp/x"], n_inputs=3,
                                machine=(8, 64.0)) == (
        ["--temp_location", "/tmp/x", "--direct_num_workers", "3",
         "--direct_running_mode", "multi_processing"], 3)


@pytest.mark.parametrize("n_inputs, machine, workers", [
    (1, TWO_CORES, 1),        # one file: one worker
    (0, TWO_CORES, 1),        # nothing matched
    (14, (1, 24.0), 1),       # one core
    (14, (16, 8.0), 3),       # 8 GiB: three 2-GiB workers and the launcher's share
    (14, (16, 3.0), 1),
])
def test_the_count_is_bounded_by_files_cores_and_memory(n_inputs, machine, workers):
    args, count = common.local_workers([], n_inputs=n_inputs, machine=machine)
    assert count == workers
    assert args == ([] if workers == 1 else
                    ["--direct_num_workers", str(workers), "--direct_running_mode",
                     "multi_processing"])


@pytest.mark.parametrize("named, workers", [
    (["--direct_num_workers", "1"], 1),
    (["--direct_num_workers=4", "--direct_running_mode=multi_processing"], 4),
    (["--direct_running_mode", "multi_threading"], 1),
    (["--runner", "DataflowRunner", "--project", "p"], 1),
    (["--runner=PortableRunner"], 1),
])
def test_worker_options_or_a_runner_the_user_names_are_kept(named, workers):
    assert common.local_workers(named, n_inputs=14, machine=TWO_CORES) == (named, workers)


def test_worker_processes_get_one_thread_each_and_the_environment_is_restored(monkeypatch):
    for name in common.ONE_THREAD_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # the user's own setting wins
    with common.one_thread_workers(2):
        assert os.environ["OMP_NUM_THREADS"] == "3"
        assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
        assert os.environ["TF_NUM_INTRAOP_THREADS"] == os.environ["TF_NUM_INTEROP_THREADS"] == "1"
    assert os.environ["OMP_NUM_THREADS"] == "3"
    assert [n for n in common.ONE_THREAD_ENV if n in os.environ] == ["OMP_NUM_THREADS"]
    with common.one_thread_workers(1):  # one worker keeps the library defaults
        assert "OPENBLAS_NUM_THREADS" not in os.environ


def test_a_test_pipeline_is_used_as_given_with_one_worker():
    from apache_beam.testing.test_pipeline import TestPipeline

    given = TestPipeline()
    assert common.job_pipeline(["--direct_num_workers", "4"], job="score", n_inputs=14,
                               test_pipeline=given) == (given, 1)


@pytest.mark.parametrize("audio_s, workers", [
    (None, 2),       # unknown: the files and cores decide
    (840.0, 1),      # 14 minutes of channel audio: a second worker's start-up costs more
    (3599.0, 1),
    (3600.0, 2),
    (50_000.0, 2),   # never more than the cores
])
def test_little_audio_runs_on_one_worker(audio_s, workers):
    args, count = common.local_workers([], n_inputs=14, machine=TWO_CORES, audio_s=audio_s)
    assert count == workers and args == ([] if workers == 1 else MULTI)
    assert common.local_workers([], n_inputs=14, machine=(8, 64.0), audio_s=2.5 * 3600) == (
        ["--direct_num_workers", "3", "--direct_running_mode", "multi_processing"], 3)


def test_the_audio_of_local_files_is_read_from_their_headers(tmp_path):
    import numpy as np
    import soundfile

    stereo, mono = str(tmp_path / "call.wav"), str(tmp_path / "clip.flac")
    soundfile.write(stereo, np.zeros((8000 * 3, 2), np.int16), 8000)  # 3 s, two channels
    soundfile.write(mono, np.zeros(16000 // 2, np.int16), 16000)  # 0.5 s
    assert common.local_audio_seconds([stereo, mono], enough=100.0) == pytest.approx(6.5)
    assert common.local_audio_seconds([stereo, mono], enough=5.0) == pytest.approx(6.0)
    (tmp_path / "bad.wav").write_bytes(b"not audio")
    assert common.local_audio_seconds([stereo, str(tmp_path / "bad.wav")], enough=100.0) is None
    assert common.local_audio_seconds(["gs://bucket/a.wav"], enough=100.0) is None
