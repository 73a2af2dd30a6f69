"""score on a long recording in a bucket against the same file on local disk:
peak memory, wall time and the scores it writes.

    python -m benchmarks.bucket_streaming [--hours 1] [--stores local,s3,gs]
        [--repeats 1]

One stereo call repeated to ``--hours`` (16 kHz, 16-bit; generated once
under ``build/bench/score/``, shared with ``benchmarks.score_throughput``)
is scored by ``score`` in a fresh process, the packaged starter model, one
worker (one file), ``--run-date``:

* ``local``: recording, model and output on local disk;
* ``s3``: recording, model and output in a bucket of Moto's S3 server on
  loopback (``tests/object_stores.py``, reached through ``AWS_ENDPOINT_URL``);
* ``gs``: the same in gcp-storage-emulator (``STORAGE_EMULATOR_HOST``), with
  Beam's application-default-credentials search answered at once (as on a
  laptop without credentials; otherwise it retries for about 25 s).

A recording read whole would add its size (230 MiB an hour for stereo) to
the peak; streamed, the peak stays near the local one. The servers run in
this process, so their memory (the object they hold) is not in the peak.
Each store's ``files/`` rows must equal the local run's (labels exactly,
probabilities within 1e-6): the benchmark fails otherwise.
Prints JSON and a Markdown table (median wall, worst peak, ratios to local).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys

from benchmarks.featurize_throughput import ROOT, measure
from benchmarks.score_throughput import RATE, make_call_file, make_long_file

STORES = ("local", "s3", "gs")
RUN_DATE = "2026-12-06"
# score in this process's interpreter, Beam's credentials search answered
# first (tests/object_stores.py does the same in-process)
_NO_ADC = ("from apache_beam.internal.gcp import auth; "
           "auth._Credentials._credentials_init = True; "
           "from pipelines import score; import sys; score.run(sys.argv[1:])")


def long_call(work: str, *, hours: float) -> str:
    """The ``hours``-long stereo call (made once)."""
    source = os.path.join(work, "call-3min-seed10.wav")
    make_call_file(source, minutes=3, seed=10)
    path = os.path.join(work, f"long-{hours:g}h.wav")
    make_long_file(path, source=source, hours=hours)
    return path


def score_command(audio: str, model_dir: str, output: str) -> list[str]:
    return [sys.executable, "-c", _NO_ADC, "--input", audio, "--model-dir", model_dir,
            "--output", output, "--run-date", RUN_DATE, "--progress-interval", "3600"]


def stage(store: str, bucket: str, *, audio: str, model_dir: str) -> tuple[str, str, str]:
    """Copies the recording and the model into ``bucket``; returns their URIs
    and the output's (a fresh folder per call)."""
    import uuid

    from sentiment_model import storage
    from sentiment_model.model_card import CARD_FILE

    audio_uri = storage.join(bucket, "recordings", os.path.basename(audio))
    if not storage.exists(audio_uri):
        storage.upload_file(audio, audio_uri)
    model_uri = storage.join(bucket, "model")
    if not storage.exists(storage.join(model_uri, CARD_FILE)):
        storage.upload_tree(model_dir, model_uri, last=(CARD_FILE,))
    return audio_uri, model_uri, storage.join(bucket, f"scores-{uuid.uuid4().hex[:8]}")


def files_rows(output: str) -> list[dict]:
    """The ``files/`` rows of ``output``'s partition, by (uri name, channel)."""
    from pipelines import analysis

    frame = analysis.read_table(output, "files", run_date=RUN_DATE)
    rows = frame.to_dict("records")
    for row in rows:
        row["uri"] = os.path.basename(row["uri"])
    return sorted(rows, key=lambda r: (r["uri"], r["channel"]))


def same_scores(got: list[dict], want: list[dict]) -> bool:
    """Same files, channels and labels; ``p_*`` within 1e-6."""
    if len(got) != len(want):
        return False
    for a, b in zip(got, want, strict=True):
        if (a["uri"], a["label"]) != (b["uri"], b["label"]):
            return False
        for key in a:
            if key.startswith("p_") and abs(float(a[key]) - float(b[key])) > 1e-6:
                return False
    return True


@contextlib.contextmanager
def servers(stores: tuple[str, ...]):
    """{store: function making a fresh bucket} for the bucket stores asked."""
    import pytest

    from tests import object_stores

    with pytest.MonkeyPatch.context() as mp, contextlib.ExitStack() as stack:
        made = {}
        if "s3" in stores:
            made["s3"] = stack.enter_context(object_stores.s3_server(mp))
        if "gs" in stores:
            made["gs"] = stack.enter_context(object_stores.gcs_server(mp))
        yield made


def run(*, hours: float, stores: tuple[str, ...], repeats: int, work: str) -> dict:
    """{store: {wall_s, walls, peak_mib, same_scores}} and the data's size."""
    from sentiment_model import starter

    audio = long_call(work, hours=hours)
    model_dir = starter.starter_dir()
    results: dict = {"hours": hours, "audio_mib": round(os.path.getsize(audio) / 2**20)}
    local_rows = None
    with servers(stores) as made:
        buckets = {store: make() for store, make in made.items()}
        for store in ("local", *[s for s in stores if s != "local"]):
            walls, peaks, rows = [], [], None
            for _ in range(repeats):
                if store == "local":
                    out = os.path.join(work, "bucket-streaming-local")
                    cmd = [*score_command(audio, model_dir, out), "--overwrite"]
                else:
                    cmd = score_command(*stage(store, buckets[store], audio=audio,
                                               model_dir=model_dir))
                    out = cmd[cmd.index("--output") + 1]
                wall, peak, _cpu = measure(cmd, one_thread=False)
                walls.append(wall)
                peaks.append(peak)
                rows = files_rows(out)
            if store == "local":
                local_rows = rows
            results[store] = {"wall_s": round(statistics.median(walls), 1),
                              "walls": [round(w, 1) for w in walls],
                              "peak_mib": round(max(peaks)),
                              "same_scores": local_rows is not None
                              and same_scores(rows, local_rows)}
    return results


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--stores", default=",".join(STORES),
                        help="local is always run first (the reference)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--workdir", default=os.path.join(ROOT, "build", "bench", "score"))
    args = parser.parse_args(argv)
    stores = tuple(s for s in args.stores.split(",") if s)
    unknown = set(stores) - set(STORES)
    if unknown:
        parser.error(f"--stores: unknown {sorted(unknown)}; choose from {','.join(STORES)}")
    work = os.path.abspath(args.workdir)
    os.makedirs(work, exist_ok=True)
    results = run(hours=args.hours, stores=stores, repeats=args.repeats, work=work)
    print(json.dumps(results, indent=1))
    local = results["local"]
    print(f"\n{args.hours:g} h stereo call ({results['audio_mib']} MiB, "
          f"{args.hours * 7200:.0f} channel-s), {RATE} Hz, starter model\n")
    print("| store | median wall s | peak MiB | peak / local | wall / local | same scores |")
    print("|---|---:|---:|---:|---:|---|")
    for store in STORES:
        if store in results:
            r = results[store]
            print(f"| {store} | {r['wall_s']} | {r['peak_mib']} | "
                  f"{r['peak_mib'] / local['peak_mib']:.2f} | "
                  f"{r['wall_s'] / local['wall_s']:.2f} | {'yes' if r['same_scores'] else 'NO'} |")
    if not all(results[s]["same_scores"] for s in stores if s != "local"):
        raise SystemExit("a bucket run wrote other scores than the local run")
    return results


if __name__ == "__main__":
    main()
