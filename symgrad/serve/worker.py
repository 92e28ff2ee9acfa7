"""Jobs in worker processes that can be killed: a slow spec never hangs the server.

Each job runs in a fresh process forked from a forkserver that has SymPy and symgrad imported
(jobs.py, and warm.py: one derivation run there, its caches inherited), so a derivation starts warm, cannot share state with
another request, and is killed (SIGKILL) when it passes its time limit. Its address space is
capped (limits.WORKER_MEMORY_BYTES). At most `slots` jobs run at once; further requests wait.
"""

from __future__ import annotations

import multiprocessing
import threading
import time

from . import limits


class Outcome:
    """A finished job: `status` "ok" (with `value`), "error" (a one-line message), "timeout", "busy",
    "too_large" or "internal" (a one-line message)."""

    def __init__(self, status: str, value=None, seconds: float = 0.0):
        self.status, self.value, self.seconds = status, value, seconds

    def __repr__(self) -> str:
        return f"Outcome({self.status!r}, {str(self.value)[:60]!r})"


class Runner:
    def __init__(self, slots: int = limits.WORKER_SLOTS, memory: int | None = limits.WORKER_MEMORY_BYTES):
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload(["symgrad.serve.warm"])
        self.slots = threading.BoundedSemaphore(slots)
        self.memory = memory
        self.started = 0  # jobs started, for the tests and /api/status
        self.killed = 0

    def run(self, job: str, args: tuple, kwargs: dict, seconds: float,
            queue_seconds: float = limits.QUEUE_SECONDS) -> Outcome:
        """Run jobs.`job`(*args, **kwargs) in a worker process; blocks (call it from a thread)."""
        if not self.slots.acquire(timeout=queue_seconds):
            return Outcome("busy", queue_seconds)
        try:
            return self._run(job, args, kwargs, seconds)
        finally:
            self.slots.release()

    def _run(self, job, args, kwargs, seconds) -> Outcome:
        receive, send = self.context.Pipe(duplex=False)
        process = self.context.Process(target=_child, args=(send, job, args, kwargs, self.memory), daemon=True)
        start = time.monotonic()
        process.start()
        self.started += 1
        send.close()
        try:
            if receive.poll(seconds):
                status, value = receive.recv()
                return Outcome(status, value, time.monotonic() - start)
            self.killed += 1
            return Outcome("timeout", seconds, time.monotonic() - start)
        except EOFError:  # the process died without an answer (killed by the kernel, out of memory)
            return Outcome("too_large", f"the worker process ended (exit status {process.exitcode})")
        finally:
            if process.is_alive():
                process.kill()
            process.join()
            receive.close()


def _child(send, job, args, kwargs, memory) -> None:
    """In the worker process: run the job and send back (status, value), one line for any failure."""
    _limit_memory(memory)
    from ..core.errors import SymgradError
    from . import jobs

    try:
        value = getattr(jobs, job)(*args, **kwargs)
        status = "ok"
        if _size(value) > limits.MAX_RESULT_BYTES:
            status, value = "too_large", (f"the answer is over {limits.MAX_RESULT_BYTES >> 20} MiB; "
                                          "run symgrad derive on the command line")
    except SymgradError as error:
        status, value = "error", str(error)
    except (RecursionError, MemoryError) as error:
        status, value = "error", f"the derivation is too large ({type(error).__name__})"
    except Exception as error:  # noqa: BLE001 - a bug: one line, as the CLI's internal error
        status, value = "internal", f"internal error: {type(error).__name__}: {str(error)[:300]}"
    try:
        send.send((status, value))
    except MemoryError:
        send.send(("error", "the derivation is too large (MemoryError)"))
    send.close()


def _size(value) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(_size(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_size(v) for v in value)
    return 16


def _limit_memory(memory: int | None) -> None:
    if not memory:
        return
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = memory if hard == resource.RLIM_INFINITY else min(memory, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ImportError, ValueError, OSError):  # not on this platform: the time limit still holds
        pass
