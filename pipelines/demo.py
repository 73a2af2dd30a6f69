"""The demo: generate a small labelled corpus, then run the pipeline on it.

    audio-sentiment demo [--workdir build/demo]

Writes ``WORKDIR/audio`` (generated speech of 10 synthetic speakers in three
sentiments, plus two deliberately broken files to show the errors output),
``WORKDIR/features`` (the featurize output), ``WORKDIR/model`` (a trained
model with its model card and plots), ``WORKDIR/calls`` (generated stereo
support calls whose customer's sentiment changes in a scripted way, spoken by
voices of the training split, with ``expected.csv``), ``WORKDIR/scores``
(the nightly score output: ``files/``, ``segments/``, ``errors/`` Parquet in
today's ``run_date=`` partition), ``WORKDIR/report`` (the analyst's HTML
report) and ``WORKDIR/evaluation`` (scores against the scripted answers); then
the same calls scored by the packaged starter model (``WORKDIR/scores-starter``,
``WORKDIR/evaluation-starter``), both UARs printed.
"""

from __future__ import annotations

import datetime
import os
import sys

from pipelines import args as cli_args
from pipelines import evaluate, featurize, report, score
from pipelines import train as train_job
from sentiment_model import calls, starter, synth
from sentiment_model.augment import RECOMMENDED as RECOMMENDED_AUGMENT
from sentiment_model.errors import InputError
from sentiment_model.model_card import CARD_FILE


def write_demo_audio(out_dir: str, *, seed: int = 0) -> str:
    """Generates the demo corpus and two bad inputs; returns labels.csv's path."""
    labels_csv = synth.write_corpus(out_dir, n_speakers=10, per_class=5, seed=seed)
    with open(os.path.join(out_dir, "wav", "not_audio.wav"), "w") as f:
        f.write("this is a text file with an audio extension\n")
    with open(os.path.join(out_dir, "wav", "empty.wav"), "wb"):
        pass
    with open(labels_csv, "a") as f:
        f.write("wav/not_audio.wav,neutral,spk00,male\n")
        f.write("wav/empty.wav,neutral,spk01,female\n")
        f.write("wav/missing_file.wav,positive,spk02,male\n")
    return labels_csv


def parse_known_args(argv):
    """(demo's options, Beam's options for featurize and score); an option
    neither knows raises ConfigError."""
    parser = cli_args.job_parser("demo", __doc__)
    parser.add_argument("--workdir", default="build/demo",
                        help="where everything is written (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the voices, the calls and training (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=10,
                        help="training epochs at most (default: %(default)s; the generated "
                             "voices are learnt within a few epochs)")
    parser.add_argument("--calls", type=int, default=4, help="generated calls to score")
    parser.add_argument("--augment", default=RECOMMENDED_AUGMENT,
                        help="featurize --augment for the training data, '' for none "
                             "(default: %(default)s, the product's default recipe)")
    return cli_args.parse_job_args(parser, argv, beam=True)


def run_make_data(argv=None) -> str:
    """Writes the demo corpus (``make-demo-data``); returns labels.csv's path."""
    parser = cli_args.job_parser("make-demo-data", "Writes the generated demo corpus "
                                 "(WAV files and labels.csv) without running anything on it.")
    cli_args.add_output(parser, help="where the corpus is written", required=True)
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the voices (default: %(default)s)")
    args, _ = cli_args.parse_job_args(parser, argv, beam=False)
    path = write_demo_audio(args.output, seed=args.seed)
    print(f"demo corpus written; labels: {path}")
    return path


def run(argv=None) -> dict:
    args, beam_args = parse_known_args(argv)
    audio_dir = os.path.join(args.workdir, "audio")
    features_dir = os.path.join(args.workdir, "features")
    labels_csv = write_demo_audio(audio_dir, seed=args.seed)
    print(f"demo: generated audio in {audio_dir}", file=sys.stderr)
    metadata = featurize.run([
        "--input", audio_dir, "--labels", labels_csv, "--output", features_dir,
        "--overwrite", *(["--augment", args.augment] if args.augment else []), *beam_args,
    ])
    print(f"demo: shards, schema.pbtxt and metadata.json in {features_dir}", file=sys.stderr)
    model_dir = os.path.join(args.workdir, "model")
    card = train_job.run(["--features", features_dir, "--model-dir", model_dir,
                      "--epochs", str(args.epochs), "--patience", "10", "--seed", str(args.seed)])
    print(f"demo: model card {os.path.join(model_dir, CARD_FILE)}", file=sys.stderr)
    print(f"demo: plots {os.path.join(model_dir, 'plots', 'confusion_matrix.png')} and "
          f"{os.path.join(model_dir, 'plots', 'learning_curves.png')}", file=sys.stderr)

    calls_dir = os.path.join(args.workdir, "calls")
    expected = write_demo_calls(calls_dir, train_speakers=metadata["speakers"]["train"],
                                n_calls=args.calls, seed=args.seed)
    scores_dir = os.path.join(args.workdir, "scores")
    run_date = datetime.date.today().isoformat()
    record = score.run(["--input", os.path.join(calls_dir, "calls"), "--model-dir", model_dir,
                        "--output", scores_dir, "--run-date", run_date, *beam_args])
    report_dir = os.path.join(args.workdir, "report")
    report.run(["--scores", scores_dir, "--output", report_dir])
    metrics = evaluate.run(["--scores", scores_dir, "--labels", expected, "--run-date",
                            run_date, "--output", os.path.join(args.workdir, "evaluation")])
    print(f"demo: Parquet scores in {scores_dir}/{{files,segments,calls,errors}}/"
          f"run_date={run_date}/", file=sys.stderr)
    print(f"demo: report {os.path.join(report_dir, 'report.html')}", file=sys.stderr)
    out = {"features": metadata, "model_card": card, "score": record, "evaluation": metrics}
    out.update(score_with_starter(args.workdir, calls_dir, expected, run_date, beam_args,
                                  demo_uar=metrics.get("uar")))
    return out


def score_with_starter(workdir: str, calls_dir: str, expected: str, run_date: str,
                       beam_args: list[str], *, demo_uar: float | None) -> dict:
    """The same calls scored by the packaged starter model (no --model-dir),
    evaluated against the same answers; both UARs printed."""
    try:
        starter.starter_dir()
    except InputError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return {}
    scores_dir = os.path.join(workdir, "scores-starter")
    record = score.run(["--input", os.path.join(calls_dir, "calls"), "--output", scores_dir,
                        "--run-date", run_date, *beam_args])
    metrics = evaluate.run(["--scores", scores_dir, "--labels", expected, "--run-date",
                            run_date, "--output", os.path.join(workdir, "evaluation-starter")])
    print(f"demo: on the generated calls, UAR {_fmt(demo_uar)} with the demo's model "
          f"(trained on these generated voices), {_fmt(metrics.get('uar'))} with the "
          "packaged starter model (acted German and Amharic speech, never these voices); "
          f"starter scores in {scores_dir}", file=sys.stderr)
    return {"starter_score": record, "starter_evaluation": metrics}


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def write_demo_calls(out_dir: str, *, train_speakers: list[str], n_calls: int,
                     seed: int) -> str:
    """Stereo calls spoken by the demo's training voices; returns expected.csv."""
    voices = {v.speaker: v for v in synth.make_voices(10, seed)}
    known = [voices[s] for s in sorted(train_speakers) if s in voices]
    agent, customers = known[-1], known[:-1] or known
    return calls.write_calls(out_dir, n_calls=n_calls, agent=agent, customers=customers,
                             seed=seed)


if __name__ == "__main__":
    from pipelines.cli import main

    sys.exit(main(["demo", *sys.argv[1:]]))
