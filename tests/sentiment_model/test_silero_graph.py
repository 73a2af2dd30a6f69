import numpy as np
import pytest

from sentiment_model import silero_graph, synth, vad
from sentiment_model.errors import ConfigError


def _session(model):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    return onnxruntime.InferenceSession(model, sess_options=options,
                                        providers=["CPUExecutionProvider"])


def _signals(rate: int, n_samples: int) -> np.ndarray:
    """Two channels: a generated utterance after half a second of faint
    noise, and noise."""
    rng = np.random.default_rng(7)
    voice = synth.make_voices(1, seed=4)[0]
    y = synth.synth_utterance(voice, "neutral", duration_s=1.5, sample_rate=rate, seed=2)
    speech = np.zeros(n_samples, np.float32)
    speech[rate // 2:rate // 2 + len(y)] = y[:n_samples - rate // 2]
    return np.stack([speech + 1e-4 * rng.standard_normal(n_samples),
                     0.05 * rng.standard_normal(n_samples)]).astype(np.float32)


@pytest.mark.parametrize("rate", [16000, 8000])
def test_a_block_of_steps_gives_the_wheels_probabilities_step_by_step(rate):
    chunk, context = (512, 64) if rate == 16000 else (256, 32)
    n = 120
    x = _signals(rate, n * chunk)
    wheel = _session(vad.silero_model_path())
    state = np.zeros((2, 2, 128), np.float32)
    tail = np.zeros((2, context), np.float32)
    want = []
    for i in range(n):
        step = np.concatenate([tail, x[:, i * chunk:(i + 1) * chunk]], axis=1)
        prob, state = wheel.run(None, {"input": step, "state": state,
                                       "sr": np.array(rate, np.int64)})
        want.append(prob[:, 0])
        tail = step[:, -context:]
    want = np.array(want)  # [n, 2]
    assert want.max() > 0.8 and want.min() < 0.05  # both speech-like and quiet steps

    blocks = _session(silero_graph.sequence_graph(vad.silero_model_path(), rate,
                                                   step_samples=chunk + context))
    full = np.concatenate([np.zeros((2, context), np.float32), x], axis=1)
    steps = np.stack([full[:, i * chunk:i * chunk + chunk + context] for i in range(n)])
    state = np.zeros((2, 2, 128), np.float32)
    got = []
    for a, b in ((0, 50), (50, 51), (51, n)):  # the state carried between calls
        probs, state = blocks.run(None, {"steps": steps[a:b], "state": state})
        assert probs.shape == (b - a, 2)
        got.append(probs)
    np.testing.assert_allclose(np.concatenate(got), want, atol=1e-5)


def test_a_model_of_another_layout_is_refused_with_a_message(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["input"], ["output"])], "other",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [None])])
    path = tmp_path / "other.onnx"
    onnx.save(helper.make_model(graph), str(path))
    with pytest.raises(ConfigError, match="layout is not the one this release knows"):
        silero_graph.sequence_graph(str(path), 16000, step_samples=576)


@pytest.mark.parametrize("rate", [16000, 8000])
def test_the_convolutions_become_matrix_products(rate):
    import onnx

    step = 576 if rate == 16000 else 288
    graph = onnx.load_from_string(silero_graph.sequence_graph(vad.silero_model_path(), rate,
                                                              step_samples=step))
    ops = [n.op_type for n in graph.graph.node if "stft" in n.name or "stft" in n.output[0]]
    assert "Conv" not in ops and ops.count("MatMul") == 2
    # and the encoder's four convolutions one matrix product each
    assert [n.op_type for n in graph.graph.node].count("Conv") == 0
    assert sum(n.op_type == "MatMul" and n.output[0].startswith("conv")
               for n in graph.graph.node) == 4
