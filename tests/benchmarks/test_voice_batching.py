from benchmarks import voice_batching
from sentiment_model import features


def test_windows_are_scores_defaults():
    cuts, hop_s = voice_batching.windows(6.0)
    assert hop_s == 1.5
    assert [len(c) for c in cuts] == [48000, 48000, 48000]  # at 0, 1.5 and 3 s


def test_every_variant_is_timed_and_gives_the_same_features_and_the_encoder_is_restored():
    shipped = features._voice_encoder().layers
    result = voice_batching.measure(seconds=6.0, repeats=2, block_s=3.0)
    assert sorted(result["runs"]) == ["batched", "before", "per_window", "spectral"]
    assert all(len(v) == 2 and all(w > 0 for w in v) for v in result["runs"].values())
    assert (result["windows"], result["windows_per_block"]) == (3, 2)
    assert result["max_abs_diff"] < 1e-5 and result["max_abs_diff_before"] < 1e-5
    assert features._voice_encoder().layers is shipped
    assert all(w.flags.c_contiguous for layer in shipped for w in layer[:2])
