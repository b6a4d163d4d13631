"""Run a parser of untrusted bytes in a forked child under a memory and time limit.

A hostile file can make a native reader ask for hundreds of GiB (the process aborts) or spin for
minutes. Run in the caller's process, that takes the web or worker process with it; run here, the
child dies instead and the caller gets :class:`Confined` naming the limit that was broken.

The child is a plain ``fork``: it inherits the parent's modules (no start-up cost), raises its own
address-space limit to "what it already has + the budget", calls the function, sends the pickled
result through a pipe and leaves with ``os._exit`` (no atexit hooks, no database connection
closed under the parent's feet). Pure standard library, no Django: the serial engine's command
line uses it too.
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import os
import pickle
import resource
import select
import signal
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from . import gettext_noop

T = TypeVar("T")

_PAGE = 1 << 16


class Confined(Exception):
    """The child broke a limit (``limit`` is "memory" or "time") or died. Like
    :class:`untrusted.Refused`, ``template`` and ``params`` let a page translate the message."""

    def __init__(
        self, template: str, limit: str, params: Mapping[str, object] | None = None
    ) -> None:
        self.template = template
        self.params = dict(params or {})
        super().__init__(self.template % self.params if self.params else template)
        self.limit = limit


def _too_long(seconds: float) -> Confined:
    return Confined(
        gettext_noop("reading it took longer than %(seconds)s s"),
        "time",
        {"seconds": f"{seconds:g}"},
    )


def _address_space() -> int:
    """Bytes of address space this process already maps (VmSize)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0  # pragma: no cover - Linux always has it


def run_confined(func: Callable[..., T], *args: Any, memory_bytes: int, seconds: float) -> T:
    """``func(*args)`` computed in a child allowed ``memory_bytes`` more address space and
    ``seconds`` of wall time. An exception the function raises is raised again here (it must
    pickle); a broken limit, a result larger than a quarter of the budget, or a dead child
    raises :class:`Confined`."""
    max_result = max(memory_bytes // 4, 1 << 20)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        status = 0
        try:
            _child_setup(write_end, memory_bytes, seconds)
            try:
                payload = pickle.dumps((True, func(*args)), protocol=pickle.HIGHEST_PROTOCOL)
            except MemoryError:
                status = 3
                payload = b""
            except BaseException as exc:  # noqa: BLE001 - carried to the parent
                try:
                    payload = pickle.dumps((False, exc), protocol=pickle.HIGHEST_PROTOCOL)
                except Exception:  # an exception that does not pickle
                    payload = pickle.dumps((False, RuntimeError(traceback.format_exc(limit=3))))
            if len(payload) > max_result:
                status, payload = 3, b""
            view = memoryview(payload)
            while view:
                written = os.write(write_end, view[:_PAGE])
                view = view[written:]
        except BaseException:  # noqa: BLE001 - nothing may escape a forked child
            status = status or 2
        finally:
            os._exit(status)

    os.close(write_end)
    deadline = time.monotonic() + seconds
    pieces: list[bytes] = []
    finished = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _too_long(seconds)
            ready, _, _ = select.select([read_end], [], [], left)
            if not ready:
                continue
            piece = os.read(read_end, _PAGE)
            if not piece:
                finished = True
                break
            pieces.append(piece)
    finally:
        os.close(read_end)
        if not finished:
            _kill(pid)
        status = _reaped(pid)
    signalled = os.WIFSIGNALED(status) and os.WTERMSIG(status)
    if signalled in (signal.SIGXCPU, signal.SIGALRM):
        raise _too_long(seconds)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 2:
        raise Confined(gettext_noop("the reader failed before it could start"), "reader")
    if signalled or os.WEXITSTATUS(status) == 3 or not pieces:
        raise Confined(
            gettext_noop("reading it needs more than %(memory)s MiB of memory"),
            "memory",
            {"memory": f"{memory_bytes / (1 << 20):,.0f}"},
        )
    try:
        ok, value = pickle.loads(b"".join(pieces))  # noqa: S301 - our own child's bytes
    except (pickle.UnpicklingError, EOFError, ValueError):  # cut short: the child was killed
        raise Confined(gettext_noop("the reader stopped before it finished"), "reader") from None
    if not ok:
        raise value
    return value


def _child_setup(write_end: int, memory_bytes: int, seconds: float) -> None:
    """In the forked child: keep only the result's pipe open (another thread's confined call
    must see its own pipe end, not wait for this child), die with the parent, take default
    signal handlers (a Ctrl-C is not a result), write no core file, and take the limits."""
    os.closerange(3, write_end)
    os.closerange(write_end + 1, _max_fd())
    faulthandler.disable()  # a child that dies is reported by the parent, in words
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)
    _die_with_parent()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _limit(resource.RLIMIT_AS, _address_space() + memory_bytes)
    _limit(resource.RLIMIT_CPU, int(seconds) + 1)
    signal.alarm(int(seconds) + 2)  # blocked, not computing: the wall clock ends it too


def _limit(kind: int, wanted: int) -> None:
    """Lower ``kind`` to ``wanted``, never above a hard limit the process already has."""
    _, hard = resource.getrlimit(kind)
    value = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    resource.setrlimit(kind, (value, value))


def _max_fd() -> int:
    try:
        return int(os.sysconf("SC_OPEN_MAX"))
    except (ValueError, OSError):  # pragma: no cover - Linux has it
        return 65536


def _die_with_parent() -> None:
    """prctl(PR_SET_PDEATHSIG, SIGKILL): a parent killed mid-read takes its child with it."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1


def _reaped(pid: int) -> int:
    """The child's wait status; 0 where another part of the process reaps children itself."""
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:  # SIGCHLD ignored, or a pool's own handler reaped it
        return 0


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it may have ended meanwhile
        os.kill(pid, signal.SIGKILL)
