"""score throughput and memory: the Beam job against a plain loop doing the same work.

    python -m benchmarks.score_throughput [--clip-minutes 30] [--call-minutes 10]
        [--calls 3] [--repeats 3] [--long-hours 2] [--parallel-files 0]
        [--preset default|spectral|speaker_norm]

Data (generated once under ``build/bench/score/``): ``--clip-minutes`` of
10-s mono clips and ``--calls`` stereo calls of ``--call-minutes`` each
(16 kHz, 16-bit), scored together (one manifest); a model trained once on
generated speech (one ``bilstm_attention`` on ``--preset``: with
``speaker_norm`` every channel is standardised with its own statistics, so
score holds a file's window features until it is read). Variants, each in
a fresh process (imports, model loading and start-up included):

* ``plain``: one process, no Beam: each file streamed through score's
  per-recording core (``sentiment_model.scoring.RecordingWindows``: the
  same channels, windows, speech detection, features and normalisation) ->
  ``predict_on_batch`` in batches of 64 windows shared across files (the
  same fixed-shape padding) -> the same per-channel aggregation; writes
  nothing;
* ``beam-1``: ``score --direct_num_workers 1`` on Beam's FnApiRunner, one
  worker, writing the files/segments/errors Parquet tables;
* ``beam-auto``: ``score`` as a user runs it, without worker options (one
  worker process per core for more than one input file).

Memory: ``score`` (and the plain loop) on a single long stereo file of
``--long-hours`` and of a quarter of that, peak RSS of the process tree.
With ``--parallel-files N``: beam-1 and beam-auto on N distinct stereo
calls of a quarter of ``--long-hours`` each.
With ``--baseline-tree DIR`` (a worktree of another commit, e.g.
``git worktree add /tmp/old COMMIT``): every timed variant also runs from
that tree, alternated, on the same data and model; the ratios and the
largest difference between the two trees' ``files/`` probabilities are
printed (``--skip-memory`` leaves the long-file runs out).
Prints JSON and Markdown tables of medians and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from typing import TYPE_CHECKING

from benchmarks.featurize_throughput import ROOT, make_data, measure

BASE = " @baseline"  # suffix of a variant run from --baseline-tree

if TYPE_CHECKING:
    from sentiment_model.model_card import ModelCard

RATE = 16000


# ------------------------------------------------------------------- data
def make_call_file(path: str, *, minutes: float, seed: int) -> None:
    """One stereo call of ``minutes`` (4 sections, support-call arc)."""
    import soundfile

    from sentiment_model import calls, synth

    if os.path.exists(path):
        return
    voices = synth.make_voices(8, seed=11)
    section = minutes * 60 / 4
    script = calls.CallScript(customer_arc=calls.ARCS[seed % len(calls.ARCS)],
                              section_s=section, turns=max(1, round(section / 6)))
    speak = calls.synth_utterances(voices[seed % 4], voices[4 + seed % 4], sample_rate=RATE)
    x = calls.make_call(script, speak, sample_rate=RATE, seed=seed)
    soundfile.write(path + ".part", x, RATE, subtype="PCM_16", format="WAV")
    os.replace(path + ".part", path)


def make_long_file(path: str, *, source: str, hours: float) -> None:
    """Repeats a call until ``hours`` long, writing block by block."""
    import soundfile

    if os.path.exists(path):
        return
    block, rate = soundfile.read(source, dtype="int16", always_2d=True)
    total = round(hours * 3600 * rate)
    with soundfile.SoundFile(path + ".part", "w", rate, block.shape[1], "PCM_16",
                             format="WAV") as f:
        written = 0
        while written < total:
            part = block[: total - written]
            f.write(part)
            written += len(part)
    os.replace(path + ".part", path)


def default_model_parameters(card: ModelCard) -> int:
    """Parameters of the default architecture as built today for the features
    and classes of a model card: a cached model with another count was
    trained with an earlier default (e.g. another linear member)."""
    from sentiment_model import models

    fc, norm = card.feature, card.normalization
    return sum(models.build_model(arch, n_classes=len(card.labels),
                                  feature_kind=fc.kind,
                                  frame_dims=len(norm["frames"]["mean"]),
                                  pooled_dims=len(norm["pooled"]["mean"]),
                                  image_frames=fc.image_frames).count_params()
               for arch in models.member_architectures(models.DEFAULT_ARCHITECTURE))


def make_model(workdir: str, *, preset: str = "default") -> str:
    from pipelines import featurize, train
    from sentiment_model import models, synth
    from sentiment_model.config import preset as preset_config
    from sentiment_model.model_card import CARD_FILE, ModelCard

    model_dir = os.path.join(workdir, f"model-{preset}")
    card_path = os.path.join(model_dir, CARD_FILE)
    if os.path.exists(card_path):  # reused while the preset's values and the default
        with open(card_path) as f:    # architecture (and its size) are unchanged
            card = ModelCard.from_dict(json.load(f))
        if (card.feature.same_values(preset_config(preset))
                and card.architecture == models.DEFAULT_ARCHITECTURE
                and card.parameters == default_model_parameters(card)):
            return model_dir
    audio = os.path.join(workdir, "train-audio")
    labels = synth.write_corpus(audio, n_speakers=6, per_class=4, seed=11)
    feats = os.path.join(workdir, "train-features")
    featurize.run(["--input", audio, "--labels", labels, "--output", feats, "--overwrite",
                   "--preset", preset])
    train.run(["--features", feats, "--model-dir", model_dir, "--epochs", "10"])
    return model_dir


# ----------------------------------------------------------- plain baseline
def plain_main(manifest: str, model_dir: str) -> dict[tuple[str, int], dict]:
    """The plain loop: the same per-recording core as score
    (``sentiment_model.scoring.RecordingWindows``), no Beam, nothing written;
    the windows of all files share batches of 64, as RunInference's do.

    Returns:
        ``{(path, channel): aggregate}`` (:func:`sentiment_model.segments.aggregate`).
    """
    import functools

    from pipelines.score_fns import PAD_BUCKETS, window_frames
    from sentiment_model import scoring
    from sentiment_model import segments as seg
    from sentiment_model.features import mel_filters
    from sentiment_model.inference import load_model_dir

    loaded = load_model_dir(model_dir)
    segment = seg.SegmentConfig()
    pad = window_frames(loaded.feature_config, segment, loaded.input_kind)
    filters = mel_filters(loaded.feature_config)
    with open(manifest) as f:
        paths = [line.strip() for line in f if line.strip()]
    pending: list[tuple[tuple, scoring.SpeechWindow]] = []
    scored: dict = {}  # (path, channel) -> [ScoredSegment]
    durations: dict = {}

    def flush() -> None:
        probs = scoring.predict_padded(loaded.model, [w.model_input for _, w in pending],
                                       length=pad, rows=64, buckets=PAD_BUCKETS)
        for (key, w), p in zip(pending, probs, strict=True):
            scored[key].append(seg.ScoredSegment(w.index, w.start_s, w.end_s, True, tuple(p)))
        pending.clear()

    for path in paths:
        core = scoring.recording_windows(loaded, segment=segment, channels="auto",
                                         filters=filters)
        for event in core.events(functools.partial(open, path, "rb")):
            key = (path, event.channel)
            scored.setdefault(key, [])
            if isinstance(event, scoring.SpeechWindow):
                pending.append((key, event))
                if len(pending) == 64:
                    flush()
            elif isinstance(event, scoring.QuietWindow):
                scored[key].append(seg.ScoredSegment(event.index, event.start_s, event.end_s,
                                                     False, None))
            else:
                durations[key] = event.stats.duration_s
    if pending:
        flush()
    return {key: seg.aggregate(sorted(segments, key=lambda s: s.index),
                               duration_s=durations[key], labels=loaded.labels)
            for key, segments in scored.items()}


# ---------------------------------------------------------------- measuring
def commands(manifest: str, model_dir: str, out_dir: str) -> dict[str, list[str]]:
    py = sys.executable
    score = [py, "-m", "pipelines.score", "--input", manifest, "--model-dir", model_dir,
             "--output", out_dir, "--overwrite", "--progress-interval", "3600"]
    return {
        "plain": [py, "-m", "benchmarks.score_throughput", "--plain", manifest, model_dir],
        "beam-1": [*score, "--direct_num_workers", "1"],
        "beam-auto": score,
    }


def write_manifest(path: str, files: list[str]) -> str:
    with open(path, "w") as f:
        f.write("\n".join(files) + "\n")
    return path


def audio_seconds(files: list[str]) -> tuple[float, float]:
    """(recording seconds, channel seconds scored)."""
    import soundfile

    rec = chan = 0.0
    for path in files:
        info = soundfile.info(path)
        rec += info.duration
        chan += info.duration * (2 if info.channels == 2 else 1)
    return rec, chan


def timed_runs(cmds: dict[str, list[str]], *, repeats: int, baseline: str | None
               ) -> dict[str, list[tuple[float, float, float]]]:
    """``measure`` of each command ``repeats`` times, interleaved; with a
    ``baseline`` tree, each also from there (``<name> @baseline``, writing to
    ``<output>-baseline``) right after it."""
    runs: dict[str, list[tuple[float, float, float]]] = {}
    for _ in range(repeats):
        for name, cmd in cmds.items():
            runs.setdefault(name, []).append(measure(cmd, one_thread=False))
            if baseline:
                runs.setdefault(name + BASE, []).append(
                    measure(_to_baseline_output(cmd), one_thread=False, tree=baseline))
    return runs


def _to_baseline_output(cmd: list[str]) -> list[str]:
    if "--output" not in cmd:
        return cmd
    i = cmd.index("--output") + 1
    return [*cmd[:i], cmd[i] + "-baseline", *cmd[i + 1:]]


def files_difference(out_dir: str) -> float | None:
    """Largest absolute difference between the class probabilities of the
    ``files/`` rows of ``out_dir`` and of ``<out_dir>-baseline`` (rows
    matched by uri and channel); ``None`` when either is missing."""
    import pyarrow.dataset as ds

    tables = []
    for d in (out_dir, out_dir + "-baseline"):
        path = os.path.join(d, "files")
        if not os.path.isdir(path):
            return None
        tables.append(ds.dataset(path, format="parquet", partitioning="hive").to_table())
    probs = sorted(c for c in tables[0].column_names if c.startswith("p_"))
    rows = []
    for t in tables:
        cols = t.select(["uri", "channel", *probs]).to_pylist()
        rows.append({(r["uri"], r["channel"]): [r[p] for p in probs] for r in cols})
    if rows[0].keys() != rows[1].keys():
        raise SystemExit("the two trees' files/ tables hold different rows")
    worst = 0.0
    for key, values in rows[0].items():
        for a, b in zip(values, rows[1][key], strict=True):
            if (a is None) != (b is None):
                raise SystemExit(f"{key}: probabilities in one tree only")
            if a is not None:
                worst = max(worst, abs(a - b))
    return worst


def measure_parallel(work: str, model_dir: str, out_dir: str, *, n: int,
                     hours: float, baseline: str | None = None) -> dict[str, dict]:
    """beam-1 and beam-auto on ``n`` distinct stereo calls of ``hours`` each
    (calls of other seeds repeated to length: distinct content, so that none
    is taken for another): {"<variant>, <n> x <hours> h stereo": {wall_s,
    channel_s_per_s, peak_mib}}."""
    files = []
    for i in range(n):
        source = os.path.join(work, f"call-3min-seed{10 + i}.wav")
        make_call_file(source, minutes=3, seed=10 + i)
        path = os.path.join(work, f"parallel-{hours:g}h-{i}.wav")
        make_long_file(path, source=source, hours=hours)
        files.append(path)
    manifest = write_manifest(os.path.join(work, f"parallel-{n}x{hours:g}h.txt"), files)
    _, chan_s = audio_seconds(files)
    cmds = {name: cmd for name, cmd in commands(manifest, model_dir, out_dir).items()
            if name != "plain"}
    out = {}
    for name, values in timed_runs(cmds, repeats=1, baseline=baseline).items():
        wall, peak, _cpu = values[0]
        out[f"{name}, {n} x {hours:g} h stereo"] = {
            "wall_s": round(wall, 1), "channel_s_per_s": round(chan_s / wall, 1),
            "peak_mib": round(peak)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip-minutes", type=float, default=30.0)
    parser.add_argument("--call-minutes", type=float, default=10.0)
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--long-hours", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", default=os.path.join(ROOT, "build", "bench", "score"))
    parser.add_argument("--preset", default="default",
                        choices=("default", "spectral", "mfcc", "speaker_norm"),
                        help="feature preset of the model scored (speaker_norm: each "
                             "channel standardised with its own statistics)")
    parser.add_argument("--parallel-files", type=int, default=0,
                        help="also time beam-1 against beam-auto on this many distinct "
                             "stereo calls of --long-hours / 4 each (default: %(default)s)")
    parser.add_argument("--baseline-tree", default=None,
                        help="a checkout of another commit: every timed variant also runs "
                             "from it, alternated")
    parser.add_argument("--skip-memory", action="store_true",
                        help="leave out the long-file memory runs")
    parser.add_argument("--plain", nargs=2, metavar=("MANIFEST", "MODEL_DIR"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.plain:
        plain_main(*args.plain)
        return

    work = os.path.abspath(args.workdir)  # the manifests hold absolute paths
    os.makedirs(work, exist_ok=True)
    model_dir = make_model(work, preset=args.preset)
    clips_dir = os.path.join(work, f"clips-{args.clip_minutes:g}min")
    make_data(clips_dir, sample_rate=RATE, minutes=args.clip_minutes)
    clips = sorted(os.path.join(clips_dir, f) for f in os.listdir(clips_dir)
                   if f.endswith(".wav"))
    calls = []
    for i in range(args.calls):
        path = os.path.join(work, f"call-{args.call_minutes:g}min-{i}.wav")
        make_call_file(path, minutes=args.call_minutes, seed=i)
        calls.append(path)
    mixed = clips + calls
    rec_s, chan_s = audio_seconds(mixed)
    manifest = write_manifest(os.path.join(work, "mixed.txt"), mixed)
    out_dir = os.path.join(work, "out")

    baseline = os.path.abspath(args.baseline_tree) if args.baseline_tree else None
    runs = timed_runs(commands(manifest, model_dir, out_dir), repeats=args.repeats,
                      baseline=baseline)
    results = {"preset": args.preset, "data": {"clips": len(clips), "calls": len(calls),
                        "recording_s": round(rec_s), "channel_s": round(chan_s)}}
    for name, values in runs.items():
        wall = statistics.median(v[0] for v in values)
        results[name] = {"wall_s": round(wall, 1), "walls": [round(v[0], 1) for v in values],
                         "recording_s_per_s": round(rec_s / wall, 1),
                         "channel_s_per_s": round(chan_s / wall, 1),
                         "peak_mib": round(max(v[1] for v in values))}

    if baseline:
        results["files_max_difference"] = files_difference(out_dir)
    memory = {}
    for hours in () if args.skip_memory else (args.long_hours / 4, args.long_hours):
        path = os.path.join(work, f"long-{hours:g}h.wav")
        make_long_file(path, source=calls[0], hours=hours)  # needs --calls >= 1
        one = write_manifest(os.path.join(work, f"long-{hours:g}h.txt"), [path])
        for name, cmd in commands(one, model_dir, out_dir).items():
            if name == "beam-auto":
                continue  # one file: one worker, the same as beam-1
            wall, peak, _cpu = measure(cmd, one_thread=False)
            memory[f"{name}, {hours:g} h stereo"] = {"wall_s": round(wall, 1),
                                                     "peak_mib": round(peak)}
    results["memory"] = memory
    if args.parallel_files:
        results["parallel"] = measure_parallel(work, model_dir, out_dir, n=args.parallel_files,
                                               hours=args.long_hours / 4, baseline=baseline)
        if baseline:
            results["parallel_files_max_difference"] = files_difference(out_dir)
    print(json.dumps(results, indent=1))
    d = results["data"]
    print(f"\nData: {d['clips']} clips + {d['calls']} stereo calls = "
          f"{d['recording_s'] / 3600:.2f} h of recordings, {d['channel_s'] / 3600:.2f} h of "
          "channel audio scored\n")
    print("| variant | median wall s | recording-s/s | channel-s/s | peak MiB |")
    print("|---|---:|---:|---:|---:|")
    for name in runs:
        r = results[name]
        print(f"| {name} | {r['wall_s']} | {r['recording_s_per_s']} | {r['channel_s_per_s']} | "
              f"{r['peak_mib']} |")
    ratio = results["beam-1"]["wall_s"] and results["plain"]["wall_s"] / results["beam-1"][
        "wall_s"]
    print(f"\nbeam-1 / plain throughput: {ratio:.2f} (target >= 0.8)")
    print(f"beam-auto / beam-1 throughput: "
          f"{results['beam-1']['wall_s'] / results['beam-auto']['wall_s']:.2f}\n")
    if baseline:
        for name in commands("", "", ""):
            print(f"{name} / {name}{BASE} throughput: "
                  f"{results[name + BASE]['wall_s'] / results[name]['wall_s']:.2f}")
        print(f"largest difference of files/ probabilities between the trees: "
              f"{results['files_max_difference']}\n")
    print("| run | wall s | peak MiB |\n|---|---:|---:|")
    for name, r in memory.items():
        print(f"| {name} | {r['wall_s']} | {r['peak_mib']} |")
    for name, r in results.get("parallel", {}).items():
        print(f"| {name} | {r['wall_s']} | {r['peak_mib']} |")


if __name__ == "__main__":
    main()
