"""Benchmark of the serial engine (run by hand, not a test).

    python benchmarks/serials_bench.py [--rows 10000000] [--rounds 3] [--dir /tmp/serials-bench]

1. Generates (once) a CSV of 10 million serials, ~160 MB: header ``serial``, then ``SN`` + 12
   counter digits + a GS1 check digit per line, mostly ascending, with gaps and duplicates.
2. Measures, interleaved in one run, the whole-process wall time of
   ``python -m serials validate FILE --prefix SN --width 12 --check gs1`` and of the shell
   pipeline ``tail -n +2 FILE | LC_ALL=C sort | LC_ALL=C uniq -d > /dev/null``, and the peak RSS
   of the engine process (via ``/usr/bin/time``; ``os.wait4`` as a fallback).
3. Times ``validate_file`` in-process on a 1-million-serial file.

Targets: engine <= 0.5 x pipeline, engine peak RSS <= 1.5 GB, 1M in-process < 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PREFIX, WIDTH, CHECK = "SN", 12, "gs1"
FIRST_COUNTER = 400_000_000_000
TIME = "/usr/bin/time"


def make_file(path: Path, rows: int, seed: int = 7) -> None:
    """``rows`` serials with about 0.1 % gaps and 0.05 % duplicates, locally shuffled."""
    rng = np.random.default_rng(seed)
    pool = FIRST_COUNTER + np.arange(int(rows * 1.01) + 100, dtype=np.int64)
    skipped = rng.random(len(pool)) < 0.001
    counters = pool[~skipped][:rows].copy()
    dup_targets = rng.choice(rows, size=rows // 2000, replace=False)
    counters[dup_targets] = counters[rng.choice(rows, size=len(dup_targets))]
    # printers and packing lines reorder a little: swap neighbours here and there
    swaps = rng.choice(rows - 1, size=rows // 1000, replace=False)
    counters[swaps], counters[swaps + 1] = counters[swaps + 1].copy(), counters[swaps].copy()

    digits = np.empty((rows, WIDTH), dtype=np.uint8)
    rest = counters.copy()
    for j in range(WIDTH - 1, -1, -1):
        digits[:, j] = rest % 10
        rest //= 10
    weights = np.array([3 if (WIDTH - 1 - j) % 2 == 0 else 1 for j in range(WIDTH)], dtype=np.int64)
    check = (10 - (digits.astype(np.int64) @ weights) % 10) % 10
    line = np.empty((rows, len(PREFIX) + WIDTH + 2), dtype=np.uint8)
    line[:, : len(PREFIX)] = np.frombuffer(PREFIX.encode(), dtype=np.uint8)
    line[:, len(PREFIX) : len(PREFIX) + WIDTH] = digits + 48
    line[:, -2] = check + 48
    line[:, -1] = 10
    tmp = path.with_suffix(".part")
    with open(tmp, "wb") as fh:
        fh.write(b"serial\n")
        fh.write(line.tobytes())
    tmp.rename(path)


def run(cmd: list[str], **kwargs: object) -> tuple[float, int, int]:
    """Wall seconds, exit status and peak RSS (bytes) of one child process.

    The RSS comes from ``/usr/bin/time`` when present: a child forked from this (large)
    process would otherwise report the parent's pre-exec size in ``ru_maxrss``.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file:
        timed = cmd
        if os.path.exists(TIME):
            timed = [TIME, "-q", "-f", "%M", "-o", rss_file.name, *cmd]
        start = time.perf_counter()
        proc = subprocess.Popen(timed, stdout=subprocess.DEVNULL, **kwargs)  # noqa: S603
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        peak = usage.ru_maxrss * 1024
        if timed is not cmd:
            text = rss_file.read().strip().splitlines()
            peak = int(text[-1]) * 1024 if text and text[-1].isdigit() else peak
    return elapsed, os.waitstatus_to_exitcode(status), peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "serials-bench"))
    args = parser.parse_args()

    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    big = folder / f"serials-{args.rows}.csv"
    small = folder / "serials-1000000.csv"
    for path, rows in ((big, args.rows), (small, 1_000_000)):
        if not path.exists():
            print(f"generating {path} ({rows} serials) ...", file=sys.stderr)
            make_file(path, rows)
    with open(big, "rb") as fh:  # page cache warm for both contenders
        while fh.read(1 << 24):
            pass

    engine = [
        sys.executable,
        "-m",
        "serials",
        "validate",
        str(big),
        "--prefix",
        PREFIX,
        "--width",
        str(WIDTH),
        "--check",
        CHECK,
    ]
    pipeline = ["bash", "-c", f"tail -n +2 '{big}' | LC_ALL=C sort | LC_ALL=C uniq -d > /dev/null"]
    engine_times, pipeline_times, peaks = [], [], []
    for _ in range(args.rounds):
        seconds, status, peak = run(engine, cwd=REPO)
        if status not in (0, 1):
            raise SystemExit(f"engine failed with status {status}")
        engine_times.append(seconds)
        peaks.append(peak)
        seconds, _, _ = run(pipeline)
        pipeline_times.append(seconds)

    sys.path.insert(0, str(REPO))
    from serials.engine import NumberingRule, validate_file

    rule = NumberingRule(PREFIX, WIDTH, CHECK)
    validate_file(small, rule)  # warm up imports and page cache
    in_process = []
    for _ in range(5):
        start = time.perf_counter()
        validate_file(small, rule)
        in_process.append(time.perf_counter() - start)

    e, p = statistics.median(engine_times), statistics.median(pipeline_times)
    peak = max(peaks)
    size_mb = big.stat().st_size / 1e6
    best = min(in_process)

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    def listed(times: list[float]) -> str:
        return ", ".join(f"{t:.2f}" for t in times)

    print(f"\n{args.rows} serials, {size_mb:.0f} MB, {os.cpu_count()} CPUs, ", end="")
    print(f"{args.rounds} interleaved rounds (median)\n")
    rows = [
        ("engine, whole process", f"{e:.2f} s ({listed(engine_times)})", ""),
        ("sort \\| uniq -d pipeline", f"{p:.2f} s ({listed(pipeline_times)})", ""),
        ("ratio engine / pipeline", f"{e / p:.2f}", f"<= 0.5 {verdict(e / p <= 0.5)}"),
        ("engine peak RSS", f"{peak / 2**20:.0f} MiB", f"<= 1.5 GB {verdict(peak <= 1.5e9)}"),
        ("1M serials in-process (best of 5)", f"{best:.3f} s", f"< 0.5 s {verdict(best < 0.5)}"),
    ]
    print("| measure | result | target |")
    print("| --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
