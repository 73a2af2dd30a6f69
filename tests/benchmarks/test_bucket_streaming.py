from benchmarks.bucket_streaming import same_scores


def rows(*labels_and_p):
    return [{"uri": f"call{i}.wav", "channel": i % 2, "label": label, "p_negative": p,
             "p_positive": 1 - p} for i, (label, p) in enumerate(labels_and_p)]


def test_bucket_runs_must_write_the_local_runs_labels_and_probabilities():
    local = rows(("negative", 0.8), ("positive", 0.1))
    assert same_scores(rows(("negative", 0.8), ("positive", 0.1 + 5e-7)), local)
    assert not same_scores(rows(("negative", 0.8), ("positive", 0.1 + 2e-6)), local)
    assert not same_scores(rows(("neutral", 0.8), ("positive", 0.1)), local)
    assert not same_scores(rows(("negative", 0.8)), local)  # a file lost
    moved = rows(("negative", 0.8), ("positive", 0.1))
    moved[1]["uri"] = "other.wav"
    assert not same_scores(moved, local)
