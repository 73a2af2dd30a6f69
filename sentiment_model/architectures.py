"""Every architecture's facts in one entry: what it reads and how ``train``
trains it. Imports no TensorFlow (the builders are in :mod:`sentiment_model.models`)."""

from __future__ import annotations

from dataclasses import dataclass

# early-stopping schedules train uses where its options leave them open: the
# study's models as the study trained them, the others as the default recipe
# was measured (benchmarks/README.md)
STUDY_SCHEDULE = {"epochs": 200, "patience": 20, "min_epochs": 1}
PRODUCT_SCHEDULE = {"epochs": 40, "patience": 8, "min_epochs": 1}


@dataclass(frozen=True)
class Architecture:
    """One ``--architecture``.

    Attributes:
        name: its ``--architecture`` value.
        summary: one phrase for ``--help``.
        input_kind: ``"frames"`` (``[n_frames, frame_dims]``, masked),
            ``"pooled_sequence"`` (the pooled vector as a length-1 sequence) or
            ``"image"`` (a square log-mel image); an average reads its members'.
        study: one of the university study's models, trained as it trained them
            (RMSprop, :data:`STUDY_SCHEDULE`).
        optimizer: ``"rmsprop"`` or ``"adam"``.
        learning_rate: the rate unless ``--learning-rate`` gives one.
        sequence_training: a BiLSTM over frames, which ``--spec-augment`` and
            ``--input-noise`` apply to.
        members: for an average of models: its members, trained one after
            the other and exported as the mean of their probabilities.
    """

    name: str
    summary: str
    input_kind: str = "frames"
    study: bool = False
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    sequence_training: bool = False
    members: tuple[str, ...] = ()

    @property
    def schedule(self) -> dict[str, int]:
        """``{"epochs", "patience", "min_epochs"}`` unless train's options give them."""
        return dict(STUDY_SCHEDULE if self.study else PRODUCT_SCHEDULE)


REGISTRY = {a.name: a for a in (
    Architecture("seed_bilstm", "the study's BiLSTM on the pooled vector",
                 input_kind="pooled_sequence", study=True, optimizer="rmsprop"),
    Architecture("seed_lstm", "the study's LSTM baseline", input_kind="pooled_sequence",
                 study=True, optimizer="rmsprop"),
    Architecture("seed_cnn2d", "the study's 2-D CNN on log-mel images", input_kind="image",
                 study=True, optimizer="rmsprop"),
    Architecture("bilstm_attention", "a masked BiLSTM with attention pooling over frames",
                 sequence_training=True),
    Architecture("frame_stats", "logistic regression on the frames' mean, std, min, max, "
                 "percentiles and frame-to-frame change"),
    Architecture("bilstm_stats", "the average of bilstm_attention and frame_stats",
                 members=("bilstm_attention", "frame_stats")),
)}
DEFAULT = "bilstm_stats"


def get(name: str) -> Architecture:
    """The registry entry of ``name``.

    Raises:
        ConfigError: no such architecture.
    """
    from sentiment_model.errors import ConfigError

    if name not in REGISTRY:
        raise ConfigError(f"unknown architecture {name!r}; choose one of "
                          f"{', '.join(REGISTRY)}")
    return REGISTRY[name]


def members(name: str) -> tuple[str, ...]:
    """The architectures ``train`` builds for ``name``: its members, or itself."""
    return get(name).members or (name,)
