"""One ``calls/`` row per recording from its scored channels: both speakers
of a call side by side (:func:`schemas.tables.calls_schema`). Pure Python,
no Beam: the score job's ``BuildCalls`` step wraps :func:`call_row`.
"""

from __future__ import annotations

import posixpath
from typing import Any, NamedTuple

from schemas import tables
from sentiment_model.audio import MIX_CHANNEL
from sentiment_model.diarize import SPEAKER_CHANNELS, RoleSpeech
from sentiment_model.talk import ChannelTalk, TalkConfig, call_measures, union_length


class ChannelCall(NamedTuple):
    """What one scored channel brings to its call's row.

    Attributes:
        channel: channel id (``MIX_CHANNEL`` for a mono mix).
        duration_s: the channel's length, seconds.
        talk: its turns and talk measures.
        summary: :func:`~sentiment_model.segments.aggregate` of its windows;
            ``None`` when the channel holds no scored speech (a silent
            customer side: its talk is still counted).
        role: for a diarized mono call, the speaker's role (``agent`` or
            ``customer``; the channel is then the speaker's own,
            :data:`~sentiment_model.diarize.SPEAKER_CHANNELS`); ``None`` when
            roles are channels.
        spans: for a diarized speaker, the detector's speech runs given to
            it, its pauses under ``join_pause_s`` closed (``(start_s,
            end_s)``): the call's talk time is their union (turns joined
            across longer pauses would also join across the other voice's
            short turns in the mix).
    """

    channel: int
    duration_s: float
    talk: ChannelTalk
    summary: dict | None
    role: str | None = None
    spans: tuple[tuple[float, float], ...] = ()


def speaker_part(speaker: RoleSpeech, *, duration_s: float, summary: dict | None
                 ) -> ChannelCall:
    """A diarized speaker's part of its call: the speaker's talk and spans,
    and ``summary``, the aggregate of the windows of the speaker's own
    channel (:data:`~sentiment_model.diarize.SPEAKER_CHANNELS`)."""
    return ChannelCall(SPEAKER_CHANNELS[speaker.role], duration_s, speaker.talk, summary,
                       role=speaker.role, spans=speaker.spans)


def default_call_id(uri: str) -> str:
    """The file name without its extension."""
    return posixpath.splitext(posixpath.basename(uri.rstrip("/")))[0]


def valence(probs, labels) -> float | None:
    """``p_positive - p_negative`` (``None`` without both classes or probabilities)."""
    if probs is None or not tables.valence_labels(labels):
        return None
    return float(probs[labels.index("positive")] - probs[labels.index("negative")])


def role_channels(channels: list[int], agent_channel: int) -> dict[str, int | None]:
    """Which channel holds each role: the agent on ``agent_channel``, the
    customer on the other of channels 0 and 1; none for a mono mix."""
    if channels == [MIX_CHANNEL]:
        return dict.fromkeys(tables.ROLES)
    customer = 1 - agent_channel
    return {"agent": agent_channel if agent_channel in channels else None,
            "customer": customer if customer in channels else None}


def _role_values(role: str, part: ChannelCall | None, *, labels, talk_total: float,
                 interruptions: int | None) -> dict[str, Any]:
    names = [f.name for f in tables.role_columns(role, labels)]
    row: dict[str, Any] = dict.fromkeys(names)
    if part is None:
        return row
    p = f"{role}_"
    summary, talk = part.summary, part.talk
    row[p + "channel"] = part.channel
    if summary is not None and summary["probs"] is not None:
        row[p + "label"] = summary["label"]
        row[p + "confidence"] = summary["confidence"]
        row.update(zip([p + c for c in tables.prob_columns(labels)], summary["probs"],
                       strict=True))
        row[p + "valence"] = valence(summary["probs"], labels)
        for q, probs in zip(tables.QUARTERS, summary["quarters"], strict=True):
            row[f"{p}q{q}_label"] = (None if probs is None else
                                     labels[max(range(len(probs)), key=probs.__getitem__)])
            row[f"{p}q{q}_valence"] = valence(probs, labels)
        row[p + "n_changes"] = summary["changes"]
    row[p + "talk_s"] = talk.talk_s
    row[p + "talk_share"] = talk.talk_s / talk_total if talk_total > 0 else None
    row[p + "n_turns"] = len(talk.turns)
    row[p + "loudness_dbfs"] = talk.loudness_dbfs
    row[p + "speaking_rate"] = talk.speaking_rate
    row[p + "interruptions"] = interruptions
    return row


def call_row(uri: str, parts: list[ChannelCall], *, labels: tuple[str, ...],
             agent_channel: int = 0, talk: TalkConfig | None = None,
             call_id: str | None = None) -> dict[str, Any]:
    """The ``calls/`` row of one recording (all but the model and run columns).

    Args:
        parts: the recording's channels (a mono mix is one part with
            ``MIX_CHANNEL``, a diarized one a part per speaker with its role).
        agent_channel: the agent's channel of a stereo file (0 or 1).
        call_id: default :func:`default_call_id`.
    """
    talk = talk or TalkConfig()
    duration = max(part.duration_s for part in parts)
    row: dict[str, Any] = {"call_id": call_id or default_call_id(uri), "uri": uri,
                           "duration_s": duration}
    diarized = {part.role: part for part in parts if part.role is not None}
    if diarized:
        roles = {role: diarized.get(role) for role in tables.ROLES}
    else:
        by_channel = {part.channel: part for part in parts}
        channels = role_channels(sorted(by_channel), agent_channel)
        roles = {role: by_channel.get(ch) if ch is not None else None
                 for role, ch in channels.items()}
    if roles["agent"] is None and roles["customer"] is None:
        row["roles"] = tables.ROLES_FROM_MIX
        heard = [t for part in parts for t in part.talk.turns]
        measures = None
    else:
        row["roles"] = tables.ROLES_FROM_DIARIZATION if diarized else tables.ROLES_FROM_CHANNELS
        heard = [t for part in roles.values() if part is not None
                 for t in (part.spans if diarized else part.talk.turns)]
        empty = ChannelTalk((), 0.0, None, 0, None)
        measures = call_measures(*(part.talk if part is not None else empty
                                   for part in (roles["agent"], roles["customer"])),
                                 duration_s=duration, config=talk)
    talk_total = sum(part.talk.talk_s for part in roles.values() if part is not None)
    for i, role in enumerate(tables.ROLES):
        row.update(_role_values(role, roles[role], labels=labels, talk_total=talk_total,
                                interruptions=None if measures is None
                                else measures.interruptions[i]))
        if row["roles"] == tables.ROLES_FROM_MIX:
            row[f"{role}_channel"] = MIX_CHANNEL  # both speak in the mix, not told apart
    row["talk_s"] = union_length(heard)
    row["non_talk_s"] = max(0.0, duration - row["talk_s"])
    row["non_talk_share"] = row["non_talk_s"] / duration if duration > 0 else 0.0
    row["overlap_s"] = None if measures is None else measures.overlap_s
    row["interruptions"] = None if measures is None else sum(measures.interruptions)
    return row
