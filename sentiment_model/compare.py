"""The study's CNN2D vs LSTM vs BiLSTM comparison, on your own data
(the ``audio-sentiment compare`` job is :mod:`pipelines.compare`).

:func:`compare` trains every listed architecture on every features
directory it can read, all with the same seed, and writes ``comparison.md``
and ``comparison.json`` plus each model under ``models/``.
"""

from __future__ import annotations

import json
import os
import sys

from sentiment_model import dataset, models, train
from sentiment_model.errors import ConfigError

COLUMNS = ("architecture", "preset", "evaluated_on", "accuracy", "uar", "macro_f1",
           "parameters", "epochs_run", "train_seconds")


def compare(features_dirs: list[str], out_dir: str, *, architectures: list[str],
            epochs: int | None, batch_size: int, patience: int | None, seed: int,
            label_groups: dict[str, str] | None = None) -> list[dict]:
    """Trains each compatible (architecture, features) pair; returns the table rows.

    ``epochs`` / ``patience``: ``None`` gives each architecture its own
    (``Architecture.schedule``). ``label_groups``: as ``train --label-groups``
    (every model reports the groups).
    """
    rows = []
    for features_dir in features_dirs:
        fs = dataset.load_feature_set(features_dir)
        fc = fs.feature_config
        frame_dims = len(fs.metadata["train_stats"]["frames"]["mean"])
        for arch in architectures:
            try:
                models.check_features(arch, feature_kind=fc["kind"], frame_dims=frame_dims,
                                      image_frames=fc["image_frames"],
                                      normalize=fc.get("normalize", "none"))
            except ConfigError as exc:
                print(f"compare: skipping {arch} on {features_dir}: {exc}", file=sys.stderr)
                continue
            model_dir = os.path.join(out_dir, "models", f"{arch}-{fc['preset']}")
            card = train.train(train.TrainConfig(
                features=features_dir, model_dir=model_dir, architecture=arch, epochs=epochs,
                batch_size=batch_size, patience=patience, seed=seed,
                label_groups=label_groups))
            print(train.summary_line(card), file=sys.stderr)
            which, m = card.headline_metrics()
            rows.append({"architecture": arch, "preset": fc["preset"], "evaluated_on": which,
                         "accuracy": m["accuracy"], "uar": m["uar"], "macro_f1": m["macro_f1"],
                         "parameters": card.parameters,
                         "epochs_run": card.details["epochs_run"],
                         "train_seconds": card.details["train_seconds"],
                         "model_dir": model_dir})
    if not rows:
        raise ConfigError("no architecture can read these features; see --help")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "comparison.json"), "w") as f:
        json.dump(rows, f, indent=2)
    with open(os.path.join(out_dir, "comparison.md"), "w") as f:
        f.write(markdown_table(rows))
    return rows


def markdown_table(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in sorted(rows, key=lambda r: -(r["uar"] or 0)):
        cells = []
        for col in COLUMNS:
            value = row[col]
            cells.append(f"{value:.3f}" if isinstance(value, float) and col != "train_seconds"
                         else f"{value:,}" if col == "parameters" else str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
