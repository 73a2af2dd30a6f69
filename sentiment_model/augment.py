"""Training-data augmentation: added noise, speed perturbation and the
telephone channel.

featurize applies it to train-split examples only (``--augment``); each
augmented copy is an extra example whose ``augmentation`` feature names it.
Deterministic: the same key and seed give the same copies.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

import numpy as np
import soxr

from sentiment_model import channel
from sentiment_model.errors import ConfigError

# The product's default recipe for training data (``featurize --augment``):
# one white-noise copy at 5-20 dB SNR, speed copies at 0.9 and 1.1 and one
# telephone copy (µ-law) of each train-split clip. The noise and speed copies
# lifted UAR on unseen speakers and in noise on EMO-DB; the telephone copy
# lifted telephone UAR on all three dev corpora, wideband about unchanged
# (benchmarks.corpus_accuracy; benchmarks/README.md).
RECOMMENDED = "noise=1,speed=0.9/1.1,snr=5/20,telephone=1"


@dataclass(frozen=True)
class AugmentConfig:
    """Attributes:
        noise_copies: copies with white noise added at an SNR drawn uniformly
            from [snr_db_min, snr_db_max] dB.
        speed_factors: one copy per factor (Kaldi-style speed perturbation:
            tempo and pitch change together), e.g. (0.9, 1.1).
        telephone_copies: copies as a phone line records them (300-3400 Hz,
            8 kHz, G.711 µ-law for odd copies and A-law for even ones:
            :func:`sentiment_model.channel.telephone`), resampled back to the
            clip's rate.
        seed: mixes into every copy's random stream.
    """

    noise_copies: int = 0
    snr_db_min: float = 5.0
    snr_db_max: float = 20.0
    speed_factors: tuple[float, ...] = ()
    telephone_copies: int = 0
    seed: int = 0

    @property
    def enabled(self) -> bool:
        return self.noise_copies > 0 or bool(self.speed_factors) or self.telephone_copies > 0

    def validate(self) -> AugmentConfig:
        if self.noise_copies < 0:
            raise ConfigError("--augment noise=N needs N >= 0")
        if self.telephone_copies < 0:
            raise ConfigError("--augment telephone=N needs N >= 0")
        if not self.snr_db_min <= self.snr_db_max:
            raise ConfigError("--augment snr=LO/HI needs LO <= HI")
        if any(not 0.5 <= f <= 2.0 for f in self.speed_factors):
            raise ConfigError("--augment speed factors must be between 0.5 and 2.0")
        return self

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["speed_factors"] = list(self.speed_factors)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> AugmentConfig:
        return cls(**{**data, "speed_factors": tuple(data.get("speed_factors", ()))}).validate()

    @classmethod
    def parse(cls, spec: str | None, *, seed: int = 0) -> AugmentConfig:
        """``"noise=2,speed=0.9/1.1,snr=5/20"`` -> AugmentConfig."""
        if not spec:
            return cls(seed=seed)
        values: dict = {"seed": seed}
        try:
            for item in spec.split(","):
                key, _, value = item.strip().partition("=")
                if key == "noise":
                    values["noise_copies"] = int(value)
                elif key == "speed":
                    values["speed_factors"] = tuple(float(v) for v in value.split("/"))
                elif key == "telephone":
                    values["telephone_copies"] = int(value)
                elif key == "snr":
                    lo, hi = (float(v) for v in value.split("/"))
                    values["snr_db_min"], values["snr_db_max"] = lo, hi
                else:
                    raise ConfigError(f"--augment {spec!r}: unknown item {key!r} "
                                      "(use noise=N, speed=F1/F2, snr=LO/HI, telephone=N)")
        except ValueError:
            raise ConfigError(f"--augment {spec!r}: expected e.g. noise=2,speed=0.9/1.1") \
                from None
        return cls(**values).validate()


def add_noise(clean: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``clean + g * noise`` (float32), ``g`` chosen so that the ratio of their
    powers is ``snr_db`` dB. Both ``[n_samples]``."""
    p_clean = np.mean(np.square(clean, dtype=np.float64))
    p_noise = np.mean(np.square(noise, dtype=np.float64)) + 1e-12
    gain = np.sqrt(p_clean / (p_noise * 10 ** (snr_db / 10)))
    return (clean + gain * noise).astype(np.float32)


def augmentations(samples: np.ndarray, sample_rate: int, config: AugmentConfig, *,
                  key: str) -> list[tuple[str, np.ndarray]]:
    """Augmented copies of a mono signal ``[n_samples]``.

    Returns:
        ``[(name, float32 samples at sample_rate), ...]``, e.g. ``"noise1@12dB"``,
        ``"speed0.9"``, ``"telephone1-mulaw"``.
    """
    digest = hashlib.sha256(f"{config.seed}:{key}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "big"))
    out = []
    for k in range(config.noise_copies):
        snr = rng.uniform(config.snr_db_min, config.snr_db_max)
        noisy = add_noise(samples, rng.standard_normal(samples.shape[0]), snr)
        out.append((f"noise{k + 1}@{snr:.0f}dB", np.clip(noisy, -1, 1)))
    for factor in config.speed_factors:
        # play the signal `factor` times faster: fewer samples at the same rate
        y = soxr.resample(samples, sample_rate, round(sample_rate / factor), quality="HQ")
        out.append((f"speed{factor:g}", np.asarray(y, dtype=np.float32)))
    for k in range(config.telephone_copies):
        codec = channel.CODECS_IN_TURN[k % len(channel.CODECS_IN_TURN)]
        phone = channel.telephone(samples, sample_rate, codec=codec)
        y = soxr.resample(phone, channel.TELEPHONE_RATE, sample_rate, quality="HQ")
        out.append((f"telephone{k + 1}-{codec}", np.asarray(y, dtype=np.float32)))
    return out
