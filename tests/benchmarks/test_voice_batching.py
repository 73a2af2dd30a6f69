from benchmarks import voice_batching
from sentiment_model import speaker_encoder


def test_windows_are_scores_defaults():
    cuts, hop_s = voice_batching.windows(6.0)
    assert hop_s == 1.5
    assert [len(c) for c in cuts] == [48000, 48000, 48000]  # at 0, 1.5 and 3 s


def test_every_variant_is_timed_and_gives_the_same_features_and_the_encoder_is_restored():
    encoder = speaker_encoder.shared_encoder()
    result = voice_batching.measure(seconds=6.0, repeats=2, block_s=3.0)
    assert sorted(result["runs"]) == ["batched", "numpy", "per_window", "spectral"]
    assert all(len(v) == 2 and all(w > 0 for w in v) for v in result["runs"].values())
    assert (result["windows"], result["windows_per_block"]) == (3, 2)
    assert result["max_abs_diff"] < 1e-5 and result["max_abs_diff_numpy"] < 1e-5
    assert "hidden_states" not in vars(encoder)  # the class's method again, not the numpy one
