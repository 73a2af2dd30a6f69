import numpy as np
import pytest
from tfx_bsl.coders import example_coder

from schemas import features as fk
from sentiment_model.errors import RejectedInput


def example(length=3, dims=2, **changes):
    base = {
        fk.RECORDING_ID: b"rec-1", fk.URI: b"/a/rec.wav", fk.CHANNEL: -1, fk.START_S: 0.0,
        fk.DURATION_S: 1.5, fk.SOURCE_SAMPLE_RATE: 16000, fk.SPEAKER: b"s1",
        fk.SPLIT: b"train", fk.LABEL: b"positive", fk.LABEL_ID: 2, fk.AUGMENTATION: b"",
        fk.FRAMES: np.arange(length * dims, dtype=np.float32).reshape(length, dims),
        fk.N_FRAMES: length, fk.POOLED: np.array([0.5, 1.5, 2.5, 3.5], np.float32),
    }
    base.update(changes)
    return base


@pytest.fixture
def schema():
    return fk.build_schema(frame_dims=2, pooled_dims=4, labels=["negative", "positive"])


def test_schema_lists_every_feature_key_once(schema):
    assert [f.name for f in schema.feature] == list(fk.FEATURE_KEYS)
    assert fk.frame_dims_of(schema) == 2 and fk.pooled_dims_of(schema) == 4
    assert fk.schema_from_text(fk.schema_to_text(schema)) == schema


def test_encode_decode_round_trip_with_tfx_bsl(schema):
    examples = [example(), example(length=5, **{fk.LABEL: b"", fk.LABEL_ID: -1})]
    for ex in examples:
        fk.ExampleValidator(schema)(ex)
    encoded = example_coder.RecordBatchToExamplesEncoder(schema).encode(
        fk.to_record_batch(examples, schema))
    decoder = example_coder.ExamplesToRecordBatchDecoder(schema.SerializeToString())
    back = fk.record_batch_to_examples(decoder.DecodeBatch(encoded))
    assert len(back) == 2
    np.testing.assert_array_equal(back[0][fk.FRAMES].reshape(3, 2), examples[0][fk.FRAMES])
    np.testing.assert_array_equal(back[1][fk.N_FRAMES], [5])
    assert back[0][fk.LABEL][0] == b"positive" and back[1][fk.LABEL][0] == b""
    np.testing.assert_allclose(back[0][fk.POOLED], [0.5, 1.5, 2.5, 3.5])


def test_no_examples_pack_into_an_empty_batch_that_encodes_to_nothing(schema):
    batch = fk.to_record_batch([], schema)
    assert batch.num_rows == 0
    assert batch.schema == fk.arrow_schema(schema)
    assert example_coder.RecordBatchToExamplesEncoder(schema).encode(batch) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({fk.POOLED: np.zeros(3, np.float32)}, "'pooled' has 3 values"),
        ({fk.N_FRAMES: 4}, "expected n_frames=4"),
        ({fk.SPLIT: b"holdout"}, "outside its domain"),
        ({fk.LABEL: b"angry"}, "outside its domain"),
        ({fk.CHANNEL: 0.5}, "integers"),
        ({fk.FRAMES: np.full((3, 2), np.nan, np.float32)}, "NaN"),
        ({"extra": 1}, "not in the schema"),
    ],
)
def test_validation_rejects_examples_that_break_the_schema(schema, changes, message):
    with pytest.raises(RejectedInput, match=message) as info:
        fk.ExampleValidator(schema)(example(**changes))
    assert info.value.error_type == "schema_violation"


def test_missing_feature_is_rejected(schema):
    ex = example()
    del ex[fk.SPEAKER]
    with pytest.raises(RejectedInput, match="'speaker' is missing"):
        fk.ExampleValidator(schema)(ex)
