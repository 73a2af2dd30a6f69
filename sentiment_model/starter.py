"""The starter model that ships inside the package (``starter_model/``).

Built by ``make starter-model`` (``benchmarks/starter_model.py``) from two
acted corpora; its card says what it was trained on, what it is for and what
it scored on speakers and a language it never heard. ``score`` uses it when
no ``--model-dir`` is given (its config names it :data:`REF`, which every
machine resolves to its own installed copy). It loads like any model
directory: ``safe_mode`` and the card's digest check.
"""

from __future__ import annotations

import importlib.resources

from sentiment_model.errors import InputError
from sentiment_model.model_card import CARD_FILE, MODEL_FILE, ModelCard

FOLDER = "starter_model"
# what a config names the starter model by: resolved where the model is
# loaded (a Dataflow or Flink worker installs the package at its own path)
REF = "package:sentiment_model/starter_model"


def starter_dir() -> str:
    """The packaged starter model's directory.

    Raises:
        InputError: this installation has no starter model.
    """
    folder = importlib.resources.files("sentiment_model") / FOLDER
    if not (folder / MODEL_FILE).is_file() or not (folder / CARD_FILE).is_file():
        raise InputError("this installation has no starter model; pass --model-dir (a model "
                         "from `audio-sentiment train`), or build it: make starter-model")
    return str(folder)


def resolve(model_dir: str) -> str:
    """``model_dir``, or the starter model's directory on this machine for
    :data:`REF`."""
    return starter_dir() if model_dir == REF else model_dir


def describe(card: ModelCard) -> str:
    """One line: the starter model's name, version and what it was trained on."""
    name = card.details.get("name", "starter model")
    trained_on = card.details.get("trained_on", "see its model card")
    return (f"{name} model {card.model_version[:12]} ({card.architecture}; trained on "
            f"{trained_on}; not validated on real calls: see its model card)")
