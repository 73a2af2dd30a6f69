from benchmarks import pad_buckets


def test_both_paddings_give_the_same_probabilities_and_the_shorter_shape():
    out = pad_buckets.measure(frames=60, repeats=1, rows=4)
    assert out["padded_to"] == {"whole_window": 301, "buckets": 76}
    assert out["max_abs_diff"] < 1e-5
    assert set(out["median_s"]) == {"whole_window", "buckets"}
