"""What the voice columns cost score per channel-second, window by window
or a block's windows together.

    python -m benchmarks.voice_batching [--seconds 120] [--repeats 5]

Cuts ``--seconds`` of seeded noise at 16 kHz into score's windows (the
default ``SegmentConfig``: 3 s every 1.5 s) and computes the default
preset's features of every window, alternating four variants:

* ``before``: window by window, the encoder's weights in the checkpoint's
  transposed (column-major) layout, as the encoder first held them;
* ``per_window``: window by window, the weights row-major (as shipped);
* ``batched``: :func:`~sentiment_model.features.compute_features_many` over
  the windows of each ``--block-s`` block, as score's
  :class:`~sentiment_model.scoring.ChannelWindows` now does;
* ``spectral``: the ``spectral`` preset window by window: the same work
  without the voice columns.

Prints medians of wall seconds and channel-s/s (seconds of audio per
second of compute), the ratios to ``before``, and the largest difference
between the batched and the per-window frames.
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


def _column_major(layers):
    return [(np.asfortranarray(w_ih), np.asfortranarray(w_hh), b) for w_ih, w_hh, b in layers]


def measure(*, seconds: float, repeats: int, block_s: float = 60.0) -> dict:
    """{"runs": {variant: [wall s, ...]}, "max_abs_diff": float, "windows": int}."""
    from sentiment_model import features
    from sentiment_model.config import preset

    cuts, hop_s = windows(seconds)
    per_block = max(1, round(block_s / hop_s))  # the windows that start in one block
    default, spectral = preset("default"), preset("spectral")
    filters = {"default": features.mel_filters(default), "spectral": features.mel_filters(spectral)}
    features.compute_features(cuts[0], RATE, default, filters=filters["default"])  # loaded
    encoder = features._voice_encoder()
    shipped = encoder.layers

    def one_by_one(cfg, name):
        return [features.compute_features(w, RATE, cfg, filters=filters[name]) for w in cuts]

    def batched():
        out = []
        for a in range(0, len(cuts), per_block):
            out += features.compute_features_many(cuts[a:a + per_block], RATE, default,
                                                  filters=filters["default"])
        return out

    variants = {"before": lambda: one_by_one(default, "default"),
                "per_window": lambda: one_by_one(default, "default"),
                "batched": batched,
                "spectral": lambda: one_by_one(spectral, "spectral")}
    runs: dict[str, list[float]] = {name: [] for name in variants}
    outputs = {}
    try:
        for _ in range(repeats):
            for name, fn in variants.items():
                encoder.layers = _column_major(shipped) if name == "before" else shipped
                start = time.perf_counter()
                outputs[name] = fn()
                runs[name].append(time.perf_counter() - start)
    finally:
        encoder.layers = shipped
    diff = max(float(np.abs(a.frames - b.frames).max())
               for a, b in zip(outputs["batched"], outputs["per_window"], strict=True))
    before = max(float(np.abs(a.frames - b.frames).max())
                 for a, b in zip(outputs["before"], outputs["per_window"], strict=True))
    return {"runs": runs, "max_abs_diff": diff, "max_abs_diff_before": before,
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
                      "speedup_over_before": round(walls["before"] / w, 2)}
               for name, w in walls.items()}
    summary.update(seconds=args.seconds, windows=result["windows"],
                   windows_per_block=result["windows_per_block"],
                   max_abs_diff_batched=result["max_abs_diff"],
                   max_abs_diff_before=result["max_abs_diff_before"])
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
