import os
import re
import shutil

import matplotlib.image
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines import cli, report
from schemas import tables
from sentiment_model.errors import ConfigError, InputError

DAYS = ("2026-11-23", "2026-11-24")
AGENTS = {"call_000": "ag1", "call_001": "ag2", "call_002": "ag1"}


@pytest.fixture(scope="module")
def two_days(scored_calls, tmp_path_factory):
    """The scored calls as two nightly partitions (the second a copy), with
    an ``agent_id`` in calls/, two rejected inputs on the second day and a
    broken file in a third day's partition."""
    root = str(tmp_path_factory.mktemp("two_days"))
    for table in ("files", "segments", "errors", "calls"):
        src = os.path.join(scored_calls, table, f"run_date={DAYS[0]}")
        for day in DAYS:
            shutil.copytree(src, os.path.join(root, table, f"run_date={day}"))
    for day in DAYS:
        folder = os.path.join(root, "calls", f"run_date={day}")
        (path,) = [os.path.join(folder, f) for f in os.listdir(folder)]
        table = pq.read_table(path)
        ids = [AGENTS[c] for c in table.column("call_id").to_pylist()]
        pq.write_table(table.append_column("agent_id", pa.array(ids, pa.string())), path)
    errors = pa.Table.from_pylist(
        [tables.error_row("/rec/bad.wav", "decode", "unreadable", "not an audio file"),
         tables.error_row("/rec/quiet.wav", "segment", "silent", "-95 dBFS")],
        schema=tables.ERRORS_SCHEMA)
    pq.write_table(errors, os.path.join(root, "errors", f"run_date={DAYS[1]}", "part-x-00000-of"
                                        "-00001.parquet"))
    broken = os.path.join(root, "files", "run_date=2026-12-01")
    os.makedirs(broken)
    with open(os.path.join(broken, "part-y-00000-of-00001.parquet"), "wb") as f:
        f.write(b"not parquet")
    return root


def _page(path: str) -> str:
    with open(path) as f:
        return f.read()


def test_report_has_every_section_readable_charts_and_a_page_per_listed_call(two_days,
                                                                             tmp_path):
    out = str(tmp_path / "report")
    found = report.run(["--scores", two_days, "--output", out, "--to", DAYS[1], "--top", "2"])
    assert found["days"] == list(DAYS)
    assert found["charts"] == ["share_by_day.png", "share_by_role.png", "volume.png"]
    # the agent speaks neutral throughout; the customer's arcs hold every class
    assert found["share_by_role"]["agent"]["neutral"] > 0.9
    customer = found["share_by_role"]["customer"]
    assert min(customer.values()) > 0.1 and sum(customer.values()) == pytest.approx(1.0)
    assert found["share_by_day"][DAYS[0]] == found["share_by_day"][DAYS[1]]
    for name in found["charts"]:
        image = matplotlib.image.imread(os.path.join(out, name))
        assert image.shape[0] > 300 and image.shape[1] > 500
    page = _page(os.path.join(out, "report.html"))
    assert len(re.findall(r'src="data:image/png;base64,', page)) == 3
    for heading in ("Volume", "Sentiment per day", "Sentiment per role", "Agents",
                    "Calls that changed most", "Fell most", "Rose most", "Rejected inputs",
                    "Each rejected input"):
        assert f">{heading}</" in page
    # 3 recordings of 32 s a day: 0.03 recording hours, twice that in channel hours
    volume = page.split(">Volume</")[1].split("</table>")[0]
    assert "<th>recording_h</th><th>channel_h</th>" in volume
    assert "<td>2026-11-23</td><td>3</td><td>6</td><td>0.03</td><td>0.05</td>" in volume
    # call_000's customer goes from negative to positive: the biggest riser, on both days
    rose = page.split("Rose most")[1].split("</table>")[0]
    assert re.search(r'<a href="calls/\d\d.html">call_000</a>', rose)
    rejected = page.split("Each rejected input")[1].split("</table>")[0]
    assert "<td>bad.wav</td><td>decode</td><td>unreadable</td><td>not an audio file</td>" \
        in rejected
    assert found["rejected_rows"] == 2
    # each listed call has its page: timeline, both speakers, quarters
    assert len(found["call_pages"]) == len(set(found["call_pages"])) >= 2
    for name in found["call_pages"]:
        call_page = _page(os.path.join(out, name))
        assert 'src="data:image/png;base64,' in call_page
        for heading in ("Timeline", "Sentiment per quarter", "Speakers", "Call"):
            assert f">{heading}</" in call_page
        assert "<td>agent</td><td>neutral" in call_page
        assert "agent_id ag" in call_page


def test_agents_table_averages_the_customers_start_and_end_per_agent(two_days, scored_calls,
                                                                     tmp_path):
    from pipelines import report_data

    summary = report_data.summarise(two_days, channel_names=report.parse_channel_names(""),
                                    date_from=DAYS[0], date_to=DAYS[1])
    calls = pd.read_parquet(os.path.join(scored_calls, "calls"))
    calls["agent_id"] = calls["call_id"].map(AGENTS)
    want = calls.groupby("agent_id")[["customer_q1_valence", "customer_q4_valence",
                                      "non_talk_share"]].mean()
    agents = summary.agents.set_index("agent_id")
    assert sorted(agents.index) == ["ag1", "ag2"]
    assert list(agents["calls"].loc[["ag1", "ag2"]]) == [4, 2]  # two days of 2 and 1 calls
    for agent_id, row in want.iterrows():
        assert agents.loc[agent_id, "customer_start"] == pytest.approx(row.customer_q1_valence)
        assert agents.loc[agent_id, "customer_end"] == pytest.approx(row.customer_q4_valence)
        assert agents.loc[agent_id, "non_talk_share"] == pytest.approx(row.non_talk_share)
    assert list(summary.agents["customer_change"]) == sorted(summary.agents["customer_change"])


def test_a_date_range_reads_only_its_partitions(two_days, tmp_path):
    out = str(tmp_path / "one")
    found = report.run(["--scores", two_days, "--output", out, "--from", DAYS[1],
                        "--to", DAYS[1]])
    assert found["days"] == [DAYS[1]]
    # the broken file of 2026-12-01 is read only when the range reaches it
    with pytest.raises(InputError, match=r"run_date=2026-12-01/part-y-00000-of-00001\.parquet: "
                                         "not a readable Parquet file"):
        report.run(["--scores", two_days, "--output", str(tmp_path / "all")])
    with pytest.raises(InputError, match="no scored files to report on from 2027-01-01"):
        report.run(["--scores", two_days, "--output", str(tmp_path / "none"),
                    "--from", "2027-01-01"])


def test_report_errors_are_clear(tmp_path, capsys):
    assert cli.main(["report", "--scores", str(tmp_path), "--output", str(tmp_path / "r")]) == 2
    assert "no files/ table" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="0=agent"):
        report.parse_channel_names("agent,customer")
    assert report.parse_channel_names("0=left, 1=right")[1] == "right"
    with pytest.raises(ConfigError, match="--from 2026-11-24 is after --to 2026-11-23"):
        report.run(["--scores", str(tmp_path), "--output", str(tmp_path / "r"),
                    "--from", "2026-11-24", "--to", "2026-11-23"])


def test_more_than_a_month_of_run_dates_is_shown_per_month_then_per_year():
    days = pd.date_range("2025-01-01", periods=400).strftime("%Y-%m-%d")
    volume = pd.DataFrame({"recordings": 2, "recording_h": 0.5}, index=days)
    shown, unit = report.by_period(volume.iloc[:31])
    assert unit == "run date" and len(shown) == 31
    shown, unit = report.by_period(volume)
    assert unit == "month" and list(shown.index[:2]) == ["2025-01", "2025-02"]
    assert list(shown["recordings"].iloc[:3]) == [62, 56, 62] and shown["recordings"].sum() == 800
    years = pd.DataFrame({"recordings": 1},
                         index=pd.date_range("2020-01-01", periods=1200).strftime("%Y-%m-%d"))
    shown, unit = report.by_period(years)
    assert unit == "year" and list(shown.index) == ["2020", "2021", "2022", "2023"]
    assert list(shown["recordings"]) == [366, 365, 365, 104]


def test_a_mono_calls_line_is_the_mix_and_a_stereo_calls_lines_are_its_roles():
    stereo = pd.Series({"roles": tables.ROLES_FROM_CHANNELS, "agent_channel": 1,
                        "customer_channel": 0})
    assert [report.line_name(stereo, c) for c in (0, 1, 2)] == ["customer", "agent", "channel 2"]
    mono = pd.Series({"roles": tables.ROLES_FROM_MIX, "agent_channel": tables.MIX_CHANNEL,
                      "customer_channel": tables.MIX_CHANNEL})
    assert report.line_name(mono, tables.MIX_CHANNEL) == "mono mix"
    diarized = pd.Series({"roles": tables.ROLES_FROM_DIARIZATION, "agent_channel": -2,
                          "customer_channel": -3})
    assert [report.line_name(diarized, c) for c in (-1, -2, -3)] == [
        "mono mix", "agent", "customer"]
