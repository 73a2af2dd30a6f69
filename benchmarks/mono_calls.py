"""Per-role sentiment of mono calls split by diarization, against the same
calls scored as stereo.

    python -m benchmarks.mono_calls [--corpora emodb-dev,ased,turev] [--calls 6]
        [--model-dir DIR] [--window 1.0] [--step 0.2] [--join-pause 0.3] [--min-edge 0.1]

The calls of ``benchmarks.diarization`` (real utterances of each dev corpus,
the agent's greeting first; the customer's tone follows one of
``sentiment_model.calls.ARCS`` over four 8-s sections, the agent stays
neutral), as recorded and as a phone line records them, each scored two
ways through score's path (:func:`sentiment_model.scoring.score_recording`,
``--vad either``):

* ``stereo``: each channel on its own (``--channels split``), the agent on 0;
* ``mono``: the mix, diarized (``--mono-speakers 2``, the agent heard
  first), each speaker's own speech (the mix with every other sample
  silent) scored as a channel of its own, as ``calls/`` is filled.

Truth per role and quarter of the call: the section's tone (the agent's is
neutral). Reported: UAR over both roles' quarter labels (a quarter with no
label counts as wrong), the share of quarter labels mono and stereo agree
on, and the whole-call role labels' agreement. The model: ``--model-dir``,
default the packaged starter model (trained on every EMO-DB and ASED
speaker: the absolute figures on those two corpora are not held out; TurEV
is zero-shot); the comparison of mono with stereo is the point.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from benchmarks import corpora
from benchmarks.diarization import add_diarize_options, diarize_config, mono_mix, with_greeting
from benchmarks.vad_accuracy import RATE, detectors, make_calls
from sentiment_model import calls, scoring
from sentiment_model import diarize as dz

NO_LABEL = "none"


def quarter_labels(summary: dict | None, labels: tuple[str, ...]) -> list[str]:
    """The four quarter labels of a role's summary (``NO_LABEL`` where none)."""
    if summary is None:
        return [NO_LABEL] * 4
    return [NO_LABEL if q is None else labels[int(np.argmax(q))] for q in summary["quarters"]]


def stereo_roles(audio: np.ndarray, model, *, segment) -> dict[str, dict | None]:
    """{role: summary} of the call scored channel by channel."""
    results = scoring.score_recording(audio, RATE, model, segment=segment, channels="split")
    by_channel = {r.channel: r.summary for r in results}
    return {"agent": by_channel.get(calls.AGENT), "customer": by_channel.get(calls.CUSTOMER)}


def mono_roles(mono: np.ndarray, model, *, segment, diarize: dz.DiarizeConfig
               ) -> dict[str, dict | None]:
    """{role: summary} of the mix diarized as ``--mono-speakers 2`` does:
    each speaker's own channel (the mix with every other sample silent)."""
    results = scoring.score_recording(mono[:, None], RATE, model, segment=segment,
                                      channels="mix", diarize=diarize)
    by_channel = {r.channel: r.summary for r in results}
    return {role: by_channel.get(channel) for role, channel in dz.SPEAKER_CHANNELS.items()}


def uar(truth: list[str], got: list[str]) -> float:
    """Unweighted average recall over the classes present in ``truth``."""
    truth_a, got_a = np.asarray(truth), np.asarray(got)
    return float(np.mean([np.mean(got_a[truth_a == c] == c) for c in np.unique(truth_a)]))


def measure(made, model, *, channel: str, segment, diarize) -> dict[str, float]:
    truth, stereo_q, mono_q, whole = [], [], [], []
    for audio, _turns, arc in made:
        wide = np.stack([corpora.through(audio[:, c], RATE, channel) for c in range(2)], axis=1)
        st = stereo_roles(wide, model, segment=segment)
        mo = mono_roles(mono_mix(audio, channel), model, segment=segment, diarize=diarize)
        for role, tones in (("agent", ("neutral",) * 4), ("customer", arc)):
            truth += list(tones)
            stereo_q += quarter_labels(st[role], model.labels)
            mono_q += quarter_labels(mo[role], model.labels)
            whole.append((st[role] or {}).get("label") == (mo[role] or {}).get("label"))
    return {"stereo_uar": uar(truth, stereo_q), "mono_uar": uar(truth, mono_q),
            "quarters_agree": float(np.mean(np.asarray(stereo_q) == np.asarray(mono_q))),
            "role_labels_agree": float(np.mean(whole)), "n_quarters": len(truth)}


def main(argv: list[str] | None = None) -> None:
    from sentiment_model import starter
    from sentiment_model.inference import load_model_dir

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=corpora.DATA_ROOT)
    parser.add_argument("--corpora", default=",".join(corpora.CORPORA))
    parser.add_argument("--calls", type=int, default=6, help="generated calls per corpus")
    parser.add_argument("--model-dir", default=None, help="default: the starter model")
    add_diarize_options(parser)
    args = parser.parse_args(argv)
    model = load_model_dir(args.model_dir or starter.starter_dir())
    segment = detectors()["either"][0]
    diarize = diarize_config(args)
    print(f"model {model.card.model_version[:12]} ({model.card.architecture}); "
          f"{diarize.to_dict()}", file=sys.stderr)
    print("| corpus | channel | quarters | stereo UAR | mono (diarized) UAR | mono - stereo | "
          "quarter labels agree | role labels agree |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for corpus in args.corpora.split(","):
        rows = corpora.load_rows(corpus, data_root=args.data)
        made = []
        for i, (audio, turns) in enumerate(make_calls(rows, n_calls=args.calls, seed=41)):
            audio, turns = with_greeting(audio, turns)
            made.append((audio, turns, calls.ARCS[i % len(calls.ARCS)]))
        for channel in corpora.CHANNELS:
            r = measure(made, model, channel=channel, segment=segment, diarize=diarize)
            print(f"| {corpus} | {channel} | {r['n_quarters']} | {r['stereo_uar']:.3f} | "
                  f"{r['mono_uar']:.3f} | {r['mono_uar'] - r['stereo_uar']:+.3f} | "
                  f"{r['quarters_agree']:.2f} | {r['role_labels_agree']:.2f} |", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main()
