"""Talk measures of calls made of real speech, against their known turns.

    python -m benchmarks.call_measures [--corpora emodb-dev,ased,turev] [--calls 6]
        [--detectors energy,silero@0.5,either,webrtc3]

Two-speaker stereo calls are assembled from real utterances of each dev
corpus (``benchmarks.vad_accuracy.make_calls``: edges trimmed at 35 dB below
the peak, customer and agent taking turns with pauses and overlapping
answers, 4 x 8 s), as recorded and as a phone line records them. Each
channel goes through the score core (:func:`sentiment_model.scoring.channel_windows`)
with each speech detector (WebRTC's VAD as the library reference), and the
``calls/`` measures are compared with those of the generator's turns
(:func:`sentiment_model.talk.call_measures` on both):

* talk time per speaker: the error divided by the speaker's turns (the
  target is within 0.3 s per turn), median and worst over channels;
* non-talk time per call (target: within 0.5 s), median and worst;
* interruptions: the share of calls whose counts match exactly;
* overlap time per call, median error.

Then the speaking rate on real speech played faster and slower
(resampled: every syllable shortens or lengthens by the same factor): the
median ratio of the measured rate to the clip's own rate, per factor.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from benchmarks import corpora
from benchmarks.vad_accuracy import RATE, detectors, make_calls
from sentiment_model import calls, talk
from sentiment_model.audio import resample
from sentiment_model.config import FeatureConfig
from sentiment_model.features import mel_filters
from sentiment_model.scoring import channel_windows

DEFAULT_DETECTORS = "energy,silero@0.5,either,webrtc3"
SPEED_FACTORS = (0.8, 0.9, 1.0, 1.1, 1.25)


def truth_talk(turns, channel: int) -> talk.ChannelTalk:
    spans = tuple(sorted((a / RATE, b / RATE) for ch, a, b in turns if ch == channel))
    return talk.ChannelTalk(spans, float(sum(b - a for a, b in spans)), None, 0, None)


def measured_talk(y: np.ndarray, *, feature, filters, segment, factory) -> talk.ChannelTalk:
    _, stats = channel_windows(y, RATE, feature=feature, segment=segment, filters=filters,
                               detector=factory() if factory is not None else None)
    return stats.talk


def score_calls(made, *, channel: str, feature, filters, segment, factory) -> dict[str, float]:
    config = talk.TalkConfig()
    per_turn, non_talk, overlap, exact = [], [], [], []
    for audio, turns in made:
        got, want = [], []
        for ch in (calls.AGENT, calls.CUSTOMER):
            y = audio[:, ch]
            y = corpora.through(y, RATE, channel)
            got.append(measured_talk(y, feature=feature, filters=filters, segment=segment,
                                     factory=factory))
            want.append(truth_talk(turns, ch))
            per_turn.append(abs(got[-1].talk_s - want[-1].talk_s) / len(want[-1].turns))
        duration = len(audio) / RATE
        m = talk.call_measures(*got, duration_s=duration, config=config)
        t = talk.call_measures(*want, duration_s=duration, config=config)
        non_talk.append(abs(m.non_talk_s - t.non_talk_s))
        overlap.append(abs(m.overlap_s - t.overlap_s))
        exact.append(m.interruptions == t.interruptions)
    return {"talk err/turn median": float(np.median(per_turn)),
            "talk err/turn max": float(np.max(per_turn)),
            "non-talk err median": float(np.median(non_talk)),
            "non-talk err max": float(np.max(non_talk)),
            "interruptions exact": float(np.mean(exact)),
            "overlap err median": float(np.median(overlap))}


def speed_ratios(rows, *, n_clips: int, feature, filters) -> dict[float, float]:
    """factor -> median of (rate at that speed) / (factor * rate as recorded)."""
    import librosa

    rng = np.random.default_rng(5)
    pick = rng.choice(len(rows), min(n_clips, len(rows)), replace=False)
    segment = detectors()["either"][0]
    ratios: dict[float, list[float]] = {f: [] for f in SPEED_FACTORS}
    pad = np.zeros(RATE // 2, np.float32)
    for k in pick:
        y, rate = corpora.read_mono(rows[int(k)]["path"])
        y, _ = librosa.effects.trim(resample(y, rate, RATE), top_db=35)
        rates = {}
        for factor in SPEED_FACTORS:
            fast = resample(y, round(RATE * factor), RATE)  # played back factor x faster
            got = measured_talk(np.concatenate([pad, fast, pad]), feature=feature,
                                filters=filters, segment=segment, factory=None)
            rates[factor] = got.speaking_rate
        if rates[1.0] and all(rates.values()):
            for factor in SPEED_FACTORS:
                ratios[factor].append(rates[factor] / (factor * rates[1.0]))
    return {f: float(np.median(v)) for f, v in ratios.items() if v}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=corpora.DATA_ROOT)
    parser.add_argument("--corpora", default=",".join(corpora.CORPORA))
    parser.add_argument("--calls", type=int, default=6, help="generated calls per corpus")
    parser.add_argument("--clips", type=int, default=40, help="clips per corpus for the rate")
    parser.add_argument("--detectors", default=DEFAULT_DETECTORS)
    args = parser.parse_args(argv)
    feature = FeatureConfig()
    filters = mel_filters(feature)
    chosen = {k: v for k, v in detectors().items() if k in args.detectors.split(",")}
    print("| corpus | channel | detector | talk err/turn median | max | non-talk err median "
          "| max | interruptions exact | overlap err median |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    rate_rows = []
    for corpus in args.corpora.split(","):
        rows = corpora.load_rows(corpus, data_root=args.data)
        made = make_calls(rows, n_calls=args.calls, seed=23)
        for channel in corpora.CHANNELS:
            for name, (segment, factory) in chosen.items():
                r = score_calls(made, channel=channel, feature=feature, filters=filters,
                                segment=segment, factory=factory)
                print(f"| {corpus} | {channel} | {name} | {r['talk err/turn median']:.2f} s | "
                      f"{r['talk err/turn max']:.2f} s | {r['non-talk err median']:.2f} s | "
                      f"{r['non-talk err max']:.2f} s | {r['interruptions exact']:.2f} | "
                      f"{r['overlap err median']:.2f} s |", flush=True)
        ratios = speed_ratios(rows, n_clips=args.clips, feature=feature, filters=filters)
        rate_rows.append((corpus, ratios))
        print(f"{corpus}: speaking-rate ratios {ratios}", file=sys.stderr, flush=True)
    print("\n| corpus | " + " | ".join(f"x{f:g}" for f in SPEED_FACTORS) + " |")
    print("|---|" + "---:|" * len(SPEED_FACTORS))
    for corpus, ratios in rate_rows:
        print(f"| {corpus} | " + " | ".join(f"{ratios.get(f, float('nan')):.2f}"
                                            for f in SPEED_FACTORS) + " |")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main()
