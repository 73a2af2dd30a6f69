"""Two-speaker diarization of mono calls made of real speech: DER and roles.

    python -m benchmarks.diarization [--corpora emodb-dev,ased,turev] [--calls 6]
        [--window 1.0] [--step 0.2] [--join-pause 0.3] [--min-edge 0.1] [--seed 41]

Stereo calls are assembled from real utterances of each dev corpus
(``benchmarks.vad_accuracy.make_calls``: customer and agent taking turns,
pauses of 0.3-0.8 s and, every other turn, an answer that starts 0.3 s
early), each opened by the agent's greeting (the agent's first utterance,
moved to the start, then a 0.5 s pause), and mixed down to mono, as recorded
and as a phone line records them. The mix goes through score's speech
detector (``--vad either``) and :func:`sentiment_model.diarize.diarize`.

Diarization error rate (pyannote.metrics, overlapping speech counted, a
collar of 0.25 s either side of each reference boundary: ``collar=0.5``)
per call, median and worst, with its median parts (speech missed, which is
the detector's and the pauses', and speaker confusion); the share of calls
whose agent is found by the rule (the speaker heard first); the baseline in
the same run is one speaker for all the speech the detector found (what
score did with mono calls).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys

import numpy as np

from benchmarks import corpora
from benchmarks.vad_accuracy import RATE, detectors, frame_flags, make_calls
from sentiment_model import calls
from sentiment_model import diarize as dz

GREETING_PAUSE_S = 0.5
ROLE_NAMES = {calls.AGENT: "agent", calls.CUSTOMER: "customer"}


def with_greeting(audio: np.ndarray, turns: list) -> tuple[np.ndarray, list]:
    """The call with the agent's first utterance moved before everything."""
    first = min((t for t in turns if t[0] == calls.AGENT), key=lambda t: t[1])
    greeting = audio[first[1]:first[2], calls.AGENT]
    shift = len(greeting) + round(GREETING_PAUSE_S * RATE)
    out = np.zeros((len(audio) + shift, 2), np.float32)
    out[:len(greeting), calls.AGENT] = greeting
    out[shift:] = audio
    moved = [(calls.AGENT, 0, len(greeting))]
    moved += [(ch, a + shift, b + shift) for ch, a, b in turns]
    return out, moved


def annotation(spans: dict[str, list[tuple[float, float]]]):
    from pyannote.core import Annotation, Segment

    out = Annotation()
    for label, pieces in spans.items():
        for a, b in pieces:
            out[Segment(a, b)] = label
    return out


def reference(turns: list):
    return annotation({ROLE_NAMES[ch]: [(a / RATE, b / RATE) for c, a, b in turns if c == ch]
                       for ch in ROLE_NAMES})


def hypothesis(result: dz.Diarization):
    names = {result.agent: "agent", 1 - result.agent: "customer"}
    return annotation({names[k]: result.spans(k) for k in range(result.n_speakers)})


def one_speaker(flags: np.ndarray):
    from sentiment_model.talk import speech_runs

    return annotation({"agent": speech_runs(flags, frame_s=dz.FRAME_S)})


def agent_found(ref, hyp) -> bool:
    """Does the hypothesis's ``agent`` overlap the true agent more than the customer?"""
    agent = hyp.label_timeline("agent")
    return (ref.label_timeline("agent").crop(agent).duration()
            > ref.label_timeline("customer").crop(agent).duration())


def mono_mix(audio: np.ndarray, channel: str) -> np.ndarray:
    return corpora.through(np.clip(audio.sum(axis=1), -1, 1).astype(np.float32), RATE, channel)


def add_diarize_options(parser: argparse.ArgumentParser) -> None:
    """The ``DiarizeConfig`` values a diarization benchmark may change."""
    defaults = dz.DiarizeConfig()
    parser.add_argument("--window", type=float, default=defaults.window_s)
    parser.add_argument("--step", type=float, default=defaults.step_s)
    parser.add_argument("--join-pause", type=float, default=defaults.join_pause_s,
                        help="a speaker's pauses shorter than this (s) are closed")
    parser.add_argument("--min-edge", type=float, default=defaults.min_edge_s,
                        help="a run shorter than this (s) between a pause and the other "
                             "voice is that voice's")


def diarize_config(args: argparse.Namespace) -> dz.DiarizeConfig:
    return dataclasses.replace(dz.DiarizeConfig(), window_s=args.window, step_s=args.step,
                               join_pause_s=args.join_pause,
                               min_edge_s=args.min_edge).validate()


def main(argv: list[str] | None = None) -> None:
    from pyannote.metrics.diarization import DiarizationErrorRate

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=corpora.DATA_ROOT)
    parser.add_argument("--corpora", default=",".join(corpora.CORPORA))
    parser.add_argument("--calls", type=int, default=6, help="generated calls per corpus")
    add_diarize_options(parser)
    parser.add_argument("--seed", type=int, default=41, help="seed of the generated calls")
    args = parser.parse_args(argv)
    config = diarize_config(args)
    segment = detectors()["either"][0]
    print(f"diarize config: {config.to_dict()}", file=sys.stderr)
    print("| corpus | channel | calls | DER median | DER max | missed | confusion | agent found "
          "| one speaker (baseline) DER median |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for corpus in args.corpora.split(","):
        rows = corpora.load_rows(corpus, data_root=args.data)
        made = [with_greeting(*call)
                for call in make_calls(rows, n_calls=args.calls, seed=args.seed)]
        for channel in corpora.CHANNELS:
            ders, parts, base, found = [], [], [], []
            for audio, turns in made:
                mono = mono_mix(audio, channel)
                flags = frame_flags(mono, segment=segment, factory=None,
                                    n_steps=len(mono) // (RATE // 100))
                result = dz.diarize(mono, RATE, flags, config=config)
                ref, hyp = reference(turns), hypothesis(result)
                detail = DiarizationErrorRate(collar=0.5)(ref, hyp, detailed=True)
                ders.append(detail["diarization error rate"])
                parts.append([detail[k] / max(detail["total"], 1e-9)
                              for k in ("missed detection", "confusion")])
                base.append(DiarizationErrorRate(collar=0.5)(ref, one_speaker(flags)))
                found.append(agent_found(ref, hyp))
            missed, confusion = np.median(parts, axis=0)
            print(f"| {corpus} | {channel} | {len(ders)} | {np.median(ders):.1%} | "
                  f"{np.max(ders):.1%} | {missed:.1%} | {confusion:.1%} | {np.mean(found):.2f} | "
                  f"{np.median(base):.1%} |", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import warnings

    warnings.filterwarnings("ignore", message="'uem' was approximated")
    main()
