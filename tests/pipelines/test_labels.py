import pytest

from pipelines import labels
from sentiment_model.errors import ConfigError, InputError

CSV_URI = "/data/set/labels.csv"


def test_parse_resolves_paths_and_reads_optional_columns():
    text = ("path,label,speaker,split\n"
            "wav/a.wav,happy,s1,train\n/abs/b.wav,sad,s2,test\nc.wav,happy,,eval\n")
    table = labels.parse_label_csv(text, csv_uri=CSV_URI)
    assert [r.uri for r in table.rows] == ["/data/set/wav/a.wav", "/abs/b.wav", None]
    assert [r.name for r in table.rows] == ["a.wav", "b.wav", "c.wav"]
    assert [r.split for r in table.rows] == ["train", "test", "eval"]
    assert [r.speaker for r in table.rows] == ["s1", "s2", ""]
    assert table.vocabulary == ("happy", "sad")
    assert table.has_split_column and table.has_speaker_column and not table.errors


def test_kaggle_style_header_and_label_map():
    text = "Filename,Class\nx.wav,anger\ny.wav,joy\nz.wav,boredom\n"
    table = labels.parse_label_csv(text, csv_uri=CSV_URI,
                                   label_map={"anger": "negative", "joy": "positive"})
    assert [(r.name, r.label, r.raw_label) for r in table.rows] == [
        ("x.wav", "negative", "anger"), ("y.wav", "positive", "joy")]
    assert table.vocabulary == ("negative", "positive")
    assert [(e["uri"], e["error_type"]) for e in table.errors] == [("z.wav", "unknown_label")]


def test_bad_rows_become_errors_and_bad_header_fails():
    text = "path,label,split\na.wav,,train\n,x,train\nb.wav,x,holdout\nc.wav,x,TEST\n"
    table = labels.parse_label_csv(text, csv_uri=CSV_URI, classes=["x"])
    assert [e["error_type"] for e in table.errors] == ["bad_label_row"] * 3
    assert [(r.name, r.split) for r in table.rows] == [("c.wav", "test")]
    with pytest.raises(InputError, match="'path'"):
        labels.parse_label_csv("file_id,emotion\n1,x\n", csv_uri=CSV_URI)


def test_label_map_inline():
    assert labels.parse_label_map("anger=negative, joy=positive") == {
        "anger": "negative", "joy": "positive"}
    assert labels.parse_label_map(None) is None
    named = labels.parse_label_map("emotion-sentiment")
    assert (named["anger"], named["boredom"], named["happiness"]) == (
        "negative", "neutral", "positive")
    with pytest.raises(ConfigError, match="'joy' is not LABEL=TARGET"):
        labels.parse_label_map("anger=negative,joy")


def test_split_ratios():
    assert labels.parse_split_ratios("8,1,1") == pytest.approx(
        {"train": 0.8, "eval": 0.1, "test": 0.1})
    for bad in ("1,2", "a,b,c", "-1,1,1", "0,0,0"):
        with pytest.raises(ConfigError):
            labels.parse_split_ratios(bad)


def test_hash_split_is_deterministic_and_follows_ratios():
    ratios = {"train": 0.8, "eval": 0.1, "test": 0.1}
    names = [f"file{i}.wav" for i in range(5000)]
    first = [labels.hash_split(n, ratios, 0) for n in names]
    assert first == [labels.hash_split(n, ratios, 0) for n in names]
    share = first.count("train") / len(first)
    assert 0.77 < share < 0.83
    assert first != [labels.hash_split(n, ratios, 1) for n in names]
    assert {labels.hash_split(n, {"train": 1.0, "eval": 0.0, "test": 0.0}, 0)
            for n in names} == {"train"}


def test_speaker_splits_are_disjoint_cover_every_split_and_track_ratios():
    counts = {f"s{i}": 50 for i in range(10)}
    ratios = {"train": 0.8, "eval": 0.1, "test": 0.1}
    assignment = labels.assign_speaker_splits(counts, ratios, seed=0)
    assert set(assignment) == set(counts)
    by_split = {s: [k for k, v in assignment.items() if v == s] for s in ("train", "eval", "test")}
    assert [len(by_split[s]) for s in ("train", "eval", "test")] == [8, 1, 1]
    assert assignment == labels.assign_speaker_splits(counts, ratios, seed=0)
    few = labels.assign_speaker_splits({"a": 10, "b": 10, "c": 10}, ratios, seed=3)
    assert sorted(few.values()) == ["eval", "test", "train"]


def test_join_handles_missing_duplicate_ambiguous_and_unlabelled():
    rows = [
        labels.LabelRow(2, "a.wav", None, "a.wav", "x", "x"),
        labels.LabelRow(3, "sub/a.wav", "/d/sub/a.wav", "a.wav", "y", "y"),
        labels.LabelRow(4, "/d/sub/a.wav", "/d/sub/a.wav", "a.wav", "z", "z"),
        labels.LabelRow(5, "/d/gone/a.wav", "/d/gone/a.wav", "a.wav", "x", "x"),
    ]
    pairs, errors = labels.match_rows_to_files("a.wav", ["/d/sub/a.wav", "/d/other/a.wav"], rows)
    assert [(uri, row.row_number) for uri, row in pairs] == [("/d/sub/a.wav", 3)]
    assert sorted((e["uri"], e["error_type"]) for e in errors) == [
        ("/d/gone/a.wav", "missing_file"),
        ("/d/other/a.wav", "unlabelled"),
        ("/d/sub/a.wav", "duplicate"),
        ("a.wav", "ambiguous_path"),
    ]
    pairs, errors = labels.match_rows_to_files("b.wav", ["/d/b.wav"],
                                               [labels.LabelRow(2, "b.wav", None, "b.wav", "x",
                                                                "x")])
    assert [uri for uri, _ in pairs] == ["/d/b.wav"] and errors == []


def test_a_row_path_written_another_way_labels_the_same_file(tmp_path):
    audio = tmp_path / "audio"
    audio.mkdir()
    (audio / "a.wav").write_bytes(b"x")
    (tmp_path / "link").symlink_to(audio)
    csv_uri = str(tmp_path / "labels" / "labels.csv")
    table = labels.parse_label_csv("path,label\n../audio/a.wav,pos\n",
                                   csv_uri=csv_uri, classes=["pos", "neg"])
    row = table.rows[0]
    assert row.uri == str(tmp_path / "labels" / "../audio/a.wav")  # kept as written
    for file_uri in (str(audio / "a.wav"), str(tmp_path / "link" / "a.wav"),
                     str(audio) + "/./a.wav"):
        pairs, errors = labels.match_rows_to_files("a.wav", [file_uri], [row])
        assert [(uri, r.row_number) for uri, r in pairs] == [(file_uri, row.row_number)]
        assert errors == []
