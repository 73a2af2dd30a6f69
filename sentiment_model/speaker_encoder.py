"""Resemblyzer's speaker encoder, run on ONNX Runtime, its weights read without torch.

The weights are the ``pretrained.pt`` that the ``resemblyzer`` wheel ships
(Apache-2.0), installed with ``--no-deps`` (its torch requirement is for code
we never import). The file is a PyTorch checkpoint in the legacy
(non-zip) format: five pickles (magic number, protocol, system info, the
checkpoint with tensors as persistent ids, the storage keys) and then each
storage's raw bytes. :func:`load_checkpoint` reads it with an unpickler
that builds only ordered dicts and float tensors, so a file cannot run code.

The network (Resemblyzer's ``VoiceEncoder``): a 3-layer LSTM (40 -> 256)
over 160 frames (1.6 s) of a 40-band mel power spectrogram (25 ms window,
10 ms hop, 16 kHz), a linear layer to 256, ReLU, L2 normalisation: one
point on the unit sphere per 1.6 s of speech.

The three LSTM layers run as ONNX ``LSTM`` operators (a graph built from the
weights with ``onnx.helper`` when the encoder is made) on ONNX Runtime,
about twice as fast as the same network in numpy; the numpy forward pass
(:meth:`SpeakerEncoder.reference_hidden_states`) stays as the reference the
graph is tested against, itself checked against Resemblyzer's PyTorch
network (benchmarks/README.md).
"""

from __future__ import annotations

import collections
import functools
import importlib.metadata
import pickle
import struct
import zipfile
from dataclasses import dataclass

import numpy as np

from sentiment_model.errors import ConfigError, InputError

PACKAGE = "resemblyzer"
VERSION = "0.1.4"
WEIGHTS = "resemblyzer/pretrained.pt"
RATE = 16000
N_MELS = 40
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
PARTIAL_FRAMES = 160  # 1.6 s
EMBEDDING = 256
HIDDEN = 256  # units of each LSTM layer
LAYERS = 3
TARGET_DBFS = -30.0
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
           "LongStorage": np.int64, "IntStorage": np.int32}


def weights_path() -> str:
    """Path of the installed ``resemblyzer`` wheel's ``pretrained.pt``.

    Raises:
        ConfigError: the package is missing or not the pinned version.
    """
    install = f"pip install --no-deps {PACKAGE}=={VERSION}"
    try:
        dist = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise ConfigError(f"the speaker encoder (the voice feature columns, telling the "
                          f"speakers of a mono call apart) comes with the {PACKAGE} package: "
                          f"{install}") from None
    if dist.version != VERSION:
        raise ConfigError(f"{PACKAGE} {dist.version} is installed; this release is tested "
                          f"with {VERSION}: {install}")
    path = dist.locate_file(WEIGHTS)
    if not path.exists():  # type: ignore[union-attr]
        raise ConfigError(f"{PACKAGE} {dist.version} has no {WEIGHTS}; reinstall it")
    return str(path)


@dataclass(frozen=True)
class _TensorRef:
    key: str
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor(storage, offset, shape, stride, *_):
    return _TensorRef(storage, int(offset), tuple(shape), tuple(stride))


class _Unpickler(pickle.Unpickler):
    """Builds dicts and tensor references only; any other class is refused."""

    def __init__(self, file):
        super().__init__(file)
        self.storages: dict[str, tuple[type, int]] = {}

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _DTYPES:
            return _DTYPES[name]
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a weights file")

    def persistent_load(self, pid):
        kind, dtype, key, _location, numel, view = pid
        if kind != "storage" or view is not None:
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r}")
        self.storages[key] = (dtype, int(numel))
        return key


def load_checkpoint(path: str) -> dict:
    """The checkpoint at ``path`` (PyTorch's legacy format) with every tensor
    as a numpy array (a copy; float32 stays float32).

    Raises:
        InputError: not a legacy PyTorch checkpoint, or truncated.
    """
    if zipfile.is_zipfile(path):
        raise InputError(f"{path}: a zip-format PyTorch checkpoint; only the legacy format "
                         "of the pinned resemblyzer wheel is read")
    with open(path, "rb") as f:
        try:
            if pickle.load(f) != LEGACY_MAGIC:
                raise InputError(f"{path}: not a PyTorch checkpoint in the legacy format")
            pickle.load(f)  # protocol version
            if not pickle.load(f).get("little_endian", True):
                raise InputError(f"{path}: big-endian checkpoints are not read")
            unpickler = _Unpickler(f)
            checkpoint = unpickler.load()
            keys = pickle.load(f)
            data = {}
            for key in keys:
                dtype, numel = unpickler.storages[key]
                (count,) = struct.unpack("<q", f.read(8))
                if count != numel:
                    raise InputError(f"{path}: storage {key} holds {count} values, not {numel}")
                raw = f.read(numel * np.dtype(dtype).itemsize)
                data[key] = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<"),
                                          count=numel)
        except (pickle.UnpicklingError, EOFError, struct.error, ValueError, KeyError) as e:
            raise InputError(f"{path}: not a readable weights file ({e})") from e

    def resolve(value):
        if isinstance(value, _TensorRef):
            flat = data[value.key]
            item = flat.itemsize
            return np.lib.stride_tricks.as_strided(
                flat[value.offset:], shape=value.shape,
                strides=tuple(s * item for s in value.stride)).copy()
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        return value

    return resolve(checkpoint)


def mel_frames(samples: np.ndarray) -> np.ndarray:
    """The encoder's input: ``float32[n_frames, 40]`` mel power frames (10 ms
    hop) of ``samples`` (float, 16 kHz mono), as Resemblyzer computes them."""
    from sentiment_model import numba_cache

    mel = numba_cache.librosa().feature.melspectrogram(y=np.asarray(samples, np.float32), sr=RATE,
                                         n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS)
    return mel.astype(np.float32).T


def volume_gain(samples: np.ndarray) -> float:
    """The gain that raises ``samples`` to -30 dBFS RMS, never below 1 (1 for
    silence): Resemblyzer's volume normalisation."""
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0
    if rms <= 0:
        return 1.0
    return float(10 ** (max(0.0, TARGET_DBFS - 20 * np.log10(rms)) / 20))


def normalise_volume(samples: np.ndarray) -> np.ndarray:
    """``samples`` raised (never lowered) to -30 dBFS RMS; silence as is."""
    gain = volume_gain(samples)
    return samples * np.float32(gain) if gain > 1 else samples


def _rows(matrix: np.ndarray) -> np.ndarray:
    """``matrix`` as a C-contiguous float32 array."""
    return np.ascontiguousarray(matrix, dtype=np.float32)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def onnx_gates(values: np.ndarray) -> np.ndarray:
    """PyTorch's gate blocks (input, forget, cell, output) along axis 0 in
    ONNX's order (input, output, forget, cell)."""
    i, f, g, o = np.split(values, 4, axis=0)
    return np.concatenate([i, o, f, g], axis=0)


def encoder_graph(weights: dict[str, np.ndarray]) -> bytes:
    """The serialised ONNX model of the encoder's LSTM layers.

    Input ``mels``: float32 ``[batch, frames, 40]``; output ``states``:
    float32 ``[batch, frames, 256]``, the last layer's output at every frame,
    each sequence from a zero state (ONNX opset 17, IR version 8, which
    ONNX Runtime 1.20 and later run)."""
    from onnx import TensorProto, helper, numpy_helper

    nodes = [helper.make_node("Transpose", ["mels"], ["x0"], perm=[1, 0, 2])]
    initialisers = [numpy_helper.from_array(np.array([1], np.int64), "direction_axis")]
    for k in range(LAYERS):
        w = onnx_gates(weights[f"lstm.weight_ih_l{k}"])[None]
        r = onnx_gates(weights[f"lstm.weight_hh_l{k}"])[None]
        b = np.concatenate([onnx_gates(weights[f"lstm.bias_ih_l{k}"]),
                            onnx_gates(weights[f"lstm.bias_hh_l{k}"])])[None]
        for name, value in ((f"w{k}", w), (f"r{k}", r), (f"b{k}", b)):
            initialisers.append(numpy_helper.from_array(value.astype(np.float32), name))
        # [frames, 1 direction, batch, 256] -> [frames, batch, 256]
        nodes += [helper.make_node("LSTM", [f"x{k}", f"w{k}", f"r{k}", f"b{k}"], [f"y{k}"],
                                   hidden_size=HIDDEN),
                  helper.make_node("Squeeze", [f"y{k}", "direction_axis"], [f"x{k + 1}"])]
    nodes.append(helper.make_node("Transpose", [f"x{LAYERS}"], ["states"], perm=[1, 0, 2]))
    graph = helper.make_graph(
        nodes, "resemblyzer_lstm",
        [helper.make_tensor_value_info("mels", TensorProto.FLOAT, [None, None, N_MELS])],
        [helper.make_tensor_value_info("states", TensorProto.FLOAT, [None, None, HIDDEN])],
        initialisers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


class SpeakerEncoder:
    """Resemblyzer's ``VoiceEncoder`` forward pass (float32) on ONNX Runtime.

    Args:
        weights: ``model_state`` of the checkpoint (default: the installed
            wheel's).
        threads: ONNX Runtime's intra-op threads; 0 = its default (one per
            core). One by default: in featurize's plain loop on 2 cores, two
            threads took 1.2-1.4x the wall time and the CPU of one (the
            other numeric libraries' threads beside them), though the voice
            columns alone ran faster on two (``benchmarks/voice_threads``).
    """

    def __init__(self, weights: dict[str, np.ndarray] | None = None, *, threads: int = 1):
        if weights is None:
            weights = _packaged_weights()
        try:
            self.linear = (_rows(weights["linear.weight"].T), weights["linear.bias"])
            self._graph = encoder_graph(weights)
        except KeyError as e:
            raise InputError(f"the speaker encoder's weights lack {e}") from None
        self._weights = weights
        self.threads = threads
        self._session = None

    @functools.cached_property
    def layers(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """The numpy network's ``(w_ih [40 or 256, 1024], w_hh [256, 1024],
        bias [1024])`` per layer, row-major (only
        :meth:`reference_hidden_states` uses them; made on first use)."""
        w = self._weights
        return [(_rows(w[f"lstm.weight_ih_l{k}"].T), _rows(w[f"lstm.weight_hh_l{k}"].T),
                 w[f"lstm.bias_ih_l{k}"] + w[f"lstm.bias_hh_l{k}"]) for k in range(LAYERS)]

    def __getstate__(self):
        return {**self.__dict__, "_session": None}  # a session does not pickle

    def _run(self, mels: np.ndarray) -> np.ndarray:
        if self._session is None:
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.inter_op_num_threads = 1
            options.intra_op_num_threads = self.threads
            options.log_severity_level = 3
            self._session = onnxruntime.InferenceSession(
                self._graph, sess_options=options, providers=["CPUExecutionProvider"])
        return self._session.run(None, {"mels": mels})[0]

    def hidden_states(self, mels: np.ndarray) -> np.ndarray:
        """``float32[batch, n_frames, 256]``: the outputs of the last LSTM layer
        at every frame of ``mels`` (``float32[batch, n_frames, 40]``), each
        sequence started from a zero state. The LSTM runs forward only, so a
        frame's output depends on that frame and the ones before it."""
        x = np.ascontiguousarray(mels, np.float32)
        if x.ndim != 3 or x.shape[2] != N_MELS:
            raise ValueError(f"mels must be [batch, frames, {N_MELS}], got {x.shape}")
        if x.shape[0] == 0 or x.shape[1] == 0:
            return np.zeros((*x.shape[:2], HIDDEN), np.float32)
        return self._run(x)

    def reference_hidden_states(self, mels: np.ndarray) -> np.ndarray:
        """:meth:`hidden_states` computed in numpy, step by step (PyTorch's
        LSTM equations): the reference the ONNX graph is tested against."""
        x = np.asarray(mels, np.float32)
        batch, steps, _ = x.shape
        for w_ih, w_hh, bias in self.layers:
            hidden = w_hh.shape[0]
            projected = x @ w_ih + bias  # [batch, steps, 4 * hidden], gates i, f, g, o
            h = np.zeros((batch, hidden), np.float32)
            c = np.zeros((batch, hidden), np.float32)
            out = np.empty((batch, steps, hidden), np.float32)
            for t in range(steps):
                gates = projected[:, t] + h @ w_hh
                i = _sigmoid(gates[:, :hidden])
                f = _sigmoid(gates[:, hidden:2 * hidden])
                g = np.tanh(gates[:, 2 * hidden:3 * hidden])
                o = _sigmoid(gates[:, 3 * hidden:])
                c = f * c + i * g
                h = o * np.tanh(c)
                out[:, t] = h
            x = out
        return x

    def embed_frames(self, mels: np.ndarray) -> np.ndarray:
        """``float32[batch, 256]`` unit embeddings of ``mels``
        (``float32[batch, n_frames, 40]``, n_frames usually 160)."""
        h = self.hidden_states(mels)[:, -1]
        w, b = self.linear
        raw = np.maximum(h @ w + b, 0.0)
        norm = np.linalg.norm(raw, axis=1, keepdims=True)
        return (raw / np.maximum(norm, 1e-12)).astype(np.float32)


@functools.lru_cache(maxsize=1)
def shared_encoder() -> SpeakerEncoder:
    """The process's encoder on the packaged weights, made on first use
    (weights read and ONNX Runtime session started once per process)."""
    return SpeakerEncoder()


@functools.lru_cache(maxsize=1)
def _packaged_weights() -> dict[str, np.ndarray]:
    checkpoint = load_checkpoint(weights_path())
    return checkpoint.get("model_state", checkpoint)
