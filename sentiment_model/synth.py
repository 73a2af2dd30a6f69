"""Deterministic synthetic "voices" for the demo, tests and benchmarks.

A source-filter model: a glottal pulse train with jitter and breath noise,
shaped by three formant resonators moving through a vowel sequence, with a
syllable-rate amplitude envelope. Sentiment is carried by prosody the way
emotional-speech studies describe it:

* positive: high, widely varying and rising pitch, fast syllables, bright;
* neutral: mid, flat pitch, even rhythm, moderate level;
* negative: low, falling pitch, slow syllables, dark and breathy.

Nothing here is downloaded; the same seed always gives the same samples.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass

import numpy as np
import soundfile
from scipy.signal import lfilter

SENTIMENTS = ("negative", "neutral", "positive")

# (F1, F2, F3) in Hz of a few vowels for an average adult vocal tract.
_VOWELS = np.array([
    [730, 1090, 2440],  # a
    [530, 1840, 2480],  # e
    [270, 2290, 3010],  # i
    [570, 840, 2410],   # o
    [300, 870, 2240],   # u
], dtype=np.float64)

# Prosody per sentiment: pitch factor, pitch range (semitones), contour slope
# (semitones over the utterance), syllables/s, spectral tilt, breathiness, level.
_PROSODY = {
    "positive": dict(pitch=1.25, range_st=5.0, slope_st=3.0, rate=5.5, tilt=0.55,
                     breath=0.03, level=0.30),
    "neutral": dict(pitch=1.0, range_st=1.0, slope_st=0.0, rate=4.0, tilt=0.8,
                    breath=0.05, level=0.22),
    "negative": dict(pitch=0.85, range_st=2.0, slope_st=-4.0, rate=3.0, tilt=0.93,
                     breath=0.15, level=0.16),
}


@dataclass(frozen=True)
class Voice:
    """A synthetic speaker: base pitch (Hz) and vocal-tract length factor."""

    speaker: str
    gender: str
    f0_hz: float
    tract: float


def make_voices(n: int, seed: int = 0) -> list[Voice]:
    """``n`` distinct voices, alternating male and female."""
    rng = np.random.default_rng(seed)
    voices = []
    for i in range(n):
        female = i % 2 == 1
        f0 = rng.uniform(190, 240) if female else rng.uniform(100, 135)
        tract = rng.uniform(1.08, 1.18) if female else rng.uniform(0.92, 1.02)
        voices.append(Voice(f"spk{i:02d}", "female" if female else "male", float(f0),
                            float(tract)))
    return voices


def _resonator(x: np.ndarray, freq: float, bandwidth: float, sr: int) -> np.ndarray:
    r = np.exp(-np.pi * bandwidth / sr)
    theta = 2 * np.pi * freq / sr
    a = [1.0, -2 * r * np.cos(theta), r * r]
    return lfilter([1.0 - r], a, x)


def synth_utterance(voice: Voice, sentiment: str, *, duration_s: float, sample_rate: int,
                    seed: int, syllables_per_s: float | None = None) -> np.ndarray:
    """One utterance.

    Args:
        syllables_per_s: the speaking rate (default: the sentiment's, within
            10 %); each syllable is one rise and fall of the level.

    Returns:
        float32 ``[round(duration_s * sample_rate)]`` in [-1, 1].
    """
    if sentiment not in _PROSODY:
        raise ValueError(f"sentiment must be one of {SENTIMENTS}")
    rng = np.random.default_rng(seed)
    pr = _PROSODY[sentiment]
    n = round(duration_s * sample_rate)
    t = np.arange(n) / sample_rate
    # pitch contour: base * sentiment factor, slope over the utterance, slow wobble
    wobble = np.sin(2 * np.pi * rng.uniform(1.5, 3.0) * t + rng.uniform(0, 2 * np.pi))
    semitones = pr["slope_st"] * (t / max(duration_s, 1e-6) - 0.5) + pr["range_st"] * wobble
    f0 = voice.f0_hz * pr["pitch"] * rng.uniform(0.95, 1.05) * 2 ** (semitones / 12)
    f0 *= 1 + 0.01 * rng.standard_normal(n)  # jitter
    phase = np.cumsum(f0 / sample_rate)
    source = 2 * (phase % 1.0) - 1.0  # sawtooth: all harmonics
    source = lfilter([1.0], [1.0, -pr["tilt"]], source)  # spectral tilt
    source = source / (np.abs(source).max() + 1e-9)
    source += pr["breath"] * rng.standard_normal(n)
    # vowels change every syllable; formants scale with the vocal tract
    rate = pr["rate"] * rng.uniform(0.9, 1.1)
    if syllables_per_s is not None:
        rate = syllables_per_s
    syllable = (t * rate).astype(int)
    vowel_ids = rng.integers(0, len(_VOWELS), size=syllable.max() + 1)
    out = np.zeros(n)
    for s in range(syllable.max() + 1):
        idx = syllable == s
        formants = _VOWELS[vowel_ids[s]] * voice.tract
        seg = source[idx]
        y = sum(_resonator(seg, f, bw, sample_rate)
                for f, bw in zip(formants, (80, 100, 140), strict=True))
        out[idx] = y
    envelope = 0.5 * (1 - np.cos(2 * np.pi * (t * rate % 1.0)))  # syllable envelope
    envelope = np.maximum(envelope, 0.05)
    fade = np.minimum(1.0, np.minimum(t, duration_s - t) / 0.02)
    y = out * envelope * np.clip(fade, 0, 1)
    y = y / (np.sqrt(np.mean(y**2)) + 1e-9) * pr["level"] * rng.uniform(0.8, 1.2)
    return np.clip(y, -1, 1).astype(np.float32)


def write_corpus(out_dir: str, *, n_speakers: int = 6, per_class: int = 5,
                 duration_s: float = 2.0, sample_rate: int = 16000, seed: int = 0,
                 subtype: str = "PCM_16") -> str:
    """Writes ``out_dir/wav/*.wav`` and ``out_dir/labels.csv``.

    ``labels.csv`` has ``path,label,speaker,gender``; paths are relative to it.

    Returns:
        the path of ``labels.csv``.
    """
    os.makedirs(os.path.join(out_dir, "wav"), exist_ok=True)
    rows = []
    for v_index, voice in enumerate(make_voices(n_speakers, seed)):
        for c_index, sentiment in enumerate(SENTIMENTS):
            for k in range(per_class):
                utt_seed = seed * 1_000_003 + v_index * 10_007 + c_index * 101 + k
                dur = duration_s * np.random.default_rng(utt_seed).uniform(0.8, 1.2)
                y = synth_utterance(voice, sentiment, duration_s=float(dur),
                                    sample_rate=sample_rate, seed=utt_seed)
                rel = f"wav/{voice.speaker}_{sentiment}_{k:02d}.wav"
                soundfile.write(os.path.join(out_dir, rel), y, sample_rate, subtype=subtype)
                rows.append({"path": rel, "label": sentiment, "speaker": voice.speaker,
                             "gender": voice.gender})
    labels_path = os.path.join(out_dir, "labels.csv")
    with open(labels_path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["path", "label", "speaker", "gender"])
        writer.writeheader()
        writer.writerows(rows)
    return labels_path
