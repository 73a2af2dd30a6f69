import os
import uuid

import fsspec
import pytest
from apache_beam.testing.util import assert_that, equal_to

from pipelines import sources
from sentiment_model import storage
from sentiment_model.errors import InputError
from tests.conftest import make_pipeline, tone, write_audio


@pytest.fixture
def tree(tmp_path):
    for rel in ("a.wav", "sub/b.flac", "sub/deeper/c.wav"):
        write_audio(str(tmp_path / rel), tone(300, seconds=0.3, sample_rate=8000), 8000)
    (tmp_path / "notes.txt").write_text("not audio\n")
    return tmp_path


def test_resolve_input_kinds(tree):
    assert sources.resolve_input(str(tree)).kind == "directory"
    assert sources.resolve_input(str(tree)).pattern == f"{tree}/**"
    assert sources.resolve_input(f"{tree}/**/*.wav").kind == "pattern"
    assert sources.resolve_input(str(tree / "a.wav")).kind == "pattern"
    assert sources.resolve_input(str(tree / "notes.txt")).kind == "manifest"
    with pytest.raises(InputError, match="no such file"):
        sources.resolve_input(str(tree / "nope"))


def test_list_inputs_filters_directories_to_audio_and_fails_on_no_match(tree):
    found = sources.list_inputs(sources.resolve_input(str(tree)))
    assert [os.path.relpath(u, tree) for u in found] == ["a.wav", "sub/b.flac",
                                                         "sub/deeper/c.wav"]
    with pytest.raises(InputError, match="no audio files matched"):
        sources.list_inputs(sources.resolve_input(f"{tree}/*.mp3"))


def test_manifest_lines_and_csv_resolve_relative_entries_and_flag_duplicates():
    uris, errors = sources.parse_manifest("# calls\na.wav\nsub/b.wav\n/abs/c.wav\na.wav\n",
                                          manifest_uri="/m/list.txt")
    assert uris == ["/m/a.wav", "/m/sub/b.wav", "/abs/c.wav"]
    assert [(e["uri"], e["error_type"], e["stage"]) for e in errors] == [
        ("/m/a.wav", "duplicate", "match")]
    uris, errors = sources.parse_manifest("path,duration\ngs://b/x.wav,3\ny.wav,2\n",
                                          manifest_uri="gs://b/m.csv")
    assert uris == ["gs://b/x.wav", "gs://b/y.wav"] and errors == []
    uris, _ = sources.parse_manifest("call 1, agent.wav\nb.wav\n", manifest_uri="/m/list.txt")
    assert uris == ["/m/call 1, agent.wav", "/m/b.wav"]
    uris, _ = sources.parse_manifest("Path\nx.wav\n", manifest_uri="/m/list.txt")
    assert uris == ["/m/x.wav"]
    with pytest.raises(InputError, match="needs a 'path' column"):
        sources.parse_manifest("name,duration\nx.wav,3\n", manifest_uri="/m/list.csv")


def _run_match(spec):
    p = make_pipeline()
    uris, errors = p | sources.MatchAudio(spec)
    return p, uris, errors


def test_match_audio_directory_glob_and_manifest(tree):
    expected = [str(tree / r) for r in ("a.wav", "sub/b.flac", "sub/deeper/c.wav")]
    p, uris, errors = _run_match(sources.resolve_input(str(tree)))
    assert_that(uris, equal_to(expected), label="Directory")
    assert_that(errors, equal_to([]), label="NoErrors")
    p.run()

    p, uris, _ = _run_match(sources.resolve_input(f"{tree}/**/*.wav"))
    assert_that(uris, equal_to([expected[0], expected[2]]))
    p.run()

    manifest = tree / "list.txt"
    manifest.write_text("a.wav\nsub/b.flac\na.wav\n")
    p, uris, errors = _run_match(sources.resolve_input(str(manifest)))
    assert_that(uris, equal_to(expected[:2]), label="Manifest")
    assert_that(errors, equal_to([{"uri": expected[0], "stage": "match",
                                   "error_type": "duplicate",
                                   "message": f"listed more than once in {manifest}; read once"}]),
                label="Duplicates")
    p.run()


def test_match_audio_through_fsspec_memory():
    root = f"memory://match-{uuid.uuid4().hex}"
    for name in ("x.wav", "y.wav", "z.txt"):
        with fsspec.open(f"{root}/{name}", "wb") as f:
            f.write(b"data")
    spec = sources.resolve_input(root)
    assert spec.kind == "directory"
    # fsspec's canonical form of memory URLs has an absolute path
    canonical = root.replace("memory://", "memory:///")
    assert sources.list_inputs(spec) == [f"{canonical}/x.wav", f"{canonical}/y.wav"]
    p, uris, _ = _run_match(spec)
    assert_that(uris, equal_to([f"{canonical}/x.wav", f"{canonical}/y.wav"]))
    p.run()


def test_links_to_nothing_and_fifos_are_errors_not_skips_or_hangs(tree):
    os.mkfifo(tree / "sub" / "pipe.wav")
    os.symlink(tree / "gone.wav", tree / "sub" / "dangling.wav")
    os.symlink(tree / "loop.wav", tree / "loop.wav")
    os.symlink(tree / "gone.txt", tree / "notes_link.txt")  # not audio: not listed
    assert storage.local_file_problem(str(tree / "sub" / "pipe.wav"))[0] == "not_a_file"
    assert storage.local_file_problem(str(tree / "sub")) == (
        "not_a_file", f"{tree / 'sub'} is a directory, not a regular file; not read")
    kind, message = storage.local_file_problem(str(tree / "loop.wav"))
    assert kind == "broken_link" and message.endswith("loops")
    assert storage.local_file_problem(str(tree / "a.wav")) is None
    assert storage.local_file_problem(str(tree / "missing.wav")) is None
    assert storage.local_file_problem("gs://bucket/a.wav") is None
    p, uris, errors = _run_match(sources.resolve_input(str(tree)))
    assert_that(uris, equal_to([str(tree / r) for r in
                                ("a.wav", "sub/b.flac", "sub/deeper/c.wav", "sub/pipe.wav")]),
                label="Uris")
    assert_that(errors, equal_to([
        {"uri": str(tree / "loop.wav"), "stage": "match", "error_type": "broken_link",
         "message": f"symbolic link {tree / 'loop.wav'} -> {tree / 'loop.wav'} loops"},
        {"uri": str(tree / "sub" / "dangling.wav"), "stage": "match",
         "error_type": "broken_link",
         "message": f"symbolic link {tree / 'sub' / 'dangling.wav'} -> {tree / 'gone.wav'} "
                    "points to nothing"}]), label="Errors")
    p.run()


def test_a_file_listed_under_several_spellings_is_read_once(tmp_path):
    audio = tmp_path / "x"
    audio.mkdir()
    (audio / "a.wav").write_bytes(b"x")
    manifest = str(audio / "list.txt")
    text = f"a.wav\n../x/a.wav\n{audio}/a.wav\n./a.wav\nb.wav\n"
    uris, errors = sources.parse_manifest(text, manifest_uri=manifest)
    assert uris == [str(audio / "a.wav"), str(audio / "b.wav")]
    assert [(e["uri"], e["error_type"]) for e in errors] == [
        (str(audio / "../x/a.wav"), "duplicate"), (str(audio / "a.wav"), "duplicate"),
        (str(audio / "./a.wav"), "duplicate")]
    assert f"(as {audio / 'a.wav'})" in errors[0]["message"]
    assert "(as" not in errors[1]["message"]  # the very same text
    uris, errors = sources.parse_manifest("gs://B/calls/a.wav\ngs://b/calls//./a.wav\n",
                                          manifest_uri="gs://b/list.txt")
    assert uris == ["gs://B/calls/a.wav"] and len(errors) == 1

