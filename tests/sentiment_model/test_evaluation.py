import numpy as np
import pytest

from sentiment_model import evaluation


def test_metrics_values_on_a_known_confusion():
    y_true = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 0, 1, 2, 1, 1, 2, 0])
    m = evaluation.classification_metrics(y_true, y_pred, ["neg", "neu", "pos"])
    assert m["n"] == 8
    assert m["accuracy"] == pytest.approx(5 / 8)
    assert m["uar"] == pytest.approx((2 / 4 + 2 / 2 + 1 / 2) / 3)
    assert m["confusion_matrix"] == [[2, 1, 1], [0, 2, 0], [1, 0, 1]]
    assert m["per_class"]["neu"] == {"precision": pytest.approx(2 / 3), "recall": 1.0,
                                     "f1": pytest.approx(0.8), "support": 2}
    f1s = [m["per_class"][c]["f1"] for c in ("neg", "neu", "pos")]
    assert m["macro_f1"] == pytest.approx(np.mean(f1s))


def test_plots_are_written(tmp_path):
    evaluation.plot_confusion_matrix([[3, 1], [0, 4]], ["a", "b"], str(tmp_path / "cm.png"),
                                     title="t")
    evaluation.plot_learning_curves({"loss": [1.0, 0.5], "val_loss": [1.1, 0.9],
                                     "accuracy": [0.5, 0.8], "val_accuracy": [0.4, 0.6]},
                                    str(tmp_path / "lc.png"), best_epoch=2, title="t")
    for name in ("cm.png", "lc.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
