from benchmarks import voice_threads
from sentiment_model import speaker_encoder


def test_both_variants_are_timed_alternately_and_the_encoder_is_left_as_shipped():
    runs = voice_threads.measure(seconds=1.0, repeats=2)
    assert sorted(runs) == ["default_threads", "one_thread"]
    assert all(len(v) == 2 and all(w > 0 and c >= 0 for w, c in v) for v in runs.values())
    encoder = speaker_encoder.shared_encoder()
    assert "hidden_states" not in vars(encoder)  # the class's method again, not a variant
