"""The voice columns' cost with one encoder thread against ONNX Runtime's default.

    python -m benchmarks.voice_threads [--seconds 60] [--repeats 5] [--busy 1]

Times :func:`sentiment_model.features.compute_voice` on ``--seconds`` of
seeded noise at 16 kHz, alternating the encoder on one ONNX Runtime
intra-op thread (``SpeakerEncoder(threads=1)``, as shipped) with ONNX
Runtime's default threads (one per core, ``threads=0``), while
``--busy`` other processes run the same work, as a second Beam worker or a
training job beside featurize would. Prints medians of wall and CPU seconds
and their ratio.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import time

import numpy as np

RATE = 16000


def _signal(seconds: float) -> np.ndarray:
    return (0.1 * np.random.default_rng(0).standard_normal(int(seconds * RATE))
            ).astype(np.float32)


def _busy(seconds: float, stop) -> None:
    from sentiment_model import features

    y = _signal(seconds)
    while not stop.is_set():
        features.compute_voice(y, RATE, n_frames=len(y) // 160)


def measure(*, seconds: float, repeats: int) -> dict[str, list[tuple[float, float]]]:
    """{"one_thread"|"default_threads": [(wall s, CPU s), ...]}."""
    from sentiment_model import features, speaker_encoder

    y = _signal(seconds)
    n_frames = len(y) // 160
    features.compute_voice(y[:RATE], RATE, n_frames=100)  # weights and filters loaded
    encoder = speaker_encoder.shared_encoder()
    variants = {}
    for name, threads in (("one_thread", 1), ("default_threads", 0)):
        variants[name] = speaker_encoder.SpeakerEncoder(threads=threads).hidden_states
        variants[name](np.zeros((1, 1, speaker_encoder.N_MELS), np.float32))  # session started
    out: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, fn in variants.items():
            encoder.hidden_states = fn
            wall, cpu = time.perf_counter(), time.process_time()
            features.compute_voice(y, RATE, n_frames=n_frames)
            out[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    del encoder.hidden_states
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--busy", type=int, default=1,
                        help="other processes computing voice columns meanwhile")
    args = parser.parse_args(argv)
    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    others = [ctx.Process(target=_busy, args=(args.seconds, stop)) for _ in range(args.busy)]
    for p in others:
        p.start()
    try:
        runs = measure(seconds=args.seconds, repeats=args.repeats)
    finally:
        stop.set()
        for p in others:
            p.join()
    summary = {name: {"wall_s": statistics.median(w for w, _ in v),
                      "cpu_s": statistics.median(c for _, c in v)} for name, v in runs.items()}
    summary["wall_ratio_default_over_one"] = (summary["default_threads"]["wall_s"]
                                              / summary["one_thread"]["wall_s"])
    summary["audio_s"] = args.seconds
    summary["busy_processes"] = args.busy
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
