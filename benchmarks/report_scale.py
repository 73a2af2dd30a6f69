"""report over many nightly partitions: peak memory and a look at the pages.

    python -m benchmarks.report_scale [--days 30,365] [--calls 6] [--workdir build/bench/report]
        [--screenshots]

Scores ``--calls`` generated stereo calls (``sentiment_model.calls``) with
the packaged starter model into one nightly partition, copies that
partition to make 1 and then each ``--days`` nights of scores, and runs
``report`` on each in a fresh process, recording its peak resident memory
and wall time. The baseline, in the same run, is the plain way: one
``pandas.read_parquet`` of every table, every column, all nights.

With ``--screenshots``, headless Chromium (``chromium``, Debian's package)
renders ``report.html`` and the first call page of the largest report to
PNG files in the work folder, to be looked at.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time

from pipelines import score
from schemas import tables
from sentiment_model import calls

FIRST_DAY = "2025-01-01"
# VmHWM, not ru_maxrss: Linux carries the parent's peak into a forked child's ru_maxrss
PEAK = ("print(next(line.split()[1] for line in open('/proc/self/status')\n"
        "           if line.startswith('VmHWM')))\n")
CHILD = ("import sys\n"
         "from pipelines import report\n"
         "report.run(sys.argv[1:])\n" + PEAK)
PLAIN = ("import sys\n"
         "import pandas as pd\n"
         "n = 0\n"
         "for table in ('files', 'segments', 'calls', 'errors'):\n"
         "    n += len(pd.read_parquet(f'{sys.argv[1]}/{table}'))\n" + PEAK)


def nights(source: str, out: str, n_days: int) -> str:
    """``out`` holding ``source``'s one partition copied to ``n_days`` nights."""
    import datetime

    if os.path.isdir(out):
        return out
    first = datetime.date.fromisoformat(FIRST_DAY)
    for table in score.TABLES:
        folder = os.path.join(source, table)
        parts = [d for d in os.listdir(folder) if d.startswith("run_date=")] if os.path.isdir(
            folder) else []
        for part, k in ((p, k) for p in parts for k in range(n_days)):
            day = (first + datetime.timedelta(days=k)).isoformat()
            shutil.copytree(os.path.join(source, table, part),
                            os.path.join(out, table, f"{tables.PARTITION_KEY}={day}"))
    shutil.copytree(os.path.join(source, "_runs"), os.path.join(out, "_runs"))
    return out


def measure(code: str, *args: str) -> tuple[float, float]:
    """(peak RSS in MiB, wall seconds) of ``python -c code args`` in a fresh process."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          check=False)
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"benchmark child failed:\n{done.stderr[-3000:]}")
    return int(done.stdout.strip().splitlines()[-1]) / 1024, wall


def screenshot(page: str, png: str) -> None:
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                    "--hide-scrollbars", "--window-size=1280,3600", f"--screenshot={png}",
                    f"file://{os.path.abspath(page)}"], check=True, capture_output=True,
                   timeout=120)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", default="30,365")
    parser.add_argument("--calls", type=int, default=6)
    parser.add_argument("--workdir", default="build/bench/report")
    parser.add_argument("--screenshots", action="store_true")
    args = parser.parse_args(argv)
    os.makedirs(args.workdir, exist_ok=True)
    one = os.path.join(args.workdir, "scores-1")
    if not os.path.isdir(one):
        calls.write_calls(os.path.join(args.workdir, "calls"), n_calls=args.calls, seed=3)
        score.run(["--input", os.path.join(args.workdir, "calls", "calls"), "--output", one,
                   "--run-date", FIRST_DAY])
    print("| nights | report peak RSS | report wall | plain read_parquet peak RSS | plain wall |")
    print("|---:|---:|---:|---:|---:|")
    for n_days in (1, *(int(d) for d in args.days.split(","))):
        scores = one if n_days == 1 else nights(one, os.path.join(args.workdir,
                                                                  f"scores-{n_days}"), n_days)
        out = os.path.join(args.workdir, f"report-{n_days}")
        rss, wall = measure(CHILD, "--scores", scores, "--output", out)
        plain_rss, plain_wall = measure(PLAIN, scores)
        print(f"| {n_days} | {rss:.0f} MiB | {wall:.1f} s | {plain_rss:.0f} MiB | "
              f"{plain_wall:.1f} s |", flush=True)
    if args.screenshots:
        for page, png in ((os.path.join(out, "report.html"), "report.png"),
                          (os.path.join(out, "calls", "00.html"), "call_00.png")):
            screenshot(page, os.path.join(args.workdir, png))
            print(f"screenshot: {os.path.join(args.workdir, png)}", file=sys.stderr)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main()
