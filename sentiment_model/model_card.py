"""The model card: what an exported model directory holds and how it is checked.

A model directory (written by ``train``) holds ``model.keras`` and
``model_card.json`` (plus ``metrics.json``, ``history.csv``, plots and logs).
:class:`ModelCard` is the card as a typed, frozen value: ``train`` builds
and writes it, ``score``, ``evaluate`` and the benchmarks read it with
:meth:`ModelCard.read`, which refuses a directory whose model file or any
card field that changes predictions (:data:`SIGNED_FIELDS`) no longer
matches the card's ``model_version``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sentiment_model import storage
from sentiment_model.config import FeatureConfig
from sentiment_model.errors import InputError

MODEL_FILE = "model.keras"
CARD_FILE = "model_card.json"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.csv"
CARD_VERSION = 3  # 3: the train statistics are the model's first layer
INPUT_KINDS = ("frames", "pooled_sequence", "image")
# card fields that change what the model predicts: model_version signs them
# together with model.keras, so that an edit to any of them is caught
SIGNED_FIELDS = ("architecture", "input_kind", "label_vocabulary", "label_groups",
                 "feature_config", "normalization", "schema_version", "calibration")
REQUIRED = ("card_version", "model_version", "architecture", "input_kind",
            "label_vocabulary", "feature_config", "normalization", "schema_version")
# JSON key -> attribute where they differ
_RENAMED = {"label_vocabulary": "labels", "feature_config": "feature"}


def model_digest(model_path: str, card: dict[str, Any]) -> str:
    """``model_version``: hex sha256 of the model file followed by the card's
    :data:`SIGNED_FIELDS` as canonical JSON (``card``: the card as stored)."""
    digest = hashlib.sha256()
    with storage.open_read(model_path) as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    signed = {key: card.get(key) for key in SIGNED_FIELDS}
    digest.update(json.dumps(signed, sort_keys=True, separators=(",", ":")).encode())
    return digest.hexdigest()


def _check_required(data: dict[str, Any], where: str) -> None:
    missing = [key for key in REQUIRED if key not in data]
    if missing:
        raise InputError(f"{where}: {CARD_FILE} lacks {', '.join(missing)}")


@dataclass(frozen=True)
class ModelCard:
    """One exported model's card (``model_card.json``).

    Attributes:
        model_version: :func:`model_digest` of the directory.
        architecture: a ``models.ARCHITECTURES`` name.
        input_kind: what the model reads (:data:`INPUT_KINDS`): frame
            sequences ``[n_frames, frame_dims]``, the pooled vector as a
            length-1 sequence, or a log-mel image.
        labels: the classes the model reports, in output order (the JSON
            key is ``label_vocabulary``).
        feature: the feature config the model was trained on (JSON:
            ``feature_config``).
        normalization: the train statistics (``dataset.normalization``):
            ``{"frames": {"mean", "std"}, "pooled": {...}, "group"}``; the
            model applies the means and stds itself (its first layer), score
            applies ``group`` (per-speaker standardisation) before it.
        calibration: the fitted temperature and what it was fitted on, or
            ``None`` (uncalibrated).
        label_groups: the classes trained and their groups, or ``None``.
        metrics: eval and test metrics (``{"eval": {...}, "test": {...} | None}``).
        details: everything else the card records (data, validation,
            hyperparameters, ensemble members, versions, timings ...).
    """

    model_version: str
    architecture: str
    input_kind: str
    labels: tuple[str, ...]
    feature: FeatureConfig
    normalization: dict[str, Any]
    schema_version: int
    calibration: dict[str, Any] | None = None
    label_groups: dict[str, Any] | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    card_version: int = CARD_VERSION

    @property
    def speaker_normalised(self) -> bool:
        """Whether inputs are first standardised with their speaker's (at
        scoring: their channel's) own statistics."""
        return self.normalization.get("group", "none") == "speaker"

    @property
    def parameters(self) -> int:
        return int(self.details.get("parameters", 0))

    def headline_metrics(self) -> tuple[str, dict[str, Any]]:
        """``("test", metrics)``, or ``("eval", ...)`` when there is no test split."""
        test = self.metrics.get("test")
        return ("test", test) if test else ("eval", self.metrics.get("eval") or {})

    def to_dict(self) -> dict[str, Any]:
        """The card as ``model_card.json`` holds it."""
        out: dict[str, Any] = {"card_version": self.card_version,
                               "model_version": self.model_version}
        for f in dataclasses.fields(self):
            if f.name in ("card_version", "model_version", "details"):
                continue
            key = next((k for k, v in _RENAMED.items() if v == f.name), f.name)
            value = getattr(self, f.name)
            out[key] = (value.to_dict() if isinstance(value, FeatureConfig) else
                        list(value) if f.name == "labels" else value)
        return {**out, **self.details}

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "model card") -> ModelCard:
        """Reads a card dict.

        Raises:
            InputError: a required field is missing or has the wrong type.
        """
        _check_required(data, where)
        labels = data["label_vocabulary"]
        if (not isinstance(labels, list) or len(labels) < 2
                or not all(isinstance(label, str) for label in labels)):
            raise InputError(f"{where}: {CARD_FILE} label_vocabulary must be a list of at "
                             f"least two class names, got {labels!r}")
        if data["input_kind"] not in INPUT_KINDS:
            raise InputError(f"{where}: {CARD_FILE} input_kind {data['input_kind']!r} is not "
                             f"one of {', '.join(INPUT_KINDS)}")
        known = {"card_version", "model_version", *(f.name for f in dataclasses.fields(cls)),
                 *_RENAMED}
        return cls(
            card_version=int(data["card_version"]),
            model_version=str(data["model_version"]),
            architecture=str(data["architecture"]),
            input_kind=data["input_kind"],
            labels=tuple(labels),
            feature=FeatureConfig.from_dict(data["feature_config"]),
            normalization=dict(data["normalization"]),
            schema_version=int(data["schema_version"]),
            calibration=data.get("calibration"),
            label_groups=data.get("label_groups"),
            metrics=dict(data.get("metrics") or {}),
            details={k: v for k, v in data.items() if k not in known},
        )

    @classmethod
    def read(cls, model_dir: str) -> ModelCard:
        """Checks an exported model directory without loading the model.

        Raises:
            InputError: a file is missing, the card is unreadable or
                incomplete, it comes from another schema or card version, or
                the model file or a card field that changes predictions is
                not what was exported (``model_version`` signs both).
        """
        from schemas.features import SCHEMA_VERSION

        where = f"--model-dir {model_dir}"
        for name in (MODEL_FILE, CARD_FILE):
            if not storage.exists(storage.join(model_dir, name)):
                raise InputError(f"{where}: {name} is missing (is this a directory written by "
                                 "`audio-sentiment train`?)")
        try:
            data = json.loads(storage.read_text(storage.join(model_dir, CARD_FILE)))
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: {CARD_FILE} is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise InputError(f"{where}: {CARD_FILE} is not a JSON object")
        if data.get("card_version") != CARD_VERSION:
            raise InputError(f"{where}: model card version {data.get('card_version')}, this "
                             f"release reads version {CARD_VERSION}; retrain or use a "
                             "matching release")
        _check_required(data, where)
        if data["schema_version"] != SCHEMA_VERSION:
            raise InputError(f"{where}: trained on feature schema version "
                             f"{data['schema_version']}, this release computes version "
                             f"{SCHEMA_VERSION}; retrain the model")
        digest = model_digest(storage.join(model_dir, MODEL_FILE), data)
        if digest != data["model_version"]:
            raise InputError(f"{where}: {MODEL_FILE} does not match its model card (sha256 "
                             f"{digest[:12]}..., card says {str(data['model_version'])[:12]}"
                             f"...): the model file or the card's {', '.join(SIGNED_FIELDS)} "
                             "changed after export - restore them or retrain")
        card = cls.from_dict(data, where=where)
        card.feature.validate()
        return card

    def signed(self, model_path: str) -> ModelCard:
        """This card with ``model_version`` set for ``model_path``."""
        return dataclasses.replace(self, model_version=model_digest(model_path,
                                                                    self.to_dict()))
