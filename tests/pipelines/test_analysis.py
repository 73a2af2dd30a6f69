import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines import analysis
from sentiment_model.errors import InputError


def _write(root, folder, rows):
    path = os.path.join(root, "files", folder, "part-0.parquet") if folder else os.path.join(
        root, "files", "part-0.parquet")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    pq.write_table(pa.table({"uri": [f"a{k}.wav" for k in range(rows)],
                             "channel": pa.array([None] + [1] * (rows - 1), pa.int32())}), path)
    return path


def test_a_run_date_reads_its_partition_and_refuses_an_unpartitioned_table(tmp_path):
    root = str(tmp_path / "parted")
    _write(root, "run_date=2026-11-01", 2)
    _write(root, "run_date=2026-11-02", 3)
    frame = analysis.read_table(root, "files", run_date="2026-11-02")
    assert list(frame["run_date"]) == ["2026-11-02"] * 3
    assert list(frame["channel"]) == [analysis.MIX, 1, 1]  # null channel: the mono mix
    assert analysis.read_table(root, "files", run_date="2026-11-03").empty
    flat = str(tmp_path / "flat")
    _write(flat, None, 2)
    assert len(analysis.read_table(flat, "files")) == 2
    with pytest.raises(InputError, match="files/ has no run_date partitions"):
        analysis.read_table(flat, "files", run_date="2026-11-02")


def test_files_by_day_keeps_the_range_and_every_unpartitioned_file(tmp_path):
    root = str(tmp_path / "scores")
    days = ["2026-11-01", "2026-11-02", "2026-11-03"]
    paths = {d: _write(root, f"run_date={d}", 1) for d in days}
    flat = _write(root, None, 1)
    found = analysis.files_by_day(os.path.join(root, "files"), "2026-11-02", "2026-11-03")
    assert list(found) == [None, "2026-11-02", "2026-11-03"]
    assert found["2026-11-02"] == [paths["2026-11-02"]] and found[None] == [flat]
    assert list(analysis.files_by_day(os.path.join(root, "files"), date_to="2026-11-01")) == [
        None, "2026-11-01"]
    assert analysis.files_by_day(os.path.join(root, "missing")) == {}
