import apache_beam as beam
import numpy as np
import pytest
import tensorflow as tf
from apache_beam.testing.util import assert_that, equal_to

from pipelines.featurize_fns import EncodeExampleFn, FeatureExample
from schemas import features as fk
from tests.conftest import make_pipeline

FRAME_DIMS, POOLED_DIMS = 4, 8


def example(i: int, *, split: str = "train", **overrides) -> FeatureExample:
    rng = np.random.default_rng(i)
    frames = rng.standard_normal((3 + i, FRAME_DIMS)).astype(np.float32)
    features = {
        fk.RECORDING_ID: f"rec-{i}".encode(), fk.URI: f"/audio/{i}.wav".encode(),
        fk.CHANNEL: -1, fk.START_S: 0.0, fk.DURATION_S: 1.0 + i, fk.SOURCE_SAMPLE_RATE: 16000,
        fk.SPEAKER: b"s1", fk.SPLIT: split.encode(), fk.LABEL: b"calm", fk.LABEL_ID: 0,
        fk.AUGMENTATION: b"", fk.FRAMES: frames, fk.N_FRAMES: frames.shape[0],
        fk.POOLED: np.concatenate([frames.mean(0), frames.std(0)]),
    }
    features.update(overrides)
    return FeatureExample(features=features, fingerprint=f"{i:064x}")


class ParseExample(beam.DoFn):
    def process(self, serialized: bytes):
        ex = tf.train.Example.FromString(serialized).features.feature
        frames = np.array(ex[fk.FRAMES].float_list.value, dtype=np.float32)
        yield (ex[fk.RECORDING_ID].bytes_list.value[0].decode(),
               ex[fk.N_FRAMES].int64_list.value[0], frames.round(5).tolist())


class ErrorKey(beam.DoFn):
    def process(self, row: dict):
        yield row["uri"], row["stage"], row["error_type"]


class SummaryKey(beam.DoFn):
    def process(self, summary):
        yield summary.split, summary.duration_s, summary.fingerprint


@pytest.mark.parametrize(("batch_size", "batch_bytes"), [
    (2, 2**30),  # flushes every two valid examples, the last one in finish_bundle
    (100, 1),  # every example passes the byte limit alone
])
def test_encodes_in_batches_and_rejects_only_the_bad_examples(batch_size, batch_bytes):
    schema = fk.build_schema(frame_dims=FRAME_DIMS, pooled_dims=POOLED_DIMS, labels=("calm",))
    nan_frames = np.full((3, FRAME_DIMS), np.nan, dtype=np.float32)
    inputs = [
        example(0), example(1, split="eval"), example(2),
        example(3, **{fk.FRAMES: nan_frames}),  # fails the schema check
        example(4), example(5, **{fk.CHANNEL: np.uint64(2**63 + 5)}),  # passes it, cannot encode
        example(6, split="test"), example(7),  # 7: left over for finish_bundle
    ]
    good = [0, 1, 2, 4, 6, 7]
    p = make_pipeline()
    out = (p | beam.Create(inputs)
           | beam.ParDo(EncodeExampleFn(
               schema_text=fk.schema_to_text(schema), batch_size=batch_size,
               batch_bytes=batch_bytes))
           .with_outputs("errors", "written", "summary", *fk.SPLITS))

    def parsed(i):
        e = inputs[i].features
        return e[fk.RECORDING_ID].decode(), e[fk.N_FRAMES], e[fk.FRAMES].reshape(-1).round(
            5).tolist()

    assert_that(out.train | "ParseTrain" >> beam.ParDo(ParseExample()),
                equal_to([parsed(i) for i in (0, 2, 4, 7)]), label="Train")
    assert_that(out.eval | "ParseEval" >> beam.ParDo(ParseExample()),
                equal_to([parsed(1)]), label="Eval")
    assert_that(out.test | "ParseTest" >> beam.ParDo(ParseExample()),
                equal_to([parsed(6)]), label="Test")
    assert_that(out.errors | beam.ParDo(ErrorKey()), equal_to([
        ("/audio/3.wav", "encode", "schema_violation"),
        ("/audio/5.wav", "encode", "encode_failed"),
    ]), label="Errors")
    assert_that(out.written, equal_to([f"/audio/{i}.wav" for i in good]), label="Written")
    assert_that(out.summary | beam.ParDo(SummaryKey()), equal_to([
        (inputs[i].features[fk.SPLIT].decode(), 1.0 + i, f"{i:064x}") for i in good
    ]), label="Summary")
    p.run()
