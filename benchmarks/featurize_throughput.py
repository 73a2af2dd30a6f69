"""featurize throughput: the Beam job against plain Python doing the same work.

    python -m benchmarks.featurize_throughput [--minutes 30] [--repeats 3]

For each data set (generated speech at 16 kHz and at 48 kHz, ``--minutes``
each, written once under ``build/bench/``) it runs, each in a fresh process:

* ``plain``: a single-process loop: soundfile.read -> mono -> soxr resample
  -> librosa MFCC -> time pooling (no Beam, nothing written);
* ``beam-1``: ``featurize`` on Beam's FnApiRunner, one worker (writes gzip'd
  TFRecord shards, errors, metadata and train statistics);
* ``pool-2``: the plain work in a ``multiprocessing.Pool(2)``;
* ``beam-2``: ``featurize`` with ``--direct_num_workers 2
  --direct_running_mode multi_processing``.

Wall time is measured from process start to exit (imports included), peak
memory as the largest sum of RSS over the process and its children (sampled
every 50 ms). The two-worker variants run with one BLAS thread per process.
Each variant also runs on a single clip; "steady" throughput subtracts that
start-up time (imports, pipeline construction, runner start). It prints
Markdown tables of medians and of the ratios the feature-pipeline issue sets
targets for.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import psutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLIP_SECONDS = 10.0


def make_data(out_dir: str, *, sample_rate: int, minutes: float) -> float:
    """Writes generated speech clips once; returns the total audio seconds."""
    import soundfile

    from sentiment_model import synth

    n_clips = round(minutes * 60 / CLIP_SECONDS)
    done = os.path.join(out_dir, f".complete-{n_clips}")
    if not os.path.exists(done):
        os.makedirs(out_dir, exist_ok=True)
        voices = synth.make_voices(8, seed=11)
        for i in range(n_clips):
            voice = voices[i % len(voices)]
            sentiment = synth.SENTIMENTS[i % 3]
            y = synth.synth_utterance(voice, sentiment, duration_s=CLIP_SECONDS,
                                      sample_rate=sample_rate, seed=1000 + i)
            soundfile.write(os.path.join(out_dir, f"clip{i:04d}.wav"), y, sample_rate,
                            subtype="PCM_16")
        open(done, "w").close()
    return n_clips * CLIP_SECONDS


# ----------------------------------------------------------- plain baseline
def _plain_one(path: str) -> int:
    import librosa
    import numpy as np
    import soundfile
    import soxr

    samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    y = samples.mean(axis=1) if samples.shape[1] > 1 else samples[:, 0]
    if rate != 16000:
        y = soxr.resample(y, rate, 16000, quality="HQ")
    mfcc = librosa.feature.mfcc(y=y, sr=16000, n_mfcc=40, n_fft=512, win_length=400,
                                hop_length=160, n_mels=64, fmin=20.0, fmax=7600.0)
    frames = mfcc.T  # the default preset: 40 MFCCs, no deltas
    pooled = np.concatenate([frames.mean(axis=0), frames.std(axis=0)])
    return int(frames.shape[0] + pooled.shape[0])


def plain_main(data_dir: str, workers: int) -> None:
    paths = sorted(os.path.join(data_dir, f) for f in os.listdir(data_dir) if f.endswith(".wav"))
    if workers == 1:
        results = [_plain_one(p) for p in paths]
    else:
        import multiprocessing

        with multiprocessing.Pool(workers) as pool:
            results = pool.map(_plain_one, paths, chunksize=4)
    assert len(results) == len(paths)


# ---------------------------------------------------------------- measuring
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def measure(cmd: list[str], *, one_thread: bool) -> tuple[float, float]:
    """Runs ``cmd``; returns (wall seconds, peak RSS of the process tree in MiB).

    Two-worker variants run with one BLAS thread per process (both the pool
    and Beam), so that two processes do not fight over two cores.
    """
    env = {**os.environ, **(ONE_THREAD if one_thread else {})}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=env)
    ps = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            rss = ps.memory_info().rss + sum(
                c.memory_info().rss for c in ps.children(recursive=True))
        except psutil.Error:
            rss = 0
        peak = max(peak, rss)
        time.sleep(0.05)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr.read().decode()[-3000:]}")
    return wall, peak / 2**20


def variants(data_dir: str, out_dir: str) -> dict[str, tuple[list[str], bool]]:
    """name -> (command, one BLAS thread per process)."""
    py = sys.executable
    featurize = [py, "-m", "pipelines.featurize", "--input", data_dir, "--output", out_dir,
                 "--overwrite", "--progress-interval", "3600"]
    two = ["--direct_num_workers", "2", "--direct_running_mode", "multi_processing"]
    raw = ["--compression", "none"]
    return {
        "plain": ([py, "-m", "benchmarks.featurize_throughput", "--plain", data_dir, "1"], False),
        "beam-1": (featurize, False),
        "beam-1-raw": ([*featurize, *raw], False),
        "pool-2": ([py, "-m", "benchmarks.featurize_throughput", "--plain", data_dir, "2"], True),
        "beam-2": ([*featurize, *two], True),
        "beam-2-raw": ([*featurize, *two, *raw], True),
    }


def run_variants(cmds: dict[str, tuple[list[str], bool]], repeats: int) -> dict[str, list]:
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in cmds}
    for _ in range(repeats):  # interleaved, so drifts in machine load hit all alike
        for name, (cmd, one_thread) in cmds.items():
            runs[name].append(measure(cmd, one_thread=one_thread))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0, help="audio per data set")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", default=os.path.join(ROOT, "build", "bench"))
    parser.add_argument("--plain", nargs=2, metavar=("DATA_DIR", "WORKERS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.plain:
        plain_main(args.plain[0], int(args.plain[1]))
        return

    results = {}
    out_dir = os.path.join(args.workdir, "out")
    for rate in (16000, 48000):
        data_dir = os.path.join(args.workdir, f"speech-{rate // 1000}k-{args.minutes:g}min")
        one_dir = os.path.join(args.workdir, f"speech-{rate // 1000}k-one-clip")
        audio_s = make_data(data_dir, sample_rate=rate, minutes=args.minutes)
        one_s = make_data(one_dir, sample_rate=rate, minutes=CLIP_SECONDS / 60)
        full = run_variants(variants(data_dir, out_dir), args.repeats)
        startup = run_variants(variants(one_dir, out_dir), args.repeats)
        row = {}
        for name in full:
            wall = statistics.median(v[0] for v in full[name])
            fixed = statistics.median(v[0] for v in startup[name])
            row[name] = {
                "wall_s": round(wall, 2),
                "audio_s_per_s": round(audio_s / wall, 1),
                "startup_s": round(fixed, 2),
                "steady_audio_s_per_s": round((audio_s - one_s) / max(wall - fixed, 1e-3), 1),
                "peak_mib": round(max(v[1] for v in full[name])),
                "walls": [round(v[0], 2) for v in full[name]],
            }
        results[f"{rate // 1000} kHz, {audio_s / 60:.0f} min"] = row

    print(json.dumps(results, indent=1))
    names = list(next(iter(results.values())))
    print("\n| data | variant | median wall s | audio-s/s | start-up s | steady audio-s/s "
          "| peak MiB |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for data, row in results.items():
        for name in names:
            r = row[name]
            print(f"| {data} | {name} | {r['wall_s']} | {r['audio_s_per_s']} | "
                  f"{r['startup_s']} | {r['steady_audio_s_per_s']} | {r['peak_mib']} |")
    pairs = [("beam-1", "plain"), ("beam-1-raw", "plain"), ("beam-2", "pool-2"),
             ("beam-2-raw", "pool-2")]
    print("\n| data | ratio | end to end | steady state |\n|---|---|---:|---:|")
    for data, row in results.items():
        for beam_name, base in pairs:
            e2e = row[beam_name]["audio_s_per_s"] / row[base]["audio_s_per_s"]
            steady = row[beam_name]["steady_audio_s_per_s"] / row[base]["steady_audio_s_per_s"]
            print(f"| {data} | {beam_name} / {base} | {e2e:.2f} | {steady:.2f} |")


if __name__ == "__main__":
    main()
