"""compare: the study's CNN2D vs LSTM vs BiLSTM comparison, on your own data.

    audio-sentiment compare --features DIR [--features DIR2 ...] --output DIR
        [--architectures seed_bilstm,seed_lstm,seed_cnn2d,bilstm_attention,...] [--epochs N]
        [--label-groups MAP]

Trains every listed architecture on every features directory it can read
(the seed models read the pooled vector of MFCC features that are not
speaker-normalised, e.g. ``--preset seed``; ``seed_cnn2d`` needs
``--preset seed_cnn2d`` features; each pair skipped is said on stderr), all
with the same seed, and writes ``comparison.md`` and ``comparison.json``
plus each model under ``models/``.
"""

from __future__ import annotations

import sys

from pipelines import args as cli_args
from sentiment_model import label_groups, storage
from sentiment_model.errors import ConfigError


def parse_known_args(argv):
    """(compare's options, []); an unknown option raises ConfigError."""
    from sentiment_model import models  # imports Keras: after the command line set it up

    parser = cli_args.job_parser("compare", __doc__)
    parser.add_argument("--features", action="append", required=True,
                        help="a featurize output directory (repeatable)")
    cli_args.add_output(parser, help="where comparison.md, comparison.json and models/ go",
                        required=True)
    parser.add_argument("--architectures", default=",".join(models.ARCHITECTURES),
                        help="comma-separated; also the ensembles "
                             f"{', '.join(models.ENSEMBLES)} (default: %(default)s)")
    parser.add_argument("--epochs", type=int,
                        help="for every architecture (default: each one's, as train)")
    parser.add_argument("--batch-size", type=int, default=32,
                        help="examples per training step (default: %(default)s)")
    parser.add_argument("--patience", type=int,
                        help="for every architecture (default: each one's, as train)")
    parser.add_argument("--seed", type=int, default=0,
                        help="the seed of every model (default: %(default)s)")
    parser.add_argument("--label-groups", metavar="MAP",
                        help="as train --label-groups: train on the feature labels, report "
                             "and compare on their groups")
    return cli_args.parse_job_args(parser, argv, beam=False)


def run(argv=None) -> list[dict]:
    """Runs compare; returns the table rows.

    Raises:
        AudioSentimentError: on bad arguments, or when no architecture can
            read the features.
    """
    from sentiment_model import compare as comparison
    from sentiment_model import models

    args, storage_args = parse_known_args(argv)
    storage.configure(storage_args)
    archs = [a.strip() for a in args.architectures.split(",") if a.strip()]
    unknown = [a for a in archs if a not in models.ARCHITECTURES and a not in models.ENSEMBLES]
    if unknown:
        raise ConfigError(f"--architectures: unknown {', '.join(unknown)}")
    groups = label_groups.parse_mapping(args.label_groups, option="--label-groups")
    rows = comparison.compare(args.features, args.output, architectures=archs,
                              epochs=args.epochs, batch_size=args.batch_size,
                              patience=args.patience, seed=args.seed, label_groups=groups)
    print(comparison.markdown_table(rows), file=sys.stderr)
    print(f"compare: comparison.md and comparison.json in {args.output}", file=sys.stderr)
    return rows


if __name__ == "__main__":
    from pipelines.cli import main

    sys.exit(main(["compare", *sys.argv[1:]]))
