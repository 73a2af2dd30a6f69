"""report: an analyst's HTML report with charts from score outputs.

    audio-sentiment report --scores SCORE_OUTPUT --output DIR [--from YYYY-MM-DD]
        [--to YYYY-MM-DD] [--channel-names 0=agent,1=customer] [--top 5]

Writes ``DIR/report.html`` (self-contained: the charts are embedded), the
charts as PNG files beside it and, for every call it lists,
``DIR/calls/NN.html``:

* volume per run date (summed per month, then per year, past 31 run
  dates): recordings and channels scored, recording hours (each file
  counted once) and channel hours (each channel of it);
* share of speech time in each class per run date and per role (agent,
  customer, mono mix);
* per agent (with ``score --call-metadata``'s ``agent_id``): calls, the
  customer's mean valence in the first and last quarter, non-talk share,
  interruptions per call;
* the calls whose customer's valence fell and rose most from the first to
  the last quarter, each with a page: both speakers' timelines, sentiment
  per quarter, talk measures;
* the rejected inputs with their reasons.

Only the partitions from ``--from`` to ``--to`` are read, one at a time and
only the columns needed; the listed calls' windows are read back alone.
Colours are the Okabe-Ito palette (safe for colour-blind readers). Runs
without partitions (no ``--run-date``) are reported under the date they were
scored.
"""

from __future__ import annotations

import base64
import datetime
import html
import os
import sys
import tempfile

import numpy as np

from pipelines import analysis, report_data
from pipelines import args as cli_args
from schemas import tables
from sentiment_model import storage
from sentiment_model.errors import ConfigError
from sentiment_model.talk import TalkConfig

# Okabe & Ito's palette: told apart with every common colour-vision deficiency
CLASS_COLOURS = {"negative": "#D55E00", "neutral": "#999999", "positive": "#0072B2"}
ROLE_COLOURS = {"agent": "#000000", "customer": "#E69F00"}
TALK = TalkConfig()  # score's talk measures (it has no options to change them)
OTHER_COLOURS = ("#009E73", "#CC79A7", "#56B4E9", "#F0E442", "#0072B2", "#D55E00")


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
    return [CLASS_COLOURS.get(n) or ROLE_COLOURS.get(n) or OTHER_COLOURS[i % len(OTHER_COLOURS)]
            for i, n in enumerate(names)]


# ------------------------------------------------------------------ charts
def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


MAX_BARS = 31


def by_period(frame) -> tuple[object, str]:
    """``frame`` (indexed by run date, columns summable) as it is shown:
    per run date up to :data:`MAX_BARS` of them, else summed per month,
    else per year; and the period's name."""
    if len(frame) <= MAX_BARS:
        return frame, "run date"
    for width, unit in ((7, "month"), (4, "year")):
        key = frame.index.astype(str).str[:width]
        if key.nunique() <= MAX_BARS or unit == "year":
            return frame.groupby(key).sum(), unit
    raise AssertionError("unreachable")


def _width(n_bars: int) -> float:
    return min(max(6, 0.8 * n_bars + 3), 16)


def plot_volume(volume, path: str, *, unit: str = "run date") -> None:
    """Recordings scored (bars) and recording hours (line) per ``unit``."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(_width(len(volume)), 4))
    x = np.arange(len(volume))
    ax.bar(x, volume["recordings"], width=0.6, color="#56B4E9", label="recordings scored")
    ax.yaxis.set_major_locator(plt.matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xticks(x, labels=volume.index, rotation=30, ha="right")
    ax.set_xlabel(unit)
    ax.set_ylabel("recordings scored")
    twin = ax.twinx()
    twin.plot(x, volume["recording_h"], "o-", color="#D55E00", label="recording hours")
    twin.set_ylabel("recording hours (each file once)")
    ax.set_ylim(0, volume["recordings"].max() * 1.25)
    twin.set_ylim(0, volume["recording_h"].max() * 1.25 or 1)
    handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax.legend(handles, ["recordings scored", "recording hours"], loc="upper right", ncol=2)
    ax.set_title(f"Recordings and recording hours scored per {unit}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_shares(seconds, path: str, *, title: str, xlabel: str) -> None:
    """Stacked bars of each class's share of speech time per group."""
    plt = _plt()
    share = seconds.div(seconds.sum(axis=1).replace(0, np.nan), axis=0).fillna(0)
    fig, ax = plt.subplots(figsize=(_width(len(share)), 4))
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


def line_name(call, channel: int) -> str:
    """What a channel of a ``calls/`` row is called: its role, ``mono mix``
    (a mono call's mix) or ``channel N``."""
    if call.get("roles") in (tables.ROLES_FROM_CHANNELS, tables.ROLES_FROM_DIARIZATION):
        for role in tables.ROLES:
            if call.get(f"{role}_channel") == channel:
                return role
    return "mono mix" if channel == analysis.MIX else f"channel {channel}"


def plot_call(call, segments, path: str) -> None:
    """Both speakers' valence over one call (one point per speech window)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(10, 3.4))
    for i, (channel, part) in enumerate(segments.groupby("channel")):
        name = line_name(call, channel)
        centre = (part["start_s"] + part["end_s"]) / 2
        val = analysis.valence(part)
        if val is None:
            continue
        val = np.where(part["is_speech"].to_numpy(), val, np.nan)
        ax.plot(centre, val, "o-", ms=3, label=name,
                color=ROLE_COLOURS.get(name, OTHER_COLOURS[i % len(OTHER_COLOURS)]))
    duration = float(call["duration_s"])
    for q in range(1, 4):
        ax.axvline(q * duration / 4, color="#bbbbbb", lw=0.8, ls="--")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlim(0, duration)
    ax.set_xlabel("time in call (s); dashed: quarters")
    ax.set_ylabel("valence\n(p_pos - p_neg)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=9)
    ax.grid(alpha=0.3)
    ax.set_title(f"{call['call_id']}: sentiment of each speech window")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------- report
def _cell(value, floatfmt: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float | np.floating):
        return floatfmt.format(value)
    return str(value)


def _table(frame, *, floatfmt: str = "{:.2f}", links: list[str] | None = None) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for i, (_, row) in enumerate(frame.iterrows()):
        cells = [html.escape(_cell(v, floatfmt)) for v in row]
        if links is not None:
            cells[0] = f'<a href="{html.escape(links[i])}">{cells[0]}</a>'
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _img(path: str, alt: str) -> str:
    with open(path, "rb") as f:
        data = base64.b64encode(f.read()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


STYLE = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1em}td,th{border:1px solid #ccc;
padding:3px 8px;text-align:right}th{background:#f3f3f3}img{max-width:100%}"""


def _page(title: str, body: str) -> bytes:
    return (f'<!doctype html>\n<html><head><meta charset="utf-8"><title>{html.escape(title)}'
            f"</title>\n<style>{STYLE}</style>\n</head><body>{body}\n</body></html>\n").encode()


def _call_page(scores: str, call, scratch: str) -> bytes:
    """The drill-down page of one listed call."""
    import pandas as pd

    row, segments = report_data.call_detail(scores, call)
    local = os.path.join(scratch, "call.png")
    plot_call(row, segments, local)
    quarters = pd.DataFrame(
        [[role] + [f"{_cell(row.get(f'{role}_q{q}_label'), '')} "
                   f"{_cell(row.get(f'{role}_q{q}_valence'), '{:+.2f}')}".strip()
                   for q in tables.QUARTERS] for role in tables.ROLES],
        columns=["role", "q1", "q2", "q3", "q4"])
    measures = ["label", "valence", "talk_s", "talk_share", "n_turns", "loudness_dbfs",
                "speaking_rate", "interruptions", "n_changes"]
    talk = pd.DataFrame([[role] + [row.get(f"{role}_{m}") for m in measures]
                         for role in tables.ROLES], columns=["role", *measures])
    call_level = pd.DataFrame([{k: row.get(k) for k in (
        "duration_s", "talk_s", "non_talk_s", "non_talk_share", "overlap_s", "interruptions")}])
    extra = [c for c in ("agent_id", "queue", "started_at") if c in row.index]
    about = ", ".join(f"{c} {html.escape(str(row[c]))}" for c in extra)
    body = (f"<h1>Call {html.escape(str(row['call_id']))}</h1><p><code>"
            f"{html.escape(str(row['uri']))}</code>, run date {html.escape(call['day'])}"
            f"{'; ' + about if about else ''}. <a href=\"../report.html\">Back to the report"
            f"</a></p><h2>Timeline</h2>{_img(local, 'timeline')}"
            f"<h2>Sentiment per quarter</h2>{_table(quarters)}"
            f"<h2>Speakers</h2>{_table(talk)}<h2>Call</h2>{_table(call_level)}"
            f"<p>Valence is p_positive - p_negative. A turn is speech with no pause of "
            f"{TALK.min_pause_s:g} s or longer; an interruption is a turn started while the "
            f"other speaker had been talking for at least {TALK.interruption_after_s:g} s.</p>")
    return _page(f"call {row['call_id']}", body)


def _listed(frame) -> object:
    keep = ["call_id", "day", *(c for c in ("agent_id",) if c in frame.columns),
            "customer_label", "customer_q1_valence", "customer_q4_valence", "customer_change"]
    return frame[keep].rename(columns={"customer_q1_valence": "customer_start",
                                       "customer_q4_valence": "customer_end"})


def build_report(scores: str, out: str, *, channel_names: dict[int, str], top: int = 5,
                 date_from: str | None = None, date_to: str | None = None) -> dict:
    """Writes report.html, the PNG charts and the calls' pages to ``out``;
    returns what it found."""
    import pandas as pd

    summary = report_data.summarise(scores, channel_names=channel_names, date_from=date_from,
                                    date_to=date_to, top=top)
    volume = summary.volume
    sections, charts, pages = [], {}, []
    with tempfile.TemporaryDirectory() as scratch:
        def chart(name, draw, *args, **kwargs):
            local = os.path.join(scratch, name)
            draw(*args, local, **kwargs)
            charts[name] = _img(local, name)
            with open(local, "rb") as f:
                storage.write_bytes(storage.join(out, name), f.read(), mime_type="image/png")

        shown, unit = by_period(volume)
        chart("volume.png", plot_volume, shown, unit=unit)
        chart("share_by_day.png", plot_shares, by_period(summary.by_day)[0],
              title=f"Share of speech time per class and {unit}", xlabel=unit)
        chart("share_by_role.png", plot_shares, summary.by_role,
              title="Share of speech time per class and role", xlabel="role")
        per = "" if unit == "run date" else f" Summed per {unit} ({len(volume)} run dates)."
        shown = shown.reset_index().rename(columns={"index": unit, "day": unit})
        sections.append("<h2>Volume</h2><p>Recording hours count each file once; channel "
                        "hours count each of its channels (a stereo call is twice its "
                        f"length).{per}</p>" + _table(shown) + charts["volume.png"])
        period = "day" if unit == "run date" else unit
        sections.append(f"<h2>Sentiment per {period}</h2>" + charts["share_by_day.png"])
        sections.append("<h2>Sentiment per role</h2>" + charts["share_by_role.png"])
        if summary.agents is not None:
            sections.append(
                "<h2>Agents</h2><p>Per <code>agent_id</code> (from <code>score "
                "--call-metadata</code>): the customer's mean valence in the first and the "
                "last quarter of the agent's calls, sorted by the change.</p>"
                + _table(summary.agents))
        else:
            sections.append("<h2>Agents</h2><p>Not available: the calls carry no "
                            "<code>agent_id</code> (score with <code>--call-metadata</code>) "
                            "or there is no <code>calls/</code> table.</p>")
        if summary.fell is None:
            sections.append("<h2>Calls that changed most</h2><p>Not available: no "
                            "<code>calls/</code> rows with the customer's first and last "
                            "quarter scored.</p>")
        else:
            listed = pd.concat([summary.fell, summary.rose]).drop_duplicates(["uri", "day"])
            links = {}
            for _, call in listed.iterrows():
                name = f"calls/{len(pages):02d}.html"
                storage.write_bytes(storage.join(out, name), _call_page(scores, call, scratch),
                                    mime_type="text/html")
                links[(call["uri"], call["day"])] = name
                pages.append(name)

            def linked(frame):
                return [links[(u, d)] for u, d in zip(frame["uri"], frame["day"], strict=True)]

            sections.append(
                "<h2>Calls that changed most</h2><p>The customer's valence (p_positive - "
                "p_negative) in the first and the last quarter of the call; each call links "
                "to its page.</p>"
                f"<h3>Fell most</h3>{_table(_listed(summary.fell), links=linked(summary.fell))}"
                f"<h3>Rose most</h3>{_table(_listed(summary.rose), links=linked(summary.rose))}")
        if summary.error_counts is not None:
            rows = summary.error_rows.assign(file=summary.error_rows["uri"].map(storage.basename))
            more = summary.n_errors - len(rows)
            sections.append(
                "<h2>Rejected inputs</h2>" + _table(summary.error_counts)
                + "<h3>Each rejected input</h3>"
                + _table(rows[["day", "file", "stage", "error_type", "message"]])
                + (f"<p>... and {more} more rows in <code>errors/</code>.</p>" if more > 0
                   else ""))

    generated = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    span = f"{summary.days[0]} to {summary.days[-1]}" if summary.days else "none"
    body = (f"<h1>audio-sentiment report</h1><p>Scores in <code>{html.escape(scores)}</code>, "
            f"run dates {html.escape(span)}: {int(volume['recordings'].sum())} recordings "
            f"({volume['recording_h'].sum():.1f} recording hours, "
            f"{volume['channel_h'].sum():.1f} channel hours); classes "
            f"{', '.join(summary.classes)}; generated {generated}.</p>{''.join(sections)}")
    storage.write_bytes(storage.join(out, "report.html"), _page("audio-sentiment report", body),
                        mime_type="text/html")
    share = summary.by_day.div(summary.by_day.sum(axis=1), axis=0).round(4)
    by_role = summary.by_role.div(summary.by_role.sum(axis=1), axis=0).round(4)
    return {"days": summary.days, "charts": sorted(charts), "call_pages": pages,
            "agents": 0 if summary.agents is None else len(summary.agents),
            "rejected_rows": summary.n_errors,
            "share_by_day": share.to_dict("index"), "share_by_role": by_role.to_dict("index")}


def parse_known_args(argv):
    """(report's options, []); an unknown option raises ConfigError."""
    parser = cli_args.job_parser("report", __doc__)
    parser.add_argument("--scores", required=True, help="a score --output directory")
    cli_args.add_output(parser, help="where report.html, the PNGs and calls/ go", required=True)
    parser.add_argument("--from", dest="date_from", type=cli_args.run_date,
                        help="first run date to report (YYYY-MM-DD; default: the first)")
    parser.add_argument("--to", dest="date_to", type=cli_args.run_date,
                        help="last run date to report (YYYY-MM-DD; default: the last)")
    parser.add_argument("--channel-names", default="0=agent,1=customer",
                        help="names of channels without a role (outputs of earlier "
                             "versions; default: %(default)s)")
    parser.add_argument("--top", type=int, default=5,
                        help="calls listed as falling / rising most, each with its page "
                             "(default: %(default)s)")
    return cli_args.parse_job_args(parser, argv, beam=False)


def run(argv=None) -> dict:
    args, storage_args = parse_known_args(argv)
    storage.configure(storage_args)
    if args.top < 1:
        raise ConfigError("--top must be positive")
    if args.date_from and args.date_to and args.date_from > args.date_to:
        raise ConfigError(f"--from {args.date_from} is after --to {args.date_to}")
    storage.makedirs(args.output)
    found = build_report(args.scores, args.output,
                         channel_names=parse_channel_names(args.channel_names), top=args.top,
                         date_from=args.date_from, date_to=args.date_to)
    print(f"report: {storage.join(args.output, 'report.html')} ({len(found['days'])} run date(s), "
          f"{len(found['call_pages'])} call pages, charts: {', '.join(found['charts'])})",
          file=sys.stderr)
    return found


if __name__ == "__main__":
    from pipelines.cli import main

    sys.exit(main(["report", *sys.argv[1:]]))
