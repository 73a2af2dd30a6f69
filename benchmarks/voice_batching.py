"""What the voice columns cost score per channel-second, window by window
or a block's windows together.

    python -m benchmarks.voice_batching [--seconds 120] [--repeats 5]

Cuts ``--seconds`` of seeded noise at 16 kHz into score's windows (the
default ``SegmentConfig``: 3 s every 1.5 s) and computes the default
preset's features of every window, alternating four variants:

* ``numpy``: as ``batched``, the encoder's LSTM layers in numpy
  (:meth:`~sentiment_model.speaker_encoder.SpeakerEncoder.reference_hidden_states`
  on one BLAS thread: the shipped path until 2026-12-07);
* ``per_window``: window by window, the encoder as shipped (ONNX Runtime);
* ``batched``: :func:`~sentiment_model.features.compute_features_many` over
  the windows of each ``--block-s`` block, as score's
  :class:`~sentiment_model.scoring.ChannelWindows` does;
* ``spectral``: the ``spectral`` preset window by window: the same work
  without the voice columns.

Prints medians of wall seconds and channel-s/s (seconds of audio per
second of compute), the ratios to ``numpy``, and the largest differences
of the batched frames from the per-window and the numpy ones.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

RATE = 16000


def windows(seconds: float) -> tuple[list[np.ndarray], float]:
    """Score's default windows of ``seconds`` of seeded noise (each ``[n]``
    float32) and their hop in seconds."""
    from sentiment_model import segments as seg

    y = (0.1 * np.random.default_rng(0).standard_normal(int(seconds * RATE))).astype(np.float32)
    cfg = seg.SegmentConfig()
    size, hop = round(cfg.segment_s * RATE), round(cfg.hop_s * RATE)
    return [y[a:a + size] for a in range(0, max(1, len(y) - size + hop), hop)], cfg.hop_s


def measure(*, seconds: float, repeats: int, block_s: float = 60.0) -> dict:
    """{"runs": {variant: [wall s, ...]}, "max_abs_diff": float, "windows": int}."""
    from sentiment_model import features, speaker_encoder
    from sentiment_model.config import preset

    cuts, hop_s = windows(seconds)
    per_block = max(1, round(block_s / hop_s))  # the windows that start in one block
    default, spectral = preset("default"), preset("spectral")
    filters = {"default": features.mel_filters(default), "spectral": features.mel_filters(spectral)}
    features.compute_features(cuts[0], RATE, default, filters=filters["default"])  # loaded
    encoder = speaker_encoder.shared_encoder()

    def one_by_one(cfg, name):
        return [features.compute_features(w, RATE, cfg, filters=filters[name]) for w in cuts]

    def batched():
        out = []
        for a in range(0, len(cuts), per_block):
            out += features.compute_features_many(cuts[a:a + per_block], RATE, default,
                                                  filters=filters["default"])
        return out

    def numpy_states(mels):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return encoder.reference_hidden_states(mels)

    def numpy_batched():
        encoder.hidden_states = numpy_states
        try:
            return batched()
        finally:
            del encoder.hidden_states

    variants = {"numpy": numpy_batched,
                "per_window": lambda: one_by_one(default, "default"),
                "batched": batched,
                "spectral": lambda: one_by_one(spectral, "spectral")}
    runs: dict[str, list[float]] = {name: [] for name in variants}
    outputs = {}
    for _ in range(repeats):
        for name, fn in variants.items():
            start = time.perf_counter()
            outputs[name] = fn()
            runs[name].append(time.perf_counter() - start)
    diff = max(float(np.abs(a.frames - b.frames).max())
               for a, b in zip(outputs["batched"], outputs["per_window"], strict=True))
    numpy_diff = max(float(np.abs(a.frames - b.frames).max())
                     for a, b in zip(outputs["batched"], outputs["numpy"], strict=True))
    return {"runs": runs, "max_abs_diff": diff, "max_abs_diff_numpy": numpy_diff,
            "windows": len(cuts), "windows_per_block": per_block}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--block-s", type=float, default=60.0,
                        help="seconds of audio whose windows are featurized together")
    args = parser.parse_args(argv)
    result = measure(seconds=args.seconds, repeats=args.repeats, block_s=args.block_s)
    walls = {name: statistics.median(v) for name, v in result["runs"].items()}
    summary = {name: {"wall_s": round(w, 3), "channel_s_per_s": round(args.seconds / w, 1),
                      "speedup_over_numpy": round(walls["numpy"] / w, 2)}
               for name, w in walls.items()}
    summary.update(seconds=args.seconds, windows=result["windows"],
                   windows_per_block=result["windows_per_block"],
                   max_abs_diff_batched=result["max_abs_diff"],
                   max_abs_diff_numpy=result["max_abs_diff_numpy"])
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
