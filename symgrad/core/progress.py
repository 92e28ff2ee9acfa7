"""A progress bar for long derivations: on stderr, only for a terminal, only after a second.

`derive` reports its steps (forward layers, backward layers, expansion, numeric
evaluation) here. The bar is tqdm's, written to stderr and never to stdout, so
`--format json` output stays clean. It is shown when stderr is a terminal, and
only once a run has lasted a second (tqdm's `delay`), so fast runs print nothing.
One step can take minutes (one large layer within the limits, symgrad/core/limits.py):
a ticker thread redraws the bar every TICK seconds meanwhile, so the step's name and
the elapsed time show and move even when no step has finished yet.
`progress=True` (or SYMGRAD_PROGRESS=1) forces it, e.g. into a log file;
`progress=False` (or SYMGRAD_PROGRESS=0) turns it off.
"""

from __future__ import annotations

import os
import sys
import threading
import time

DELAY = 1.0  # seconds before a bar appears: fast derivations print nothing
TICK = 0.5  # seconds between redraws while a step runs


def wanted(progress: bool | None) -> bool:
    """Whether to show a bar: the explicit choice, else SYMGRAD_PROGRESS, else "is stderr a terminal"."""
    if progress is not None:
        return bool(progress)
    setting = os.environ.get("SYMGRAD_PROGRESS", "").strip().lower()
    if setting in ("1", "true", "yes", "on"):
        return True
    if setting in ("0", "false", "no", "off"):
        return False
    stream = sys.stderr
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())


class Progress:
    """Steps of one derivation; `step(text)` marks one done and names the next."""

    def __init__(self, total: int, progress: bool | None = None, delay: float | None = None):
        self._bar = None
        self._stop = None
        delay = DELAY if delay is None else delay
        if wanted(progress):
            from tqdm import tqdm  # imported only when a bar may be shown

            self._bar = tqdm(total=total, desc="symgrad", unit="step", file=sys.stderr, delay=delay,
                             leave=False, dynamic_ncols=True)
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

    def describe(self, text: str) -> None:
        """What is being done now (shown beside the bar)."""
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)

    def step(self, text: str | None = None) -> None:
        if self._bar is not None:
            if text:
                self._bar.set_postfix_str(text, refresh=False)
            self._bar.update(1)

    def skip(self, steps: int) -> None:
        """Steps that turned out not to be needed (e.g. no expansion)."""
        if self._bar is not None:
            self._bar.update(steps)

    def close(self) -> None:
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
