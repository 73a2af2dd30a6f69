"""Feature configuration: one frozen object decides every feature value.

The configuration is written next to the TFRecord shards (``metadata.json``)
and later carried inside the trained model, so that inference computes
exactly what training saw (the idea of lhotse's feature configs).
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Any

from sentiment_model import speaker_encoder
from sentiment_model.errors import ConfigError

FEATURE_KINDS = ("mfcc", "logmel_image")
NORMALIZATIONS = ("none", "utterance", "speaker")
POOLINGS = ("mean", "mean_std")
PROSODY_DIMS = 3  # log F0, energy (dB), voicing flag
PITCH_RANGE_HZ = (60.0, 500.0)  # YIN search range for the prosody features
# The spectral-shape columns (``spectral=True``), in order; see
# sentiment_model.features.compute_spectral for their definitions and units.
SPECTRAL_NAMES = (
    "centroid_khz", "spread_khz", "skewness_slog", "kurtosis_log", "entropy",
    "rolloff25_khz", "rolloff50_khz", "rolloff75_khz", "rolloff90_khz", "flux",
    "log_band_250_650", "log_band_1000_4000", "slope", "flatness",
)
SPECTRAL_DIMS = len(SPECTRAL_NAMES)
SPECTRAL_WINDOW_S = 0.060  # analysis window of the spectral-shape columns (seconds)
# The voice columns (``voice=True``): the outputs of the last LSTM layer of
# Resemblyzer's pretrained speaker encoder (sentiment_model.speaker_encoder)
# at every 10 ms frame; see sentiment_model.features.compute_voice.
VOICE_DIMS = speaker_encoder.HIDDEN


def check_known_fields(cls: type, data: dict[str, Any], *, what: str) -> None:
    """Raises ConfigError when ``data`` has keys that are not fields of dataclass ``cls``."""
    unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
    if unknown:
        raise ConfigError(f"{what}: unknown field(s) {', '.join(unknown)}")


@dataclass(frozen=True)
class FeatureConfig:
    """How audio becomes features.

    Attributes:
        preset: name of the preset this configuration started from.
        kind: ``"mfcc"`` (frame sequence of MFCCs, plus deltas) or
            ``"logmel_image"`` (a fixed-size log-mel "spectrogram image", the
            study's CNN input).
        sample_rate: audio is resampled to this rate (Hz) before analysis.
        n_mfcc: number of cepstral coefficients per frame.
        n_fft: FFT size in samples.
        win_length: analysis window in samples (``None``: ``n_fft``).
        hop_length: frame step in samples.
        n_mels: number of mel bands.
        fmin: lowest mel band edge (Hz).
        fmax: highest mel band edge (Hz); ``None`` means ``sample_rate / 2``.
        deltas: 0, 1 or 2 — append delta and delta-delta coefficients.
        delta_width: frames in the delta regression window (odd, >= 3).
        normalize: ``"utterance"`` subtracts each coefficient's mean and divides
            by its standard deviation over the utterance; ``"speaker"`` does
            the same with the statistics of all the speaker's audio (featurize
            computes them per speaker — per recording when the speaker is
            unknown — and keeps the stored frames raw; score uses each
            recording channel's speech); ``"none"`` keeps values. Models
            normalise what is left with the train statistics.
        speaker_from: with ``normalize="speaker"``, the first cepstral
            coefficient standardised per speaker. 0: every column. ``k > 0``:
            only c_k and above (in every delta block); c_0 .. c_{k-1} and the
            prosody columns keep their absolute level, normalised with the
            train statistics alone, so that a speaker or channel that keeps
            one tone throughout is not measured against itself.
        prosody: append three prosodic values per frame: log F0 from YIN
            (0 where unvoiced), the frame energy in dB and the voicing flag.
        spectral: append the 14 spectral-shape values of each frame
            (``SPECTRAL_NAMES``: centroid, spread, skewness, kurtosis and
            entropy of the magnitude spectrum, its 25/50/75/90 % roll-off
            points, spectral flux, the log energy of the 250-650 Hz and
            1-4 kHz bands, the spectral slope and flatness), from a 60 ms
            Hamming window on the MFCC frame grid. Absolute levels, normalised
            with the train statistics like the MFCCs.
        voice: append the 256 voice columns of each frame: the last LSTM
            layer of a speaker encoder pretrained on thousands of voices
            (Resemblyzer's, shipped in its wheel), run over consecutive
            1.6 s chunks of the audio raised to -30 dBFS (:func:`sentiment_model.
            features.compute_voice`). Needs 16 kHz and a 160-sample hop, the
            encoder's frame grid.
        pooling: time pooling of the frame sequence into one vector: ``"mean"``
            or ``"mean_std"`` (mean and standard deviation concatenated).
        image_frames: width (time axis) of the ``logmel_image`` in frames.
        min_duration_s: shorter audio is rejected (seconds).
        silence_dbfs: audio whose RMS level is below this (dBFS) is rejected
            as silent.
    """

    preset: str = "default"
    kind: str = "mfcc"
    sample_rate: int = 16000
    n_mfcc: int = 40
    n_fft: int = 512
    win_length: int | None = 400
    hop_length: int = 160
    n_mels: int = 64
    fmin: float = 20.0
    fmax: float | None = 7600.0
    deltas: int = 0
    delta_width: int = 9
    normalize: str = "none"
    speaker_from: int = 0
    prosody: bool = False
    spectral: bool = False
    voice: bool = False
    pooling: str = "mean_std"
    image_frames: int = 128
    min_duration_s: float = 0.25
    silence_dbfs: float = -70.0

    # ----------------------------------------------------------------- derived
    @property
    def frame_dims(self) -> int:
        """Values per frame of the ``frames`` feature."""
        if self.kind == "logmel_image":
            return self.n_mels
        return (self.n_mfcc * (1 + self.deltas) + (PROSODY_DIMS if self.prosody else 0)
                + (SPECTRAL_DIMS if self.spectral else 0) + (VOICE_DIMS if self.voice else 0))

    @property
    def pooled_dims(self) -> int:
        """Length of the time-pooled ``pooled`` vector."""
        return self.frame_dims * (2 if self.pooling == "mean_std" else 1)

    @property
    def speaker_columns(self) -> tuple[bool, ...]:
        """Per frame column: standardised per speaker (``normalize="speaker"``)."""
        if self.normalize != "speaker":
            return (False,) * self.frame_dims
        cepstral = tuple(k >= self.speaker_from for k in range(self.n_mfcc))
        extra = ((PROSODY_DIMS if self.prosody else 0) + (SPECTRAL_DIMS if self.spectral else 0)
                 + (VOICE_DIMS if self.voice else 0))
        return cepstral * (1 + self.deltas) + (self.speaker_from == 0,) * extra

    @property
    def min_frames(self) -> int:
        """Frames produced by the shortest accepted audio (centred framing)."""
        return 1 + int(self.min_duration_s * self.sample_rate) // self.hop_length

    # -------------------------------------------------------------- validation
    def validate(self) -> FeatureConfig:
        """Checks every value once, at start-up; returns ``self``.

        Raises:
            ConfigError: naming the first invalid field and what is allowed.
        """
        def bad(field: str, why: str) -> ConfigError:
            return ConfigError(f"feature config: {field}={getattr(self, field)!r} {why}")

        if self.kind not in FEATURE_KINDS:
            raise bad("kind", f"is not one of {', '.join(FEATURE_KINDS)}")
        if self.normalize not in NORMALIZATIONS:
            raise bad("normalize", f"is not one of {', '.join(NORMALIZATIONS)}")
        if self.kind != "mfcc" and (self.normalize == "speaker" or self.prosody
                                    or self.spectral or self.voice):
            raise bad("kind", "supports none of normalize=speaker, prosody, spectral and "
                      "voice (MFCC only)")
        if self.voice and (self.sample_rate, self.hop_length) != (speaker_encoder.RATE,
                                                                  speaker_encoder.HOP):
            raise bad("voice", f"needs sample_rate={speaker_encoder.RATE} and "
                      f"hop_length={speaker_encoder.HOP} "
                      "(the speaker encoder's frame grid)")
        if self.voice:
            speaker_encoder.weights_path()  # the encoder's package installed, pinned version
        if not 0 <= self.speaker_from < self.n_mfcc:
            raise bad("speaker_from", f"must be in [0, n_mfcc={self.n_mfcc})")
        if self.speaker_from and self.normalize != "speaker":
            raise bad("speaker_from", "needs normalize=speaker")
        if self.pooling not in POOLINGS:
            raise bad("pooling", f"is not one of {', '.join(POOLINGS)}")
        if not 4000 <= self.sample_rate <= 192000:
            raise bad("sample_rate", "must be between 4000 and 192000 Hz")
        for name in ("n_mfcc", "n_fft", "hop_length", "n_mels", "image_frames"):
            if getattr(self, name) < 1:
                raise bad(name, "must be a positive integer")
        if self.n_mfcc > self.n_mels:
            raise bad("n_mfcc", f"cannot exceed n_mels={self.n_mels}")
        if self.win_length is not None and not 1 <= self.win_length <= self.n_fft:
            raise bad("win_length", f"must be between 1 and n_fft={self.n_fft}")
        nyquist = self.sample_rate / 2
        if not 0 <= self.fmin < nyquist:
            raise bad("fmin", f"must be in [0, {nyquist:g}) Hz")
        if self.fmax is not None and not self.fmin < self.fmax <= nyquist:
            raise bad("fmax", f"must be in ({self.fmin:g}, {nyquist:g}] Hz")
        if self.deltas not in (0, 1, 2):
            raise bad("deltas", "must be 0, 1 or 2")
        if self.delta_width < 3 or self.delta_width % 2 == 0:
            raise bad("delta_width", "must be an odd integer >= 3")
        if self.min_duration_s <= 0:
            raise bad("min_duration_s", "must be positive")
        if self.deltas and self.min_frames < self.delta_width:
            raise bad(
                "min_duration_s",
                f"gives {self.min_frames} frames, fewer than delta_width={self.delta_width}",
            )
        if self.silence_dbfs >= 0:
            raise bad("silence_dbfs", "must be below 0 dBFS")
        return self

    def same_values(self, other: FeatureConfig) -> bool:
        """True when ``other`` computes the same features, whatever preset name
        each started from (a stored ``default`` without spectral columns is ``mfcc``)."""
        return dataclasses.replace(self, preset=other.preset) == other

    # ----------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureConfig:
        """Builds and validates a config; unknown keys are an error."""
        check_known_fields(cls, data, what="feature config")
        return cls(**data).validate()

    def with_overrides(self, overrides: dict[str, str]) -> FeatureConfig:
        """Returns a copy with ``field -> text value`` overrides (from ``--set``)."""
        hints = typing.get_type_hints(type(self))
        changes: dict[str, Any] = {}
        for name, text in overrides.items():
            if name not in hints:
                raise ConfigError(f"feature config: unknown field {name!r}")
            changes[name] = _parse_value(name, text, hints[name])
        return dataclasses.replace(self, **changes).validate()


TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def _parse_value(name: str, text: str, hint: Any) -> Any:
    args = typing.get_args(hint)
    optional = type(None) in args
    base = next((a for a in args if a is not type(None)), hint) if args else hint
    if optional and text.strip().lower() in ("none", "null", ""):
        return None
    try:
        if base is bool:
            word = text.strip().lower()
            if word not in TRUE_WORDS | FALSE_WORDS:
                raise ValueError(word)
            return word in TRUE_WORDS
        return base(text)
    except ValueError:
        raise ConfigError(
            f"feature config: {name}={text!r} is not a valid {base.__name__}"
        ) from None


PRESETS: dict[str, FeatureConfig] = {
    # The product's recipe (benchmarks/README.md has the measurements): 25 ms /
    # 10 ms frames at 16 kHz, 40 MFCCs, the 14 spectral-shape values of a 60 ms
    # window and the 256 voice columns of a pretrained speaker encoder per
    # frame. Absolute levels, normalised with the train statistics: call-safe.
    "default": FeatureConfig(spectral=True, voice=True),
    # The default without the voice columns: a sixth of the stored frames and
    # faster, less accurate on unseen speakers (the starter model's features).
    "spectral": FeatureConfig(preset="spectral", spectral=True),
    # The 40 MFCCs alone (what FeatureConfig() gives, and what a stored feature
    # config without the spectral fields loads as).
    "mfcc": FeatureConfig(preset="mfcc"),
    # Standardised per speaker (per recording channel when scoring), with
    # pitch, energy and voicing, every 20 ms: more accurate on unseen speakers
    # whose audio spans their range of tone (EMO-DB), wrong for a channel that
    # keeps one tone all along (an agent, an angry caller), hence not the default.
    "speaker_norm": FeatureConfig(preset="speaker_norm", hop_length=320, prosody=True,
                                  normalize="speaker"),
    # speaker_norm with only c4..c39 standardised per speaker: loudness, spectral
    # tilt and pitch keep their absolute level, so a one-tone channel keeps its
    # tone (most agents stay neutral); fewer gains on clips, weaker in white noise.
    "speaker_partial": FeatureConfig(preset="speaker_partial", hop_length=320, prosody=True,
                                     normalize="speaker", speaker_from=4),
    # The study's input: librosa.load() at 22,050 Hz, librosa's MFCC defaults
    # with 128 coefficients, averaged over time.
    "seed": FeatureConfig(
        preset="seed",
        sample_rate=22050,
        n_mfcc=128,
        n_fft=2048,
        win_length=None,
        hop_length=512,
        n_mels=128,
        fmin=0.0,
        fmax=None,
        deltas=0,
        pooling="mean",
    ),
    # The study's CNN input: a 128 x 128 log-mel "spectrogram image".
    "seed_cnn2d": FeatureConfig(
        preset="seed_cnn2d",
        kind="logmel_image",
        sample_rate=22050,
        n_mfcc=128,
        n_fft=2048,
        win_length=None,
        hop_length=512,
        n_mels=128,
        fmin=0.0,
        fmax=None,
        deltas=0,
        pooling="mean",
        image_frames=128,
    ),
}


def preset(name: str) -> FeatureConfig:
    """Returns the named preset, validated."""
    try:
        return PRESETS[name].validate()
    except KeyError:
        raise ConfigError(
            f"unknown preset {name!r}; choose one of {', '.join(sorted(PRESETS))}"
        ) from None
