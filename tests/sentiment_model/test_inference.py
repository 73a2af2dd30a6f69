import os
import shutil

import numpy as np
import pytest
import soundfile

from pipelines import train as train_job
from schemas import features as fk
from sentiment_model import inference
from sentiment_model.errors import InputError
from sentiment_model.model_card import CARD_FILE, MODEL_FILE, ModelCard, model_digest
from tests.conftest import read_examples


@pytest.fixture(scope="module")
def model_dir(features_dir, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("model"))
    train_job.run(["--features", features_dir, "--model-dir", out, "--epochs", "1",
               "--batch-size", "8"])
    return out


def test_serving_features_equal_the_featurized_ones(model_dir, features_dir):
    loaded = inference.load_model_dir(model_dir)
    assert loaded.labels == ("negative", "neutral", "positive")
    assert loaded.input_kind == "frames"
    norm = loaded.card.normalization
    assert norm["group"] == "none"
    assert inference.speaker_stats(loaded, []) is None  # not a speaker-normalised model
    for ex in read_examples(features_dir, "test")[:3]:
        samples, rate = soundfile.read(ex[fk.URI][0].decode(), dtype="float32")
        x = inference.model_input(loaded, samples, rate)
        frames = ex[fk.FRAMES].reshape(ex[fk.N_FRAMES][0], -1)
        np.testing.assert_allclose(x, frames, rtol=1e-5, atol=1e-4)  # the model standardises
        layer = loaded.model.get_layer("member_0").get_layer("input_standardisation")
        assert layer.mean == norm["frames"]["mean"] and layer.std == norm["frames"]["std"]
        p = inference.predict_proba(loaded, samples, rate)
        assert p.shape == (3,) and p.sum() == pytest.approx(1.0, abs=1e-5)
        np.testing.assert_allclose(p, loaded.model.predict_on_batch(x[None])[0], rtol=1e-6)


def test_incomplete_model_dirs_fail_with_a_clear_message(model_dir, tmp_path):
    broken = shutil.copytree(model_dir, str(tmp_path / "broken"))
    os.remove(os.path.join(broken, CARD_FILE))
    with pytest.raises(InputError, match=r"model_card\.json is missing"):
        inference.load_model_dir(broken)
    with open(os.path.join(broken, CARD_FILE), "w") as f:
        f.write("{not json")
    with pytest.raises(InputError, match="not JSON"):
        inference.load_model_dir(broken)


def test_changed_foreign_or_unsafe_models_are_refused(model_dir, tmp_path):
    import json

    import keras

    tampered = shutil.copytree(model_dir, str(tmp_path / "tampered"))
    with open(os.path.join(tampered, MODEL_FILE), "ab") as f:
        f.write(b"\0")
    with pytest.raises(InputError, match="does not match its model card"):
        ModelCard.read(tampered)

    # the card's fields that change predictions are signed with the model
    edited = shutil.copytree(model_dir, str(tmp_path / "edited"))
    with open(os.path.join(edited, CARD_FILE)) as f:
        exported = json.load(f)
    edits = {"label_vocabulary": exported["label_vocabulary"][::-1],
             "input_kind": "pooled",
             "normalization": {**exported["normalization"], "group": "speaker"}}
    for key, value in edits.items():
        with open(os.path.join(edited, CARD_FILE), "w") as f:
            json.dump({**exported, key: value}, f)
        with pytest.raises(InputError, match="label_vocabulary, label_groups"):
            ModelCard.read(edited)
    with open(os.path.join(edited, CARD_FILE), "w") as f:  # notes only: still loads
        json.dump({**exported, "created_at": "yesterday", "metrics": {}}, f)
    assert ModelCard.read(edited).details["created_at"] == "yesterday"

    foreign = shutil.copytree(model_dir, str(tmp_path / "foreign"))
    card_path = os.path.join(foreign, CARD_FILE)
    with open(card_path) as f:
        card = json.load(f)
    with open(card_path, "w") as f:
        json.dump({**card, "schema_version": fk.SCHEMA_VERSION + 1}, f)
    with pytest.raises(InputError, match="feature schema version"):
        ModelCard.read(foreign)
    with open(card_path, "w") as f:
        json.dump({k: v for k, v in card.items() if k != "normalization"}, f)
    with pytest.raises(InputError, match="lacks normalization"):
        ModelCard.read(foreign)

    # a card signed again after an edit: its fields are still checked
    resigned = shutil.copytree(model_dir, str(tmp_path / "resigned"))
    model_path = os.path.join(resigned, MODEL_FILE)
    for edit, message in (({"input_kind": "pooled"}, r"input_kind 'pooled' is not one of"),
                          ({"label_vocabulary": ["only"]}, r"at least two class names"),
                          ({"label_vocabulary": ["a", "b", "c", "d"]},
                           r"the model has 3 outputs, its card names 4 classes")):
        bad = {**card, **edit}
        with open(os.path.join(resigned, CARD_FILE), "w") as f:
            json.dump({**bad, "model_version": model_digest(model_path, bad)}, f)
        with pytest.raises(InputError, match=message):
            inference.load_model_dir(resigned)

    # a model holding a Lambda layer (arbitrary code) is never deserialised
    unsafe = shutil.copytree(model_dir, str(tmp_path / "unsafe"))
    inputs = keras.Input(shape=(None, 40))
    outputs = keras.layers.Lambda(lambda x: x * 2)(inputs)
    keras.Model(inputs, outputs).save(os.path.join(unsafe, MODEL_FILE))
    with open(os.path.join(unsafe, CARD_FILE), "w") as f:
        json.dump({**card, "model_version": model_digest(
            os.path.join(unsafe, MODEL_FILE), card)}, f)
    with pytest.raises(InputError, match=r"cannot load model\.keras safely"):
        inference.load_model_dir(unsafe)
