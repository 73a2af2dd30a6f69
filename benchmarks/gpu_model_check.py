"""GPU smoke check of the model code.

    KERAS_BACKEND=tensorflow python -m benchmarks.gpu_model_check   # the product's backend
    KERAS_BACKEND=jax python -m benchmarks.gpu_model_check          # where only JAX sees a GPU

Every architecture trains 4 epochs on synthetic, learnable data (1024
examples, batch 128), in float32 and in mixed_float16, and must give finite
float32 probabilities that sum to one. Prints one line per run and writes
``gpu_check.json`` to ``$OUT`` (default: the current folder). Results are
recorded in benchmarks/README.md.
"""

from __future__ import annotations

import json
import os
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
]


def data(arch: str, shape: tuple[int, ...], n: int, rng: np.random.Generator):
    """Class-shifted noise; frame sequences right-padded to random lengths."""
    y = rng.integers(0, 3, n)
    x = rng.standard_normal((n, *shape)).astype("float32")
    x += ((y - 1) * 0.5).reshape(-1, *([1] * len(shape))).astype("float32")
    if arch == "bilstm_attention":
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
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
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


def main() -> None:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        devices = [str(d) for d in jax.devices()]
    else:
        import tensorflow as tf

        devices = [d.name for d in tf.config.list_logical_devices()]
    out = {"backend": backend, "devices": devices, "keras": keras.__version__, "runs": {}}
    n = int(os.environ.get("N", "1024"))
    for policy in ("float32", "mixed_float16"):
        keras.mixed_precision.set_global_policy(policy)
        for arch, kwargs, shape in CASES:
            out["runs"][f"{arch}/{policy}"] = result = run_case(arch, kwargs, shape, n=n)
            print(arch, policy, result, flush=True)
    keras.mixed_precision.set_global_policy("float32")
    target = os.environ.get("OUT", ".")
    os.makedirs(target, exist_ok=True)
    with open(os.path.join(target, "gpu_check.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
