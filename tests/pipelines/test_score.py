import csv
import glob
import json
import os

import apache_beam as beam
import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pytest
import soundfile
from apache_beam.ml.inference.base import KeyedModelHandler, ModelHandler, RunInference
from apache_beam.testing.util import assert_that, equal_to

from pipelines import cli, common, score
from pipelines import score_fns as fns
from schemas import features as fk
from schemas import tables
from sentiment_model import calls, dataset, scoring, segments, synth, talk
from sentiment_model.config import FeatureConfig
from sentiment_model.diarize import DiarizeConfig
from sentiment_model.errors import ConfigError
from sentiment_model.model_card import CARD_FILE, MODEL_FILE, ModelCard
from tests.conftest import (
    SCORE_ARGS,
    Killed,
    featurize_into,
    lock_held_by_another_process,
    make_pipeline,
    read_examples,
    score_into,
    with_long_list_chunk,
    write_audio,
    write_sentiment_clips,
)

RATE = 16000


def files_table(out: str) -> pd.DataFrame:
    return ds.dataset(os.path.join(out, "files"), format="parquet",
                      partitioning="hive").to_table().to_pandas()


def run_record(out: str) -> dict:
    (path,) = glob.glob(os.path.join(out, "_runs", "*.json"))[-1:]
    with open(path) as f:
        return json.load(f)


def test_score_recovers_the_scripted_trajectory_of_each_call(scored_calls, calls_dir,
                                                             scoring_model):
    files = files_table(scored_calls)
    with open(os.path.join(calls_dir, "expected.csv"), newline="") as f:
        expected = list(csv.DictReader(f))
    assert len(files) == len(expected) == 6
    card = ModelCard.read(scoring_model)
    for row in expected:
        uri = os.path.join(calls_dir, row["path"])
        got = files[(files.uri == uri) & (files.channel == int(row["channel"]))]
        assert len(got) == 1, row
        got = got.iloc[0]
        arc = row["arc"].split("/")
        assert got.first_quarter_label == row["first_quarter"], row
        assert got.last_quarter_label == row["last_quarter"], row
        assert got.label == row["label"], row
        assert got.n_changes == segments.count_changes(arc), row
        assert got.duration_s == pytest.approx(32.0)
        assert got.sample_rate == RATE
        assert 0.2 < got.silence_ratio < 0.8
        assert got.speech_s == pytest.approx(32.0 * (1 - got.silence_ratio))
        assert got.n_segments == 31  # 2-s windows every second over 32 s
        assert got.p_negative + got.p_neutral + got.p_positive == pytest.approx(1.0)
        assert got.confidence == max(got.p_negative, got.p_neutral, got.p_positive)
        assert got.share_negative + got.share_neutral + got.share_positive == pytest.approx(1)
        assert got.model_version == card.model_version
        assert got.model_architecture == "bilstm_stats"  # the default
        assert got.run_date == "2026-11-23"
    seg = pd.read_parquet(os.path.join(scored_calls, "segments"))
    assert len(seg) == 6 * 31
    assert list(seg.columns[:7]) == ["uri", "channel", "index", "start_s", "end_s",
                                     "is_speech", "label"]
    speech = seg[seg.is_speech]
    np.testing.assert_allclose(speech[["p_negative", "p_neutral", "p_positive"]].sum(axis=1), 1,
                               atol=1e-5)
    assert seg[~seg.is_speech][["label", "p_negative"]].isna().all().all()
    one = seg[(seg.uri == files.uri.iloc[0]) & (seg.channel == files.channel.iloc[0])]
    assert sorted(one["index"]) == list(range(31))
    np.testing.assert_allclose(sorted(one.start_s), np.arange(31.0))
    record = run_record(scored_calls)
    assert record["accounting"] == {"matched": 3, "scored": 3, "rejected_only": 0, "lost": 0}
    assert record["rows"] == {"files": 6, "segments": 186, "calls": 3, "errors": 0}
    assert not os.path.exists(os.path.join(scored_calls, score.STAGING_DIR))


def test_calls_put_both_speakers_side_by_side_with_their_known_turns(scored_calls, calls_dir):
    table = ds.dataset(os.path.join(scored_calls, "calls"), format="parquet",
                       partitioning="hive").to_table()
    assert table.schema.names[:-1] == tables.calls_schema(("negative", "neutral",
                                                           "positive")).names
    got = table.to_pandas()
    files = files_table(scored_calls)
    with open(os.path.join(calls_dir, "expected.csv"), newline="") as f:
        expected = {(r["path"], int(r["channel"])): r for r in csv.DictReader(f)}
    truth = calls.read_turns(os.path.join(calls_dir, "turns.csv"))
    assert sorted(got.call_id) == ["call_000", "call_001", "call_002"]
    for path, by_channel in truth.items():
        row = got[got.uri == os.path.join(calls_dir, path)].iloc[0]
        assert row.roles == "channels" and row.run_date == "2026-11-23"
        assert (row.agent_channel, row.customer_channel) == (0, 1)
        known = [talk.ChannelTalk(tuple(by_channel[ch]), 0.0, None, 0, None) for ch in (0, 1)]
        measures = talk.call_measures(*known, duration_s=32.0, config=talk.TalkConfig())
        for role, ch in (("agent", 0), ("customer", 1)):
            want = expected[(path, ch)]
            assert row[f"{role}_label"] == want["label"]
            assert row[f"{role}_q1_label"] == want["first_quarter"]
            assert row[f"{role}_q4_label"] == want["last_quarter"]
            assert row[f"{role}_n_turns"] == len(by_channel[ch]) == 8
            talk_s = sum(b - a for a, b in by_channel[ch])
            assert row[f"{role}_talk_s"] == pytest.approx(talk_s, abs=0.3 * 8)
            assert row[f"{role}_interruptions"] == measures.interruptions[ch]
            same = files[(files.uri == row.uri) & (files.channel == ch)].iloc[0]
            assert row[f"{role}_p_negative"] == pytest.approx(same.p_negative)
            # the voices speak 3 (negative) to 5.5 (positive) syllables/s, +-10 %
            assert 2.7 <= row[f"{role}_speaking_rate"] <= 6.1
        assert row.agent_speaking_rate == pytest.approx(4.0, rel=0.15)  # always neutral
        assert row.non_talk_s == pytest.approx(measures.non_talk_s, abs=0.5)
        assert row.overlap_s == pytest.approx(measures.overlap_s, abs=0.3)
        assert row.interruptions == sum(measures.interruptions) >= 4
        assert row.customer_valence == pytest.approx(row.customer_p_positive
                                                     - row.customer_p_negative)


def test_mono_calls_are_diarized_into_the_agent_and_customer_their_stereo_copies_have(
        scoring_model, tmp_path):
    # the generated voices carry their tone in pitch and rate, which a speaker
    # encoder also hears: each customer keeps one tone here, so that the two
    # clusters are the two voices (real speech: benchmarks/diarization.py)
    voices = synth.make_voices(6, seed=11)
    truth = {}
    for i, tone in enumerate(("negative", "positive")):
        turns = []
        audio = calls.make_call(calls.CallScript(customer_arc=(tone,) * 4, section_s=8.0),
                                calls.synth_utterances(voices[4], voices[i], sample_rate=RATE),
                                sample_rate=RATE, seed=i, turns=turns)
        write_audio(str(tmp_path / "stereo" / f"call_{i}.wav"), audio, RATE)
        write_audio(str(tmp_path / "mono" / f"call_{i}.wav"),
                    np.clip(audio.sum(axis=1), -1, 1), RATE)
        truth[f"call_{i}"] = {ch: sum(e - s for c, s, e in turns if c == ch) / RATE
                              for ch in (calls.AGENT, calls.CUSTOMER)}
        truth[f"call_{i}"]["non_talk"] = len(audio) / RATE - talk.union_length(
            [(s / RATE, e / RATE) for _, s, e in turns])
    stereo_out, mono_out = str(tmp_path / "stereo-out"), str(tmp_path / "mono-out")
    score_into(stereo_out, "--input", str(tmp_path / "stereo"), "--model-dir", scoring_model,
               *SCORE_ARGS)
    # the customer speaks first in these calls: the agent is the second voice
    score_into(mono_out, "--input", str(tmp_path / "mono"), "--model-dir", scoring_model,
               "--mono-speakers", "2", "--agent-speaker", "second", *SCORE_ARGS)
    stereo = pd.read_parquet(os.path.join(stereo_out, "calls")).set_index("call_id")
    got = pd.read_parquet(os.path.join(mono_out, "calls")).set_index("call_id")
    assert list(files_table(mono_out).channel) == [-1, -1]  # files/ keeps the mix's row
    segs = pd.read_parquet(os.path.join(mono_out, "segments"))
    for path in ("call_0.wav", "call_1.wav"):
        mine = segs[segs.uri == str(tmp_path / "mono" / path)]
        # the mix's windows, and each speaker's own (only where they speak)
        assert sorted(set(mine.channel)) == [-3, -2, -1]
        n_mix = (mine.channel == -1).sum()
        assert all((mine.channel == ch).sum() == n_mix for ch in (-2, -3))
        assert all(0 < mine[mine.channel == ch].is_speech.sum() < n_mix for ch in (-2, -3))
    saved = score.ScoreConfig.from_dict(run_record(mono_out)["config"])
    assert saved.diarize == DiarizeConfig(agent="second")
    for call_id, talk_s in truth.items():
        row, want = got.loc[call_id], stereo.loc[call_id]
        assert row.roles == "diarized" and (row.agent_channel, row.customer_channel) == (-2, -3)
        for role, ch in (("agent", calls.AGENT), ("customer", calls.CUSTOMER)):
            assert row[f"{role}_label"] == want[f"{role}_label"], (call_id, role)
            assert row[f"{role}_talk_s"] == pytest.approx(talk_s[ch], abs=0.3 * 8), (call_id,
                                                                                    role)
        assert (want.agent_label, want.customer_label) == (
            ("neutral", "negative") if call_id == "call_0" else ("neutral", "positive"))
        assert row.agent_talk_share + row.customer_talk_share == pytest.approx(1.0)
        assert want.non_talk_s == pytest.approx(talk_s["non_talk"], abs=0.5)
        # the two speakers' speech in the mix (0.5 s of slack in the stereo measure)
        assert row.non_talk_s == pytest.approx(talk_s["non_talk"], abs=0.6)
        assert row.non_talk_s == pytest.approx(row.duration_s - row.talk_s)

    first = str(tmp_path / "first")
    score_into(first, "--input", str(tmp_path / "mono" / "call_0.wav"), "--model-dir",
               scoring_model, "--mono-speakers", "2", *SCORE_ARGS)
    swapped = pd.read_parquet(os.path.join(first, "calls")).iloc[0]
    assert swapped.agent_talk_s == pytest.approx(got.loc["call_0"].customer_talk_s)
    assert swapped.agent_label == got.loc["call_0"].customer_label == "negative"
    with pytest.raises(ConfigError, match="--agent-speaker needs --mono-speakers 2"):
        score_into(str(tmp_path / "x"), "--input", str(tmp_path / "mono"), "--model-dir",
                   scoring_model, "--agent-speaker", "second")


def test_call_metadata_is_joined_into_calls_and_files_and_nothing_is_dropped(
        tmp_path, scoring_model, calls_dir):
    meta = tmp_path / "recorder.csv"
    meta.write_text("file,Call ID,agent_id,started_at,Queue Name\n"
                    f"{calls_dir}/calls/call_000.wav,A-1,ag7,2026-12-01T09:30:00Z,billing\n"
                    "call_001.wav,A-2,ag8,2026-12-01T10:00:00,sales\n"
                    "calls/call_999.wav,A-9,ag9,,\n")
    out = str(tmp_path / "out")
    record = score_into(out, "--input", os.path.join(calls_dir, "calls"), "--model-dir",
                        scoring_model, "--call-metadata", str(meta), "--agent-channel", "1",
                        "--run-date", "2026-11-23", *SCORE_ARGS)
    assert record["call_metadata"]["matched"] == 2
    assert record["call_metadata"]["inputs_without_row"] == 1
    assert record["call_metadata"]["rows_without_input_examples"] == [
        os.path.join(str(tmp_path), "calls", "call_999.wav")]
    got = pd.read_parquet(os.path.join(out, "calls")).set_index("uri").sort_index()
    assert list(got.call_id) == ["A-1", "A-2", "call_002"]
    assert list(got.agent_id.fillna("-")) == ["ag7", "ag8", "-"]
    assert list(got.queue_name.fillna("-")) == ["billing", "sales", "-"]
    assert got.started_at.iloc[0] == pd.Timestamp("2026-12-01T09:30:00Z")
    assert got.started_at.iloc[1] == pd.Timestamp("2026-12-01T10:00:00Z")
    assert pd.isna(got.started_at.iloc[2])
    assert (got.agent_channel == 1).all() and (got.customer_channel == 0).all()
    files = pd.read_parquet(os.path.join(out, "files"))
    assert len(files) == 6
    assert sorted(zip(files.channel, files.role, strict=True)) == [
        (0, "customer")] * 3 + [(1, "agent")] * 3
    first = files[files.uri.str.endswith("call_000.wav")]
    assert set(first.call_id) == {"A-1"} and set(first.queue_name) == {"billing"}
    (path,) = glob.glob(os.path.join(out, "calls", "*", "*.parquet"))
    import pyarrow.parquet as pq

    field = pq.read_schema(path).field("queue_name")
    assert field.metadata[b"description"] == b"from --call-metadata"
    assert str(pq.read_schema(path).field("started_at").type) == "timestamp[us, tz=UTC]"
    # the README's DuckDB query, as written, on this output
    import duckdb

    with open(os.path.join(os.path.dirname(__file__), "..", "..", "README.md")) as f:
        readme = f.read()
    query = readme.split("```sql\n", 1)[1].split("```", 1)[0].replace("/data/scores", out)
    rows = duckdb.sql(query).fetchall()
    assert len(rows) == 2  # the scripted customers of calls 1 and 2 end worse than they start
    by_agent = got.assign(agent_id=got.agent_id.fillna("-")).set_index("agent_id")
    worse = by_agent[by_agent.customer_q4_valence < by_agent.customer_q1_valence]
    assert sorted(r[0] or "-" for r in rows) == sorted(worse.index)
    for agent_id, n, start, end in rows:
        one = by_agent.loc[agent_id or "-"]  # one call per agent here
        assert n == 1
        assert start == pytest.approx(round(one.customer_q1_valence, 3))
        assert end == pytest.approx(round(one.customer_q4_valence, 3))


class ArraysEqual:
    """assert_that matcher: {uri: array} equals the expected arrays."""

    def __init__(self, expected: dict, atol: float) -> None:
        self._expected, self._atol = expected, atol

    def __call__(self, actual):
        got = dict(actual)
        assert sorted(got) == sorted(self._expected)
        for uri, x in got.items():
            np.testing.assert_allclose(x, self._expected[uri], rtol=0, atol=self._atol)


class UriAndInput(beam.DoFn):
    def process(self, element):
        key, x = element
        yield key.uri, x


def test_featurize_and_score_compute_identical_features(tmp_path, scoring_model):
    voice = synth.make_voices(1, seed=4)[0]
    audio = tmp_path / "audio"
    for rate in (16000, 22050):
        y = synth.synth_utterance(voice, "positive", duration_s=2.0, sample_rate=rate, seed=rate)
        write_audio(str(audio / f"clip_{rate}.wav"), y, rate, subtype="FLOAT")
    card = ModelCard.read(scoring_model)
    featurize_into(str(tmp_path / "features"), "--input", str(audio),
                   "--preset", card.feature.preset)
    expected = {}
    for ex in read_examples(str(tmp_path / "features")):
        frames = ex[fk.FRAMES].reshape(ex[fk.N_FRAMES][0], -1)
        expected[ex[fk.URI][0].decode()] = dataset.to_model_input(
            frames, ex[fk.POOLED], input_kind=card.input_kind, norm=card.normalization)
    assert len(expected) == 2
    # one window spanning each whole file, untrimmed: exactly featurize's input
    whole = segments.SegmentConfig(segment_s=5.0, hop_s=5.0, trim_to_speech=False, block_s=5.0)
    with make_pipeline() as p:
        out = (
            p
            | beam.Create(sorted(expected))
            | beam.ParDo(fns.SegmentAudioFn(
                feature=card.feature, segment=whole,
                channels="auto", input_kind=card.input_kind, norm=card.normalization,
                total=2, interval_s=0)).with_outputs("skipped", "summaries", "errors",
                                                     main="inputs")
        )
        assert_that(out.inputs | beam.ParDo(UriAndInput()), ArraysEqual(expected, 1e-6))
        assert_that(out.errors, equal_to([]), label="NoErrors")


def test_blocks_shorter_than_the_file_give_the_same_scores(tmp_path, scoring_model, calls_dir):
    call = os.path.join(calls_dir, "calls", "call_000.wav")
    big = score_into(str(tmp_path / "big"), "--input", call, "--model-dir", scoring_model,
                     *SCORE_ARGS)
    plan_args = ["--input", call, "--model-dir", scoring_model, "--output",
                 str(tmp_path / "small"), "--progress-interval", "0", *SCORE_ARGS]
    args, _ = score.parse_known_args(plan_args)
    config = score.config_from_args(args)
    import dataclasses

    config = dataclasses.replace(config, segment=dataclasses.replace(config.segment,
                                                                     block_s=2.0))
    plan = score.prepare(config)
    p = make_pipeline()
    score.build_pipeline(p, plan)
    p.run()
    small = score.commit(plan)
    assert small["rows"] == big["rows"]
    a = pd.read_parquet(tmp_path / "big" / "segments").sort_values(["channel", "index"])
    b = pd.read_parquet(tmp_path / "small" / "segments").sort_values(["channel", "index"])
    np.testing.assert_allclose(a[["start_s", "end_s"]], b[["start_s", "end_s"]])
    np.testing.assert_allclose(a[["p_negative", "p_neutral", "p_positive"]].fillna(-1),
                               b[["p_negative", "p_neutral", "p_positive"]].fillna(-1),
                               atol=1e-3)  # batches differ, so float rounding in the model does
    assert list(a.label.fillna("")) == list(b.label.fillna(""))


def write_bad_inputs(root) -> dict[str, str]:
    """Each file name -> the error type its (first) error row must carry."""
    voice = synth.make_voices(1, seed=11)[0]
    speech = synth.synth_utterance(voice, "neutral", duration_s=2.0, sample_rate=RATE, seed=1)
    write_audio(str(root / "good.wav"), speech, RATE)
    stereo = np.stack([speech, np.zeros_like(speech)], axis=1)
    write_audio(str(root / "stereo.wav"), stereo, RATE)
    (root / "not_audio.wav").write_text("not audio at all\n" * 20)
    (root / "empty.wav").write_bytes(b"")
    write_audio(str(root / "whole.wav"), speech, RATE)
    data = (root / "whole.wav").read_bytes()
    (root / "truncated.wav").write_bytes(data[: len(data) // 2])
    (root / "truncated_late.wav").write_bytes(with_long_list_chunk(data)[:-20_000])
    os.remove(root / "whole.wav")
    nan = speech.copy()
    nan[1000] = np.nan
    write_audio(str(root / "nan.wav"), nan, RATE, subtype="FLOAT")
    write_audio(str(root / "short.wav"), speech[:1600], RATE)
    hum = 10 ** (-60 / 20) * np.random.default_rng(0).standard_normal(2 * RATE)
    write_audio(str(root / "hum.wav"), hum.astype(np.float32), RATE)
    os.mkfifo(root / "fifo.wav")  # opening it for reading would block forever
    os.symlink(root / "gone.wav", root / "dangling.wav")
    os.symlink(root / "loop.wav", root / "loop.wav")
    return {"stereo.wav": "silent", "not_audio.wav": "unreadable", "empty.wav": "empty",
            "truncated.wav": "truncated", "truncated_late.wav": "truncated",
            "nan.wav": "non_finite", "short.wav": "too_short",
            "hum.wav": "no_speech", "missing.wav": "read_failed", "fifo.wav": "not_a_file",
            "dangling.wav": "broken_link", "loop.wav": "broken_link"}


def test_bad_inputs_land_in_errors_and_every_input_is_accounted_for(tmp_path, scoring_model):
    audio = tmp_path / "audio"
    audio.mkdir()
    want = write_bad_inputs(audio)
    manifest = tmp_path / "manifest.txt"
    names = [*sorted(p.name for p in audio.iterdir()), "missing.wav"]
    manifest.write_text("\n".join(str(audio / n) for n in names) + "\n")
    record = score_into(str(tmp_path / "out"), "--input", str(manifest), "--model-dir",
                        scoring_model, *SCORE_ARGS)
    files = files_table(str(tmp_path / "out"))
    assert files.channel.dtype == np.int32  # never null: -1 is the mono mix-down
    assert sorted(zip(files.uri.map(os.path.basename), files.channel, strict=True)
                  ) == [("good.wav", tables.MIX_CHANNEL), ("stereo.wav", 0)]
    errors = pd.read_parquet(tmp_path / "out" / "errors")
    got = {os.path.basename(u): t for u, t in zip(errors.uri, errors.error_type, strict=True)}
    assert got == want
    assert len(errors) == len(want)
    assert errors.set_index(errors.uri.map(os.path.basename)).loc["stereo.wav", "message"] \
        == "channel 1: every sample is zero (digital silence)"
    assert set(errors.stage) <= {"read", "decode", "segment"}
    assert record["accounting"] == {"matched": 13, "scored": 2, "rejected_only": 11, "lost": 0}


def test_every_table_is_zstd_compressed_and_describes_its_columns(scored_calls, scoring_model):
    import pyarrow.parquet as pq

    version = ModelCard.read(scoring_model).model_version
    for table in score.TABLES:
        (path,) = glob.glob(os.path.join(scored_calls, table, "run_date=2026-11-23", "*.parquet"))
        parquet = pq.ParquetFile(path)
        row_group = parquet.metadata.row_group(0) if parquet.metadata.num_row_groups else None
        if row_group is not None:
            assert {row_group.column(i).compression for i in range(row_group.num_columns)} \
                == {"ZSTD"}
        schema = parquet.schema_arrow
        meta = {k.decode(): v.decode() for k, v in schema.metadata.items()
                if not k.startswith(b"ARROW:")}
        assert meta == {"audio_sentiment.table": table,
                        "audio_sentiment.version": common.project_version(),
                        "audio_sentiment.model_version": version}
        for field in schema:
            assert field.metadata[b"description"].decode() == tables.description(field.name)
    with pytest.raises(KeyError, match="no description of column 'colour'"):
        tables.description("colour")


def test_rerunning_a_date_replaces_its_partition_and_a_failed_run_changes_nothing(
        tmp_path, scoring_model, monkeypatch):
    audio = tmp_path / "audio"
    write_sentiment_clips(audio, synth.make_voices(5, seed=11)[4], duration_s=2.0)
    out = str(tmp_path / "scores")
    common = ["--model-dir", scoring_model, *SCORE_ARGS]
    score_into(out, "--input", str(audio), "--run-date", "2026-11-23", *common)
    score_into(out, "--input", str(audio / "clip0.wav"), "--run-date", "2026-11-24", *common)
    score_into(out, "--input", str(audio / "clip*.wav"), "--run-date", "2026-11-24", *common)
    score_into(out, "--input", str(audio / "clip2.wav"), "--run-date", "2026-11-23", *common)
    files = pd.read_parquet(os.path.join(out, "files"))
    per_day = files.groupby("run_date", observed=True).uri.apply(
        lambda u: sorted(map(os.path.basename, u))).to_dict()
    assert per_day == {"2026-11-23": ["clip2.wav"],
                       "2026-11-24": ["clip0.wav", "clip1.wav", "clip2.wav"]}
    segs = files_table(out)
    assert len(segs) == 4 and not segs.duplicated(["uri", "run_date"]).any()

    def explode(self, *args, **kwargs):
        raise RuntimeError("worker died")

    monkeypatch.setattr(fns.AggregateChannelFn, "_rows", explode)
    with pytest.raises(Exception, match="worker died"):
        score_into(out, "--input", str(audio), "--run-date", "2026-11-23", *common)
    after = pd.read_parquet(os.path.join(out, "files"))
    pd.testing.assert_frame_equal(after, files)
    assert len(glob.glob(os.path.join(out, "_runs", "*.json"))) == 4
    assert not os.path.exists(os.path.join(out, score.STAGING_DIR))  # the dead run's staging
    with pytest.raises(Exception, match=r"unpartitioned|run_date partitions"):
        score.run(["--input", str(audio), "--output", out, *common])


def test_a_run_killed_between_the_renames_of_its_commit_is_finished_by_the_next_run(
        tmp_path, scoring_model, monkeypatch, capsys):
    from sentiment_model import storage

    audio = tmp_path / "audio"
    write_sentiment_clips(audio, synth.make_voices(5, seed=11)[3], duration_s=2.0)
    (audio / "broken.wav").write_text("not audio")
    out = str(tmp_path / "scores")
    common_args = ["--model-dir", scoring_model, *SCORE_ARGS]
    score_into(out, "--input", str(audio), "--run-date", "2026-11-24", *common_args)
    real_move, moved = storage.move, []

    def dies_on_the_second_move(src, dst):
        if moved:
            raise Killed
        moved.append(dst)
        real_move(src, dst)

    monkeypatch.setattr(storage, "move", dies_on_the_second_move)
    with pytest.raises(Killed):
        score_into(out, "--input", str(audio / "clip0.wav"), "--run-date", "2026-11-24",
                   *common_args)
    monkeypatch.undo()
    (staged,) = glob.glob(os.path.join(out, score.STAGING_DIR, "*", "_publish.json"))
    killed_run = os.path.basename(os.path.dirname(staged))
    # the tables now mix two runs: readers refuse rather than count them
    assert cli.main(["report", "--scores", out, "--output", str(tmp_path / "r")]) == 2
    assert f"run {killed_run} (score-run_date=2026-11-24) is publishing" in (
        capsys.readouterr().err)

    # the next run, of another date, finishes the killed run's commit first
    score_into(out, "--input", str(audio / "clip1.wav"), "--run-date", "2026-11-25",
               *common_args)
    assert not os.path.exists(os.path.join(out, score.STAGING_DIR))
    day = {t: pd.read_parquet(os.path.join(out, t, "run_date=2026-11-24"))
           for t in score.TABLES}
    assert sorted(day["files"].uri.map(os.path.basename)) == ["clip0.wav"]
    assert set(day["files"].run_id) == set(day["segments"].run_id) == {killed_run}
    assert len(day["errors"]) == 0  # broken.wav was the first run's; its rows are gone
    shards = {t: sorted(os.listdir(os.path.join(out, t, "run_date=2026-11-24")))
              for t in score.TABLES}
    assert all(len(names) == 1 and names[0].startswith(f"part-{killed_run}-")
               for names in shards.values()), shards
    with open(os.path.join(out, "_runs", f"{killed_run}.json")) as f:
        record = json.load(f)
    assert record["accounting"] == {"matched": 1, "scored": 1, "rejected_only": 0, "lost": 0}
    assert len(pd.read_parquet(os.path.join(out, "files", "run_date=2026-11-25"))) == 1


def test_a_second_run_on_the_same_output_and_date_refuses_with_one_line(
        tmp_path, scoring_model, capsys):
    audio = tmp_path / "audio"
    voice = synth.make_voices(1, seed=3)[0]
    write_audio(str(audio / "a.wav"), synth.synth_utterance(voice, "neutral", duration_s=1.5,
                                                            sample_rate=RATE, seed=2), RATE)
    out = str(tmp_path / "scores")
    args = ["score", "--input", str(audio), "--output", out, "--model-dir", scoring_model,
            "--progress-interval", "0", *SCORE_ARGS]
    with lock_held_by_another_process(out, "score-run_date=2026-11-24",
                                      run_id="nightly") as holder:
        assert cli.main([*args, "--run-date", "2026-11-24"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "Traceback" not in err[0]
        assert f"score run nightly (pid {holder.pid} on" in err[0]
        assert "is writing score-run_date=2026-11-24 now" in err[0]
        assert not os.path.exists(os.path.join(out, "files"))
        assert not os.path.exists(os.path.join(out, score.STAGING_DIR))
        assert cli.main([*args, "--run-date", "2026-11-25"]) == 0  # another date goes on
    assert cli.main([*args, "--run-date", "2026-11-24"]) == 0  # the dead run's lock is taken
    files = files_table(out)
    assert sorted(files.run_date) == ["2026-11-24", "2026-11-25"]


def test_files_score_did_not_write_stop_the_run_and_are_never_deleted(tmp_path, scoring_model,
                                                                      capsys):
    audio = tmp_path / "audio"
    voice = synth.make_voices(1, seed=5)[0]
    write_audio(str(audio / "a.wav"), synth.synth_utterance(voice, "positive", duration_s=1.5,
                                                            sample_rate=RATE, seed=1), RATE)
    out = tmp_path / "out"
    taxes = out / "files" / "taxes" / "return.pdf"
    taxes.parent.mkdir(parents=True)
    taxes.write_text("x")
    nightly = out / "errors" / "run_date=2026-11-24" / "notes.txt"
    nightly.parent.mkdir(parents=True)
    nightly.write_text("mine")
    args = ["score", "--input", str(audio), "--output", str(out), "--model-dir", scoring_model,
            *SCORE_ARGS]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "files/ holds 1 file(s) score did not write" in err and "return.pdf" in err
    assert cli.main([*args, "--overwrite"]) == 2
    assert cli.main([*args, "--run-date", "2026-11-24"]) == 2
    assert "errors/ holds 1 file(s)" in capsys.readouterr().err
    assert taxes.read_text() == "x" and nightly.read_text() == "mine"
    assert not (out / "_runs").exists() and not (out / "_staging").exists()
    # another date's partition is not in the way; score's own shards are replaced
    score_into(str(out), "--input", str(audio), "--run-date", "2026-11-25",
               "--model-dir", scoring_model, *SCORE_ARGS)
    score_into(str(out), "--input", str(audio), "--run-date", "2026-11-25",
               "--model-dir", scoring_model, *SCORE_ARGS)
    assert len(pd.read_parquet(out / "files" / "run_date=2026-11-25")) == 1
    assert taxes.read_text() == "x" and nightly.read_text() == "mine"


def test_model_and_argument_problems_fail_before_any_work(tmp_path, scoring_model, capsys):
    audio = tmp_path / "audio"
    write_audio(str(audio / "a.wav"), np.zeros(RATE, np.float32), RATE)
    base = ["score", "--input", str(audio), "--output", str(tmp_path / "out")]
    missing = tmp_path / "no_model"
    missing.mkdir()
    assert cli.main([*base, "--model-dir", str(missing)]) == 2
    assert "model.keras is missing" in capsys.readouterr().err
    import shutil

    tampered = shutil.copytree(scoring_model, tmp_path / "tampered")
    with open(tampered / MODEL_FILE, "ab") as f:
        f.write(b"x")
    assert cli.main([*base, "--model-dir", str(tampered)]) == 2
    assert "does not match its model card" in capsys.readouterr().err
    foreign = shutil.copytree(scoring_model, tmp_path / "foreign")
    card = json.loads((foreign / CARD_FILE).read_text())
    (foreign / CARD_FILE).write_text(json.dumps({**card, "schema_version": 99}))
    assert cli.main([*base, "--model-dir", str(foreign)]) == 2
    assert "schema version 99" in capsys.readouterr().err
    assert cli.main([*base, "--model-dir", scoring_model, "--run-date", "24/11/2026"]) == 2
    assert "expected a day as YYYY-MM-DD" in capsys.readouterr().err
    assert cli.main([*base, "--model-dir", scoring_model, "--hop-seconds", "5"]) == 2
    assert "--hop-seconds 5.0" in capsys.readouterr().err
    assert not (tmp_path / "out" / "files").exists()
    model = ["--model-dir", scoring_model]
    assert cli.main([*base[:-2], "--output", "memory://scores", *model]) == 2
    assert "Beam cannot write there" in capsys.readouterr().err
    (tmp_path / "a_file").write_text("x")
    assert cli.main([*base[:-2], "--output", str(tmp_path / "a_file" / "out"), *model]) == 2
    assert "cannot write there" in capsys.readouterr().err


class NoModel:
    pass


class AlwaysFails(ModelHandler):
    """A model whose every batch fails."""

    def load_model(self):
        return NoModel()

    def run_inference(self, batch, model, inference_args=None):
        raise ValueError("GPU fell off the bus")


def test_bad_windows_and_failed_batches_become_error_rows():
    key = fns.SegmentKey("gs://b/call.wav", 1, 3, 3.0, 5.0)
    good = np.zeros((201, 40), np.float32)
    nan = good.copy()
    nan[5, 5] = np.nan
    with make_pipeline() as p:
        checked = (
            p
            | beam.Create([(key, good), (key._replace(index=4), nan),
                           (key._replace(index=5), np.zeros((201, 13), np.float32))])
            | beam.ParDo(fns.ValidateInputFn(input_shape=(None, 40))).with_outputs(
                "errors", "rejected", main="valid")
        )
        assert_that(checked.valid | "Index" >> beam.Map(lambda kv: kv[0].index),
                    equal_to([3]))
        assert_that(checked.errors | "Why" >> beam.Map(lambda r: (r["error_type"],
                                                                  r["message"])),
                    equal_to([("invalid_input", "channel 1: window 4 (3.00-5.00 s): non-finite "
                                                "feature values"),
                              ("invalid_input", "channel 1: window 5 (3.00-5.00 s): expected "
                                                "shape (None, 40), got (201, 13)")]),
                    label="InvalidRows")
        assert_that(checked.rejected, equal_to([
            (("gs://b/call.wav", 1), segments.ScoredSegment(4, 3.0, 5.0, True, None)),
            (("gs://b/call.wav", 1), segments.ScoredSegment(5, 3.0, 5.0, True, None))]),
                    label="Rejected")
        _, dlq = checked.valid | RunInference(KeyedModelHandler(AlwaysFails())
                                              ).with_exception_handling()
        failed = dlq.failed_inferences | beam.ParDo(fns.FailedBatchFn()).with_outputs(
            "rejected", main="errors")
        assert_that(failed.errors | "FailWhy" >> beam.Map(lambda r: (r["error_type"],
                                                                     r["message"])),
                    equal_to([("inference_failed", "channel 1: window 3: ValueError('GPU fell "
                                                   "off the bus')")]), label="FailedRows")


def test_pad_batch_right_pads_with_zeros_to_a_fixed_shape():
    inputs = [np.ones((2, 3), np.float32), 2 * np.ones((4, 3), np.float32)]
    out = scoring.pad_batch(inputs)
    assert out.shape == (2, 4, 3)
    np.testing.assert_array_equal(out[0], [[1] * 3] * 2 + [[0] * 3] * 2)
    np.testing.assert_array_equal(out[1], 2 * np.ones((4, 3)))
    fixed = scoring.pad_batch(inputs, length=6, rows=5)
    assert fixed.shape == (5, 6, 3) and fixed[2:].sum() == 0 and fixed[:, 4:].sum() == 0
    cfg = FeatureConfig()
    assert fns.window_frames(cfg, segments.SegmentConfig(segment_s=3.0), "frames") == 301
    assert fns.window_frames(cfg, segments.SegmentConfig(), "image") is None


def test_batches_are_padded_to_the_smallest_quarter_of_a_window_that_holds_them():
    lengths = {n: scoring.padded_length(n, length=301, buckets=fns.PAD_BUCKETS)
               for n in (1, 76, 77, 151, 152, 226, 227, 301, 320)}
    assert lengths == {1: 76, 76: 76, 77: 151, 151: 151, 152: 226, 226: 226, 227: 301,
                       301: 301, 320: 320}
    assert scoring.padded_length(40, length=None, buckets=4) == 40
    assert scoring.padded_length(40, length=301) == 301  # one bucket: the whole window
    inputs = [np.ones((100, 2), np.float32), np.ones((30, 2), np.float32)]
    assert scoring.pad_batch(inputs, length=301, rows=64, buckets=4).shape == (64, 151, 2)


def test_padding_does_not_change_the_predictions(scoring_model):
    from sentiment_model.inference import load_model_dir

    loaded = load_model_dir(scoring_model)
    rng = np.random.default_rng(0)
    dims = loaded.feature_config.frame_dims
    inputs = [rng.standard_normal((n, dims)).astype(np.float32) for n in (120, 301, 77)]
    alone = np.concatenate([scoring.predict_padded(loaded.model, [x]) for x in inputs])
    padded = scoring.predict_padded(loaded.model, inputs, length=301, rows=64)
    assert padded.shape == (3, 3)
    np.testing.assert_allclose(padded, alone, atol=1e-5)
    short = inputs[::2]  # 120 and 77 frames: padded to 151, not 301
    bucketed = scoring.predict_padded(loaded.model, short, length=301, rows=64, buckets=4)
    np.testing.assert_allclose(bucketed, alone[::2], atol=1e-5)


def test_score_tables_follow_the_model_vocabulary():
    schema = tables.files_schema(("angry", "Happy Face"))
    assert "p_angry" in schema.names and "p_happy_face" in schema.names
    assert "share_happy_face" in schema.names and "p_neutral" not in schema.names
    assert tables.segments_schema(("a", "b")).names[-3:] == ["p_a", "p_b", "run_id"]


@pytest.fixture(scope="module")
def speaker_model(corpus, tmp_path_factory) -> str:
    """A (barely trained) model on speaker-normalised features."""
    from pipelines import train

    root = tmp_path_factory.mktemp("speaker_model")
    featurize_into(str(root / "features"), "--input", corpus, "--labels",
                   os.path.join(corpus, "labels.csv"), "--preset", "speaker_norm")
    train.run(["--features", str(root / "features"), "--model-dir", str(root / "model"),
               "--epochs", "1", "--ensemble", "1"])
    return str(root / "model")


def test_speaker_normalised_windows_use_their_channel_statistics(speaker_model, calls_dir,
                                                                 monkeypatch):
    import dataclasses

    from sentiment_model import storage

    card = ModelCard.read(speaker_model)
    assert card.speaker_normalised
    call = os.path.join(calls_dir, "calls", "call_000.wav")
    held = segments.SegmentConfig(segment_s=2.0, hop_s=1.0)
    opened = []

    def counting_open(uri):
        opened.append(uri)
        return open(uri, "rb")

    monkeypatch.setattr(storage, "open_read", counting_open)

    def outputs(segment):
        fn = fns.SegmentAudioFn(feature=card.feature,
                                segment=segment, channels="auto",
                                input_kind=card.input_kind, norm=card.normalization,
                                total=1, interval_s=0)
        fn.setup()
        return list(fn.process(call))

    got = outputs(held)
    assert opened == [call]  # short enough to hold: one read
    inputs = {(key.channel, key.index): x for key, x in
              (o for o in got if not isinstance(o, beam.pvalue.TaggedOutput))}
    # expected: each channel's raw window features, standardised with the
    # mean/std over all of that channel's speech-window frames
    samples, rate = soundfile.read(call, dtype="float32", always_2d=True)
    raw = {c: [w for w in scoring.channel_windows(samples[:, c], rate, feature=card.feature,
                                                  segment=held)[0] if w.features is not None]
           for c in (0, 1)}
    assert sorted(inputs) == sorted((c, w.index) for c in raw for w in raw[c])
    assert {c for c, _ in inputs} == {0, 1}
    for channel, mine in raw.items():
        frames = np.concatenate([w.features.frames for w in mine]).astype(np.float64)
        mean, std = frames.mean(axis=0), frames.std(axis=0)
        for w in mine:
            np.testing.assert_allclose(inputs[(channel, w.index)],
                                       (w.features.frames - mean) / std, rtol=1e-4, atol=1e-4)
    # too long to hold (buffer 0 MB): read twice, same outputs
    opened.clear()
    again = outputs(dataclasses.replace(held, buffer_mb=0.0))
    assert opened == [call, call]
    assert len(again) == len(got)
    for a, b in zip(got, again, strict=True):
        if isinstance(a, beam.pvalue.TaggedOutput):
            assert a.tag == b.tag and a.value == b.value
        else:
            assert a[0] == b[0]
            np.testing.assert_allclose(a[1], b[1], rtol=1e-6, atol=1e-6)


def test_score_job_with_a_speaker_normalised_model(speaker_model, calls_dir, tmp_path):
    call = os.path.join(calls_dir, "calls", "call_001.wav")
    record = score_into(str(tmp_path / "out"), "--input", call, "--model-dir", speaker_model,
                        *SCORE_ARGS)
    assert record["accounting"] == {"matched": 1, "scored": 1, "rejected_only": 0, "lost": 0}
    files = files_table(str(tmp_path / "out"))
    assert sorted(files.channel) == [0, 1]
    segs = pd.read_parquet(tmp_path / "out" / "segments")
    speech = segs[segs.is_speech]
    assert len(speech) == files.n_speech_segments.sum() > 0
    np.testing.assert_allclose(speech[["p_negative", "p_neutral", "p_positive"]].sum(axis=1),
                               1.0, atol=1e-5)


def test_a_clip_no_longer_than_a_window_gets_the_whole_clip_probabilities(scoring_model,
                                                                         tmp_path):
    """score's default path (Silero VAD, 3-s windows): a short clip is one
    utterance, and files/ holds exactly what the model says of the whole clip."""
    from sentiment_model.inference import load_model_dir, predict_proba

    voice = synth.make_voices(6, seed=11)[0]
    clips = {}
    for name, rate, seconds in (("a.wav", 16000, 2.5), ("b.flac", 44100, 1.2),
                                ("c.wav", 8000, 3.0)):
        y = synth.synth_utterance(voice, "negative", duration_s=seconds, sample_rate=rate,
                                  seed=len(name) + rate)
        pad = np.zeros(rate // 4, np.float32)
        clips[name] = (np.concatenate([pad, y, pad])[: round(3.0 * rate)], rate)
        write_audio(str(tmp_path / "audio" / name), clips[name][0], rate)
    out = str(tmp_path / "out")
    score_into(out, "--input", str(tmp_path / "audio"), "--model-dir", scoring_model)
    files = files_table(out).set_index("uri")
    loaded = load_model_dir(scoring_model)
    assert len(files) == 3
    for name, (_, rate) in clips.items():
        row = files.loc[str(tmp_path / "audio" / name)]
        assert row.n_segments == 1 and row.n_speech_segments == 1
        stored, stored_rate = soundfile.read(str(tmp_path / "audio" / name), dtype="float32")
        assert stored_rate == rate
        want = predict_proba(loaded, stored, rate)
        np.testing.assert_allclose([row.p_negative, row.p_neutral, row.p_positive], want,
                                   atol=1e-5)
    segs = pd.read_parquet(os.path.join(out, "segments"))
    assert sorted(segs["start_s"]) == [0.0, 0.0, 0.0]
    mono = pd.read_parquet(os.path.join(out, "calls")).set_index("uri")
    assert sorted(mono.call_id) == ["a", "b", "c"]
    assert (mono.roles == "mix").all() and (mono.agent_channel == -1).all()
    assert mono.agent_label.isna().all() and mono.overlap_s.isna().all()
    for name in clips:  # the utterance and its 0.25 s pauses
        row = mono.loc[str(tmp_path / "audio" / name)]
        assert row.duration_s == pytest.approx(files.loc[row.name].duration_s)
        assert 0.3 < row.talk_s <= row.duration_s
        assert row.non_talk_s == pytest.approx(row.duration_s - row.talk_s)


def test_credentials_in_input_urls_are_never_stored(tmp_path, scoring_model):
    voice = synth.make_voices(1, seed=11)[0]
    good = write_audio(str(tmp_path / "good.wav"), synth.synth_utterance(
        voice, "neutral", duration_s=2.0, sample_rate=RATE, seed=1), RATE)
    secret_url = "ftp://AKIAKEYID:s3cr3tPASS@127.0.0.1:1/calls/a.wav"  # refused at once
    manifest = tmp_path / "list.txt"
    manifest.write_text(f"{good}\n{secret_url}\n")
    out = tmp_path / "out"
    record = score_into(str(out), "--input", str(manifest), "--model-dir", scoring_model,
                        *SCORE_ARGS)
    assert record["accounting"] == {"matched": 2, "scored": 1, "rejected_only": 1, "lost": 0}
    errors = pd.read_parquet(out / "errors")
    assert list(errors.uri) == ["ftp://***@127.0.0.1:1/calls/a.wav"]
    assert list(errors.error_type) == ["read_failed"]
    written = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.suffix == ".json" for p in written)  # the run record
    for path in written:
        data = path.read_bytes()
        assert b"s3cr3tPASS" not in data and b"AKIAKEYID" not in data, path
    assert "s3cr3tPASS" not in json.dumps(record)


def test_a_local_run_of_several_files_uses_a_worker_process_per_core_with_the_same_scores(
        tmp_path, scoring_model, calls_dir, monkeypatch, caplog):
    monkeypatch.setattr(common, "_machine", lambda: (2, 24.0))  # whatever runs the tests
    # the calls are seconds long: one worker by the audio rule (tests/pipelines/test_common.py)
    monkeypatch.setattr(common, "AUDIO_S_PER_WORKER", 1.0)
    args = ["--input", os.path.join(calls_dir, "calls"), "--model-dir", scoring_model,
            "--progress-interval", "0", *SCORE_ARGS]
    one = score.run([*args, "--output", str(tmp_path / "one"), "--direct_num_workers", "1"])
    with caplog.at_level("INFO", logger="audio_sentiment"):
        two = score.run([*args, "--output", str(tmp_path / "two")])
    assert "score: 2 local worker processes, one per core" in caplog.text
    assert two["accounting"] == one["accounting"] and two["rows"] == one["rows"]
    assert one["accounting"]["scored"] == 3 and one["rows"]["files"] == 6  # 3 stereo calls
    keys = ["uri", "channel", "index"]
    a = pd.read_parquet(tmp_path / "one" / "segments").sort_values(keys, ignore_index=True)
    b = pd.read_parquet(tmp_path / "two" / "segments").sort_values(keys, ignore_index=True)
    pd.testing.assert_frame_equal(a.drop(columns=["run_id"]), b.drop(columns=["run_id"]),
                                  atol=1e-5)
    assert len(a) > 30 and a.label.notna().sum() > 10
    files_one, files_two = (files_table(str(tmp_path / name)).sort_values(
        ["uri", "channel"], ignore_index=True) for name in ("one", "two"))
    assert list(files_one.label) == list(files_two.label)
