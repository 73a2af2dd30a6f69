"""calls/ rows from scored channels."""

import pytest

from schemas import tables
from sentiment_model import call_table
from sentiment_model.audio import MIX_CHANNEL
from sentiment_model.call_table import ChannelCall
from sentiment_model.talk import ChannelTalk

LABELS = ("negative", "neutral", "positive")


def _summary(probs, quarters, changes=0):
    best = max(range(3), key=probs.__getitem__)
    return {"probs": probs, "label": LABELS[best], "confidence": probs[best],
            "quarters": quarters, "changes": changes}


AGENT = ChannelCall(0, 20.0, ChannelTalk(((1.0, 5.0), (9.0, 11.0)), 6.0, -18.0, 27, 4.5),
                    _summary([0.1, 0.8, 0.1], [[0.1, 0.8, 0.1]] * 4))
CUSTOMER = ChannelCall(1, 20.0, ChannelTalk(((0.0, 1.5), (4.0, 8.0), (10.0, 14.0)), 9.5,
                                            -22.0, 30, 3.2),
                       _summary([0.5, 0.3, 0.2], [[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], None,
                                                  [0.1, 0.3, 0.6]], changes=2))


def test_a_stereo_call_puts_agent_and_customer_side_by_side():
    row = call_table.call_row("gs://b/2026/call-17.wav", [AGENT, CUSTOMER], labels=LABELS)
    assert row["call_id"] == "call-17" and row["roles"] == tables.ROLES_FROM_CHANNELS
    assert (row["agent_channel"], row["customer_channel"]) == (0, 1)
    assert row["agent_label"] == "neutral" and row["customer_label"] == "negative"
    assert row["customer_p_negative"] == 0.5
    assert row["customer_valence"] == pytest.approx(0.2 - 0.5)
    assert [row[f"customer_q{q}_label"] for q in (1, 2, 3, 4)] == [
        "negative", "negative", None, "positive"]
    assert row["customer_q1_valence"] == pytest.approx(-0.6)
    assert row["customer_q3_valence"] is None
    assert row["customer_n_changes"] == 2
    assert row["agent_talk_s"] == 6.0
    assert row["customer_talk_share"] == pytest.approx(9.5 / 15.5)
    assert (row["agent_n_turns"], row["customer_n_turns"]) == (2, 3)
    assert row["agent_speaking_rate"] == 4.5 and row["customer_loudness_dbfs"] == -22.0
    # anyone talking: [0, 8] and [9, 14]; both: [1, 1.5], [4, 5], [10, 11]
    assert row["talk_s"] == pytest.approx(13.0)
    assert row["non_talk_s"] == pytest.approx(7.0)
    assert row["non_talk_share"] == pytest.approx(0.35)
    assert row["overlap_s"] == pytest.approx(2.5)
    # the agent at 1.0 (customer since 0.0: 1 s), not at 9.0 (nobody talking);
    # the customer at 4.0 (agent since 1.0) and 10.0 (agent since 9.0), not at 0.0
    assert (row["agent_interruptions"], row["customer_interruptions"]) == (1, 2)
    assert row["interruptions"] == 3
    assert set(row) == set(tables.calls_schema(LABELS).names) - {
        "model_version", "model_architecture", "run_id", "scored_at"}


def test_agent_channel_one_swaps_the_roles():
    row = call_table.call_row("a.wav", [AGENT, CUSTOMER], labels=LABELS, agent_channel=1)
    assert (row["agent_channel"], row["customer_channel"]) == (1, 0)
    assert row["agent_label"] == "negative" and row["customer_label"] == "neutral"
    assert (row["agent_interruptions"], row["customer_interruptions"]) == (2, 1)


def test_a_silent_side_still_counts_its_talk_time_and_has_no_label():
    silent = CUSTOMER._replace(summary=None, talk=ChannelTalk((), 0.0, None, 0, None))
    row = call_table.call_row("a.wav", [AGENT, silent], labels=LABELS)
    assert row["customer_channel"] == 1 and row["customer_label"] is None
    assert row["customer_talk_s"] == 0.0 and row["agent_talk_share"] == 1.0
    assert row["customer_speaking_rate"] is None
    assert row["non_talk_s"] == pytest.approx(14.0)


def test_a_mono_mix_has_call_talk_but_no_roles():
    mix = AGENT._replace(channel=MIX_CHANNEL)
    row = call_table.call_row("a.flac", [mix], labels=LABELS)
    assert row["roles"] == tables.ROLES_FROM_MIX
    assert row["agent_channel"] == row["customer_channel"] == MIX_CHANNEL
    assert all(row[f"{role}_{name}"] is None for role in tables.ROLES
               for name in ("label", "talk_s", "interruptions"))
    assert row["talk_s"] == pytest.approx(6.0) and row["non_talk_s"] == pytest.approx(14.0)
    assert row["overlap_s"] is None and row["interruptions"] is None


def test_valence_needs_positive_and_negative_classes():
    assert call_table.valence([0.2, 0.5, 0.3], LABELS) == pytest.approx(0.1)
    assert call_table.valence([0.2, 0.8], ("angry", "calm")) is None
    assert call_table.valence(None, LABELS) is None
    assert "agent_valence" in tables.calls_schema(("angry", "calm")).names
