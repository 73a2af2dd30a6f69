"""--call-metadata: parsing, matching and accounting."""

import datetime

import pytest

from pipelines import call_metadata
from sentiment_model.errors import ConfigError

UTC = datetime.UTC


def test_rows_are_keyed_by_file_and_typed(tmp_path):
    csv_uri = str(tmp_path / "meta" / "calls.csv")
    text = ("File,Call ID,Agent-ID,started_at,Queue\n"
            "day1/a.wav,c-1,ag7,2026-12-01T09:30:00+01:00,billing\n"
            "b.wav,c-2,ag8,2026-12-01 10:00:00,\n"
            "/data/c.wav,c-3,ag7,yesterday,sales\n"
            "b.wav,c-9,ag9,,\n"
            ",c-4,ag1,,\n")
    meta = call_metadata.parse_call_metadata(text, csv_uri=csv_uri)
    assert meta.columns == ("call_id", "agent_id", "started_at", "queue")
    assert meta.extra_columns == ("agent_id", "started_at", "queue")
    a = meta.lookup(str(tmp_path / "meta" / "day1" / "./a.wav"))
    assert a == {"call_id": "c-1", "agent_id": "ag7", "queue": "billing",
                 "started_at": datetime.datetime(2026, 12, 1, 8, 30, tzinfo=UTC)}
    b = meta.lookup("gs://bucket/any/folder/b.wav")  # a bare name matches by file name
    assert b["call_id"] == "c-2" and b["queue"] is None
    assert b["started_at"] == datetime.datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    c = meta.lookup("/data/c.wav")
    assert c["started_at"] is None and c["call_id"] == "c-3"
    assert meta.lookup("/data/d.wav") is None
    assert meta.problems == (
        "line 4: started_at 'yesterday' is not an ISO 8601 time; left empty",
        "line 5: b.wav is listed before; the first row is used",
        "line 6: no path")


def test_accounting_reports_rows_and_inputs_that_did_not_meet():
    meta = call_metadata.parse_call_metadata(
        "path,call_id\n/x/a.wav,1\n/x/b.wav,2\n/x/gone.wav,3\n", csv_uri="/x/m.csv")
    acc = call_metadata.accounting(meta, ["/x/a.wav", "/x/b.wav", "/x/new.wav"])
    assert acc == {"rows": 3, "matched": 2, "inputs_without_row": 1, "rows_without_input": 1,
                   "rows_without_input_examples": ["/x/gone.wav"], "rows_with_problems": 0,
                   "problems": []}


def test_bad_headers_fail_at_start_up_with_one_line():
    reserved = call_metadata.table_reserved(("negative", "neutral", "positive"))
    with pytest.raises(ConfigError, match="no path column"):
        call_metadata.parse_call_metadata("name,agent\na.wav,x\n", csv_uri="m.csv")
    with pytest.raises(ConfigError, match="'Label' would replace the tables' own 'label'"):
        call_metadata.parse_call_metadata("path,Label\na.wav,x\n", csv_uri="m.csv",
                                          reserved=reserved)
    with pytest.raises(ConfigError, match="both named 'agent_id'"):
        call_metadata.parse_call_metadata("path,agent id,agent-id\na.wav,x,y\n",
                                          csv_uri="m.csv")
    # call_id is the tables' column the metadata is meant to fill
    meta = call_metadata.parse_call_metadata("path,call_id\n/a.wav,7\n", csv_uri="m.csv",
                                             reserved=reserved)
    assert meta.lookup("/a.wav") == {"call_id": "7"}
    with pytest.raises(ConfigError, match="cannot read it"):
        call_metadata.read_call_metadata("/no/such/meta.csv")
