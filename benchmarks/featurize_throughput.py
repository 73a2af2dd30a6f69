"""featurize throughput: the Beam job against plain Python loops.

    python -m benchmarks.featurize_throughput [--minutes 120] [--repeats 3] [--preset NAME]
        [--rates 16000,48000] [--variants pool-2,beam-2]

For each sample rate (generated speech at 16 kHz and at 48 kHz, 10 s clips,
``--minutes`` and a quarter of that, written once under ``build/bench/``) it
runs, each in a fresh process:

* ``plain``: the issue's baseline, a single-process loop: soundfile.read ->
  mono -> soxr resample -> librosa.feature.mfcc (plus librosa's YIN pitch and
  RMS energy when the preset has prosody, and ``compute_spectral`` when it
  has the spectral-shape columns) -> time pooling (nothing written);
* ``plain-write``: a single-process loop doing the job's per-file work with
  the library's functions (read, sha256, decode and checks, resample,
  features, schema check, tfx-bsl encoding in batches of 32, one gzip'd
  TFRecord file, statistics), without Beam;
* ``beam-1``: ``featurize --direct_num_workers 1`` on Beam's FnApiRunner,
  one worker (writes gzip'd TFRecord shards, errors, metadata and train
  statistics); ``beam-1-raw``: the same with ``--compression none``;
* ``beam-auto``: ``featurize`` as a user runs it, without worker options
  (one worker process per core for more than one input file);
* ``pool-2``: the plain work in a ``multiprocessing.Pool(2)``;
* ``beam-2``: ``featurize`` with ``--direct_num_workers 2
  --direct_running_mode multi_processing``.

Wall time is measured from process start to exit (imports included), peak
memory as the largest sum of RSS over the process and its children (sampled
every 50 ms), CPU time as user + system seconds of the process and every
descendant it waited for (``getrusage``; less sensitive than wall time to a
noisy machine). The two-worker variants run with one BLAS thread per process.
"steady" is the marginal rate between the two sizes (the rate at which more
audio is processed once running); "fixed" is the rest of the wall time
(imports, pipeline construction, runner start-up). It prints Markdown tables
of medians and of the ratios the feature-pipeline issue sets targets for.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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
def _plain_one(path: str, preset_name: str) -> int:
    """soundfile.read -> mono -> soxr -> librosa.feature.mfcc (+ the prosody
    columns, by librosa's YIN and RMS, the spectral-shape and the voice
    columns, when the preset has them) -> pooling."""
    import librosa
    import numpy as np
    import soundfile
    import soxr

    from sentiment_model.config import preset
    from sentiment_model.features import compute_prosody, compute_spectral, compute_voice

    cfg = preset(preset_name)
    samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    y = samples.mean(axis=1) if samples.shape[1] > 1 else samples[:, 0]
    if rate != cfg.sample_rate:
        y = soxr.resample(y, rate, cfg.sample_rate, quality="HQ")
    mfcc = librosa.feature.mfcc(y=y, sr=cfg.sample_rate, n_mfcc=cfg.n_mfcc, n_fft=cfg.n_fft,
                                win_length=cfg.win_length, hop_length=cfg.hop_length,
                                n_mels=cfg.n_mels, fmin=cfg.fmin, fmax=cfg.fmax)
    frames = mfcc.T
    if cfg.prosody:
        frames = np.concatenate(
            [frames, compute_prosody(y, cfg.sample_rate, cfg, n_frames=frames.shape[0])], axis=1)
    if cfg.spectral:
        frames = np.concatenate(
            [frames, compute_spectral(y, cfg.sample_rate, cfg, n_frames=frames.shape[0])], axis=1)
    if cfg.voice:
        frames = np.concatenate(
            [frames, compute_voice(y, cfg.sample_rate, n_frames=frames.shape[0])], axis=1)
    pooled = np.concatenate([frames.mean(axis=0), frames.std(axis=0)])
    return int(frames.shape[0] + pooled.shape[0])


def _tfrecord(record: bytes) -> bytes:
    """TFRecord framing: length, masked CRC-32C of the length, data, masked CRC of the data."""
    import struct

    import google_crc32c

    def masked(data: bytes) -> bytes:
        crc = google_crc32c.value(data)
        return struct.pack("<I", (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF)

    length = struct.pack("<Q", len(record))
    return length + masked(length) + record + masked(record)


def _plain_write(paths: list[str], out_path: str, preset_name: str) -> int:
    """The job's per-file work in a plain loop, with the same per-recording
    core (``sentiment_model.featurizing``: decode, sha256, checks, resample,
    features, examples), schema check, tfx-bsl encoding (32 examples per
    call, like the job), one gzip'd TFRecord file (ISA-L, like the job),
    statistics."""
    from isal import igzip
    from tfx_bsl.coders import example_coder

    from pipelines.featurize_fns import ENCODE_BATCH
    from schemas import features as fk
    from sentiment_model import featurizing
    from sentiment_model.config import preset
    from sentiment_model.moments import Moments

    cfg = preset(preset_name)
    schema = fk.build_schema(frame_dims=cfg.frame_dims, pooled_dims=cfg.pooled_dims)
    validate, target = fk.ExampleValidator(schema), fk.arrow_schema(schema)
    encoder = example_coder.RecordBatchToExamplesEncoder(schema)
    frames_stats = Moments(cfg.frame_dims)
    pending: list[dict] = []

    def write_batch() -> None:  # like the job's EncodeExamples: 32 examples per call
        for record in encoder.encode(fk.to_record_batch(pending, schema, target=target)):
            out.write(_tfrecord(record))
        pending.clear()

    with igzip.open(out_path, "wb", compresslevel=1) as out:
        for path in paths:
            with open(path, "rb") as f:
                decoded = featurizing.read_recording(
                    featurizing.AudioItem(uri=path, split="train"), f.read())
            for example in featurizing.recording_examples(decoded, feature=cfg, channels="mix"):
                assert isinstance(example, featurizing.FeatureExample), example
                validate(example.features)
                pending.append(example.features)
                if len(pending) == ENCODE_BATCH:
                    write_batch()
                frames_stats.add_rows(example.features[fk.FRAMES])
        write_batch()
    return frames_stats.count


def plain_main(data_dir: str, workers: int, preset_name: str, write_to: str | None) -> None:
    import functools

    paths = sorted(os.path.join(data_dir, f) for f in os.listdir(data_dir) if f.endswith(".wav"))
    if write_to:
        os.makedirs(write_to, exist_ok=True)
        assert _plain_write(paths, os.path.join(write_to, "plain.tfrecord.gz"), preset_name) > 0
        return
    one = functools.partial(_plain_one, preset_name=preset_name)
    if workers == 1:
        results = [one(p) for p in paths]
    else:
        import multiprocessing

        with multiprocessing.Pool(workers) as pool:
            results = pool.map(one, paths, chunksize=4)
    assert len(results) == len(paths)


# ---------------------------------------------------------------- measuring
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def measure(cmd: list[str], *, one_thread: bool, tree: str = ROOT) -> tuple[float, float, float]:
    """Runs ``cmd`` in ``tree`` (a checkout: the repository, or a worktree of
    another commit, whose packages the command then imports); returns (wall
    seconds, peak RSS of the process tree in MiB, CPU seconds: user + system
    of the process and every descendant it waited for).

    Two-worker variants run with one BLAS thread per process (both the pool
    and Beam), so that two processes do not fight over two cores.
    """
    env = {**os.environ, **(ONE_THREAD if one_thread else {})}
    if tree != ROOT:
        env["PYTHONPATH"] = tree
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
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
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr.read().decode()[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, peak / 2**20, cpu


def variants(data_dir: str, out_dir: str, preset_name: str) -> dict[str, tuple[list[str], bool]]:
    """name -> (command, one BLAS thread per process)."""
    py = sys.executable
    featurize = [py, "-m", "pipelines.featurize", "--input", data_dir, "--output", out_dir,
                 "--overwrite", "--progress-interval", "3600", "--preset", preset_name]
    plain = [py, "-m", "benchmarks.featurize_throughput", "--preset", preset_name, "--plain",
             data_dir]
    two = ["--direct_num_workers", "2", "--direct_running_mode", "multi_processing"]
    raw = ["--compression", "none"]
    one = ["--direct_num_workers", "1"]
    return {
        "plain": ([*plain, "1"], False),
        "plain-write": ([*plain, "1", "--plain-write-to", out_dir], False),
        "beam-1": ([*featurize, *one], False),
        "beam-1-raw": ([*featurize, *one, *raw], False),
        "beam-auto": (featurize, False),
        "pool-2": ([*plain, "2"], True),
        "beam-2": ([*featurize, *two], True),
    }


def run_variants(cmds: dict[str, tuple[list[str], bool]], repeats: int) -> dict[str, list]:
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in cmds}
    for _ in range(repeats):  # interleaved, so drifts in machine load hit all alike
        for name, (cmd, one_thread) in cmds.items():
            runs[name].append(measure(cmd, one_thread=one_thread))
    return runs


def summarize(large: dict, small: dict, audio_large: float, audio_small: float) -> dict:
    """Medians per variant; "steady" is the marginal rate between the two sizes,
    (audio_large - audio_small) / (wall_large - wall_small), and "fixed" the
    wall time that rate leaves unexplained (imports, construction, start-up)."""
    row = {}
    for name in large:
        wall = statistics.median(v[0] for v in large[name])
        wall_small = statistics.median(v[0] for v in small[name])
        steady = (audio_large - audio_small) / max(wall - wall_small, 1e-3)
        row[name] = {
            "wall_s": round(wall, 2),
            "audio_s_per_s": round(audio_large / wall, 1),
            "steady_audio_s_per_s": round(steady, 1),
            "fixed_s": round(wall - audio_large / steady, 2),
            "peak_mib": round(max(v[1] for v in large[name])),
            "cpu_s": round(statistics.median(v[2] for v in large[name]), 1),
            "walls": [round(v[0], 2) for v in large[name]],
            "walls_small": [round(v[0], 2) for v in small[name]],
        }
    return row


VARIANTS = ("plain", "plain-write", "beam-1", "beam-1-raw", "beam-auto", "pool-2", "beam-2")
RATIOS = (("beam-1", "plain"), ("beam-1", "plain-write"), ("beam-1-raw", "plain"),
          ("beam-2", "pool-2"), ("beam-auto", "beam-1"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=120.0,
                        help="audio per data set (default: %(default)s); a quarter of it is "
                             "the second size for the steady rate")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", default=os.path.join(ROOT, "build", "bench"))
    parser.add_argument("--plain", nargs=2, metavar=("DATA_DIR", "WORKERS"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--plain-write-to", help=argparse.SUPPRESS)
    parser.add_argument("--rates", default="16000,48000",
                        help="sample rates of the generated data sets (default: %(default)s)")
    parser.add_argument("--preset", default="default",
                        help="feature preset of every variant (default: %(default)s)")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="comma-separated subset of the variants to run "
                             "(default: all, %(default)s)")
    args = parser.parse_args()
    chosen = args.variants.split(",")
    unknown = sorted(set(chosen) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {', '.join(VARIANTS)}")
    if args.plain:
        plain_main(args.plain[0], int(args.plain[1]), args.preset, args.plain_write_to)
        return

    results = {}
    out_dir = os.path.join(args.workdir, "out")
    for rate in (int(r) for r in args.rates.split(",")):
        sizes = {}
        for minutes in (args.minutes, args.minutes / 4):
            data_dir = os.path.join(args.workdir, f"speech-{rate // 1000}k-{minutes:g}min")
            audio_s = make_data(data_dir, sample_rate=rate, minutes=minutes)
            cmds = variants(data_dir, out_dir, args.preset)
            sizes[minutes] = (audio_s, run_variants({n: cmds[n] for n in chosen}, args.repeats))
        (audio_large, large), (audio_small, small) = sizes.values()
        results[f"{rate // 1000} kHz, {audio_large / 60:.0f} min"] = summarize(
            large, small, audio_large, audio_small)

    print(f"preset: {args.preset}")
    print(json.dumps(results, indent=1))
    names = list(next(iter(results.values())))
    print("\n| data | variant | median wall s | audio-s/s | steady audio-s/s | fixed s "
          "| peak MiB | CPU s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for data, row in results.items():
        for name in names:
            r = row[name]
            print(f"| {data} | {name} | {r['wall_s']} | {r['audio_s_per_s']} | "
                  f"{r['steady_audio_s_per_s']} | {r['fixed_s']} | {r['peak_mib']} | "
                  f"{r['cpu_s']} |")
    print("\n| data | ratio | end to end | repeat by repeat: median (range) | steady |\n"
          "|---|---|---:|---|---:|")
    for data, row in results.items():
        for beam_name, base in RATIOS:
            if beam_name not in row or base not in row:
                continue
            e2e = row[beam_name]["audio_s_per_s"] / row[base]["audio_s_per_s"]
            steady = row[beam_name]["steady_audio_s_per_s"] / row[base]["steady_audio_s_per_s"]
            # the same repeat's walls: base wall / beam wall = beam rate / base rate
            each = [b / w for w, b in zip(row[beam_name]["walls"], row[base]["walls"], strict=True)]
            print(f"| {data} | {beam_name} / {base} | {e2e:.2f} | "
                  f"{statistics.median(each):.2f} ({min(each):.2f} to {max(each):.2f}) | "
                  f"{steady:.2f} |")


if __name__ == "__main__":
    main()
