"""train: featurize shards -> a versioned Keras model with its model card.

    audio-sentiment train --features DIR --model-dir DIR [--architecture NAME]
        [--epochs N] [--batch-size N] [--seed N] [--mixed-precision] ...

Writes ``model.keras``, ``model_card.json``, ``metrics.json``,
``history.csv``, ``plots/confusion_matrix.png``,
``plots/learning_curves.png`` and TensorBoard logs under ``logs/``.
Runs on a CPU; unchanged on one or several GPUs (MirroredStrategy).
"""

from __future__ import annotations

import os
import sys

from pipelines import args as cli_args
from sentiment_model import architectures, label_groups, storage
from sentiment_model import train as training
from sentiment_model.architectures import PRODUCT_SCHEDULE, STUDY_SCHEDULE


def parse_known_args(argv):
    """(train's options, []); an unknown option raises ConfigError."""
    parser = cli_args.job_parser("train", __doc__)
    parser.add_argument("--features", required=True, help="a featurize output directory")
    parser.add_argument("--model-dir", required=True, help="where the model is exported")
    parser.add_argument("--architecture", default=architectures.DEFAULT, metavar="NAME",
                        help="; ".join(f"{a.name}: {a.summary}"
                                       for a in architectures.REGISTRY.values())
                        + " (default: %(default)s)")
    def schedule_default(key: str) -> str:
        study = ", ".join(a.name for a in architectures.REGISTRY.values() if a.study)
        return (f"default: {STUDY_SCHEDULE[key]} for {study}, as the study trained them; "
                f"{PRODUCT_SCHEDULE[key]} for the others, as the default recipe was measured")

    parser.add_argument("--epochs", type=int,
                        help=f"epochs at most ({schedule_default('epochs')})")
    parser.add_argument("--batch-size", type=int, default=32,
                        help="examples per training step (default: %(default)s)")
    parser.add_argument("--learning-rate", type=float,
                        help="for every model trained (default: each architecture's, "
                             + ", ".join(f"{a.name} {a.learning_rate:g}"
                                         for a in architectures.REGISTRY.values()
                                         if not a.members) + ")")
    parser.add_argument("--patience", type=int,
                        help=f"early-stopping patience in epochs ({schedule_default('patience')})")
    parser.add_argument("--min-epochs", type=int, metavar="N",
                        help="early stopping keeps the best epoch from epoch N on, and counts "
                             f"patience from there ({schedule_default('min_epochs')})")
    parser.add_argument("--no-class-weights", action="store_true",
                        help="do not weight classes by inverse frequency")
    parser.add_argument("--seed", type=int, default=0,
                        help="initialisation and shuffling seed (default: %(default)s)")
    parser.add_argument("--mixed-precision", action="store_true",
                        help="mixed_float16 (for GPUs with tensor cores)")
    parser.add_argument("--spec-augment", action="store_true",
                        help="SpecAugment time/coefficient masking while training "
                             "(the BiLSTM of bilstm_attention and bilstm_stats)")
    parser.add_argument("--ensemble", type=int, default=1, metavar="K",
                        help="train K models (seeds SEED..SEED+K-1, each initialised and "
                             "its data shuffled by its own seed: the models K separate runs "
                             "train; bilstm_stats: K of each member) and export their "
                             "average as one model (default: %(default)s)")
    parser.add_argument("--input-noise", type=float, default=0.0, metavar="SIGMA",
                        help="standard deviation of Gaussian noise added to the standardised "
                             "frames while training (the BiLSTM of bilstm_attention and "
                             "bilstm_stats; default: %(default)s)")
    parser.add_argument("--refit", action="store_true",
                        help="after early stopping, retrain from scratch on the train and "
                             "validation data for the best epoch count (the exported model; "
                             "eval metrics stay those of the early-stopped model)")
    parser.add_argument("--label-groups", metavar="MAP",
                        help="train on the feature labels and export a model that reports "
                             "groups of them: 'emotion-sentiment' (common emotion names -> "
                             "negative/neutral/positive), a JSON file or 'a=x,b=y'; every "
                             "label needs a group")
    parser.add_argument("--no-calibrate", action="store_true",
                        help="export the probabilities as trained, without a temperature")
    parser.add_argument("--calibration-folds", type=int, default=3, metavar="K",
                        help="fit the temperature on out-of-fold probabilities: the training "
                             "speakers in K groups, each predicted by the models fitted again "
                             "on the others for their best epoch count (K more fits of each "
                             "model); 0: on the validation data (default: %(default)s)")
    parser.add_argument("--no-score-check", action="store_true",
                        help="do not score the test split's files again through score's path "
                             "(the second UAR train prints: what score + evaluate give)")
    return cli_args.parse_job_args(parser, argv, beam=False)


def run(argv=None) -> dict:
    """Runs train; returns the model card.

    Raises:
        AudioSentimentError: on bad arguments or features, before training.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args, storage_args = parse_known_args(argv)
    storage.configure(storage_args)
    config = training.TrainConfig(
        features=args.features, model_dir=args.model_dir, architecture=args.architecture,
        epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
        patience=args.patience, min_epochs=args.min_epochs,
        class_weights=not args.no_class_weights, seed=args.seed,
        mixed_precision=args.mixed_precision, spec_augment=args.spec_augment,
        input_noise=args.input_noise, ensemble=args.ensemble, refit=args.refit,
        label_groups=label_groups.parse_mapping(args.label_groups, option="--label-groups"),
        calibrate=not args.no_calibrate, calibration_folds=args.calibration_folds,
        score_check=not args.no_score_check)
    card = training.train(config)
    print(training.summary_line(card), file=sys.stderr)
    print(f"train: model, model card and plots in {config.model_dir}", file=sys.stderr)
    return card


if __name__ == "__main__":
    from pipelines.cli import main

    sys.exit(main(["train", *sys.argv[1:]]))
