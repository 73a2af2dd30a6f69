"""GPU smoke check of the model code.

    KERAS_BACKEND=tensorflow python -m benchmarks.gpu_model_check   # the product's backend
    KERAS_BACKEND=jax python -m benchmarks.gpu_model_check          # where only JAX sees a GPU

    # on the machine that trained a model (CPU, TensorFlow): its predictions
    # on fixed inputs, next to a copy of the model, for the check to compare
    python -m benchmarks.gpu_model_check --prepare build/demo/model --reference DIR
    KERAS_BACKEND=jax python -m benchmarks.gpu_model_check --reference DIR

Every architecture trains 4 epochs on synthetic, learnable data (1024
examples, batch 128), in float32 and in mixed_float16, and must give finite
float32 probabilities that sum to one. ``MaskedStatistics`` (the linear
member's percentiles and frame-to-frame change) is compared with numpy on a
right-padded batch. With ``--reference``, the exported model is loaded
(``safe_mode=True``) and its probabilities compared with those it gave
where it was trained. Prints one line per run and writes ``gpu_check.json``
to ``$OUT`` (default: the current folder). Results are recorded in
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time

import numpy as np

CASES = [  # architecture, build_model arguments, one example's shape
    ("seed_bilstm", {"feature_kind": "mfcc", "frame_dims": 128, "pooled_dims": 128,
                     "image_frames": 128}, (1, 128)),
    ("seed_lstm", {"feature_kind": "mfcc", "frame_dims": 128, "pooled_dims": 128,
                   "image_frames": 128}, (1, 128)),
    ("seed_cnn2d", {"feature_kind": "logmel_image", "frame_dims": 128, "pooled_dims": 256,
                    "image_frames": 128}, (128, 128, 1)),
    ("bilstm_attention", {"feature_kind": "mfcc", "frame_dims": 40, "pooled_dims": 80,
                          "image_frames": 128}, (301, 40)),
    # the default bilstm_stats' two members on the default preset's 54 columns
    ("bilstm_attention", {"feature_kind": "mfcc", "frame_dims": 54, "pooled_dims": 108,
                          "image_frames": 128}, (301, 54)),
    ("frame_stats", {"feature_kind": "mfcc", "frame_dims": 54, "pooled_dims": 108,
                     "image_frames": 128}, (301, 54)),
]
FRAME_ARCHITECTURES = ("bilstm_attention", "frame_stats")
REFERENCE_FILE = "reference.npz"


def data(arch: str, shape: tuple[int, ...], n: int, rng: np.random.Generator):
    """Class-shifted noise; frame sequences right-padded to random lengths."""
    y = rng.integers(0, 3, n)
    x = rng.standard_normal((n, *shape)).astype("float32")
    x += ((y - 1) * 0.5).reshape(-1, *([1] * len(shape))).astype("float32")
    if arch in FRAME_ARCHITECTURES:
        for i, t in enumerate(rng.integers(100, shape[0] + 1, n)):
            x[i, t:] = 0.0
    return x, y


def run_case(arch: str, kwargs: dict, shape: tuple[int, ...], *, n: int) -> dict:
    import keras

    from sentiment_model import models

    keras.utils.set_random_seed(0)
    x, y = data(arch, shape, n, np.random.default_rng(0))
    model = models.build_model(arch, n_classes=3, spec_augment=arch == "bilstm_attention",
                               **kwargs)
    # the optimizer train compiles this architecture with
    model.compile(optimizer=models.optimizer_for(arch)[0],
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    started = time.time()
    try:
        hist = model.fit(x, y, epochs=4, batch_size=128, verbose=0)
    except Exception as exc:  # record it and go on with the next case
        return {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    first = time.time() - started
    started = time.time()
    model.fit(x, y, epochs=1, batch_size=128, verbose=0)
    warm = time.time() - started
    p = np.asarray(model.predict(x[:256], verbose=0))
    return {"params": int(model.count_params()),
            "loss": [round(v, 4) for v in hist.history["loss"]],
            "accuracy_last": round(hist.history["accuracy"][-1], 3),
            "first_4_epochs_s": round(first, 1), "warm_epoch_s": round(warm, 2),
            "probs_finite": bool(np.isfinite(p).all()),
            "probs_sum_ok": bool(np.allclose(p.sum(axis=1), 1, atol=1e-3)),
            "output_dtype": str(p.dtype)}


def padded_frames(rng: np.random.Generator, *, n: int, time_steps: int, dims: int):
    """``[n, time_steps, dims]`` float32 normal frames, right-padded with zeros
    after a random length (at least 2 frames); and the lengths ``[n]``."""
    x = rng.standard_normal((n, time_steps, dims)).astype("float32")
    lengths = rng.integers(2, time_steps + 1, n)
    for i, t in enumerate(lengths):
        x[i, t:] = 0.0
    return x, lengths


def statistics_check(*, percentiles=(10.0, 50.0, 90.0)) -> dict:
    """``MaskedStatistics`` on the backend's device against numpy: the largest
    absolute difference per statistic over a padded batch ``[64, 301, 54]``."""
    import keras

    from sentiment_model import models

    x, lengths = padded_frames(np.random.default_rng(1), n=64, time_steps=301, dims=54)
    layer = models.MaskedStatistics(percentiles=percentiles, deltas=True)
    mask = keras.ops.convert_to_tensor(np.arange(301)[None, :] < lengths[:, None])
    got = np.asarray(keras.ops.convert_to_numpy(layer(keras.ops.convert_to_tensor(x),
                                                      mask=mask)))
    names = ["mean", "std", "min", "max", *[f"p{q:g}" for q in percentiles],
             "mean_abs_change", "rms_change"]
    want = []
    for row, t in zip(x, lengths, strict=True):
        real = row[:t].astype("float64")
        ordered = np.sort(real, axis=0)
        stats = [real.mean(0), np.sqrt(real.var(0) + 1e-6), real.min(0), real.max(0)]
        stats += [ordered[int(np.round(q / 100.0 * (t - 1)))] for q in percentiles]
        step = np.diff(real, axis=0)
        stats += [np.abs(step).mean(0), np.sqrt(np.square(step).mean(0) + 1e-6)]
        want.append(np.concatenate(stats))
    want = np.stack(want)
    dims = x.shape[-1]
    return {name: float(np.abs(got[:, k * dims:(k + 1) * dims]
                               - want[:, k * dims:(k + 1) * dims]).max())
            for k, name in enumerate(names)}


def prepare_reference(model_dir: str, reference: str) -> None:
    """Copies ``model_dir``'s model and card to ``reference`` with the model's
    probabilities on 64 fixed padded inputs (``reference.npz``), computed here."""
    from sentiment_model import inference

    loaded = inference.load_model_dir(model_dir)
    if loaded.input_kind != "frames":
        raise SystemExit(f"{model_dir}: --prepare needs a frame-sequence model, "
                         f"not {loaded.input_kind}")
    dims = loaded.model.input_shape[-1]
    x, _ = padded_frames(np.random.default_rng(2), n=64, time_steps=301, dims=dims)
    probs = np.asarray(loaded.model.predict(x, verbose=0), dtype="float32")
    os.makedirs(reference, exist_ok=True)
    for name in ("model.keras", "model_card.json"):
        shutil.copy(os.path.join(model_dir, name), os.path.join(reference, name))
    np.savez(os.path.join(reference, REFERENCE_FILE), x=x, probs=probs)
    print(f"{reference}: {len(x)} inputs [{x.shape[1]}, {dims}], probabilities of "
          f"{loaded.card.architecture} ({loaded.card.parameters:,} parameters)")


def reference_check(reference: str) -> dict:
    """Loads ``reference``'s model here (``safe_mode=True``) and compares its
    probabilities with those saved by :func:`prepare_reference`."""
    import keras

    from sentiment_model import models  # noqa: F401  (registers the custom layers)

    saved = np.load(os.path.join(reference, REFERENCE_FILE))
    with open(os.path.join(reference, "model_card.json")) as f:
        card = json.load(f)
    model = keras.saving.load_model(os.path.join(reference, "model.keras"), safe_mode=True)
    probs = np.asarray(model.predict(saved["x"], verbose=0))
    return {"architecture": card["architecture"], "parameters": card["parameters"],
            "trained_on": card.get("device"), "inputs": len(saved["x"]),
            "max_abs_diff": float(np.abs(probs - saved["probs"]).max()),
            "same_argmax": int((probs.argmax(1) == saved["probs"].argmax(1)).sum())}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", help="folder of a model and its saved probabilities")
    parser.add_argument("--prepare", metavar="MODEL_DIR",
                        help="write --reference from this trained model, then stop")
    args = parser.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if args.prepare:
        if not args.reference:
            parser.error("--prepare needs --reference")
        prepare_reference(args.prepare, args.reference)
        return
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        devices = [str(d) for d in jax.devices()]
    elif backend == "torch":
        import torch

        devices = ([torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
                   or ["cpu"])
    else:
        import tensorflow as tf

        devices = [d.name for d in tf.config.list_logical_devices()]
    out = {"backend": backend, "devices": devices, "keras": keras.__version__, "runs": {}}
    n = int(os.environ.get("N", "1024"))
    target = os.environ.get("OUT", ".")
    os.makedirs(target, exist_ok=True)

    def save():  # after every run, so that a run cut short keeps what it measured
        with open(os.path.join(target, "gpu_check.json"), "w") as f:
            json.dump(out, f, indent=1)

    if args.reference:
        out["reference"] = reference_check(args.reference)
        print("reference", out["reference"], flush=True)
    out["statistics_max_abs_diff"] = statistics_check()
    print("statistics", out["statistics_max_abs_diff"], flush=True)
    save()
    for policy in ("float32", "mixed_float16"):
        keras.mixed_precision.set_global_policy(policy)
        for arch, kwargs, shape in CASES:
            key = f"{arch}/{kwargs['frame_dims']}/{policy}"
            out["runs"][key] = result = run_case(arch, kwargs, shape, n=n)
            print(key, result, flush=True)
            save()
    keras.mixed_precision.set_global_policy("float32")


if __name__ == "__main__":
    main()
