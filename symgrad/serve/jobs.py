"""The work of one request, run inside a worker process (worker.py) so that it can be killed.

Each job returns ("ok", result) or ("error", one-line message): the message is the one the CLI
prints after "symgrad: error: " for the same spec. Nothing here starts a server or imports one:
the worker's forkserver preloads this module (SymPy and symgrad, no Starlette).
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
import warnings

from .. import spec as specs
from ..core import decimals
from ..core import limits as spec_limits
from ..core.errors import OptionError, SymgradError
from ..printing import render
from . import limits
from .document import page
from .explore import tensors_and_links
from .mdhtml import to_html


def derive(text: str, spec_dir: str | None = None, include=(), lang: str = "en", exact: bool = False) -> dict:
    """{"derive": the text of `symgrad derive --format json`, and with `include`: "markdown" (the derivation
    as `--format markdown` prints it, without the PyTorch sections), "html" (that Markdown as HTML with
    TeX left for KaTeX), "explore" (tensors and hover links)}."""
    spec = read(text, spec_dir)
    sys.set_int_max_str_digits(0)  # as the CLI: exact results may grow past Python's 4300 digits
    derivation = spec.derive("rules", progress=False)
    with decimals.exact_fractions(exact):
        result = {"derive": render(derivation, "json", title=spec.title)}
        if "markdown" in include or "html" in include:  # the same blocks: figures as SVG, worked lines marked
            result["markdown"], html = page(derivation, spec.title, lang)
            if "html" in include:
                result["html"] = html
    if "explore" in include:
        result["explore"] = _explore(derivation)
    return result


def _explore(derivation):
    t = derivation.tensors
    entries = sum(a.size for a in [t.input, *(layer.output for layer in t.layers)]) + \
        sum(p.value.size for p in t.parameters.values())
    if not derivation.expanded or entries > limits.MAX_LINKED_ENTRIES:
        return None
    try:
        return tensors_and_links(derivation)
    except Exception:  # noqa: BLE001 - the grids are an extra: the derivation itself is still shown
        return None


def read(text: str, spec_dir: str | None = None):
    """A posted spec, read as the CLI reads a file. A [weights] file is read only inside the folder of the
    SPEC the server was started on (never elsewhere on the server's disk)."""
    import tempfile

    raw = check_weights(text, spec_dir)
    if spec_dir:
        return specs.parse(raw, spec_dir)
    with tempfile.TemporaryDirectory(prefix="symgrad-serve-") as empty:  # no file is read: a posted spec
        return specs.parse(raw, empty)


def check_weights(text, spec_dir: str | None = None) -> bytes:
    """The spec's bytes, after refusing a [weights] file outside the folder of the server's SPEC."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    try:
        text = raw.decode("utf-8")
        spec_limits.check_spec_text(text)  # what makes tomllib slow or deep is refused first, as in specs.parse
        data = tomllib.loads(text) if len(raw) <= limits.MAX_BODY_BYTES else None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, ValueError, RecursionError, OptionError):
        data = None  # specs.parse below gives the CLI's message
    weights = data.get("weights") if isinstance(data, dict) else None
    if isinstance(weights, dict) and "file" in weights:
        _check_weights_file(weights["file"], spec_dir)
    return raw


def _check_weights_file(name, spec_dir: str | None) -> None:
    if spec_dir is None or not isinstance(name, str):
        raise OptionError("weights", "file", "the server reads no files for a posted spec: give the weights as "
                                             "init values or [weights] seed (or start `symgrad serve` on the spec)")
    folder = os.path.realpath(spec_dir)
    path = os.path.realpath(os.path.join(folder, name))
    if os.path.commonpath([folder, path]) != folder:
        raise OptionError("weights", "file", f"{name} is outside the folder of the spec the server was started on")


def check(text: str, spec_dir: str | None = None, seed: int = 0) -> dict:
    """`symgrad check`'s table as rows: {"values": drawn symbol values, "rows": [...], "agree": bool}."""
    from ..verify import buffer_symbols, compare, evaluate, random_values, torch_reference

    spec = read(text, spec_dir)
    sys.set_int_max_str_digits(0)
    derivation = spec.derive("rules", progress=False)
    try:
        import torch  # noqa: F401
    except ImportError:
        raise SymgradError("check: torch is not installed; install it with: pip install 'symgrad[torch]'") from None
    values = random_values(derivation.free_symbols, seed, positive=buffer_symbols(derivation))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ours = evaluate(derivation, values)
    try:
        theirs = torch_reference(derivation, ours)
    except Exception as error:  # noqa: BLE001 - torch refused what symgrad accepted: one line
        raise SymgradError(f"check: torch raised {type(error).__name__}: {str(error).splitlines()[0][:300]}") from None
    rows = compare(ours, theirs)
    shown = [{"quantity": r["quantity"], "max_abs_error": float(r["max_abs_error"]), "ok": bool(r["ok"]),
              "reason": r.get("reason", "")} for r in rows]
    return {"values": {str(k): float(v) for k, v in list(values.items())[:50]}, "symbols": len(values),
            "rows": shown, "agree": all(r["ok"] for r in shown)}


# --- practice -----------------------------------------------------------------

def practice_kinds() -> list[str]:
    """The `symgrad exercises` kinds whose problems ask for a gradient (the page grades those)."""
    from ..handout import exercises

    kinds = getattr(exercises, "ALL_KINDS", exercises.KINDS)
    return [kind for kind in kinds if exercises.generate(1, 0, kinds=[kind])[0].derivation is not None]


def practice(kind: str, seed: int, lang: str = "en") -> dict:
    """A problem of `kind` from `seed`: its prompt, the answer fields to fill in and its worked solution in steps.

    The problem is `symgrad exercises --kind KIND --seed SEED --count 1`'s."""
    problem = _problem(kind, seed, lang)
    from ..handout import to_markdown
    from ..handout.document import Document

    prompt = to_markdown(Document(lang, tuple(problem.prompt)))
    solution = to_markdown(Document(lang, tuple(problem.solution)))
    steps = []
    for part in re.split(r"\n(?=#{2,4} )", solution):
        if steps and steps[-1].strip().count("\n") == 0 and steps[-1].lstrip().startswith("#"):
            steps[-1] += "\n" + part  # a heading alone ("Forward pass") goes with the step under it
        elif part.strip():
            steps.append(part)
    fields = [{"name": name, "label": label, "shape": list(shape)} for name, label, shape, _ in _answers(problem)]
    return {"kind": kind, "seed": seed, "title": problem.title, "prompt": to_html(prompt), "fields": fields,
            "steps": [to_html(s) for s in steps]}


def grade(kind: str, seed: int, answers: dict, lang: str = "en") -> dict:
    """Each typed entry right or wrong: {"fields": {name: [true/false/null per entry]}, "all": bool}.

    An entry is read as an integer, a decimal or a fraction a/b (nothing else, never evaluated); it is right
    when it equals the exact answer, or rounds to it at two decimals (|typed - exact| <= 0.005)."""
    problem = _problem(kind, seed, lang)
    marks = {}
    for name, _, shape, exact in _answers(problem):
        typed = answers.get(name) if isinstance(answers, dict) else None
        typed = typed if isinstance(typed, list) else []
        marks[name] = [_right(typed[k] if k < len(typed) else None, value) for k, value in enumerate(exact)]
    every = [m for ms in marks.values() for m in ms]
    return {"fields": marks, "all": bool(every) and all(m is True for m in every)}


_NUMBER = re.compile(r"\s*([+-]?)\s*(\d{1,30}(?:\.\d{0,30})?|\.\d{1,30})\s*(?:/\s*(\d{1,30})\s*)?")


def _right(typed, exact):
    """True, False, or None for an empty entry."""
    from fractions import Fraction

    if typed is None or (isinstance(typed, str) and not typed.strip()):
        return None
    match = _NUMBER.fullmatch(str(typed)) if isinstance(typed, (str, int, float)) else None
    if match is None or match.group(3) == "0":
        return False
    value = Fraction(match.group(2)) / (Fraction(int(match.group(3))) if match.group(3) else 1)
    value = -value if match.group(1) == "-" else value
    return value == exact or abs(value - exact) <= Fraction(1, 200)


def _problem(kind: str, seed: int, lang: str):
    """`symgrad exercises --kind KIND --seed SEED --count 1`'s problem (the exercises' public generate)."""
    from ..handout import exercises

    kinds = getattr(exercises, "ALL_KINDS", exercises.KINDS)
    if kind not in kinds:
        raise OptionError("practice", "kind", f"unknown kind {kind!r} (kinds: {', '.join(kinds)})")
    problem = exercises.generate(1, seed, lang, kinds=[kind])[0]
    if problem.derivation is None:
        raise OptionError("practice", "kind", f"{kind} asks for shapes, not a gradient: the page grades gradients")
    return problem


def _answers(problem):
    """(name, label, shape, exact entries as Fractions) of what the student types: each parameter's gradient and,
    after an optimizer step, its new value; the input's gradient for a network without parameters."""
    from fractions import Fraction

    import numpy as np

    d = problem.derivation
    t = d.tensors
    out = []

    def entries(array):
        return [Fraction(str(v)) for v in np.asarray(array, dtype=object).reshape(-1)]

    for name, p in t.parameters.items():
        out.append((f"grad:{name}", f"dL/d {name}", p.gradient.shape, entries(p.gradient)))
        if p.updated is not None:
            out.append((f"updated:{name}", f"{name} after the step", p.updated.shape, entries(p.updated)))
    if not t.parameters:
        out.append(("grad:input", "dL/dX", t.input_gradient.shape, entries(t.input_gradient)))
    return out
