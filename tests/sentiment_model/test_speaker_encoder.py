import importlib.metadata
import os
import pickle
import zipfile

import numpy as np
import pytest

from sentiment_model import speaker_encoder as se
from sentiment_model import synth
from sentiment_model.errors import ConfigError, InputError


def test_the_packaged_checkpoint_reads_into_the_networks_arrays():
    state = se.load_checkpoint(se.weights_path())["model_state"]
    assert state["lstm.weight_ih_l0"].shape == (1024, 40)
    for k in range(se.LAYERS):
        assert state[f"lstm.weight_hh_l{k}"].shape == (1024, 256)
        assert state[f"lstm.bias_ih_l{k}"].shape == (1024,)
    assert state["linear.weight"].shape == (256, 256)
    assert all(v.dtype == np.float32 and np.isfinite(v).all() for v in state.values())
    # the LSTM's tensors are views into one shared storage at different offsets
    assert float(np.abs(state["lstm.weight_ih_l0"]).mean()) == pytest.approx(0.448773, abs=1e-5)
    assert float(np.abs(state["linear.weight"]).mean()) == pytest.approx(0.108663, abs=1e-5)
    assert not np.shares_memory(state["lstm.weight_hh_l0"], state["lstm.weight_hh_l1"])


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("echo unsafe",))


def _legacy_file(path, payload):
    with open(path, "wb") as f:
        for header in (se.LEGACY_MAGIC, 1001, {"little_endian": True}):
            pickle.dump(header, f, protocol=2)
        pickle.dump(payload, f, protocol=2)
        pickle.dump([], f, protocol=2)


def test_a_weights_file_that_would_run_code_is_refused(tmp_path):
    path = str(tmp_path / "evil.pt")
    _legacy_file(path, {"model_state": _RunsCode()})
    with pytest.raises(InputError, match=r"posix\.system is not allowed|os\.system"):
        se.load_checkpoint(path)


def test_truncated_and_foreign_files_are_clear_errors(tmp_path):
    with open(se.weights_path(), "rb") as f:
        head = f.read(1 << 20)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(head)
    with pytest.raises(InputError, match="not a readable weights file"):
        se.load_checkpoint(str(truncated))
    foreign = tmp_path / "model.pt"
    with zipfile.ZipFile(foreign, "w") as z:
        z.writestr("archive/data.pkl", b"")
    with pytest.raises(InputError, match="a zip-format PyTorch checkpoint"):
        se.load_checkpoint(str(foreign))
    other = tmp_path / "other.pt"
    other.write_bytes(pickle.dumps(12345))
    with pytest.raises(InputError, match="not a PyTorch checkpoint in the legacy format"):
        se.load_checkpoint(str(other))


def test_a_missing_or_other_version_names_the_install_command(monkeypatch):
    class Dist:
        version = "0.1.3"

    monkeypatch.setattr(importlib.metadata, "distribution", lambda name: Dist())
    with pytest.raises(ConfigError, match=r"pip install --no-deps resemblyzer==0\.1\.4"):
        se.weights_path()

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(ConfigError, match="comes with the resemblyzer package"):
        se.weights_path()
    from sentiment_model.config import preset

    preset("spectral")  # needs no encoder
    with pytest.raises(ConfigError, match="comes with the resemblyzer package"):
        preset("default")  # refused at start-up, not at the first recording


def test_embeddings_are_unit_vectors_closer_for_the_same_voice():
    voices = synth.make_voices(2, seed=7)
    clips = [synth.synth_utterance(voices[v], "neutral", duration_s=1.7, sample_rate=se.RATE,
                                   seed=s) for v, s in ((0, 1), (0, 2), (1, 3))]
    mels = np.stack([se.mel_frames(se.normalise_volume(y))[:se.PARTIAL_FRAMES] for y in clips])
    assert mels.shape == (3, se.PARTIAL_FRAMES, se.N_MELS)
    e = se.SpeakerEncoder().embed_frames(mels)
    assert e.shape == (3, se.EMBEDDING) and e.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    assert (e >= 0).all()  # ReLU before the norm
    assert e[0] @ e[1] > e[0] @ e[2] and e[0] @ e[1] > e[1] @ e[2]


def test_volume_is_raised_to_minus_30_dbfs_never_lowered():
    quiet = np.full(1600, 0.001, np.float32)
    raised = se.normalise_volume(quiet)
    assert 20 * np.log10(np.sqrt(np.mean(raised ** 2))) == pytest.approx(-30.0, abs=1e-3)
    loud = np.full(1600, 0.5, np.float32)
    assert se.normalise_volume(loud) is loud


def test_the_onnx_graph_gives_the_numpy_networks_states_on_one_thread():
    import pickle

    voices = synth.make_voices(1, seed=4)
    y = synth.synth_utterance(voices[0], "negative", duration_s=3.6, sample_rate=se.RATE, seed=2)
    mel = se.mel_frames(se.normalise_volume(y))
    mels = np.stack([mel[:170], mel[170:340]])
    encoder = se.SpeakerEncoder()
    out = encoder.hidden_states(mels)
    assert out.shape == (2, 170, 256) and out.dtype == np.float32
    reference = encoder.reference_hidden_states(mels)
    np.testing.assert_allclose(out, reference, atol=1e-5)
    assert np.abs(reference).max() > 0.5  # states that say something, not all near 0
    assert encoder._session.get_session_options().intra_op_num_threads == 1
    again = pickle.loads(pickle.dumps(encoder))  # the session is made again where it lands
    assert again._session is None
    np.testing.assert_array_equal(again.hidden_states(mels), out)
    assert encoder.hidden_states(mels[:0]).shape == (0, 170, 256)
    assert encoder.hidden_states(mels[:, :0]).shape == (2, 0, 256)
    with pytest.raises(ValueError, match="must be"):
        encoder.hidden_states(mels[0])


def test_the_graph_follows_the_weights_it_is_given():
    """Other weights (each layer's forget and output gates swapped) give other
    states, and the graph still agrees with the numpy network on them."""
    weights = dict(se._packaged_weights())
    for k in range(se.LAYERS):  # swap the forget and output blocks of every layer
        for name in (f"lstm.weight_ih_l{k}", f"lstm.weight_hh_l{k}", f"lstm.bias_ih_l{k}",
                     f"lstm.bias_hh_l{k}"):
            i, f, g, o = np.split(weights[name], 4, axis=0)
            weights[name] = np.concatenate([i, o, g, f], axis=0)
    mels = np.random.default_rng(0).random((1, 40, se.N_MELS), dtype=np.float32)
    swapped = se.SpeakerEncoder(weights)
    shipped = se.shared_encoder().hidden_states(mels)
    assert np.abs(swapped.hidden_states(mels) - shipped).max() > 0.01
    np.testing.assert_allclose(swapped.hidden_states(mels), swapped.reference_hidden_states(mels),
                               atol=1e-5)


def test_weights_are_row_major_and_a_batch_gives_each_sequences_own_states():
    encoder = se.SpeakerEncoder()
    for w_ih, w_hh, _ in encoder.layers:
        assert w_ih.flags.c_contiguous and w_hh.flags.c_contiguous
        assert w_ih.dtype == w_hh.dtype == np.float32
    checkpoint = se._packaged_weights()
    np.testing.assert_array_equal(encoder.layers[1][1], checkpoint["lstm.weight_hh_l1"].T)
    mels = np.random.default_rng(1).random((5, 40, se.N_MELS), dtype=np.float32)
    together = encoder.hidden_states(mels)
    alone = np.concatenate([encoder.hidden_states(mels[i:i + 1]) for i in range(5)])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert np.abs(together[0] - together[1]).max() > 0.01
