"""Wall time of score's per-recording path on one generated call, stereo
and mono diarized.

    python benchmarks/score_call.py [--seconds 120] [--repeats 5] [--model-dir DIR]

Times :func:`sentiment_model.scoring.score_recording` (what ``score`` runs
for each recording, Beam left out) on a generated two-voice call
(:func:`make_call`, 16 kHz; it imports nothing else from ``benchmarks``,
so that it runs against another commit's package): its two channels scored apart
(``channels="split"``) and their mono mix diarized (``channels="mix"`` with
a :class:`~sentiment_model.diarize.DiarizeConfig`, as ``--mono-speakers 2``).
Prints median wall seconds, channel-seconds per second and each channel's
file probabilities, so that two commits can be compared on the same audio:
run it as a file with ``PYTHONPATH`` at a worktree of the other commit
(``git worktree add /tmp/old COMMIT``; ``PYTHONPATH=/tmp/old python
benchmarks/score_call.py``), alternating. Model: ``--model-dir``, default
the packaged starter model.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

RATE = 16000


def make_call(seconds: float) -> np.ndarray:
    """``float32[n, 2]``: a generated two-voice call of ``seconds`` (16 kHz)."""
    from sentiment_model import calls, synth

    voices = synth.make_voices(2, seed=3)
    script = calls.CallScript(customer_arc=("neutral", "negative", "neutral", "positive"),
                              section_s=seconds / 4)
    return calls.make_call(script, calls.synth_utterances(voices[0], voices[1],
                                                          sample_rate=RATE),
                           sample_rate=RATE, seed=0)


def main(argv: list[str] | None = None) -> None:
    from sentiment_model import scoring, starter
    from sentiment_model import segments as seg
    from sentiment_model.diarize import DiarizeConfig
    from sentiment_model.inference import load_model_dir

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--model-dir", default=None, help="default: the starter model")
    args = parser.parse_args(argv)
    print(f"sentiment_model from {os.path.dirname(scoring.__file__)}")
    model = load_model_dir(args.model_dir or starter.starter_dir())
    stereo = make_call(args.seconds)
    mono = np.clip(stereo.sum(axis=1, keepdims=True), -1, 1).astype(np.float32)
    segment = seg.SegmentConfig()
    cases = {"stereo": (stereo, {"channels": "split"}),
             "mono diarized": (mono, {"channels": "mix", "diarize": DiarizeConfig()})}
    scoring.score_recording(stereo[:10 * RATE], RATE, model, segment=segment, channels="split")
    for name, (audio, options) in cases.items():
        times, results = [], []
        for _ in range(args.repeats):
            t = time.perf_counter()
            results = scoring.score_recording(audio, RATE, model, segment=segment, **options)
            times.append(time.perf_counter() - t)
        med = statistics.median(times)
        probs = [np.round(r.summary["probs"], 5).tolist() if r.summary else None
                 for r in results]
        print(f"{name}: median {med:.3f} s ({', '.join(f'{t:.2f}' for t in times)}), "
              f"{audio.shape[0] * audio.shape[1] / RATE / med:.0f} channel-s/s; "
              f"probabilities {probs}")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main()
