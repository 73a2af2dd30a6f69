"""The speech detectors' speed on a stereo recording: each channel alone
against both channels side by side.

    python -m benchmarks.detector_speed [--seconds 120] [--repeats 5] [--block 60]

The generated two-voice call of ``benchmarks/score_call.py`` (16 kHz stereo) is
pushed block by block (``--block`` seconds, as score reads it) through:

* ``energy-loop``: the energy detector's noise floor as a per-frame Python
  loop over a deque (the implementation before 2026-12-07, kept here as the
  baseline);
* ``energy``: :class:`sentiment_model.segments.EnergyVad` (a trailing
  minimum, ``scipy.ndimage.minimum_filter1d``);
* ``silero-steps``: the ``silero-vad`` wheel's own ONNX network, one call
  per 32 ms step and channel, state carried (how the detector ran before
  2026-12-08), then the same hysteresis;
* ``silero-alone`` / ``either-alone``: one detector per channel, each
  pushed on its own (one network call per block and channel,
  :mod:`sentiment_model.silero_graph`);
* ``silero-together`` / ``either-together``: the two channels' detectors
  queued, then :func:`sentiment_model.vad.settle_together` (one call per
  block for both), as score's ``RecordingWindows`` runs them.

Each variant's flags must equal its baseline's (checked, else it stops).
Prints the median wall time over ``--repeats`` (variants alternated) and
channel-seconds per second.

    python -m benchmarks.detector_speed --corpora emodb-dev,ased,turev [--data DIR]

instead compares Silero's flags, ``silero-steps`` against the detector
score runs, on every clip of the dev corpora, wideband and as a telephone
line delivers it (resampled back to 16 kHz, as score feeds its detector):
the clips and frames whose flags differ, and the largest difference of
the probabilities.
"""

from __future__ import annotations

import argparse
import collections
import statistics
import time

import numpy as np

from benchmarks.score_call import RATE, make_call


def energy_loop_flags(x: np.ndarray, config, block: int) -> np.ndarray:
    """The energy detector with its former per-frame loop (the baseline)."""
    from sentiment_model.segments import frame_levels_dbfs

    frame = max(1, round(config.vad_frame_s * RATE))
    history: collections.deque[float] = collections.deque(
        maxlen=max(1, round(config.vad_floor_window_s / config.vad_frame_s)))
    out = []
    for a in range(0, len(x), block):  # blocks are whole frames here
        for level in frame_levels_dbfs(x[a:a + block], frame):
            history.append(float(level))
            floor = min(history)
            out.append(level >= config.vad_min_dbfs and level >= floor + config.vad_margin_db)
    return np.array(out, bool)


def wheel_step_flags(x: np.ndarray, threshold: float) -> np.ndarray:
    """Silero's flags from the wheel's network run one 32 ms step per call."""
    from sentiment_model import vad

    return vad.hysteresis(wheel_step_probs(x), threshold=threshold)


def wheel_step_probs(x: np.ndarray) -> np.ndarray:
    """Silero's probabilities ``[n_steps]`` (16 kHz ``x``), the wheel's
    network run one 32 ms step per call, the last step zero-padded."""
    import onnxruntime

    from sentiment_model import vad

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(vad.silero_model_path(), sess_options=options,
                                           providers=["CPUExecutionProvider"])
    chunk, context = 512, 64
    x = np.pad(x, (0, -len(x) % chunk))
    state = np.zeros((2, 1, 128), np.float32)
    tail = np.zeros(context, np.float32)
    probs = np.empty(len(x) // chunk, np.float32)
    for i in range(len(probs)):
        step = np.concatenate([tail, x[i * chunk:(i + 1) * chunk]])[None]
        prob, state = session.run(None, {"input": step, "state": state,
                                         "sr": np.array(RATE, np.int64)})
        probs[i] = prob[0, 0]
        tail = step[0, -context:]
    return probs


def detector_flags(audio: np.ndarray, kind: str, block: int, *, together: bool) -> list:
    from sentiment_model import segments as seg
    from sentiment_model import vad

    config = seg.SegmentConfig(vad=kind)
    dets = [vad.make_detector(config, RATE) for _ in range(audio.shape[1])]
    n = len(audio)
    for a in range(0, n, block):
        last = a + block >= n
        if together:
            for c, det in enumerate(dets):
                det.queue(audio[a:a + block, c], last=last)
            vad.settle_together(dets)
        else:
            for c, det in enumerate(dets):
                det.push(audio[a:a + block, c], last=last)
    return [det.flags(0, n) for det in dets]


def run_variant(name: str, audio: np.ndarray, block: int) -> list:
    from sentiment_model import segments as seg

    if name == "energy-loop":
        config = seg.SegmentConfig(vad="energy")
        return [energy_loop_flags(audio[:, c], config, block) for c in range(audio.shape[1])]
    if name == "silero-steps":
        threshold = seg.SegmentConfig().vad_threshold
        return [wheel_step_flags(audio[:, c], threshold) for c in range(audio.shape[1])]
    kind, _, mode = name.partition("-")
    return detector_flags(audio, kind, block, together=mode == "together")


VARIANTS = ("energy-loop", "energy", "silero-steps", "silero-alone", "silero-together",
            "either-alone", "either-together")
BASELINE = {"energy": "energy-loop", "silero-alone": "silero-steps",
            "silero-together": "silero-steps", "either-together": "either-alone"}


def compare_on_corpora(corpora: list[str], data_root: str) -> None:
    """Prints, per corpus and channel, the clips and frames whose Silero
    flags differ between the wheel's network step by step and score's."""
    from benchmarks.corpora import load_rows, read_mono, through
    from sentiment_model import segments as seg
    from sentiment_model import vad
    from sentiment_model.audio import resample

    threshold = seg.SegmentConfig().vad_threshold
    print("| corpus | channel | clips | clips with a flag changed | frames changed | "
          "largest probability difference |")
    print("|---|---|---:|---:|---:|---:|")
    for corpus in corpora:
        rows = load_rows(corpus, data_root=data_root)
        for channel in ("wideband", "telephone"):
            clips = frames = n_frames = 0
            worst = 0.0
            for row in rows:
                samples, rate = read_mono(row["path"])
                x = resample(through(samples, rate, channel), rate, RATE)
                want = wheel_step_probs(x)
                got = vad.SileroProbabilities(RATE).push(x, last=True)
                worst = max(worst, float(np.abs(got - want).max()))
                a = vad.hysteresis(want, threshold=threshold)
                b = vad.hysteresis(got, threshold=threshold)
                changed = int((a != b).sum())
                clips += changed > 0
                frames += changed
                n_frames += len(a)
            print(f"| {corpus} | {channel} | {len(rows)} | {clips} | {frames} / {n_frames} | "
                  f"{worst:.1e} |", flush=True)


def main(argv: list[str] | None = None) -> None:
    from benchmarks.corpora import DATA_ROOT

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--block", type=float, default=60.0, help="seconds per block")
    parser.add_argument("--corpora", default=None,
                        help="comma-separated dev corpora: compare the flags there instead")
    parser.add_argument("--data", default=DATA_ROOT, help="folder of the dev corpora")
    args = parser.parse_args(argv)
    if args.corpora:
        compare_on_corpora(args.corpora.split(","), args.data)
        return
    audio = make_call(args.seconds)
    block = round(args.block * RATE)
    channel_s = audio.shape[0] * audio.shape[1] / RATE
    times: dict[str, list[float]] = {v: [] for v in VARIANTS}
    flags: dict[str, list] = {}
    for _ in range(args.repeats):
        for name in VARIANTS:
            t = time.perf_counter()
            flags[name] = run_variant(name, audio, block)
            times[name].append(time.perf_counter() - t)
    for name, base in BASELINE.items():
        for got, want in zip(flags[name], flags[base], strict=True):
            if not np.array_equal(got, want):
                raise SystemExit(f"{name}: flags differ from {base} "
                                 f"({int((got != want).sum())} frames)")
    print(f"{channel_s:.0f} channel-s ({audio.shape[1]} channels), blocks of {args.block:g} s, "
          f"{args.repeats} repeats; flags equal to the baseline's")
    print("| variant | median wall (s) | channel-s/s | vs baseline |")
    print("|---|---:|---:|---:|")
    for name in VARIANTS:
        med = statistics.median(times[name])
        base = BASELINE.get(name)
        ratio = (f"{statistics.median(times[base]) / med:.2f}x faster than {base}"
                 if base else "")
        print(f"| {name} | {med:.3f} | {channel_s / med:.0f} | {ratio} |")


if __name__ == "__main__":
    main()
