"""Silero VAD's network rebuilt to run a whole block of steps in one call.

The ``silero-vad`` wheel's ONNX model scores one 32 ms step per call: its
convolutional encoder turns the step (with the last samples of the step
before) into 128 values, one LSTM cell step carries the recurrent state,
and a linear layer with a sigmoid gives the speech probability. Only the
LSTM depends on earlier steps. :func:`sequence_graph` takes the wheel's
own encoder nodes and weights for one sample rate, runs the encoder over
all steps of a block at once and the LSTM over them as one ONNX ``LSTM``
operator (the state carried inside ONNX Runtime), so that a minute of audio
is one call instead of 1,875; the encoder's first layer, an STFT written as
a strided convolution, becomes two matrix products (:func:`_framed_stft`)
and each of its four convolutions one (:func:`_convs_as_products`): ONNX
Runtime runs a convolution row by row, a product over all rows at once.
The probabilities are the wheel's to float rounding (within 1.5e-6;
``tests/sentiment_model/test_silero_graph.py`` compares both).

Graph: input ``steps`` float32 ``[n_steps, batch, context + chunk]`` (each
step's samples after the previous step's last ``context`` samples), input
``state`` float32 ``[2, batch, 128]`` (the wheel's state: hidden then cell);
outputs ``probs`` float32 ``[n_steps, batch]`` and ``state_out`` like ``state``.
"""

from __future__ import annotations

import numpy as np

from sentiment_model.errors import ConfigError
from sentiment_model.speaker_encoder import onnx_gates

ENCODER_OUTPUT = "/encoder/3/activation/Relu_output_0"
HIDDEN = 128
_WEIGHTS = ("decoder.rnn.weight_ih", "decoder.rnn.weight_hh", "decoder.rnn.bias_ih",
            "decoder.rnn.bias_hh", "decoder.decoder.2.weight", "decoder.decoder.2.bias")


def _rate_branch(model, sample_rate: int):
    """The subgraph of the wheel's top-level ``If`` that runs at ``sample_rate``."""
    from onnx import numpy_helper

    nodes = {n.op_type: n for n in model.graph.node}
    if "If" not in nodes or "Equal" not in nodes or "Constant" not in nodes:
        raise ConfigError("the silero-vad model's layout is not the one this release knows "
                          "(no sample-rate switch); reinstall the pinned version")
    switch_rate = int(numpy_helper.to_array(nodes["Constant"].attribute[0].t))
    branches = {a.name: a.g for a in nodes["If"].attribute}
    return branches["then_branch" if sample_rate == switch_rate else "else_branch"]


def _encoder_nodes(branch) -> tuple[list, str, dict[str, np.ndarray]]:
    """The branch's nodes that the encoder output needs (in order), that
    output's name, and the decoder's weights by their PyTorch names."""
    from onnx import numpy_helper

    by_output = {out: n for n in branch.node for out in n.output}
    target = next((o for o in by_output if o.endswith(ENCODER_OUTPUT)), None)
    weights = {}
    for n in branch.node:
        if n.op_type == "Constant" and not n.name:
            for key in _WEIGHTS:
                if n.output[0].endswith("__" + key):
                    weights[key] = numpy_helper.to_array(n.attribute[0].t)
    if target is None or len(weights) != len(_WEIGHTS):
        raise ConfigError("the silero-vad model's layout is not the one this release knows "
                          "(encoder output or decoder weights not found); reinstall the "
                          "pinned version")
    needed, stack = set(), [target]
    while stack:
        node = by_output.get(stack.pop())
        if node is not None and id(node) not in needed:
            needed.add(id(node))
            stack.extend(node.input)
    return [n for n in branch.node if id(n) in needed], target, weights


def _framed_stft(nodes: list) -> tuple[list, list]:
    """The encoder's nodes with its STFT convolution (one input channel, a
    kernel of two strides) as two matrix products over the signal's
    stride-long pieces (the convolution's sums, ~4x faster in ONNX Runtime),
    and the initialisers they add. Nodes unchanged when the convolution is
    not of that form."""
    from onnx import helper, numpy_helper

    conv = next((n for n in nodes if n.op_type == "Conv" and n.name.endswith("/stft/Conv")),
                None)
    if conv is None:
        return nodes, []
    attrs = {a.name: helper.get_attribute_value(a) for a in conv.attribute}
    basis_node = next((n for n in nodes if n.output[0] == conv.input[1]), None)
    if basis_node is None or basis_node.op_type != "Constant":
        return nodes, []
    basis = numpy_helper.to_array(basis_node.attribute[0].t)  # [bins, 1, kernel]
    stride = attrs.get("strides", [1])[0]
    if (len(conv.input) != 2 or basis.shape[1] != 1 or basis.shape[2] != 2 * stride
            or any(attrs.get("pads", [0, 0])) or attrs.get("group", 1) != 1):
        return nodes, []
    x, y = conv.input[0], conv.output[0]  # [rows, 1, samples] -> [rows, bins, frames]
    inits = [numpy_helper.from_array(np.array([0, -1, stride], np.int64), "stft_pieces"),
             numpy_helper.from_array(np.ascontiguousarray(basis[:, 0, :stride].T), "stft_first"),
             numpy_helper.from_array(np.ascontiguousarray(basis[:, 0, stride:].T), "stft_second"),
             numpy_helper.from_array(np.array([0], np.int64), "stft_zero"),
             numpy_helper.from_array(np.array([1], np.int64), "stft_one"),
             numpy_helper.from_array(np.array([-1], np.int64), "stft_last"),
             numpy_helper.from_array(np.array([np.iinfo(np.int64).max], np.int64), "stft_end")]
    framed = [
        helper.make_node("Reshape", [x, "stft_pieces"], ["stft_p"]),  # [rows, pieces, stride]
        helper.make_node("Slice", ["stft_p", "stft_zero", "stft_last", "stft_one"], ["stft_a"]),
        helper.make_node("Slice", ["stft_p", "stft_one", "stft_end", "stft_one"], ["stft_b"]),
        helper.make_node("MatMul", ["stft_a", "stft_first"], ["stft_ya"]),
        helper.make_node("MatMul", ["stft_b", "stft_second"], ["stft_yb"]),
        helper.make_node("Add", ["stft_ya", "stft_yb"], ["stft_y"]),  # [rows, frames, bins]
        helper.make_node("Transpose", ["stft_y"], [y], perm=[0, 2, 1]),
    ]
    out = []
    for n in nodes:
        out += framed if n is conv else [] if n is basis_node else [n]
    return out, inits


def _time_lengths(nodes: list, names: list[str], step_samples: int) -> dict[str, int]:
    """The last-axis length of each of ``names`` (tensors of the encoder's
    nodes) for one step of ``step_samples`` samples, by running the nodes once."""
    import onnxruntime
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        nodes, "lengths", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, None])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in names])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 16)])
    model.ir_version = 8
    session = onnxruntime.InferenceSession(model.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    outputs = session.run(None, {"input": np.zeros((1, step_samples), np.float32)})
    return {n: int(v.shape[-1]) for n, v in zip(names, outputs, strict=True)}


def _convs_as_products(nodes: list, step_samples: int) -> tuple[list, list]:
    """The encoder's 1-D convolutions (``[rows, channels, time]``) as one
    matrix product each over the stacked shifted inputs (ONNX Runtime runs
    a convolution row by row; the product takes all rows at once), and the
    initialisers they add. A convolution with grouping, dilation or
    constant-less weights stays as it is."""
    from onnx import helper, numpy_helper

    consts = {n.output[0]: n for n in nodes if n.op_type == "Constant"}
    convs = [n for n in nodes if n.op_type == "Conv" and "/encoder/" in n.name
             and len(n.input) == 3 and n.input[1] in consts and n.input[2] in consts]
    lengths = _time_lengths(nodes, [c.input[0] for c in convs], step_samples)
    replaced, inits, used = {}, [], set()
    for k, conv in enumerate(convs):
        attrs = {a.name: helper.get_attribute_value(a) for a in conv.attribute}
        weight = numpy_helper.to_array(consts[conv.input[1]].attribute[0].t)  # [out, in, kernel]
        bias = numpy_helper.to_array(consts[conv.input[2]].attribute[0].t)
        out_ch, in_ch, width = weight.shape
        pad = attrs.get("pads", [0, 0])
        stride = attrs.get("strides", [1])[0]
        if attrs.get("group", 1) != 1 or attrs.get("dilations", [1])[0] != 1:
            continue
        steps_in = lengths[conv.input[0]]
        steps_out = (steps_in + pad[0] + pad[1] - width) // stride + 1
        p = f"conv{k}_"
        inits += [
            numpy_helper.from_array(np.array([0, pad[0], 0, 0, pad[1], 0], np.int64), p + "pads"),
            numpy_helper.from_array(np.array([1], np.int64), p + "axis"),
            numpy_helper.from_array(np.array([stride], np.int64), p + "stride"),
            # [width * in, out]: row j * in + c is weight[:, c, j]
            numpy_helper.from_array(np.ascontiguousarray(
                weight.transpose(2, 1, 0).reshape(width * in_ch, out_ch)), p + "w"),
            numpy_helper.from_array(bias.astype(np.float32), p + "b")]
        shifted = []
        for j in range(width):
            inits += [numpy_helper.from_array(np.array([j], np.int64), f"{p}start{j}"),
                      numpy_helper.from_array(np.array([j + stride * (steps_out - 1) + 1],
                                                       np.int64), f"{p}end{j}")]
            shifted.append(helper.make_node(
                "Slice", [p + "padded", f"{p}start{j}", f"{p}end{j}", p + "axis", p + "stride"],
                [f"{p}shift{j}"]))
        replaced[id(conv)] = [
            helper.make_node("Transpose", [conv.input[0]], [p + "x"], perm=[0, 2, 1]),
            helper.make_node("Pad", [p + "x", p + "pads"], [p + "padded"]),
            *shifted,
            helper.make_node("Concat", [f"{p}shift{j}" for j in range(width)], [p + "stacked"],
                             axis=2),  # [rows, steps_out, width * in]
            helper.make_node("MatMul", [p + "stacked", p + "w"], [p + "y"]),
            helper.make_node("Add", [p + "y", p + "b"], [p + "yb"]),
            helper.make_node("Transpose", [p + "yb"], [conv.output[0]], perm=[0, 2, 1])]
        used.update({id(consts[conv.input[1]]), id(consts[conv.input[2]])})
    out = []
    for n in nodes:
        if id(n) not in used:
            out += replaced.get(id(n), [n])
    return out, inits


def sequence_graph(model_path: str, sample_rate: int, *, step_samples: int) -> bytes:
    """The serialised ONNX model that scores a block of steps at
    ``sample_rate`` (8000 or 16000) in one call (see the module docstring),
    built from the wheel's model at ``model_path``; ``step_samples``: the
    samples of one step with its context (576 at 16 kHz, 288 at 8 kHz).

    Raises:
        ConfigError: the model file's layout is not the one this code knows.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(model_path)
    nodes, encoded, w = _encoder_nodes(_rate_branch(model, sample_rate))
    nodes, conv_initialisers = _convs_as_products(nodes, step_samples)
    nodes, stft_initialisers = _framed_stft(nodes)
    consts = {
        "split_sizes": np.array([1, 1], np.int64),
        "axis1": np.array([1], np.int64),
        "axis2": np.array([2], np.int64),
        "lead_start": np.array([0], np.int64),
        "lead_end": np.array([2], np.int64),
        "hidden": np.array([HIDDEN], np.int64),
        "lstm_w": onnx_gates(w["decoder.rnn.weight_ih"])[None],
        "lstm_r": onnx_gates(w["decoder.rnn.weight_hh"])[None],
        "lstm_b": np.concatenate([onnx_gates(w["decoder.rnn.bias_ih"]),
                                  onnx_gates(w["decoder.rnn.bias_hh"])])[None],
        "head_w": w["decoder.decoder.2.weight"].reshape(1, HIDDEN).T.copy(),  # [128, 1]
        "head_b": w["decoder.decoder.2.bias"].reshape(1),
    }
    initialisers = [numpy_helper.from_array(np.asarray(v, v.dtype if v.dtype == np.int64
                                                       else np.float32), k)
                    for k, v in consts.items()]
    # the wheel's encoder reads a tensor named "input" of [rows, samples]
    head = [
        helper.make_node("Shape", ["steps"], ["steps_shape"]),
        helper.make_node("Slice", ["steps_shape", "lead_start", "lead_end"], ["lead"]),
        helper.make_node("Flatten", ["steps"], ["input"], axis=2),  # [n_steps * batch, samples]
    ]
    tail = [
        # [rows, 128, 1] -> [n_steps, batch, 128]
        helper.make_node("Squeeze", [encoded, "axis2"], ["encoded_rows"]),
        helper.make_node("Concat", ["lead", "hidden"], ["seq_shape"], axis=0),
        helper.make_node("Reshape", ["encoded_rows", "seq_shape"], ["sequence"]),
        helper.make_node("Split", ["state", "split_sizes"], ["h0", "c0"], axis=0),
        helper.make_node("LSTM", ["sequence", "lstm_w", "lstm_r", "lstm_b", "", "h0", "c0"],
                         ["lstm_y", "h_n", "c_n"], hidden_size=HIDDEN),
        helper.make_node("Squeeze", ["lstm_y", "axis1"], ["hiddens"]),  # [n_steps, batch, 128]
        helper.make_node("Relu", ["hiddens"], ["active"]),
        helper.make_node("MatMul", ["active", "head_w"], ["logit_raw"]),
        helper.make_node("Add", ["logit_raw", "head_b"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["prob3"]),
        helper.make_node("Squeeze", ["prob3", "axis2"], ["probs"]),
        helper.make_node("Concat", ["h_n", "c_n"], ["state_out"], axis=0),
    ]
    graph = helper.make_graph(
        head + list(nodes) + tail, f"silero_vad_sequence_{sample_rate}",
        [helper.make_tensor_value_info("steps", TensorProto.FLOAT, [None, None, None]),
         helper.make_tensor_value_info("state", TensorProto.FLOAT, [2, None, HIDDEN])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [None, None]),
         helper.make_tensor_value_info("state_out", TensorProto.FLOAT, [2, None, HIDDEN])],
        initialisers + stft_initialisers + conv_initialisers)
    out = helper.make_model(graph, opset_imports=list(model.opset_import))
    out.ir_version = model.ir_version
    return out.SerializeToString()
