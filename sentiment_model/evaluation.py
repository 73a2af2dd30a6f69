"""Classification metrics (scikit-learn) and the plots a model card links to."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray,
                           labels: Sequence[str]) -> dict:
    """Accuracy, UAR (balanced accuracy), macro-F1, per-class P/R/F1, confusion.

    Args:
        y_true, y_pred: int ``[n]`` class ids in ``range(len(labels))``.
        labels: class names, index = class id.

    Returns:
        JSON-ready dict; ``confusion_matrix[i][j]`` counts true ``i`` predicted ``j``.
    """
    from sklearn import metrics

    ids = list(range(len(labels)))
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        y_true, y_pred, labels=ids, zero_division=0)
    present = support > 0
    return {
        "n": len(y_true),
        "accuracy": float(metrics.accuracy_score(y_true, y_pred)) if len(y_true) else None,
        # UAR: mean recall over the classes present in y_true
        "uar": float(recall[present].mean()) if present.any() else None,
        "macro_f1": float(f1[present].mean()) if present.any() else None,
        "per_class": {
            name: {"precision": float(precision[i]), "recall": float(recall[i]),
                   "f1": float(f1[i]), "support": int(support[i])}
            for i, name in enumerate(labels)
        },
        "labels": list(labels),
        "confusion_matrix": metrics.confusion_matrix(y_true, y_pred, labels=ids).tolist(),
    }


def plot_confusion_matrix(confusion: Sequence[Sequence[int]], labels: Sequence[str], path: str,
                          *, title: str) -> None:
    """Saves a confusion matrix with counts and row percentages in the cells."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.asarray(confusion, dtype=float)
    rows = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    size = max(4.0, 1.3 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size, size * 0.85))
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, label="share of true class")
    ax.set_xticks(range(len(labels)), labels=labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels=labels)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, f"{int(cm[i, j])}\n{share[i, j]:.0%}", ha="center", va="center",
                    color="white" if share[i, j] > 0.6 else "black", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_learning_curves(history: dict[str, list[float]], path: str, *, best_epoch: int,
                         title: str) -> None:
    """Saves loss and accuracy per epoch (train and validation), best epoch marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    epochs = np.arange(1, len(history.get("loss", [])) + 1)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, metric, label in ((axes[0], "loss", "cross-entropy loss"),
                              (axes[1], "accuracy", "accuracy")):
        for prefix, style, name in (("", "-", "train"), ("val_", "--", "validation")):
            values = history.get(prefix + metric)
            if values:
                ax.plot(epochs, values, style, label=name)
        ax.axvline(best_epoch, color="grey", linestyle=":", label=f"best epoch ({best_epoch})")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label)
        ax.set_title(label)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
