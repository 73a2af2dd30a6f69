import numpy as np

from benchmarks import detector_speed as ds


def test_every_variant_flags_both_channels_as_its_baseline_does():
    audio = ds.make_call(8.0)
    assert audio.ndim == 2 and audio.shape[1] == 2 and len(audio) == 8 * ds.RATE
    block = 3 * ds.RATE
    flags = {name: ds.run_variant(name, audio, block) for name in ds.VARIANTS}
    for name, base in ds.BASELINE.items():
        for got, want in zip(flags[name], flags[base], strict=True):
            np.testing.assert_array_equal(got, want)
    for channel in flags["either-together"]:
        assert 0.2 < channel.mean() < 0.9  # each voice speaks part of the call
