"""Every job's command line: unknown options fail with a suggestion, Beam's
options pass, one spelling of --output and of --run-date."""

import argparse
import logging
import os
import subprocess
import sys

import pytest

from pipelines import args as cli_args
from pipelines import cli, compare, demo, evaluate, featurize, report, score, train
from sentiment_model.errors import ConfigError

# each job with the smallest argument list it accepts
JOBS = {
    "featurize": (featurize, ["--input", "in", "--output", "out"]),
    "score": (score, ["--input", "in", "--model-dir", "m", "--output", "out"]),
    "train": (train, ["--features", "f", "--model-dir", "m"]),
    "report": (report, ["--scores", "s", "--output", "out"]),
    "evaluate": (evaluate, ["--scores", "s", "--labels", "l.csv"]),
    "compare": (compare, ["--features", "f", "--output", "out"]),
    "demo": (demo, []),
}
BEAM_JOBS = ("featurize", "score", "demo")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# a typo of one of each job's options, and that option
TYPOS = {"featurize": ("--presets", "--preset"), "score": ("--model_dirs", "--model_dir"),
         "train": ("--feature", "--features"), "report": ("--score", "--scores"),
         "evaluate": ("--run-data", "--run-date"), "compare": ("--architecture", "--architectures"),
         "demo": ("--work-dir", "--workdir")}


@pytest.mark.parametrize("job", sorted(JOBS))
def test_an_unknown_option_fails_with_a_suggestion_in_every_job(job):
    module, minimal = JOBS[job]
    _, beam_args = module.parse_known_args(minimal)
    assert beam_args == []
    typo, meant = TYPOS[job]
    with pytest.raises(ConfigError) as caught:
        module.parse_known_args([*minimal, typo, "3"])
    assert str(caught.value) == (f"{typo}: unknown option; did you mean {meant}? "
                                 f"(audio-sentiment {job} --help lists the options)")
    with pytest.raises(ConfigError, match=r"^--zzz: unknown option \(audio-sentiment"):
        module.parse_known_args([*minimal, "--zzz"])
    with pytest.raises(ConfigError, match=r"^'stray': unexpected argument"):
        module.parse_known_args([*minimal, "stray"])


def test_score_typos_of_its_own_and_of_beams_options_stop_it():
    minimal = JOBS["score"][1]
    with pytest.raises(ConfigError, match=r"^--segment-second: unknown option; did you mean "
                                          r"--segment-seconds\? \(audio-sentiment score"):
        score.parse_known_args([*minimal, "--segment-second", "2", "--vad-margin-db", "6"])
    with pytest.raises(ConfigError, match=r"^--vad-margin: unknown option; did you mean "
                                          r"--vad-margin-db\?"):
        score.parse_known_args([*minimal, "--vad-margin=6"])
    with pytest.raises(ConfigError, match=r"^--direct_num_worker: unknown option; did you "
                                          r"mean --direct_num_workers\?"):
        score.parse_known_args([*minimal, "--direct_num_worker", "2"])
    # no abbreviations: --segment is not --segment-seconds
    with pytest.raises(ConfigError, match=r"^--segment: unknown option"):
        score.parse_known_args([*minimal, "--segment", "2"])


@pytest.mark.parametrize("job", BEAM_JOBS)
def test_options_beam_registers_pass_to_beam_in_the_beam_jobs(job):
    module, minimal = JOBS[job]
    beam = ["--direct_num_workers", "2", "--direct_running_mode=multi_processing",
            "--runner", "DataflowRunner", "--project", "p", "--region", "europe-west1",
            "--temp_location=gs://b/tmp", "--flink_master", "localhost:8081",
            "--experiments", "use_runner_v2", "--save_main_session"]
    args, beam_args = module.parse_known_args([*minimal[:2], *beam, *minimal[2:]])
    assert beam_args == beam
    assert not hasattr(args, "runner")


@pytest.mark.parametrize("job", sorted(set(JOBS) - set(BEAM_JOBS)))
def test_jobs_without_a_pipeline_refuse_beam_options(job):
    module, minimal = JOBS[job]
    with pytest.raises(ConfigError, match=r"^--direct_num_workers: unknown option"):
        module.parse_known_args([*minimal, "--direct_num_workers", "2"])


@pytest.mark.parametrize("job", ["report", "compare", "evaluate"])
def test_out_is_read_as_output_with_a_warning(job, capsys):
    module, minimal = JOBS[job]
    rest = [w for w in minimal if w not in ("--output", "out")]
    args, _ = module.parse_known_args([*rest, "--out", "o1"])
    assert args.output == "o1"
    assert capsys.readouterr().err == (f"audio-sentiment {job}: --out is the old spelling of "
                                       "--output, read as --output; it will go in a later "
                                       "release\n")
    assert module.parse_known_args([*rest, "--out=o2"])[0].output == "o2"


def test_run_date_is_exactly_year_month_day():
    assert cli_args.run_date("2026-11-24") == "2026-11-24"
    assert cli_args.run_date(None) is None
    for bad in ("20261124", "2026-W48-2", "2026-11-24T00:00", "2026-02-30", "26-11-24", " "):
        with pytest.raises(ConfigError, match=r"expected a day as YYYY-MM-DD"):
            cli_args.run_date(bad)
    minimal = JOBS["score"][1]
    with pytest.raises(ConfigError, match=r"^--run-date '20261124'"):
        score.parse_known_args([*minimal, "--run-date", "20261124"])
    with pytest.raises(ConfigError, match=r"^--run-date '20261124'"):
        evaluate.parse_known_args([*JOBS["evaluate"][1], "--run-date", "20261124"])


def job_parsers(monkeypatch) -> dict[str, argparse.ArgumentParser]:
    """Each job's parser, caught as parse_job_args receives it."""
    seen = {}
    real = cli_args.parse_job_args

    def catch(parser, argv, *, beam):
        seen[parser.prog.split()[-1]] = parser
        return real(parser, argv, beam=beam)

    monkeypatch.setattr(cli_args, "parse_job_args", catch)
    for module, minimal in JOBS.values():
        module.parse_known_args(minimal)
    return seen


def test_every_option_of_every_job_has_help(monkeypatch):
    parsers = job_parsers(monkeypatch)
    assert sorted(parsers) == sorted(JOBS)
    for job, parser in parsers.items():
        for action in parser._actions:
            assert action.help, f"{job} {action.option_strings} has no help"
        assert "--out" not in parser._option_string_actions, job  # one spelling: --output


def test_worker_records_lose_their_protobuf_and_the_noise(caplog):
    noise = ('Worker: severity: WARN timestamp {   seconds: 1   nanos: 2 } message: "No '
             'semi_persistent_directory found:  User registered objects" log_location: "x.py"')
    useful = ('Worker: severity: ERROR timestamp {   seconds: 1 } message: "could not read '
              '\\"a.wav\\"" log_location: "y.py:3" thread: "7"')
    keep = cli._WorkerLines()
    records = [logging.LogRecord("apache_beam", logging.WARNING, "f", 1, "Worker: %s",
                                 (text.removeprefix("Worker: "),), None)
               for text in (noise, useful)]
    assert [keep.filter(r) for r in records] == [False, True]
    assert records[1].getMessage() == 'worker: could not read "a.wav"'
    plain = logging.LogRecord("root", logging.WARNING, "f", 1, "Resource module is not "
                              "available for current platform", (), None)
    assert keep.filter(plain) is False


def _start(*words: str) -> subprocess.Popen:
    return subprocess.Popen(list(words), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen) -> subprocess.CompletedProcess:
    out, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _run(*words: str) -> subprocess.CompletedProcess:
    return _finish(_start(*words))


def test_every_job_runs_as_a_module_and_as_a_command_with_the_same_help():
    bin_dir = os.path.dirname(sys.executable)
    command = os.path.join(bin_dir, "audio-sentiment")
    started = {job: (_start(sys.executable, "-m", f"pipelines.{job}", "--help"),
                     _start(command, job, "--help")) for job in sorted(JOBS)}
    procs = {job: (_finish(a), _finish(b)) for job, (a, b) in started.items()}
    for job, (as_module, as_command) in procs.items():
        assert as_module.returncode == as_command.returncode == 0, (job, as_module.stderr)
        assert as_module.stdout == as_command.stdout, job
        assert as_module.stdout.startswith(f"usage: audio-sentiment {job} "), job
        # quiet: nothing on stderr, not even TensorFlow's start-up lines
        assert as_module.stderr == as_command.stderr == "", (job, as_module.stderr)


def test_a_typo_exits_2_with_one_line_through_both_entry_points():
    bin_dir = os.path.dirname(sys.executable)
    for words in ([sys.executable, "-m", "pipelines.report"],
                  [os.path.join(bin_dir, "audio-sentiment"), "report"]):
        done = _run(*words, "--scores", "s", "--output", "o", "--top-n", "3")
        assert done.returncode == 2
        assert done.stderr == ("audio-sentiment: error: --top-n: unknown option; did you mean "
                               "--top? (audio-sentiment report --help lists the options)\n")


def test_a_tiny_job_gives_the_same_output_through_both_entry_points(scored_calls, tmp_path):
    bin_dir = os.path.dirname(sys.executable)
    outs = []
    for i, words in enumerate(([sys.executable, "-m", "pipelines.report"],
                               [os.path.join(bin_dir, "audio-sentiment"), "report"])):
        out = tmp_path / str(i)
        done = _run(*words, "--scores", scored_calls, "--output", str(out))
        assert done.returncode == 0, done.stderr
        assert done.stderr.startswith(f"report: {out}/report.html (1 run date(s), ")
        outs.append(sorted(os.listdir(out)))
    assert outs[0] == outs[1] and "report.html" in outs[0] and "calls" in outs[0]
