"""What padding every batch to a whole window costs the BiLSTM.

    python -m benchmarks.pad_buckets [--frames 182] [--repeats 7]

Builds ``bilstm_attention`` (untrained: the cost does not depend on the
weights) for the default preset's frames and times ``predict_on_batch`` on
score's batches of 64 windows of ``--frames`` real frames each (windows
trimmed to their speech), padded as score did before (to the whole 3 s
window, 301 frames) and as it does now (the smallest quarter of a window
that holds the batch: :data:`pipelines.score_fns.PAD_BUCKETS`), alternated;
prints the medians, their ratio and the largest difference in the
probabilities.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np


def measure(*, frames: int, repeats: int, rows: int = 64) -> dict:
    from pipelines.score_fns import PAD_BUCKETS, window_frames
    from sentiment_model import models, scoring
    from sentiment_model import segments as seg
    from sentiment_model.config import FeatureConfig

    feature = FeatureConfig()
    window = window_frames(feature, seg.SegmentConfig(), "frames")
    model = models.build_model("bilstm_attention", n_classes=3, feature_kind="mfcc",
                               frame_dims=feature.frame_dims, pooled_dims=feature.pooled_dims,
                               image_frames=feature.image_frames)
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal((frames, feature.frame_dims)).astype(np.float32)
              for _ in range(rows)]
    variants = {"whole_window": 1, "buckets": PAD_BUCKETS}
    times: dict[str, list[float]] = {name: [] for name in variants}
    probs = {}
    for name, buckets in variants.items():  # traced once before timing
        probs[name] = scoring.predict_padded(model, inputs, length=window, rows=rows,
                                             buckets=buckets)
    for _ in range(repeats):
        for name, buckets in variants.items():
            t = time.perf_counter()
            scoring.predict_padded(model, inputs, length=window, rows=rows, buckets=buckets)
            times[name].append(time.perf_counter() - t)
    med = {name: statistics.median(v) for name, v in times.items()}
    return {"frames": frames, "padded_to": {
                name: scoring.padded_length(frames, length=window, buckets=b)
                for name, b in variants.items()},
            "median_s": med, "ratio_whole_over_buckets": med["whole_window"] / med["buckets"],
            "max_abs_diff": float(np.abs(probs["whole_window"] - probs["buckets"]).max())}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=182)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    print(json.dumps(measure(frames=args.frames, repeats=args.repeats), indent=2))


if __name__ == "__main__":
    main()
