"""Training on fine labels, reporting groups of them (e.g. emotions -> sentiment).

A model trained on the 7 emotions of an acted corpus and then reporting
their sentiment (anger, fear, sadness, disgust -> negative; ...) learns
coherent classes instead of one "negative" class that spans both shouting
and quiet sadness. ``train --label-groups`` does this: the network is
trained on the feature labels, and the exported model ends in a
:class:`~sentiment_model.models.GroupProbabilities` layer, so that scoring,
evaluation and reports see the groups only.

A group's probability is the sum of its classes' probabilities times a
weight, renormalised over the groups. With class weights (the default) the
network is trained as if every class were equally frequent, so a group of
four classes would start with four times the prior of a group of one; its
weight ``1 / (classes in the group)`` gives every group the same prior, as a
class-weighted model trained on the groups directly would have. Without
class weights the network learns the data's priors and the weights are 1.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from sentiment_model import storage
from sentiment_model.errors import ConfigError, InputError

# Common emotion labels of speech corpora (EMO-DB, RAVDESS, CREMA-D, IEMOCAP)
# -> sentiment; the grouping of EMO-DB's labels.csv. Ambiguous ones
# (surprise) are left out on purpose: a label not in the map is an error.
EMOTION_SENTIMENT = {
    "anger": "negative", "angry": "negative", "disgust": "negative", "fear": "negative",
    "fearful": "negative", "sad": "negative", "sadness": "negative",
    "frustration": "negative",
    "neutral": "neutral", "calm": "neutral", "boredom": "neutral",
    "happiness": "positive", "happy": "positive", "joy": "positive",
    "excitement": "positive", "excited": "positive",
}
NAMED_MAPS = {"emotion-sentiment": EMOTION_SENTIMENT}


def parse_mapping(spec: str | None, *, option: str = "--label-map") -> dict[str, str] | None:
    """A label mapping from the command line: a name from ``NAMED_MAPS``, a
    JSON file of ``{label: target}``, or inline ``a=x,b=y``.

    Raises:
        ConfigError: unreadable file, malformed item.
    """
    if not spec:
        return None
    if spec in NAMED_MAPS:
        return dict(NAMED_MAPS[spec])
    if "=" in spec and not spec.lower().endswith(".json"):
        mapping = {}
        for item in (i.strip() for i in spec.split(",")):
            if not item:
                continue
            key, sep, value = item.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise ConfigError(f"{option} {spec!r}: {item!r} is not LABEL=TARGET")
            mapping[key.strip()] = value.strip()
        return mapping
    try:
        mapping = json.loads(storage.read_text(spec))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{option} {spec}: cannot read a JSON object (or one of: "
                          f"{', '.join(NAMED_MAPS)}): {exc}") from None
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise ConfigError(f"{option} {spec}: expected a JSON object of label -> target")
    return {str(k): v for k, v in mapping.items()}


@dataclass(frozen=True)
class LabelGroups:
    """Which group each trained class reports as.

    ``classes``: the trained label vocabulary, in model output order;
    ``groups``: the reported vocabulary (sorted); ``group_of``: class -> group.
    """

    classes: tuple[str, ...]
    groups: tuple[str, ...]
    group_of: dict[str, str]

    @classmethod
    def resolve(cls, mapping: dict[str, str], classes: list[str] | tuple[str, ...]
                ) -> LabelGroups:
        """Checks ``mapping`` against the feature labels.

        Raises:
            ConfigError: a class without a group, fewer than two groups.
        """
        missing = [c for c in classes if c not in mapping]
        if missing:
            raise ConfigError(f"--label-groups: no group for label(s) {', '.join(missing)} "
                              f"(the features' labels: {', '.join(classes)})")
        group_of = {c: mapping[c] for c in classes}
        groups = tuple(sorted(set(group_of.values())))
        if len(groups) < 2:
            raise ConfigError(f"--label-groups: every label maps to {groups[0]!r}; a model "
                              "needs at least two groups to report")
        return cls(classes=tuple(classes), groups=groups, group_of=group_of)

    def group_ids(self) -> np.ndarray:
        """``[n_classes]`` int: the group index of each class id."""
        return np.array([self.groups.index(self.group_of[c]) for c in self.classes], int)

    def weights(self, *, balanced: bool, class_counts: np.ndarray) -> dict[str, float]:
        """Each group's weight: 1 / (its classes seen in training) when the
        model was trained with class weights (``balanced``), else 1.

        Args:
            class_counts: ``[n_classes]`` training examples per class.

        Raises:
            InputError: a group none of whose classes is in the training data.
        """
        ids = self.group_ids()
        seen = np.bincount(ids[np.asarray(class_counts) > 0], minlength=len(self.groups))
        empty = [g for g, n in zip(self.groups, seen, strict=True) if n == 0]
        if empty:
            raise InputError(f"--label-groups: no training example for group(s) "
                             f"{', '.join(empty)}")
        return {g: (1.0 / int(n) if balanced else 1.0)
                for g, n in zip(self.groups, seen, strict=True)}

    def matrix(self, weights: dict[str, float]) -> np.ndarray:
        """``[n_classes, n_groups]`` float32: ``weights[g]`` where class c is in
        group g, else 0 (for :class:`~sentiment_model.models.GroupProbabilities`)."""
        m = np.zeros((len(self.classes), len(self.groups)), np.float32)
        for i, g in enumerate(self.group_ids()):
            m[i, g] = weights[self.groups[g]]
        return m

    def to_dict(self, weights: dict[str, float]) -> dict:
        return {"classes": list(self.classes), "groups": list(self.groups),
                "group_of": dict(self.group_of), "weights": weights}
