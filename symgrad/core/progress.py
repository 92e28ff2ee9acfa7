"""A progress bar for long commands: on stderr, only for a terminal, only after a second.

One bar per command: `command()` opens it (the CLI does, around a whole `derive`), and
everything inside joins it: `derive` reports its steps (forward layers, backward layers,
expansion, numeric evaluation) and the printers theirs (`each`: a tensor printed is a
step), so a command whose printing takes longer than its derivation still shows its bar
moving. Outside a command (the Python API) `derive` opens a bar of its own.
The bar is tqdm's, written to stderr and never to stdout, so `--format json` output stays
clean, and it is cleared before a command writes to stdout (often the same terminal). It is shown
when stderr is a terminal, and only once a run has lasted a second
(tqdm's `delay`), so fast runs print nothing. One step can take minutes (one large layer
within the limits, symgrad/core/limits.py): a ticker thread redraws the bar every TICK
seconds meanwhile, so the step's name and the elapsed time show and move even when no
step has finished yet. `progress=True` (or SYMGRAD_PROGRESS=1) forces it, e.g. into a log
file; `progress=False` (or SYMGRAD_PROGRESS=0) turns it off.

`phase(name)` also names the command's phases (read, derive, print, write) for the bar and,
when SYMGRAD_PHASES names a file, writes each phase's CPU seconds there as JSON when the
command ends (benchmarks/commands.py reads it: where a whole command's time goes). Without
that variable a phase costs one dictionary look-up.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import sys
import threading
import time

DELAY = 1.0  # seconds before a bar appears: fast derivations print nothing
TICK = 0.5  # seconds between redraws while a step runs
MININTERVAL = 0.1  # tqdm redraws after a step at most this often (tests: 0, every step)
PHASES_VARIABLE = "SYMGRAD_PHASES"  # a file for the phases' CPU seconds (benchmarks)


def stream():
    """Where the bar goes: stderr as it is now (tests put a fake terminal here)."""
    return sys.stderr


def wanted(progress: bool | None) -> bool:
    """Whether to show a bar: the explicit choice, else SYMGRAD_PROGRESS, else "is stderr a terminal"."""
    if progress is not None:
        return bool(progress)
    setting = os.environ.get("SYMGRAD_PROGRESS", "").strip().lower()
    if setting in ("1", "true", "yes", "on"):
        return True
    if setting in ("0", "false", "no", "off"):
        return False
    err = stream()
    return bool(err is not None and hasattr(err, "isatty") and err.isatty())


_COMMAND: contextvars.ContextVar = contextvars.ContextVar("symgrad_progress_command", default=None)


class Progress:
    """Steps of one run; `step(text)` marks one done and names the next.

    Inside `command()`, a Progress opened without an explicit choice (progress=None) joins the
    command's bar: its steps are added to that bar's total, and closing it closes nothing.
    """

    def __init__(self, total: int, progress: bool | None = None, delay: float | None = None):
        self._bar = None
        self._stop = None
        self._parent = _COMMAND.get() if progress is None else None
        self._planned, self._done = total, 0
        if self._parent is not None:
            self._parent.extend(total)
            return
        delay = DELAY if delay is None else delay
        if wanted(progress):
            from tqdm import tqdm  # imported only when a bar may be shown

            self._bar = tqdm(total=total, desc="symgrad", unit="step", file=stream(), delay=delay,
                             leave=False, dynamic_ncols=True, mininterval=MININTERVAL, miniters=1)
            self._stop = threading.Event()
            self._ticker = threading.Thread(target=self._tick, args=(self._bar, self._stop, delay), daemon=True,
                                            name="symgrad-progress")
            self._ticker.start()

    @staticmethod
    def _tick(bar, stop, delay):
        """Redraw the bar every TICK seconds once `delay` has passed, until the run ends."""
        start = time.monotonic()
        while not stop.wait(TICK):
            if time.monotonic() - start >= delay:
                bar.refresh()

    @property
    def shown(self) -> bool:
        """Whether steps reach a bar (this one's or the command's)."""
        return self._bar is not None or (self._parent is not None and self._parent.shown)

    def describe(self, text: str) -> None:
        """What is being done now (shown beside the bar)."""
        if self._parent is not None:
            self._parent.describe(text)
        elif self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)

    def extend(self, steps: int, text: str | None = None) -> None:
        """More steps than planned (a joined run's, or a printer's tensors)."""
        self._planned += steps
        if self._parent is not None:
            self._parent.extend(steps, text)
        elif self._bar is not None:
            self._bar.total += steps
            if text:
                self._bar.set_postfix_str(text, refresh=False)

    def step(self, text: str | None = None) -> None:
        self._done += 1
        if self._parent is not None:
            self._parent.step(text)
        elif self._bar is not None:
            if text:
                self._bar.set_postfix_str(text, refresh=False)
            if self._bar.n + 1 > self._bar.total:  # never past the end: the total grows instead
                self._bar.total = self._bar.n + 1
            self._bar.update(1)

    def skip(self, steps: int) -> None:
        """Steps that turned out not to be needed (e.g. no expansion)."""
        self._done += steps
        if self._parent is not None:
            self._parent.skip(steps)
        elif self._bar is not None:
            self._bar.update(steps)

    def close(self) -> None:
        if self._parent is not None:  # a joined run: its unused steps are skipped, the command's bar goes on
            if self._done < self._planned:
                self.skip(self._planned - self._done)
            self._parent = None
            return
        if self._stop is not None:
            self._stop.set()
            self._ticker.join(timeout=1)
            self._stop = None
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


#: A progress that shows nothing, for callers that pass none.
SILENT = Progress(0, progress=False)


def current() -> Progress:
    """The command's bar, or SILENT outside a command (printers called from Python show nothing)."""
    return _COMMAND.get() or SILENT


def each(items, text: str):
    """`items`, a step of the command's bar after each one (a printer's tensors): `for x in each(xs, "gradients")`."""
    bar = _COMMAND.get()
    if bar is None or not bar.shown:
        yield from items
        return
    items = list(items)
    bar.extend(len(items), text)
    for item in items:
        yield item
        bar.step(text)


@contextlib.contextmanager
def command(steps: int = 0, progress: bool | None = None):
    """One bar for a whole command: derive and the printers inside join it. Yields it.

    With SYMGRAD_PHASES set, the phases' CPU seconds are written to that file at the end,
    with "start-up": the CPU time of the process before the command began (interpreter, imports).
    """
    bar = Progress(steps, progress) if _COMMAND.get() is None else Progress(steps)
    token = _COMMAND.set(bar)
    phases = _Phases.start()
    stdout = sys.stdout
    if bar._bar is not None:  # a bar of its own on show: it is cleared before the command's output begins
        sys.stdout = _ClearsTheBar(stdout, bar)
    try:
        yield bar
    finally:
        if isinstance(sys.stdout, _ClearsTheBar):
            sys.stdout = stdout
        _COMMAND.reset(token)
        bar.close()
        phases.finish()


class _ClearsTheBar:
    """stdout during a command with a bar: the first write clears the bar (stderr and stdout are often the
    same terminal, where a redraw would land inside the document), then everything passes through."""

    def __init__(self, stream, bar: Progress):
        self._stream, self._bar = stream, bar

    def write(self, text):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        return self._stream.write(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


@contextlib.contextmanager
def phase(name: str):
    """A named phase of the command, one step of its bar; its CPU seconds recorded for benchmarks."""
    bar = current()
    bar.describe(name)
    timer = _Phases.active
    cpu, wall = (time.process_time(), time.perf_counter()) if timer is not None else (0.0, 0.0)
    try:
        yield bar
    finally:
        if timer is not None:
            timer.add(name, time.process_time() - cpu, time.perf_counter() - wall)
    bar.step()


class _Phases:
    """The CPU (and wall) seconds of a command's phases, written as JSON to SYMGRAD_PHASES's file."""

    active: "_Phases | None" = None

    def __init__(self, path: str | None):
        self.path, self.cpu, self.wall = path, {}, {}
        if path:
            self.cpu["start-up"] = time.process_time()  # since the process began: interpreter and imports

    @classmethod
    def start(cls) -> "_Phases":
        timer = cls(os.environ.get(PHASES_VARIABLE) or None)
        if timer.path and cls.active is None:
            cls.active = timer
        return timer

    def add(self, name: str, cpu: float, wall: float) -> None:
        self.cpu[name] = self.cpu.get(name, 0.0) + cpu
        self.wall[name] = self.wall.get(name, 0.0) + wall

    def finish(self) -> None:
        if _Phases.active is not self:
            return
        _Phases.active = None
        self.cpu["end"] = time.process_time()  # what follows is the interpreter's exit
        try:
            with open(self.path, "w", encoding="utf-8") as file:
                json.dump({"cpu": self.cpu, "wall": self.wall}, file)
        except OSError:  # a benchmark's file; never the command's failure
            pass
