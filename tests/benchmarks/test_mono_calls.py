import pytest

from benchmarks.mono_calls import NO_LABEL, quarter_labels, uar

LABELS = ("negative", "neutral", "positive")


def test_quarters_without_windows_count_as_no_label():
    assert quarter_labels(None, LABELS) == [NO_LABEL] * 4
    summary = {"quarters": [[0.7, 0.2, 0.1], None, [0.1, 0.2, 0.7], [0.2, 0.6, 0.2]]}
    assert quarter_labels(summary, LABELS) == ["negative", NO_LABEL, "positive", "neutral"]


def test_uar_averages_the_recall_of_each_true_class():
    truth = ["neutral"] * 4 + ["negative"] * 2
    got = ["neutral", "neutral", "neutral", NO_LABEL, "negative", "positive"]
    assert uar(truth, got) == pytest.approx((3 / 4 + 1 / 2) / 2)
    assert uar(truth, truth) == 1.0
