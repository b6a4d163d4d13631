"""The child that parses an untrusted file breaks a limit, and the caller lives to say so."""

from __future__ import annotations

import os
import time

import pytest

from untrusted.confine import Confined, run_confined


def _grab(gib: int) -> int:
    return len(bytearray(gib << 30))


def _spin() -> None:
    while True:
        pass


def _fail() -> None:
    raise ValueError("line 7: not a serial")


def _die() -> None:
    os.abort()


def test_a_result_comes_back_whole() -> None:
    rows = run_confined(
        lambda n: [(f"SN{i:06d}", i) for i in range(n)], 50_000, memory_bytes=1 << 30, seconds=60
    )
    assert len(rows) == 50_000 and rows[-1] == ("SN049999", 49_999)


def test_memory_beyond_the_budget_ends_the_child_not_the_caller() -> None:
    with pytest.raises(Confined) as broken:
        run_confined(_grab, 2, memory_bytes=256 << 20, seconds=60)
    assert broken.value.limit == "memory"
    assert "needs more than 256 MiB of memory" in str(broken.value)


def test_a_reader_that_never_ends_is_stopped_at_its_deadline() -> None:
    started = time.monotonic()
    with pytest.raises(Confined) as broken:
        run_confined(_spin, memory_bytes=1 << 30, seconds=1)
    assert broken.value.limit == "time"
    assert "longer than 1 s" in str(broken.value)
    assert time.monotonic() - started < 30  # stopped, not waited for


def test_the_reader_s_own_error_reaches_the_caller_as_itself() -> None:
    with pytest.raises(ValueError, match="line 7: not a serial"):
        run_confined(_fail, memory_bytes=1 << 30, seconds=60)


def _children() -> set[int]:
    """This process's children (the test runner may have its own, a worker or a browser)."""
    found: set[int] = set()
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/children", encoding="ascii") as listed:
            found.update(int(pid) for pid in listed.read().split())
    return found


def test_a_child_that_aborts_is_reported_and_reaped() -> None:
    before = _children()
    with pytest.raises(Confined):
        run_confined(_die, memory_bytes=1 << 30, seconds=60)
    assert _children() == before  # no child left behind, not even a zombie


def _nap(seconds: float) -> str:
    time.sleep(seconds)
    return "done"


def test_confined_reads_in_threads_do_not_wait_for_each_other() -> None:
    """A child forked by one thread must not hold another thread's pipe open (found by review:
    a quick read in a threaded server waited for a slow one and timed out)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=6) as pool:
        slow = pool.submit(run_confined, _nap, 3, memory_bytes=1 << 30, seconds=30)
        quick = [
            pool.submit(run_confined, _nap, 0, memory_bytes=1 << 30, seconds=2) for _ in range(40)
        ]
        assert [future.result(timeout=60) for future in quick] == ["done"] * 40
        assert slow.result(timeout=60) == "done"


def test_a_hard_limit_the_process_already_has_is_respected() -> None:
    """Under a hard CPU limit (systemd LimitCPU=, docker --ulimit) the child takes the lower."""
    import subprocess
    import sys

    code = (
        "import resource, sys; sys.path.insert(0, sys.argv[1])\n"
        "resource.setrlimit(resource.RLIMIT_CPU, (100, 100))\n"
        "from untrusted.confine import run_confined\n"
        "print(run_confined(lambda: 42, memory_bytes=1 << 30, seconds=300))\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    done = subprocess.run(
        [sys.executable, "-c", code, root], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.strip() == "42", done.stderr[-500:]
