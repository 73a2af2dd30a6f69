"""Parquet table schemas (pyarrow), with the meaning of every column.

The files score writes carry :func:`with_metadata`'s schema: each field's
``description`` (from :data:`DESCRIPTIONS`) and, for the whole file, the
table name, the project and model versions. Mono mix-downs have ``channel``
:data:`MIX_CHANNEL` (-1), as in featurize's shards.
"""

import pyarrow as pa

MIX_CHANNEL = -1  # the channel value of a mono mix-down, in every table and shard

# One row per rejected input, in every job's ``errors/`` output.
ERRORS_SCHEMA = pa.schema(
    [
        pa.field("uri", pa.string(), nullable=False),
        pa.field("stage", pa.string(), nullable=False),
        pa.field("error_type", pa.string(), nullable=False),
        pa.field("message", pa.string(), nullable=False),
    ]
)
ERROR_COLUMNS = tuple(ERRORS_SCHEMA.names)


def error_row(uri: str, stage: str, error_type: str, message: str) -> dict[str, str]:
    """A row of the ``errors/`` table (:data:`ERRORS_SCHEMA`)."""
    return {"uri": uri, "stage": stage, "error_type": error_type, "message": message}

# ------------------------------------------------------------------ scoring
# Tables written by the score job. Per-class columns depend on the model's
# label vocabulary: ``p_<class>`` and ``share_<class>``. With ``--run-date``
# the tables are Hive-partitioned (``run_date=YYYY-MM-DD/``) and readers get
# ``run_date`` from the partition path.
FILES_TABLE = "files"
SEGMENTS_TABLE = "segments"
CALLS_TABLE = "calls"
ERRORS_TABLE = "errors"
PARTITION_KEY = "run_date"


def class_column(prefix: str, label: str) -> str:
    """``p_negative``-style column name of a class (non [a-z0-9_] -> ``_``)."""
    clean = "".join(ch if ch.isalnum() and ch.isascii() else "_" for ch in label.lower())
    return f"{prefix}_{clean}"


def prob_columns(labels) -> list[str]:
    return [class_column("p", label) for label in labels]


def share_columns(labels) -> list[str]:
    return [class_column("share", label) for label in labels]


def _run_fields() -> list[pa.Field]:
    """The model and run columns that end ``files/`` and ``calls/``."""
    return [pa.field("model_version", pa.string(), nullable=False),
            pa.field("model_architecture", pa.string(), nullable=False),
            pa.field("run_id", pa.string(), nullable=False),
            pa.field("scored_at", pa.timestamp("us", tz="UTC"), nullable=False)]


def files_schema(labels, extra: tuple[pa.Field, ...] | list[pa.Field] = ()) -> pa.Schema:
    """One row per scored recording channel; ``extra``: the ``--call-metadata``
    columns, before the model and run columns."""
    return pa.schema(
        [
            pa.field("uri", pa.string(), nullable=False),
            pa.field("channel", pa.int32(), nullable=False),
            pa.field("call_id", pa.string(), nullable=False),
            pa.field("role", pa.string()),
            pa.field("duration_s", pa.float64(), nullable=False),
            pa.field("sample_rate", pa.int32(), nullable=False),
            pa.field("speech_s", pa.float64(), nullable=False),
            pa.field("silence_ratio", pa.float64(), nullable=False),
            pa.field("loudness_dbfs", pa.float64(), nullable=False),
            pa.field("label", pa.string(), nullable=False),
            pa.field("confidence", pa.float64(), nullable=False),
            *[pa.field(name, pa.float64(), nullable=False) for name in prob_columns(labels)],
            pa.field("n_segments", pa.int32(), nullable=False),
            pa.field("n_speech_segments", pa.int32(), nullable=False),
            *[pa.field(name, pa.float64(), nullable=False) for name in share_columns(labels)],
            pa.field("first_quarter_label", pa.string()),
            pa.field("last_quarter_label", pa.string()),
            pa.field("n_changes", pa.int32(), nullable=False),
            *extra,
            *_run_fields(),
        ]
    )


def segments_schema(labels) -> pa.Schema:
    """One row per window of a scored recording channel."""
    return pa.schema(
        [
            pa.field("uri", pa.string(), nullable=False),
            pa.field("channel", pa.int32(), nullable=False),
            pa.field("index", pa.int32(), nullable=False),
            pa.field("start_s", pa.float64(), nullable=False),
            pa.field("end_s", pa.float64(), nullable=False),
            pa.field("is_speech", pa.bool_(), nullable=False),
            pa.field("label", pa.string()),  # null for non-speech windows
            *[pa.field(name, pa.float64()) for name in prob_columns(labels)],
            pa.field("run_id", pa.string(), nullable=False),
        ]
    )


ROLES = ("agent", "customer")
QUARTERS = (1, 2, 3, 4)
ROLES_FROM_CHANNELS = "channels"  # calls/ ``roles``: each role is a channel of the file
ROLES_FROM_MIX = "mix"  # a mono mix: no role separated
ROLES_FROM_DIARIZATION = "diarized"  # a mono mix split into two speakers (--mono-speakers 2)


def valence_labels(labels) -> bool:
    """Whether a label vocabulary has a valence (``positive`` and ``negative``)."""
    return "positive" in labels and "negative" in labels


def role_columns(role: str, labels) -> list[pa.Field]:
    """The ``calls/`` columns of one role (``agent_label`` ...)."""
    fields = [
        pa.field("channel", pa.int32()),
        pa.field("label", pa.string()),
        pa.field("confidence", pa.float64()),
        *[pa.field(name, pa.float64()) for name in prob_columns(labels)],
        pa.field("valence", pa.float64()),
        *[pa.field(f"q{q}_label", pa.string()) for q in QUARTERS],
        *[pa.field(f"q{q}_valence", pa.float64()) for q in QUARTERS],
        pa.field("n_changes", pa.int32()),
        pa.field("talk_s", pa.float64()),
        pa.field("talk_share", pa.float64()),
        pa.field("n_turns", pa.int32()),
        pa.field("loudness_dbfs", pa.float64()),
        pa.field("speaking_rate", pa.float64()),
        pa.field("interruptions", pa.int32()),
    ]
    return [pa.field(f"{role}_{f.name}", f.type) for f in fields]


def calls_schema(labels, extra: tuple[pa.Field, ...] | list[pa.Field] = ()) -> pa.Schema:
    """One row per scored recording: both speakers of a call side by side;
    ``extra``: the ``--call-metadata`` columns, before the model and run columns."""
    return pa.schema(
        [
            pa.field("call_id", pa.string(), nullable=False),
            pa.field("uri", pa.string(), nullable=False),
            pa.field("duration_s", pa.float64(), nullable=False),
            pa.field("roles", pa.string(), nullable=False),
            *[f for role in ROLES for f in role_columns(role, labels)],
            pa.field("talk_s", pa.float64(), nullable=False),
            pa.field("non_talk_s", pa.float64(), nullable=False),
            pa.field("non_talk_share", pa.float64(), nullable=False),
            pa.field("overlap_s", pa.float64()),
            pa.field("interruptions", pa.int32()),
            *extra,
            *_run_fields(),
        ]
    )


# What each role column of calls/ holds ("{role}" is agent or customer).
ROLE_DESCRIPTIONS = {
    "channel": "the {role}'s channel of the file (--agent-channel); -1 for a mono mix "
               "(both roles in it, not told apart); -2 / -3 for the agent / customer of a "
               "diarized mono call (their windows in segments/); null when no channel holds "
               "the {role}",
    "label": "the {role}'s label: class with the highest mean probability over the {role}'s "
             "speech windows; null when none was scored",
    "confidence": "that mean probability",
    "p_": "mean probability of the class over the {role}'s speech windows",
    "valence": "p_positive - p_negative of the {role} (-1 to 1); null for a model without "
               "both classes",
    "q_label": "the {role}'s label over the speech windows overlapping that quarter of the "
               "call (q1 the first); null when none",
    "q_valence": "the {role}'s valence in that quarter of the call",
    "n_changes": "the {role}'s label changes between consecutive speech windows (one-window "
                 "runs absorbed)",
    "talk_s": "seconds the {role} talks: the sum of the {role}'s turns (speech with no pause "
              "of 0.5 s or longer, at least 0.2 s long)",
    "talk_share": "the {role}'s share of all talk time: talk_s / (agent_talk_s + "
                  "customer_talk_s)",
    "n_turns": "the {role}'s turns",
    "loudness_dbfs": "RMS level of the {role}'s turns, dBFS",
    "speaking_rate": "syllable nuclei per second of the {role}'s talk time (level peaks); "
                     "null under 1 s of talk",
    "interruptions": "turns the {role} started while the other speaker had been in a turn "
                     "for at least 1 s",
}


def _role_description(column: str) -> str | None:
    for role in ROLES:
        if not column.startswith(role + "_"):
            continue
        rest = column[len(role) + 1:]
        if rest.startswith("q") and rest[1:2].isdigit() and "_" in rest:
            rest = "q_" + rest.split("_", 1)[1]
        elif rest.startswith("p_"):
            rest = "p_"
        if rest in ROLE_DESCRIPTIONS:
            return ROLE_DESCRIPTIONS[rest].format(role=role)
    return None


# The meaning of each column (``p_*`` and ``share_*`` by prefix).
DESCRIPTIONS = {
    "uri": "the recording",
    "stage": "where the input was rejected: match, labels, read, decode, features (featurize); "
             "segment, inference, aggregate (score)",
    "error_type": "machine-readable reason, e.g. unreadable, too_short, no_speech",
    "message": "what is wrong, for a person",
    "channel": "channel index (0 = agent, 1 = customer on the usual recorders); -1 for a "
               "mono mix-down; in segments/ also -2 / -3: a diarized mono call's agent / "
               "customer, their own speech (--mono-speakers 2)",
    "duration_s": "length of the recording, seconds",
    "sample_rate": "the file's sample rate, Hz",
    "speech_s": "seconds of speech frames found by the speech detector",
    "silence_ratio": "1 - speech_s / duration_s",
    "loudness_dbfs": "RMS level of the channel, dBFS (-200 for digital silence)",
    "label": "class with the highest mean probability over the speech windows (segments: "
             "of this window; null for non-speech windows)",
    "confidence": "that mean probability",
    "p_": "mean probability of the class over the speech windows (segments: of this window)",
    "n_segments": "windows cut, speech or not",
    "n_speech_segments": "speech windows",
    "share_": "share of speech windows whose own label is the class",
    "first_quarter_label": "label of the mean probabilities of the speech windows "
                           "overlapping the first quarter of the recording; null when none",
    "last_quarter_label": "the same for the last quarter",
    "n_changes": "label changes between consecutive speech windows, after one-window runs "
                 "are absorbed by their neighbour",
    "model_version": "sha256 of model.keras and its card's prediction fields",
    "model_architecture": "the model's architecture, e.g. bilstm_stats",
    "run_id": "the score run (see _runs/RUN_ID.json)",
    "scored_at": "when the row was produced (UTC)",
    "index": "the window's position in the channel: 0, 1, ... in time order",
    "start_s": "start of the window, seconds from the start of the recording",
    "end_s": "end of the window, seconds from the start of the recording",
    "is_speech": "whether the speech detector found speech in the window",
    "call_id": "the call: --call-metadata's call_id, else the file name without its extension",
    "role": "agent or customer (the channels of a 2-channel file, --agent-channel); null for "
            "a mono mix",
    "roles": "where the roles come from: channels (a stereo file: agent and customer "
             "channels), diarized (a mono mix split into two speakers, --mono-speakers 2) or "
             "mix (a mono mix; role columns null)",
    "talk_s": "seconds anyone talks (the union of both roles' turns; for a diarized mono "
              "call, of the two speakers' speech with each one's pauses under 0.3 s)",
    "non_talk_s": "seconds nobody talks: duration_s - talk_s",
    "non_talk_share": "non_talk_s / duration_s",
    "overlap_s": "seconds both roles talk at once; null for a mono mix",
    "interruptions": "agent_interruptions + customer_interruptions; null for a mono mix",
}


def description(column: str) -> str:
    """The meaning of ``column`` (``p_<class>``, ``share_<class>``, ``agent_*``
    and ``customer_*`` by prefix).

    Raises:
        KeyError: a column without one (every schema's column has one).
    """
    if column in DESCRIPTIONS:
        return DESCRIPTIONS[column]
    role = _role_description(column)
    if role is not None:
        return role
    for prefix in ("p_", "share_"):
        if column.startswith(prefix):
            return DESCRIPTIONS[prefix]
    raise KeyError(f"no description of column {column!r} in schemas.tables.DESCRIPTIONS")


def with_metadata(schema: pa.Schema, *, table: str, project_version: str,
                  model_version: str | None = None,
                  descriptions: dict[str, str] | None = None) -> pa.Schema:
    """``schema`` with each field's ``description`` (``descriptions`` for
    columns of the user's, e.g. ``--call-metadata``'s) and the file's
    ``audio_sentiment.table``, ``audio_sentiment.version`` and (when given)
    ``audio_sentiment.model_version`` metadata (bytes keys and values)."""
    own = descriptions or {}
    fields = [f.with_metadata({"description": own.get(f.name) or description(f.name)})
              for f in schema]
    meta = {"audio_sentiment.table": table, "audio_sentiment.version": project_version}
    if model_version is not None:
        meta["audio_sentiment.model_version"] = model_version
    return pa.schema(fields, metadata=meta)
