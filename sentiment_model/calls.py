"""Stereo test "calls" with a known answer, assembled from labelled utterances.

A call has an agent (channel 0) and a customer (channel 1) taking turns, with
pauses and some overlapping turns. It is split into equal sections, one per
entry of a scripted sentiment arc (four by default: the call's quarters), so
the expected sentiment of each quarter of each channel is known exactly. The
utterances come from :mod:`sentiment_model.synth` voices or from any
labelled clips (e.g. EMO-DB for the benchmark).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import soundfile

from sentiment_model import synth

AGENT, CUSTOMER = 0, 1
ROLES = ("agent", "customer")

# A few support-call stories: the customer's sentiment per quarter.
ARCS = (
    ("negative", "negative", "neutral", "positive"),
    ("neutral", "negative", "negative", "negative"),
    ("positive", "neutral", "negative", "neutral"),
    ("negative", "neutral", "positive", "positive"),
)

# utterance source: (role, sentiment, duration_s, seed) -> float32 [n] at the call's rate
UtteranceFn = Callable[[int, str, float, int], np.ndarray]


@dataclass(frozen=True)
class CallScript:
    """What a call says.

    Attributes:
        customer_arc: the customer's sentiment per section.
        agent_arc: the agent's sentiment per section (default: neutral).
        section_s: length of each section in seconds.
        turns: customer/agent exchanges per section.
    """

    customer_arc: tuple[str, ...]
    agent_arc: tuple[str, ...] | None = None
    section_s: float = 12.0
    turns: int = 2

    @property
    def agent(self) -> tuple[str, ...]:
        return self.agent_arc or ("neutral",) * len(self.customer_arc)

    @property
    def duration_s(self) -> float:
        return self.section_s * len(self.customer_arc)


def synth_utterances(agent: synth.Voice, customer: synth.Voice, *,
                     sample_rate: int) -> UtteranceFn:
    """An utterance source that speaks with two synthetic voices."""
    voices = {AGENT: agent, CUSTOMER: customer}

    def speak(role: int, sentiment: str, duration_s: float, seed: int) -> np.ndarray:
        return synth.synth_utterance(voices[role], sentiment, duration_s=duration_s,
                                     sample_rate=sample_rate, seed=seed)

    return speak


def make_call(script: CallScript, speak: UtteranceFn, *, sample_rate: int, seed: int,
              noise_dbfs: float = -65.0, turns: list | None = None) -> np.ndarray:
    """Assembles one call.

    In each section the customer speaks, pauses 0.3-0.8 s, the agent answers
    (every other answer starts 0.3 s before the customer has finished: an
    overlapping turn), and so on; the section is then padded with pauses to
    exactly ``section_s``. Utterances never cross a section boundary.

    Args:
        turns: if given, ``(channel, start, end)`` of every utterance placed
            (samples, end exclusive) is appended to it: the call's truth.

    Returns:
        float32 ``[round(script.duration_s * sample_rate), 2]``: channel 0 the
        agent, channel 1 the customer, with a faint noise floor.
    """
    rng = np.random.default_rng(seed)
    section = round(script.section_s * sample_rate)
    out = np.zeros((section * len(script.customer_arc), 2), np.float32)
    slot = script.section_s / script.turns
    for q, (cust, agent) in enumerate(zip(script.customer_arc, script.agent, strict=True)):
        base = q * section
        for t in range(script.turns):
            start = base + round(t * slot * sample_rate)
            # customer ~55 % of the slot, agent ~35 %, the rest pauses
            c_len = slot * rng.uniform(0.45, 0.55)
            a_len = slot * rng.uniform(0.28, 0.35)
            pause = rng.uniform(0.3, 0.8) if t % 2 == 0 else -0.3  # overlap every other turn
            c = speak(CUSTOMER, cust, c_len, int(rng.integers(1 << 31)))
            a_start = start + len(c) + round(pause * sample_rate)
            a = speak(AGENT, agent, a_len, int(rng.integers(1 << 31)))
            a_end = min(a_start + len(a), base + section)
            out[start:start + len(c), CUSTOMER] += c
            out[a_start:a_end, AGENT] += a[: a_end - a_start]
            if turns is not None:
                turns.append((CUSTOMER, start, start + len(c)))
                turns.append((AGENT, a_start, a_end))
    amplitude = 10 ** (noise_dbfs / 20)
    out += (amplitude * rng.standard_normal(out.shape)).astype(np.float32)
    return np.clip(out, -1, 1)


def expected_rows(path: str, script: CallScript) -> list[dict]:
    """Rows of ``expected.csv`` for one call: one per channel."""
    rows = []
    for channel, arc in ((AGENT, script.agent), (CUSTOMER, script.customer_arc)):
        counts = {s: arc.count(s) for s in arc}
        best = max(counts.values())
        overall = next(s for s in reversed(arc) if counts[s] == best)  # ties: the later one
        rows.append({"path": path, "channel": channel, "role": ROLES[channel],
                     "label": overall, "first_quarter": arc[0], "last_quarter": arc[-1],
                     "arc": "/".join(arc)})
    return rows


def write_calls(out_dir: str, *, n_calls: int, agent: synth.Voice | None = None,
                customers: list[synth.Voice] | None = None, sample_rate: int = 16000,
                section_s: float = 12.0, seed: int = 0,
                speak_factory: Callable[[int], UtteranceFn] | None = None) -> str:
    """Writes ``out_dir/calls/call_NNN.wav`` (stereo PCM 16),
    ``out_dir/expected.csv`` (path, channel, role, label, first_quarter,
    last_quarter, arc) and ``out_dir/turns.csv`` (path, channel, role,
    start_s, end_s: every utterance placed). Calls cycle through :data:`ARCS`.

    Args:
        agent / customers: synthetic voices (default: two fresh voices).
        speak_factory: ``call index -> UtteranceFn`` to use other utterances
            (the voices are then ignored).

    Returns:
        the path of ``expected.csv``.
    """
    os.makedirs(os.path.join(out_dir, "calls"), exist_ok=True)
    if speak_factory is None:
        voices = synth.make_voices(2, seed=seed + 99)
        agent = agent or voices[0]
        customers = customers or [voices[1]]
    rows, turn_rows = [], []
    for i in range(n_calls):
        script = CallScript(customer_arc=ARCS[i % len(ARCS)], section_s=section_s)
        speak = (speak_factory(i) if speak_factory is not None else
                 synth_utterances(agent, customers[i % len(customers)],
                                  sample_rate=sample_rate))
        turns: list = []
        call = make_call(script, speak, sample_rate=sample_rate, seed=seed * 7919 + i,
                         turns=turns)
        rel = f"calls/call_{i:03d}.wav"
        soundfile.write(os.path.join(out_dir, rel), call, sample_rate, subtype="PCM_16")
        rows += expected_rows(rel, script)
        turn_rows += [{"path": rel, "channel": c, "role": ROLES[c], "start_s": a / sample_rate,
                       "end_s": b / sample_rate} for c, a, b in sorted(turns, key=_by_start)]
    _write_csv(os.path.join(out_dir, "turns.csv"), turn_rows)
    path = os.path.join(out_dir, "expected.csv")
    _write_csv(path, rows)
    return path


def _by_start(turn: tuple[int, int, int]) -> tuple[int, int]:
    return turn[1], turn[0]


def _write_csv(path: str, rows: list[dict]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def read_turns(path: str) -> dict[str, dict[int, list[tuple[float, float]]]]:
    """``turns.csv`` as ``{path: {channel: [(start_s, end_s), ...]}}``."""
    out: dict[str, dict[int, list[tuple[float, float]]]] = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["path"], {}).setdefault(int(row["channel"]), []).append(
                (float(row["start_s"]), float(row["end_s"])))
    return out
