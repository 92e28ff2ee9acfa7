"""The HTTP API the page uses (docs/serve.md, "API"): Starlette handlers around the worker's jobs.

Errors are JSON {"error": message} with a 4xx status; for a spec the CLI refuses, the message is
the line the CLI prints after "symgrad: error: ". Request bodies are read up to the size limit
and no further; every derivation runs in a worker process with a time limit.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from .. import examples
from ..core.version import __version__
from . import limits
from .worker import Runner

#: Export formats: the CLI's --format, the file suffix and the media type.
EXPORTS = {"markdown": ("markdown", ".md", "text/markdown; charset=utf-8"),
           "latex": ("latex", ".tex", "application/x-tex; charset=utf-8"),
           "pdf": ("latex", ".pdf", "application/pdf")}
INCLUDES = ("markdown", "html", "explore")
STATUS = {"error": 400, "timeout": 422, "too_large": 422, "busy": 503, "internal": 500}


class TooLarge(Exception):
    pass


def error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def body(request: Request) -> bytes:
    """The request body, refused past limits.MAX_BODY_BYTES without reading the rest."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limits.MAX_BODY_BYTES:
        raise TooLarge()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limits.MAX_BODY_BYTES:
            raise TooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def too_large() -> JSONResponse:
    return error(f"request: the body is over {limits.MAX_BODY_BYTES:,} bytes (the spec limit)", 413)


class Api:
    """The handlers, sharing one Runner and the server's settings."""

    def __init__(self, spec_path: str | None = None, time_limit: float = limits.DERIVE_SECONDS,
                 runner: Runner | None = None):
        self.spec_path = spec_path
        self.spec_dir = os.path.dirname(os.path.abspath(spec_path)) if spec_path else None
        self.time_limit = time_limit
        self.runner = runner or Runner()
        self._kinds = None

    async def _job(self, job: str, args: tuple, kwargs: dict, seconds: float):
        return await anyio.to_thread.run_sync(self.runner.run, job, args, kwargs, seconds)

    def _failed(self, outcome, what: str = "derive") -> JSONResponse:
        if outcome.status == "timeout":
            message = (f"{what}: took longer than {outcome.value:g} s, the server's time limit; the work was "
                       f"stopped (run symgrad {what} on the command line, or symgrad serve --time-limit)")
        elif outcome.status == "busy":
            message = f"server: busy, no worker was free for {outcome.value:g} s; try again"
        else:
            message = str(outcome.value)
        return error(message, STATUS.get(outcome.status, 500))

    # --- pages of data ------------------------------------------------------------------------------

    async def start(self, request: Request) -> Response:
        """What the page opens on: the SPEC the server was started with, or a bundled example."""
        if self.spec_path:
            with open(self.spec_path, encoding="utf-8", errors="replace") as handle:
                text = handle.read(limits.MAX_BODY_BYTES)
            name = os.path.basename(self.spec_path)
            bundled = examples.path(name)  # `symgrad serve conv_sum`: the page's list selects it
            if bundled is not None and os.path.samefile(bundled, self.spec_path):
                name = bundled.stem
            return JSONResponse({"name": name, "spec": text})
        return JSONResponse({"name": "conv_max_pool", "spec": examples.text("conv_max_pool")})

    async def example_list(self, request: Request) -> Response:
        return JSONResponse([{"name": n, "title": examples.title(n)} for n in examples.names()])

    async def example(self, request: Request) -> Response:
        name = request.path_params["name"]
        if examples.path(name) is None:
            return error(f"examples: no bundled example {name!r}", 404)
        return PlainTextResponse(examples.text(examples.path(name).stem))

    async def status(self, request: Request) -> Response:
        return JSONResponse({"version": __version__, "slots": limits.WORKER_SLOTS, "time_limit": self.time_limit,
                             "jobs_started": self.runner.started, "jobs_killed": self.runner.killed,
                             "pdf": shutil.which("latexmk") is not None, "torch": _has_torch()})

    # --- derivations --------------------------------------------------------------------------------

    async def derive(self, request: Request) -> Response:
        """POST a spec (TOML): the JSON of `symgrad derive --format json`, byte for byte. With
        ?include=html,explore (the page's call): {"derive": that JSON, "html": ..., "explore": ...}."""
        try:
            raw = await body(request)
        except TooLarge:
            return too_large()
        include = [i for i in request.query_params.get("include", "").split(",") if i]
        unknown = [i for i in include if i not in INCLUDES]
        if unknown:
            return error(f"derive: include: unknown part {unknown[0]!r} (parts: {', '.join(INCLUDES)})")
        lang = request.query_params.get("lang", "en")
        if lang not in ("en", "zh"):
            return error(f"derive: lang: must be en or zh, got {lang!r}")
        outcome = await self._job("derive", (raw, self.spec_dir), {"include": include, "lang": lang},
                                  self.time_limit)
        if outcome.status != "ok":
            return self._failed(outcome)
        result = outcome.value
        if not include:
            return Response(result["derive"].encode("utf-8"), media_type="application/json")
        extra = "".join(f", {json.dumps(k)}: {json.dumps(result[k], ensure_ascii=False)}" for k in include
                        if k in result)
        text = '{"derive": ' + result["derive"] + extra + f', "seconds": {outcome.seconds:.3f}' + "}"
        return Response(text.encode("utf-8"), media_type="application/json")

    async def check(self, request: Request) -> Response:
        try:
            raw = await body(request)
        except TooLarge:
            return too_large()
        outcome = await self._job("check", (raw, self.spec_dir), {}, max(self.time_limit, limits.CHECK_SECONDS))
        return JSONResponse(outcome.value) if outcome.status == "ok" else self._failed(outcome, "check")

    async def export(self, request: Request) -> Response:
        """The CLI itself (`symgrad derive - --format F --out FILE`) in a temporary folder, killed on timeout."""
        kind = request.path_params["format"]
        if kind not in EXPORTS:
            return error(f"export: unknown format {kind!r} (formats: {', '.join(EXPORTS)})", 404)
        if kind == "pdf" and shutil.which("latexmk") is None:
            return error("export: pdf: needs latexmk (TeX Live) on the server, and it is not installed; "
                         "export LaTeX or Markdown instead", 422)
        try:
            raw = await body(request)
        except TooLarge:
            return too_large()
        lang = request.query_params.get("lang", "en")
        if lang not in ("en", "zh"):
            return error(f"export: lang: must be en or zh, got {lang!r}")
        outcome = await self._job("check_weights", (raw, self.spec_dir), {}, self.time_limit)
        if outcome.status != "ok":
            return self._failed(outcome, "export")
        fmt, suffix, media = EXPORTS[kind]
        status, value = await anyio.to_thread.run_sync(_run_cli, raw, fmt, suffix, lang, self.spec_dir)
        if status == "timeout":
            return error(f"export: took longer than {limits.EXPORT_SECONDS:g} s, the server's limit; "
                         "the work was stopped", 422)
        if status != "ok":
            return error(value, 400)
        return Response(value, media_type=media,
                        headers={"content-disposition": f'attachment; filename="derivation{suffix}"'})

    # --- practice -----------------------------------------------------------------------------------

    async def practice_kinds(self, request: Request) -> Response:
        if self._kinds is None:
            outcome = await self._job("practice_kinds", (), {}, max(self.time_limit, 60))
            if outcome.status != "ok":
                return self._failed(outcome, "exercises")
            self._kinds = outcome.value
        return JSONResponse(self._kinds)

    async def practice(self, request: Request) -> Response:
        query = request.query_params
        seed = query.get("seed", "0")
        if not seed.isdigit() or int(seed) > 2**63 - 1:
            return error(f"practice: seed: must be an integer from 0 to {2**63 - 1}, got {seed!r}")
        outcome = await self._job("practice", (query.get("kind", "conv_max_pool"), int(seed)),
                                  {"lang": _lang(query)}, max(self.time_limit, 60))
        return JSONResponse(outcome.value) if outcome.status == "ok" else self._failed(outcome, "exercises")

    async def grade(self, request: Request) -> Response:
        try:
            data = json.loads(await body(request))
        except TooLarge:
            return too_large()
        except (ValueError, UnicodeDecodeError):
            return error("practice: the answer is not JSON")
        if not isinstance(data, dict) or not isinstance(data.get("seed"), int) or data["seed"] < 0:
            return error("practice: expected {\"kind\": ..., \"seed\": integer >= 0, \"answers\": {...}}")
        outcome = await self._job("grade", (str(data.get("kind")), data["seed"], data.get("answers") or {}),
                                  {"lang": _lang(data)}, max(self.time_limit, 60))
        return JSONResponse(outcome.value) if outcome.status == "ok" else self._failed(outcome, "exercises")


def _lang(source) -> str:
    lang = source.get("lang", "en")
    return lang if lang in ("en", "zh") else "en"


def _has_torch() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):  # a finder that refuses torch (the tests' no-torch guard)
        return False


def _run_cli(raw: bytes, fmt: str, suffix: str, lang: str, spec_dir: str | None):
    """("ok", bytes of the file the CLI wrote) or ("error", its one-line message) or ("timeout", None)."""
    with tempfile.TemporaryDirectory(prefix="symgrad-serve-") as folder:
        out = os.path.join(folder, "derivation" + suffix)
        # -P: the working folder (SPEC's) is not put on sys.path; the server's own symgrad is, by PYTHONPATH
        command = [sys.executable, "-P", "-m", "symgrad", "derive", "-", "--format", fmt, "--lang", lang, "--out", out]
        here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        path = os.pathsep.join([*filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep)), here])
        env = {**os.environ, "TMPDIR": folder, "PYTHONPATH": path}
        try:
            done = subprocess.run(command, input=raw, cwd=spec_dir or folder, capture_output=True, env=env,
                                  timeout=limits.EXPORT_SECONDS)
        except subprocess.TimeoutExpired:
            return "timeout", None
        if done.returncode != 0:
            lines = done.stderr.decode("utf-8", "replace").strip().splitlines() or ["export failed"]
            return "error", lines[-1].removeprefix("symgrad: error: ")
        with open(out, "rb") as handle:
            return "ok", handle.read()
