"""evaluate: scored files against ground-truth labels.

    audio-sentiment evaluate --scores SCORE_OUTPUT --labels labels.csv [--output DIR]
        [--run-date YYYY-MM-DD] [--label-map a=x,b=y]

The label CSV is the one featurize reads (``path,label`` or
``Filename,Class``; paths absolute, relative to the CSV or bare file names),
optionally with a ``channel`` column (0, 1, ...) for split stereo calls;
without it a file's label applies to each of its scored channels.

Prints accuracy, UAR (unweighted average recall), macro-F1 and the
per-class report; with ``--output`` writes ``metrics.json`` and
``confusion_matrix.png`` there.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile

import numpy as np

from pipelines import analysis, labels
from pipelines import args as cli_args
from sentiment_model import evaluation, storage
from sentiment_model.errors import ConfigError, InputError


def match_labels(files, table: labels.LabelTable, channels: dict[int, int]) -> tuple[list, dict]:
    """Pairs scored rows with label rows.

    Args:
        files: the ``files`` table (analysis.read_table).
        table: the parsed label CSV.
        channels: CSV line number -> channel, for CSVs with a channel column.

    Returns:
        ``([(true label, predicted label, uri, channel), ...], counts)``;
        counts of labelled rows without a score and of ambiguous names.
    """
    by_uri: dict[str, list[int]] = {}
    by_name: dict[str, list[int]] = {}
    for i, uri in enumerate(files["uri"]):
        by_uri.setdefault(uri, []).append(i)
        by_name.setdefault(storage.basename(uri), []).append(i)
    pairs, unscored, ambiguous = [], 0, 0
    for row in table.rows:
        hits = by_uri.get(row.uri, []) if row.uri else by_name.get(row.name, [])
        if not row.uri and len({files["uri"].iat[i] for i in hits}) > 1:
            ambiguous += 1
            continue
        if row.row_number in channels:
            hits = [i for i in hits if files["channel"].iat[i] == channels[row.row_number]]
        if not hits:
            unscored += 1
        for i in hits:
            pairs.append((row.label, files["label"].iat[i], files["uri"].iat[i],
                          int(files["channel"].iat[i])))
    return pairs, {"labelled_without_score": unscored, "ambiguous_names": ambiguous}


def channel_column(text: str) -> dict[int, int]:
    """CSV line number -> channel, when the CSV has a ``channel`` column."""
    reader = csv.DictReader(io.StringIO(text))
    column = next((h for h in (reader.fieldnames or []) if h.strip().lower() == "channel"),
                  None)
    if column is None:
        return {}
    out = {}
    for line, row in enumerate(reader, start=2):
        value = (row.get(column) or "").strip()
        if value:
            try:
                out[line] = int(float(value))
            except ValueError:
                raise InputError(f"--labels: line {line}: channel {value!r} is not a "
                                 "number") from None
    return out


def evaluate(*, scores: str, labels_uri: str, out: str | None = None,
             run_date: str | None = None, label_map: dict[str, str] | None = None) -> dict:
    """Computes (and with ``out`` writes) the metrics; returns them."""
    files = analysis.read_table(scores, "files", run_date=run_date)
    if files.empty:
        raise InputError(f"--scores {scores}: the files table has no rows"
                         + (f" for run_date={run_date}" if run_date else ""))
    vocabulary = analysis.class_names(files)
    try:
        text = storage.read_text(labels_uri)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--labels {labels_uri}: cannot read ({exc})") from None
    table = labels.parse_label_csv(text, csv_uri=labels_uri, label_map=label_map)
    pairs, counts = match_labels(files, table, channel_column(text))
    unknown = sorted({t for t, *_ in pairs if t not in vocabulary})
    if unknown:
        raise InputError(f"--labels {labels_uri}: label(s) {', '.join(unknown)} are not classes "
                         f"of the model ({', '.join(vocabulary)}); pass --label-map")
    if not pairs:
        raise InputError(f"--labels {labels_uri}: no labelled file was found in the scores")
    ids = {name: i for i, name in enumerate(vocabulary)}
    y_true = np.array([ids[t] for t, *_ in pairs])
    y_pred = np.array([ids[p] for _, p, *_ in pairs])
    metrics = evaluation.classification_metrics(y_true, y_pred, vocabulary)
    metrics["counts"] = {"evaluated": len(pairs), "label_rows": len(table.rows),
                         "label_rows_rejected": len(table.errors), **counts,
                         "scored_without_label": len(files) - len({(u, c) for *_, u, c in pairs})}
    if out:
        storage.makedirs(out)
        storage.write_text(storage.join(out, "metrics.json"), json.dumps(metrics, indent=2) + "\n")
        with tempfile.TemporaryDirectory() as scratch:
            png = os.path.join(scratch, "confusion_matrix.png")
            evaluation.plot_confusion_matrix(
                metrics["confusion_matrix"], vocabulary, png,
                title=f"scored files vs labels (n={metrics['n']}, UAR {metrics['uar']:.2f})")
            with open(png, "rb") as f:
                storage.write_bytes(storage.join(out, "confusion_matrix.png"), f.read(),
                                    mime_type="image/png")
    return metrics


def summary_lines(metrics: dict) -> list[str]:
    c = metrics["counts"]
    lines = [f"evaluate: {c['evaluated']} scored rows matched to labels "
             f"({c['labelled_without_score']} labelled rows without a score, "
             f"{c['scored_without_label']} scored rows without a label)",
             f"evaluate: accuracy {metrics['accuracy']:.3f}, UAR {metrics['uar']:.3f}, "
             f"macro-F1 {metrics['macro_f1']:.3f}",
             f"  {'class':<12} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}"]
    for name, m in metrics["per_class"].items():
        lines.append(f"  {name:<12} {m['precision']:>9.3f} {m['recall']:>7.3f} {m['f1']:>6.3f} "
                     f"{m['support']:>8d}")
    return lines


def parse_known_args(argv):
    """(evaluate's options, []); an unknown option raises ConfigError."""
    parser = cli_args.job_parser("evaluate", __doc__)
    parser.add_argument("--scores", required=True, help="a score --output directory")
    parser.add_argument("--labels", required=True, help="ground-truth label CSV")
    cli_args.add_output(parser, help="write metrics.json and confusion_matrix.png here",
                        required=False)
    parser.add_argument("--run-date", type=cli_args.run_date,
                        help="YYYY-MM-DD: only this run_date partition")
    parser.add_argument("--label-map", help="raw label -> class: a JSON file, 'a=x,b=y' or "
                                            "'emotion-sentiment' (emotion names -> sentiment)")
    return cli_args.parse_job_args(parser, argv, beam=False)


def run(argv=None) -> dict:
    args, storage_args = parse_known_args(argv)
    storage.configure(storage_args)
    metrics = evaluate(scores=args.scores, labels_uri=args.labels, out=args.output,
                       run_date=args.run_date, label_map=labels.parse_label_map(args.label_map))
    print("\n".join(summary_lines(metrics)), file=sys.stderr)
    if args.output:
        print(f"evaluate: metrics.json and confusion_matrix.png in {args.output}", file=sys.stderr)
    return metrics


if __name__ == "__main__":
    from pipelines.cli import main

    sys.exit(main(["evaluate", *sys.argv[1:]]))
