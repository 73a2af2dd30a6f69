import os
import re
import shutil

import matplotlib.image
import pytest

from pipelines import cli, report
from sentiment_model.errors import ConfigError


@pytest.fixture(scope="module")
def two_days(scored_calls, tmp_path_factory):
    """The scored calls as two nightly partitions (the second a copy)."""
    root = str(tmp_path_factory.mktemp("two_days"))
    for table in ("files", "segments", "errors"):
        src = os.path.join(scored_calls, table, "run_date=2026-11-23")
        shutil.copytree(src, os.path.join(root, table, "run_date=2026-11-23"))
        shutil.copytree(src, os.path.join(root, table, "run_date=2026-11-24"))
    return root


def test_report_has_every_section_and_readable_charts(two_days, tmp_path):
    out = str(tmp_path / "report")
    found = report.run(["--scores", two_days, "--output", out, "--top", "2", "--timelines", "2"])
    assert found["days"] == ["2026-11-23", "2026-11-24"]
    assert found["charts"] == ["share_by_channel.png", "share_by_day.png", "timelines.png",
                               "volume.png"]
    # the agent speaks neutral throughout; the customer's arcs hold every class
    assert found["share_by_channel"]["agent"]["neutral"] > 0.9
    customer = found["share_by_channel"]["customer"]
    assert min(customer.values()) > 0.1 and sum(customer.values()) == pytest.approx(1.0)
    assert found["share_by_day"]["2026-11-23"] == found["share_by_day"]["2026-11-24"]
    for name in found["charts"]:
        image = matplotlib.image.imread(os.path.join(out, name))
        assert image.shape[0] > 300 and image.shape[1] > 500
    with open(os.path.join(out, "report.html")) as f:
        page = f.read()
    assert len(re.findall(r'src="data:image/png;base64,', page)) == 4
    for heading in ("Volume", "Sentiment per day", "Sentiment per channel",
                    "Calls that changed most", "Fell most", "Rose most", "Timelines"):
        assert f">{heading}</" in page
    # call_000's customer goes from negative to positive: the biggest riser
    rose = page.split("Rose most")[1].split("</table>")[0]
    assert "call_000.wav" in rose and "customer" in rose


def test_report_errors_are_clear(tmp_path, capsys):
    assert cli.main(["report", "--scores", str(tmp_path), "--output", str(tmp_path / "r")]) == 2
    assert "no files/ table" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="0=agent"):
        report.parse_channel_names("agent,customer")
    assert report.parse_channel_names("0=left, 1=right")[1] == "right"
