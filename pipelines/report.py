"""report: an analyst's HTML report with charts from score outputs.

    audio-sentiment report --scores SCORE_OUTPUT --output DIR
        [--channel-names 0=agent,1=customer] [--top 5] [--timelines 3]

Writes ``DIR/report.html`` (self-contained: the charts are embedded) and the
charts as PNG files beside it:

* ``volume.png``: files and speech hours scored per run date;
* ``share_by_day.png``: share of speech time in each class per run date;
* ``share_by_channel.png``: the same per channel (agent vs customer);
* ``timelines.png``: sentiment over time of the calls whose tone changed most.

Runs without partitions (no ``--run-date``) are reported under the date they
were scored.
"""

from __future__ import annotations

import base64
import datetime
import html
import os
import sys
import tempfile

import numpy as np

from pipelines import analysis
from pipelines import args as cli_args
from schemas import tables
from sentiment_model import storage
from sentiment_model.errors import ConfigError, InputError

CLASS_COLOURS = {"negative": "#d62728", "neutral": "#7f7f7f", "positive": "#2ca02c"}
CHANNEL_COLOURS = ("#1f77b4", "#ff7f0e", "#9467bd", "#8c564b")


def parse_channel_names(text: str) -> dict[int, str]:
    """``"0=agent,1=customer"`` -> ``{0: "agent", 1: "customer", -1: "mono mix"}``."""
    names = {analysis.MIX: "mono mix"}
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip().lstrip("-").isdigit() or not value.strip():
            raise ConfigError(f"--channel-names {text!r}: expected e.g. 0=agent,1=customer")
        names[int(key)] = value.strip()
    return names


def _colours(names):
    cmap = ["#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]
    return [CLASS_COLOURS.get(n, cmap[i % len(cmap)]) for i, n in enumerate(names)]


def load(scores: str):
    """(files, segments, errors) DataFrames with a ``day`` column."""
    files = analysis.read_table(scores, tables.FILES_TABLE)
    if files.empty:
        raise InputError(f"--scores {scores}: no scored files to report on")
    segments = analysis.read_table(scores, tables.SEGMENTS_TABLE)
    try:
        errors = analysis.read_table(scores, tables.ERRORS_TABLE)
    except InputError:
        errors = None
    for frame in (files, segments, errors):
        if frame is None:
            continue
        if tables.PARTITION_KEY in frame.columns:
            frame["day"] = frame[tables.PARTITION_KEY]
        elif "scored_at" in frame.columns:
            frame["day"] = frame["scored_at"].dt.strftime("%Y-%m-%d")
        else:
            frame["day"] = "(no run date)"
    if "run_date" not in files.columns and "run_id" in segments.columns:
        days = files.drop_duplicates("run_id").set_index("run_id")["day"]
        segments["day"] = segments["run_id"].map(days).fillna("(no run date)")
    return files, segments, errors


def class_time(files, classes: list[str], by: str):
    """Speech seconds per class (share of speech windows x speech time), by ``by``."""
    import pandas as pd

    shares = {c: files[tables.class_column("share", c)] * files["speech_s"] for c in classes}
    frame = pd.DataFrame(shares)
    frame[by] = files[by].to_numpy()
    return frame.groupby(by).sum()


# ------------------------------------------------------------------ charts
def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_volume(files, path: str) -> None:
    plt = _plt()
    per_day = files.groupby("day").agg(files=("uri", "nunique"), speech_h=("speech_s", "sum"))
    per_day["speech_h"] /= 3600
    fig, ax = plt.subplots(figsize=(max(6, 0.8 * len(per_day) + 3), 4))
    x = np.arange(len(per_day))
    ax.bar(x, per_day["files"], width=0.6, color="#1f77b4", label="files scored")
    ax.yaxis.set_major_locator(plt.matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xticks(x, labels=per_day.index, rotation=30, ha="right")
    ax.set_xlabel("run date")
    ax.set_ylabel("files scored")
    twin = ax.twinx()
    twin.plot(x, per_day["speech_h"], "o-", color="#ff7f0e", label="speech hours")
    twin.set_ylabel("speech hours")
    twin.set_ylim(bottom=0)
    handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax.set_ylim(0, per_day["files"].max() * 1.25)
    twin.set_ylim(0, per_day["speech_h"].max() * 1.25 or 1)
    ax.legend(handles, ["files scored", "speech hours"], loc="upper right", ncol=2)
    ax.set_title("Files and speech hours scored per run date")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_shares(seconds, path: str, *, title: str, xlabel: str) -> None:
    """Stacked bars of each class's share of speech time per group."""
    plt = _plt()
    share = seconds.div(seconds.sum(axis=1).replace(0, np.nan), axis=0).fillna(0)
    fig, ax = plt.subplots(figsize=(max(6, 0.8 * len(share) + 3), 4))
    x = np.arange(len(share))
    bottom = np.zeros(len(share))
    for name, colour in zip(share.columns, _colours(share.columns), strict=True):
        values = share[name].to_numpy()
        ax.bar(x, values, bottom=bottom, color=colour, label=name)
        for xi, b, v in zip(x, bottom, values, strict=True):
            if v >= 0.06:
                ax.text(xi, b + v / 2, f"{v:.0%}", ha="center", va="center", color="white",
                        fontsize=9)
        bottom += values
    ax.set_xticks(x, labels=[str(i) for i in share.index], rotation=30, ha="right")
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share of speech time")
    ax.set_title(title)
    ax.legend(title="sentiment", loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_timelines(segments, picks, channel_names: dict[int, str], path: str) -> None:
    """One panel per picked call: valence of each channel's speech windows over time."""
    plt = _plt()
    fig, axes = plt.subplots(len(picks), 1, figsize=(10, 2.6 * len(picks) + 0.6), squeeze=False)
    for ax, (_, pick) in zip(axes[:, 0], picks.iterrows(), strict=True):
        call = segments[(segments["uri"] == pick["uri"]) & (segments["day"] == pick["day"])]
        for i, (channel, part) in enumerate(call.groupby("channel")):
            part = part.sort_values("start_s")
            centre = (part["start_s"] + part["end_s"]) / 2
            val = analysis.valence(part)
            val = np.where(part["is_speech"].to_numpy(), val, np.nan)
            ax.plot(centre, val, "o-", ms=3, color=CHANNEL_COLOURS[i % len(CHANNEL_COLOURS)],
                    label=channel_names.get(channel, f"channel {channel}"))
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_ylim(-1.05, 1.05)
        ax.set_ylabel("valence\n(p_pos - p_neg)")
        ax.set_title(f"{storage.basename(pick['uri'])} ({pick['day']}): "
                     f"{channel_names.get(pick['channel'], pick['channel'])} "
                     f"{pick['valence_first']:+.2f} -> {pick['valence_last']:+.2f}", fontsize=10)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("time in call (s)")
    fig.suptitle("Sentiment over time of the calls that changed most (speech windows)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------- report
def _table(frame, *, floatfmt: str = "{:.2f}") -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for _, row in frame.iterrows():
        cells = []
        for value in row:
            text = floatfmt.format(value) if isinstance(value, float) else str(value)
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _img(path: str, alt: str) -> str:
    with open(path, "rb") as f:
        data = base64.b64encode(f.read()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def build_report(scores: str, out: str, *, channel_names: dict[int, str], top: int = 5,
                 timelines: int = 3) -> dict:
    """Writes report.html and the PNG charts to ``out``; returns what it found."""
    import pandas as pd

    files, segments, errors = load(scores)
    classes = analysis.class_names(files)
    files["channel_name"] = files["channel"].map(
        lambda c: channel_names.get(c, f"channel {c}"))
    per_day = files.groupby("day").agg(files=("uri", "nunique"), channels=("uri", "size"),
                                       audio_h=("duration_s", "sum"),
                                       speech_h=("speech_s", "sum")).reset_index()
    per_day["audio_h"] /= 3600
    per_day["speech_h"] /= 3600
    if errors is not None and not errors.empty:
        rejected = errors.groupby("day")["uri"].nunique().rename("rejected")
        per_day = per_day.merge(rejected, left_on="day", right_index=True, how="left")
        per_day["rejected"] = per_day["rejected"].fillna(0).astype(int)
    by_day = class_time(files, classes, "day")
    by_channel = class_time(files, classes, "channel_name")
    trends = analysis.quarter_trends(files, segments)

    sections = []
    charts = {}
    with tempfile.TemporaryDirectory() as scratch:
        def chart(name, draw, *args, **kwargs):
            local = os.path.join(scratch, name)
            draw(*args, local, **kwargs)
            charts[name] = _img(local, name)
            with open(local, "rb") as f:
                storage.write_bytes(storage.join(out, name), f.read(), mime_type="image/png")

        chart("volume.png", plot_volume, files)
        chart("share_by_day.png", plot_shares, by_day, title="Share of speech time per class "
              "and run date", xlabel="run date")
        chart("share_by_channel.png", plot_shares, by_channel, title="Share of speech time "
              "per class and channel", xlabel="channel")
        sections.append("<h2>Volume</h2>" + _table(per_day) + charts["volume.png"])
        sections.append("<h2>Sentiment per day</h2>" + charts["share_by_day.png"])
        sections.append("<h2>Sentiment per channel</h2>" + charts["share_by_channel.png"])

        movers = None
        if trends is None or trends.empty:
            sections.append("<h2>Calls that changed most</h2><p>Not available: the model's "
                            "classes have no positive and negative, or no channel has speech "
                            "in both its first and last quarter.</p>")
        else:
            keys = [c for c in ("uri", "channel", tables.PARTITION_KEY) if c in trends.columns]
            trends = trends.merge(files[[*keys, "day", "label"]], on=keys)
            fell = trends.nsmallest(top, "valence_change")
            rose = trends.nlargest(top, "valence_change")
            show = ["uri", "channel", "day", "label", "valence_first", "valence_last",
                    "valence_change"]

            def pretty(frame):
                frame = frame[show].copy()
                frame["uri"] = frame["uri"].map(storage.basename)
                frame["channel"] = frame["channel"].map(
                    lambda c: channel_names.get(c, f"channel {c}"))
                return frame

            movers = pd.concat([fell, rose]).drop_duplicates(["uri", "channel", "day"])
            picks = movers.reindex(movers["valence_change"].abs().sort_values(
                ascending=False).index).drop_duplicates("uri").head(timelines)
            chart("timelines.png", plot_timelines, segments, picks, channel_names)
            sections.append(
                "<h2>Calls that changed most</h2><p>Valence is p_positive - p_negative, "
                "averaged over the speech windows of a channel's first and last quarter.</p>"
                f"<h3>Fell most</h3>{_table(pretty(fell))}"
                f"<h3>Rose most</h3>{_table(pretty(rose))}"
                f"<h3>Timelines</h3>{charts['timelines.png']}")
        if errors is not None and not errors.empty:
            counts = (errors.groupby(["day", "error_type"]).size().rename("rows")
                      .reset_index())
            sections.append("<h2>Rejected inputs</h2>" + _table(counts))

    generated = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>audio-sentiment report</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}
table{{border-collapse:collapse;margin:0.5em 0 1em}}td,th{{border:1px solid #ccc;
padding:3px 8px;text-align:right}}th{{background:#f3f3f3}}img{{max-width:100%}}</style>
</head><body><h1>audio-sentiment report</h1>
<p>Scores in <code>{html.escape(scores)}</code>; {len(files)} scored channels of
{files['uri'].nunique()} files, classes {', '.join(classes)}; generated {generated}.</p>
{''.join(sections)}
</body></html>
"""
    storage.write_bytes(storage.join(out, "report.html"), page.encode(), mime_type="text/html")
    return {"days": list(per_day["day"]), "charts": sorted(charts),
            "movers": 0 if movers is None else len(movers),
            "share_by_day": by_day.div(by_day.sum(axis=1), axis=0).round(4).to_dict("index"),
            "share_by_channel": by_channel.div(by_channel.sum(axis=1), axis=0)
            .round(4).to_dict("index")}


def parse_known_args(argv):
    """(report's options, []); an unknown option raises ConfigError."""
    parser = cli_args.job_parser("report", __doc__)
    parser.add_argument("--scores", required=True, help="a score --output directory")
    cli_args.add_output(parser, help="where report.html and the PNGs go", required=True)
    parser.add_argument("--channel-names", default="0=agent,1=customer",
                        help="names of split channels (default: %(default)s)")
    parser.add_argument("--top", type=int, default=5,
                        help="calls listed as falling / rising most (default: %(default)s)")
    parser.add_argument("--timelines", type=int, default=3,
                        help="calls drawn as timelines (default: %(default)s)")
    return cli_args.parse_job_args(parser, argv, beam=False)


def run(argv=None) -> dict:
    args, storage_args = parse_known_args(argv)
    storage.configure(storage_args)
    if args.top < 1 or args.timelines < 1:
        raise ConfigError("--top and --timelines must be positive")
    storage.makedirs(args.output)
    found = build_report(args.scores, args.output,
                         channel_names=parse_channel_names(args.channel_names),
                         top=args.top, timelines=args.timelines)
    print(f"report: {storage.join(args.output, 'report.html')} ({len(found['days'])} run date(s), "
          f"charts: {', '.join(found['charts'])})", file=sys.stderr)
    return found


if __name__ == "__main__":
    from pipelines.cli import main

    sys.exit(main(["report", *sys.argv[1:]]))
