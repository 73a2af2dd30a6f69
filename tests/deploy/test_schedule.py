"""The nightly schedules: the Airflow DAG (loaded against a stand-in for
Airflow's API, since Airflow does not install within CI time next to the
pinned Beam/TensorFlow set), the crontab line and the systemd units."""

import datetime
import os
import re
import shlex
import sys
import types

import pytest

from pipelines import score
from tests.deploy.test_images import ROOT, read

DAG_FILE = os.path.join(ROOT, "deploy", "schedule", "score_nightly_dag.py")


class Recorder:
    created: list = []

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        Recorder.created.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class Variable:
    @staticmethod
    def get(key, default_var=None):
        return default_var


@pytest.fixture
def fake_airflow(monkeypatch):
    Recorder.created = []
    modules = {
        "airflow": types.SimpleNamespace(DAG=type("DAG", (Recorder,), {})),
        "airflow.models": types.SimpleNamespace(Variable=Variable),
        "airflow.providers": types.SimpleNamespace(),
        "airflow.providers.google": types.SimpleNamespace(),
        "airflow.providers.google.cloud": types.SimpleNamespace(),
        "airflow.providers.google.cloud.operators": types.SimpleNamespace(),
        "airflow.providers.google.cloud.operators.dataflow": types.SimpleNamespace(
            DataflowStartFlexTemplateOperator=type("Op", (Recorder,), {})),
    }
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    return Recorder


def render(template: str, day: datetime.date) -> str:
    """Airflow's two macros used by the DAG."""
    return template.replace("{{ ds }}", day.isoformat()).replace(
        "{{ ds_nodash }}", day.strftime("%Y%m%d"))


def test_dag_scores_yesterday_into_its_partition_and_is_safe_to_retry(fake_airflow):
    with open(DAG_FILE) as f:
        exec(compile(f.read(), DAG_FILE, "exec"), {"__name__": "dag_under_test"})
    dag, operator = fake_airflow.created
    assert dag.kwargs["schedule"] == "30 1 * * *"
    assert dag.kwargs["catchup"] is False and dag.kwargs["max_active_runs"] == 1
    assert dag.kwargs["default_args"]["retries"] >= 1
    launch = operator.kwargs["body"]["launchParameter"]
    # the run of 2026-11-25 01:30 has the data interval of 2026-11-24: ds
    day = datetime.date(2026, 11, 24)
    params = {k: render(v, day) for k, v in launch["parameters"].items()}
    assert params["run_date"] == "2026-11-24"
    assert params["input"].endswith("/recordings/2026-11-24/")
    assert render(launch["jobName"], day) == "audio-sentiment-score-20261124"
    assert operator.kwargs["wait_until_finished"] is True
    argv = [f"--{k}={v}" for k, v in params.items()]
    args, beam_args = score.parse_known_args(argv)
    assert args.run_date == "2026-11-24" and args.model_dir.endswith("/models/current")
    assert sorted(beam_args) == ["--sdk_container_image=" + params["sdk_container_image"],
                                 "--sdk_location=container"]


def test_cron_and_systemd_run_the_same_score_command():
    (line,) = [ln for ln in read("deploy/schedule/crontab").splitlines()
               if ln and not ln.startswith("#")]
    fields = line.split(None, 5)
    assert fields[:5] == ["30", "1", "*", "*", "*"]
    command = fields[5].replace(r"\%", "%").replace("$(date -u -d yesterday +%F)",
                                                    "2026-11-24")
    words = shlex.split(command.split(">>")[0].split("&&", 1)[1])
    assert words[0].endswith("audio-sentiment") and words[1] == "score"
    args, beam_args = score.parse_known_args(words[2:])
    assert args.run_date == "2026-11-24" and args.input.endswith("/2026-11-24/")
    assert beam_args == ["--direct_num_workers", "4", "--direct_running_mode",
                         "multi_processing"]

    service = read("deploy/schedule/audio-sentiment-score.service")
    exec_start = re.search(r"^ExecStart=/bin/sh -c '(.*)'$", service, re.M).group(1)
    unit_cmd = exec_start.replace("%%", "%").split("exec ", 1)[1].replace("$D", "2026-11-24")
    unit_words = shlex.split(unit_cmd)
    assert unit_words[1:] == words[2:] or unit_words[2:] == words[2:]
    assert "OnCalendar=*-*-* 01:30:00 UTC" in read("deploy/schedule/audio-sentiment-score.timer")
