"""Speech detectors compared through the score path's window logic.

    python -m benchmarks.vad_accuracy [--corpora emodb-dev,ased,turev] [--limit N]

For each detector (the energy detector, Silero VAD at a few thresholds and,
when ``webrtcvad`` is installed, WebRTC's VAD as another library
reference), it reports:

1. **rejected speech**: clips of each dev corpus, as recorded and as a
   phone line records them, that ``score`` would reject as ``no_speech``
   (every clip holds speech, so the right answer is 0 of N). Each clip goes
   through :func:`sentiment_model.scoring.channel_windows`, the core the
   score job runs.
2. **frame accuracy on calls**: two-speaker stereo calls assembled with
   ``sentiment_model.calls.make_call`` from real utterances of the corpora
   (edges trimmed at 35 dB below the peak, so that the truth is the spoken
   part), wideband and telephone; every 10 ms of each channel is compared
   with the generator's turns (speech inside an utterance, else not).
3. **non-speech**: hold music, call-progress tones and line noise
   (generated here); the share of their 3 s windows marked speech (0 is
   right) and whether the recording would be rejected as ``no_speech``.

Seconds of CPU per detector are reported beside, measured in this process.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time

import numpy as np

from benchmarks import corpora
from sentiment_model import calls
from sentiment_model import segments as seg
from sentiment_model.config import FeatureConfig
from sentiment_model.features import mel_filters
from sentiment_model.scoring import channel_windows

RATE = 16000
TRUTH_STEP_S = 0.01


# ------------------------------------------------------------ detectors
class WebRtcVad:
    """WebRTC's VAD (``webrtcvad``) behind the EnergyVad interface: 30 ms
    frames of 16-bit PCM at 16 kHz, one flag each."""

    def __init__(self, mode: int) -> None:
        import webrtcvad

        self._vad = webrtcvad.Vad(mode)
        self.frame = round(0.03 * RATE)
        self._carry = np.zeros(0, np.float32)
        self._flags: list[bool] = []
        self.speech_samples = 0

    def push(self, chunk: np.ndarray, *, last: bool = False) -> None:
        x = np.concatenate([self._carry, np.asarray(chunk, np.float32)])
        if last and len(x) % self.frame:
            x = np.pad(x, (0, self.frame - len(x) % self.frame))
        n = len(x) // self.frame
        pcm = (np.clip(x[: n * self.frame], -1, 1) * 32767).astype("<i2")
        for k in range(n):
            flag = self._vad.is_speech(pcm[k * self.frame:(k + 1) * self.frame].tobytes(), RATE)
            self._flags.append(flag)
            self.speech_samples += self.frame * flag
        self._carry = x[n * self.frame:]

    @property
    def n_frames(self) -> int:
        return len(self._flags)

    def flags(self, start: int, end: int) -> np.ndarray:
        a, b = -(-start // self.frame), -(-end // self.frame)
        return np.asarray(self._flags[a:b], bool)

    def forget_before(self, sample: int) -> None:  # keeps everything: short inputs only
        pass


def detectors() -> dict[str, tuple[seg.SegmentConfig, object]]:
    """name -> (segment config, detector factory or None for the config's own)."""
    base = seg.SegmentConfig()
    out: dict[str, tuple[seg.SegmentConfig, object]] = {
        "energy": (dataclasses.replace(base, vad="energy"), None),
    }
    for threshold in (0.5, 0.35, 0.2):
        out[f"silero@{threshold:g}"] = (dataclasses.replace(base, vad="silero",
                                                            vad_threshold=threshold), None)
    out["either"] = (dataclasses.replace(base, vad="either"), None)
    out["either_unscaled"] = (dataclasses.replace(base, vad="either",
                                                  vad_utterance_peak_dbfs=None), None)
    try:
        import webrtcvad  # noqa: F401
    except ImportError:
        return out
    for mode in (1, 3):
        out[f"webrtc{mode}"] = (base, lambda mode=mode: WebRtcVad(mode))
    return out


# ------------------------------------------------------------- measures
def rejected(samples: np.ndarray, rate: int, *, feature: FeatureConfig, segment, factory,
             filters) -> bool:
    """Would score reject this mono clip as ``no_speech``?"""
    from sentiment_model.audio import resample

    if factory is not None:  # library references run at 16 kHz, as the core's own detector
        samples, rate = resample(samples, rate, RATE), RATE
    _, stats = channel_windows(samples, rate, feature=feature, segment=segment,
                               filters=filters,
                               detector=factory() if factory is not None else None)
    return stats.error is not None and stats.error[0] == "no_speech"


def frame_flags(samples: np.ndarray, *, segment, factory, n_steps: int) -> np.ndarray:
    """The detector's decision every 10 ms of a 16 kHz mono signal: ``[n_steps]``."""
    from sentiment_model.vad import flags_every, make_detector

    det = factory() if factory is not None else make_detector(segment, RATE)
    det.push(samples, last=True)
    return flags_every(det.flags(0, len(samples)), frame=det.frame, sample_rate=RATE,
                       step_s=TRUTH_STEP_S, n_steps=n_steps)


def trimmed(y: np.ndarray) -> np.ndarray:
    import librosa

    out, _ = librosa.effects.trim(y, top_db=35)
    return out


def make_calls(rows: list[dict], *, n_calls: int, seed: int) -> list[tuple[np.ndarray, list]]:
    """Stereo 16 kHz calls of real utterances and their turns."""
    from sentiment_model.audio import resample

    rng = np.random.default_rng(seed)
    by_speaker: dict[str, list[dict]] = {}
    for row in rows:
        by_speaker.setdefault(row["speaker"], []).append(row)
    speakers = sorted(by_speaker)
    out = []
    for i in range(n_calls):
        pair = rng.choice(len(speakers), 2, replace=False)
        pools = [by_speaker[speakers[int(k)]] for k in pair]

        def speak(role, sentiment, duration_s, seed, pools=pools):
            pool = [r for r in pools[role] if r["label"] == sentiment] or pools[role]
            local = np.random.default_rng(seed)
            parts, n = [], 0
            while n < duration_s * RATE:
                y, rate = corpora.read_mono(pool[int(local.integers(len(pool)))]["path"])
                y = trimmed(resample(y, rate, RATE))
                parts.append(y)
                n += len(y)
            return np.concatenate(parts)[: round(duration_s * RATE)]

        turns: list = []
        script = calls.CallScript(customer_arc=calls.ARCS[i % len(calls.ARCS)], section_s=8.0)
        audio = calls.make_call(script, speak, sample_rate=RATE, seed=seed + i, turns=turns)
        out.append((audio, turns))
    return out


def truth_steps(turns: list, channel: int, n_samples: int) -> np.ndarray:
    n = int(n_samples / (TRUTH_STEP_S * RATE))
    truth = np.zeros(n, bool)
    for ch, a, b in turns:
        if ch == channel:
            truth[int(a / (TRUTH_STEP_S * RATE)):int(b / (TRUTH_STEP_S * RATE))] = True
    return truth


def non_speech_signals(seed: int = 0) -> dict[str, np.ndarray]:
    """16 kHz mono: hold music, tones, line noise (20 s, or as named)."""
    rng = np.random.default_rng(seed)
    t = np.arange(20 * RATE) / RATE

    def tone(*freqs, on=None, off=None):
        y = sum(np.sin(2 * np.pi * f * t) for f in freqs) / len(freqs)
        if on is not None:
            period = on + off
            y = y * ((t % period) < on)
        return (0.2 * y).astype(np.float32)

    notes = 220 * 2 ** (np.array([0, 4, 7, 12, 7, 4, 5, 9, 12, 9, 5, 2]) / 12)
    music = np.zeros_like(t)
    for k, f in enumerate(np.resize(notes, 40)):
        a = int(k * 0.5 * RATE)
        seg_t = t[: int(0.5 * RATE)]
        env = np.exp(-3 * seg_t)
        note = sum(np.sin(2 * np.pi * f * h * seg_t) / h for h in (1, 2, 3, 4))
        chord = sum(np.sin(2 * np.pi * f * r * seg_t) for r in (0.5, 0.75))
        music[a:a + len(seg_t)] += env * note + 0.3 * chord
    music = 0.2 * music / np.abs(music).max()
    dtmf = np.zeros_like(t)
    keys = [(697, 1209), (770, 1336), (852, 1477), (941, 1336)]
    for k in range(50):
        lo, hi = keys[k % len(keys)]
        a = int(k * 0.4 * RATE)
        b = a + int(0.1 * RATE)
        dtmf[a:b] = 0.1 * (np.sin(2 * np.pi * lo * t[a:b]) + np.sin(2 * np.pi * hi * t[a:b]))
    white = rng.standard_normal(len(t))
    pink = np.cumsum(white) - np.convolve(np.cumsum(white), np.ones(200) / 200, "same")
    hum = 0.02 * (np.sin(2 * np.pi * 50 * t) + 0.5 * np.sin(2 * np.pi * 150 * t))
    clicks = np.zeros(2 * RATE, np.float32)  # five 5-ms clicks in digital silence
    for k in range(5):
        clicks[int((0.2 + 0.35 * k) * RATE):][:80] = 0.1 * rng.standard_normal(80)
    return {
        "hold_music": music.astype(np.float32),
        "hold_music_3s": music[: 3 * RATE].astype(np.float32),
        "busy_tone_3s": tone(480, 620, on=0.5, off=0.5)[: 3 * RATE],
        "dtmf_3s": dtmf[: 3 * RATE].astype(np.float32),
        "dial_tone": tone(350, 440),
        "ringback": tone(440, 480, on=2.0, off=4.0),
        "busy_tone": tone(480, 620, on=0.5, off=0.5),
        "dtmf": dtmf.astype(np.float32),
        "white_noise_-40dBFS": (0.01 * white).astype(np.float32),
        "pink_noise_-30dBFS": (0.0316 * pink / pink.std()).astype(np.float32),
        "hum_and_hiss": (hum + 0.003 * white).astype(np.float32),
        # short clips (one utterance: scaled before detection)
        "white_noise_2s_-60dBFS": (0.001 * white[: 2 * RATE]).astype(np.float32),
        "hum_and_hiss_2s": (hum + 0.003 * white)[: 2 * RATE].astype(np.float32),
        "clicks_2s": clicks,
    }


# ------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=corpora.DATA_ROOT)
    parser.add_argument("--corpora", default=",".join(corpora.CORPORA))
    parser.add_argument("--limit", type=int, default=0,
                        help="clips per corpus (0: all; a seeded sample otherwise)")
    parser.add_argument("--calls", type=int, default=6, help="generated calls per corpus")
    parser.add_argument("--detectors", default="", help="comma-separated subset")
    args = parser.parse_args(argv)
    feature = FeatureConfig()
    filters = mel_filters(feature)
    chosen = detectors()
    if args.detectors:
        chosen = {k: v for k, v in chosen.items() if k in args.detectors.split(",")}
    cpu = dict.fromkeys(chosen, 0.0)
    table: dict[str, dict[str, str]] = {name: {} for name in chosen}
    for corpus in args.corpora.split(","):
        rows = corpora.load_rows(corpus, data_root=args.data)
        if args.limit and len(rows) > args.limit:
            pick = np.random.default_rng(0).choice(len(rows), args.limit, replace=False)
            rows = [rows[int(i)] for i in sorted(pick)]
        for channel in corpora.CHANNELS:
            clips = [corpora.in_channel(*corpora.read_mono(r["path"]), channel) for r in rows]
            for name, (segment, factory) in chosen.items():
                t0 = time.process_time()
                n = sum(rejected(y, rate, feature=feature, segment=segment, factory=factory,
                                 filters=filters) for y, rate in clips)
                cpu[name] += time.process_time() - t0
                table[name][f"{corpus} {channel} rejected"] = f"{n} / {len(clips)}"
                print(f"{corpus:10s} {channel:9s} {name:12s} rejected {n} / {len(clips)}",
                      file=sys.stderr, flush=True)
        made = make_calls(rows, n_calls=args.calls, seed=11)
        for channel in corpora.CHANNELS:
            for name, (segment, factory) in chosen.items():
                hits = total = 0
                for audio, turns in made:
                    for ch in (calls.AGENT, calls.CUSTOMER):
                        y = audio[:, ch]
                        y = corpora.through(y, RATE, channel)
                        truth = truth_steps(turns, ch, len(y))
                        got = frame_flags(y, segment=segment, factory=factory,
                                          n_steps=len(truth))
                        hits += int((got == truth).sum())
                        total += len(truth)
                table[name][f"{corpus} calls {channel} frame acc."] = f"{hits / total:.3f}"
                print(f"{corpus:10s} calls {channel:9s} {name:12s} frame accuracy "
                      f"{hits / total:.3f}", file=sys.stderr, flush=True)
    for kind, y in non_speech_signals().items():
        for name, (segment, factory) in chosen.items():
            _, stats = channel_windows(
                y, RATE, feature=feature, segment=segment, filters=filters,
                detector=factory() if factory is not None else None)
            share = stats.n_speech / max(stats.n_segments, 1)
            table[name][f"{kind} speech windows"] = f"{share:.2f}"
    columns = list(next(iter(table.values())))
    print("| measure | " + " | ".join(chosen) + " |")
    print("|---|" + "---:|" * len(chosen))
    for col in columns:
        print(f"| {col} | " + " | ".join(table[name][col] for name in chosen) + " |")
    print("| CPU s, corpora | " + " | ".join(f"{cpu[n]:.0f}" for n in chosen) + " |")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main()
