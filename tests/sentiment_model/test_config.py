import pytest

from sentiment_model.config import PRESETS, FeatureConfig, preset
from sentiment_model.errors import ConfigError


def test_presets_validate_and_have_expected_dims():
    for name in PRESETS:
        assert preset(name).validate().preset == name
    seed = preset("seed")
    assert (seed.sample_rate, seed.n_mfcc, seed.n_fft, seed.hop_length) == (22050, 128, 2048, 512)
    assert seed.pooled_dims == 128 and seed.frame_dims == 128
    mfcc = preset("mfcc")  # the 40 MFCCs alone: the default until 2026-11-26
    assert (mfcc.normalize, mfcc.prosody, mfcc.spectral, mfcc.hop_length) == (
        "none", False, False, 160)
    assert mfcc.frame_dims == 40 and mfcc.pooled_dims == 80
    assert mfcc.with_overrides({"deltas": "2"}).frame_dims == 120
    assert mfcc.with_overrides({"deltas": "1", "prosody": "true"}).frame_dims == 83
    # a config saved before the spectral columns existed loads as MFCCs alone
    old = {k: v for k, v in mfcc.to_dict().items() if k != "spectral"}
    loaded = FeatureConfig.from_dict({**old, "preset": "default"})
    assert loaded.frame_dims == 40
    assert loaded.same_values(mfcc) and loaded != mfcc  # same features, other name
    assert not loaded.same_values(preset("spectral"))
    speaker = preset("speaker_norm")  # + pitch, energy, voicing; 20 ms step; per speaker
    assert (speaker.normalize, speaker.prosody, speaker.hop_length) == ("speaker", True, 320)
    assert speaker.frame_dims == 43 and speaker.pooled_dims == 86
    spectral = preset("spectral")  # the MFCCs + 14 spectral-shape values per frame
    assert (spectral.spectral, spectral.normalize, spectral.prosody, spectral.hop_length) == (
        True, "none", False, 160)
    assert spectral.frame_dims == 54 and spectral.pooled_dims == 108
    assert spectral.to_dict() == {**mfcc.to_dict(), "preset": "spectral", "spectral": True}
    assert spectral.with_overrides({"normalize": "speaker", "speaker_from": "4"}).speaker_columns \
        == (False,) * 4 + (True,) * 36 + (False,) * 14
    image = preset("seed_cnn2d")
    assert (image.kind, image.n_mels, image.image_frames) == ("logmel_image", 128, 128)


def test_round_trip_through_dict():
    cfg = preset("default").with_overrides({"n_mfcc": "20", "fmax": "none", "deltas": "1"})
    assert (cfg.n_mfcc, cfg.fmax, cfg.deltas) == (20, None, 1)
    assert FeatureConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"kind": "wavelet"}, "kind"),
        ({"n_mfcc": "100"}, "cannot exceed n_mels"),
        ({"fmax": "9000"}, "fmax"),
        ({"deltas": "3"}, "deltas"),
        ({"deltas": "2", "min_duration_s": "0.05"}, "delta_width"),
        ({"n_mfcc": "many"}, "not a valid int"),
        ({"colour": "blue"}, "unknown field"),
        ({"normalize": "channel"}, "normalize"),
        ({"preset": "seed_cnn2d", "kind": "logmel_image", "normalize": "speaker"}, "MFCC only"),
        ({"kind": "logmel_image", "prosody": "true"}, "MFCC only"),
        ({"kind": "logmel_image", "spectral": "true"}, "MFCC only"),
        ({"kind": "logmel_image", "voice": "true"}, "MFCC only"),
        ({"sample_rate": "22050"}, "speaker encoder's frame grid"),
        ({"hop_length": "320"}, "speaker encoder's frame grid"),
    ],
)
def test_invalid_values_raise_config_error(overrides, message):
    with pytest.raises(ConfigError, match=message):
        preset("default").with_overrides(overrides)


def test_the_default_preset_is_the_spectral_one_with_256_voice_columns():
    default = preset("default")
    assert default.to_dict() == {**preset("spectral").to_dict(), "preset": "default",
                                 "voice": True}
    assert default.frame_dims == 40 + 14 + 256
    assert default.pooled_dims == 2 * 310
    # a default config stored before the voice columns existed loads as spectral
    old = {k: v for k, v in preset("spectral").to_dict().items() if k != "voice"}
    loaded = FeatureConfig.from_dict({**old, "preset": "default"})
    assert loaded.same_values(preset("spectral")) and not loaded.same_values(default)
    speaker = default.with_overrides({"normalize": "speaker", "speaker_from": "4"})
    # the spectral and voice columns keep their level, like prosody
    assert speaker.speaker_columns == (False,) * 4 + (True,) * 36 + (False,) * (14 + 256)


def test_from_dict_rejects_unknown_keys_and_unknown_preset():
    with pytest.raises(ConfigError, match="unknown field"):
        FeatureConfig.from_dict({**preset("default").to_dict(), "extra": 1})
    with pytest.raises(ConfigError, match="unknown preset"):
        preset("bogus")


def test_speaker_from_leaves_low_coefficients_and_prosody_to_the_train_statistics():
    full = preset("speaker_norm")
    assert full.speaker_columns == (True,) * 43
    part = full.with_overrides({"speaker_from": "4"})
    assert part.speaker_columns == (False,) * 4 + (True,) * 36 + (False,) * 3
    assert preset("speaker_partial").speaker_columns == part.speaker_columns
    deltas = part.with_overrides({"prosody": "false", "deltas": "1"})
    assert deltas.speaker_columns == ((False,) * 4 + (True,) * 36) * 2
    assert preset("mfcc").speaker_columns == (False,) * 40
    assert preset("spectral").speaker_columns == (False,) * 54
    assert preset("default").speaker_columns == (False,) * 310
    with pytest.raises(ConfigError, match="speaker_from=4 needs normalize=speaker"):
        preset("default").with_overrides({"speaker_from": "4"})
    with pytest.raises(ConfigError, match=r"speaker_from=40 must be in \[0, n_mfcc=40\)"):
        full.with_overrides({"speaker_from": "40"})


def test_bool_overrides_accept_only_clear_words():
    cfg = preset("mfcc")
    assert cfg.with_overrides({"prosody": "Yes"}).prosody is True
    assert cfg.with_overrides({"prosody": "on"}).frame_dims == 43
    assert cfg.with_overrides({"prosody": "0"}).prosody is False
    with pytest.raises(ConfigError, match="prosody='ture' is not a valid bool"):
        cfg.with_overrides({"prosody": "ture"})  # a typo no longer turns the feature off
