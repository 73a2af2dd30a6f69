"""The demo: generate a small labelled corpus, then run the pipeline on it.

    audio-sentiment demo [--workdir build/demo]

Writes ``WORKDIR/audio`` (generated speech of 10 synthetic speakers in three
sentiments, plus two deliberately broken files to show the errors output),
``WORKDIR/features`` (the featurize output) and ``WORKDIR/model`` (a trained
model with its model card and plots).
"""

from __future__ import annotations

import argparse
import os
import sys

from pipelines import featurize
from sentiment_model import synth, train


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
    parser = argparse.ArgumentParser(prog="audio-sentiment demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default="build/demo")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=40, help="training epochs at most")
    return parser.parse_known_args(argv)


def run_make_data(argv=None) -> str:
    parser = argparse.ArgumentParser(prog="audio-sentiment make-demo-data")
    parser.add_argument("--output", required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
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
        "--overwrite", *beam_args,
    ])
    print(f"demo: shards, schema.pbtxt and metadata.json in {features_dir}", file=sys.stderr)
    model_dir = os.path.join(args.workdir, "model")
    card = train.run(["--features", features_dir, "--model-dir", model_dir,
                      "--epochs", str(args.epochs), "--patience", "10", "--seed", str(args.seed)])
    print(f"demo: model card {os.path.join(model_dir, train.CARD_FILE)}", file=sys.stderr)
    print(f"demo: plots {os.path.join(model_dir, 'plots', 'confusion_matrix.png')} and "
          f"{os.path.join(model_dir, 'plots', 'learning_curves.png')}", file=sys.stderr)
    return {"features": metadata, "model_card": card}
