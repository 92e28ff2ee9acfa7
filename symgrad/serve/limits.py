"""The server's bounds, in one place (docs/serve.md, "Limits"): what a request may send and what one
derivation may take. The spec's own limits (symgrad.core.limits) apply on top, as in the CLI."""

from __future__ import annotations

import os

from ..core.limits import MAX_SPEC_BYTES

#: A request body of at most this many bytes (a spec, or a practice answer): the CLI's spec limit.
MAX_BODY_BYTES = MAX_SPEC_BYTES

#: Seconds one derivation may run in its worker process before the process is killed.
DERIVE_SECONDS = 20.0

#: Seconds an export (the CLI run in a temporary folder; a PDF compiles with latexmk) may run.
EXPORT_SECONDS = 120.0

#: Seconds `check with PyTorch` may run (importing torch alone takes a few).
CHECK_SECONDS = 90.0

#: Bytes of address space a worker process may map (RLIMIT_AS): a runaway derivation fails with
#: MemoryError, reported as too large, instead of taking the machine's memory.
WORKER_MEMORY_BYTES = 4 << 30

#: Bytes of one derivation's answer (JSON, Markdown and the hover links together).
MAX_RESULT_BYTES = 16 << 20

#: Derivations that run at the same time; more requests wait for a slot.
WORKER_SLOTS = max(1, min(4, os.cpu_count() or 1))

#: Seconds a request waits for a free slot before it is answered 503 (busy).
QUEUE_SECONDS = 60.0

#: The page re-derives at most a spec of this many tensor entries with its hover links.
MAX_LINKED_ENTRIES = 20_000
