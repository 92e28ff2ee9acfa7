"""Fuzzing the spec reader and `symgrad derive` with mutated example specs and raw bytes.

The seed corpus is examples/*.toml (the small ones: lenet_shapes.toml and
tutorial_net_shapes.toml derive slowly in full). Each example applies one to four
mutations to a seed: byte flips, swaps of two tokens of a kind (numbers, strings, names), numbers replaced by edge values
(0, -1, 1e9, nan, inf, huge ints, ...), strings replaced by injections (code, spaces,
reserved names, control characters), lines deleted, duplicated or inserted (extra
options and layers). Whatever comes out, the only allowed outcomes are:

- `spec.parse` returns a spec or raises SymgradError (never another exception);
- `symgrad derive FILE --format F` exits 0 with nothing on stderr, or exits 2 with
  exactly one line on stderr starting "symgrad: error:"; never 3 (internal error), never
  a traceback.

Slow inputs are kept out by the strategy, not by timeouts: inserted numbers are either
small or far beyond symgrad's size limit (refused at once), and mutants whose symbolic
input shape would hold more than MAX_SYMBOLS entries are not generated.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from symgrad import spec
from symgrad.cli.commands import main
from symgrad.core.errors import SymgradError

from paths import EXAMPLES

SLOW = {"lenet_shapes.toml", "tutorial_net_shapes.toml", "lenet.toml", "tutorial_net.toml", "lenet_first_stage.toml"}
SEEDS = [path.read_bytes() for path in sorted(EXAMPLES.glob("*.toml")) if path.name not in SLOW]
MAX_SYMBOLS = 36

NUMBER = re.compile(rb'-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?')
STRING = re.compile(rb'"[^"\n]*"')
NAME = re.compile(rb'[A-Za-z_][A-Za-z0-9_.]*')
EDGE_NUMBERS = [b"0", b"-1", b"1", b"2", b"3", b"1e9", b"1000000000", b"nan", b"inf", b"-inf", b"1e308", b"-0.0",
                b"0.5", b"1e-320", b"9" * 20, b"9" * 400, b"0x10", b"true", b'"x"', b"[]", b"[1, 2]", b"{}"]
INJECTIONS = [b"\"__import__('os').system('touch pwned')\"", b'"x y"', b'""', b'"k_11"', b'"sigma_11"', b'"y"',
              b'"delta"', b'"\\u0000"', b'"\\n"', b'"' + b"a" * 70 + b'"', b'"\xe5\x8d\xb7\xe7\xa7\xaf"', b'"Conv2d"',
              b'"MaxPool2d"', b'"Sum"', b'"SGD"', b'"same"', b'"valid"', b'"sum"', b'"none"', b'"lambda: 0"',
              b"'''a\nb'''", b'"\xff"']
LINES = [b"padding = 1", b"stride = 2", b"dilation = 2", b"ceil_mode = true", b"groups = 2", b"bias = true",
         b'reduction = "sum"', b"momentum = 0.9", b"nesterov = true", b"divisor_override = 0",
         b"count_include_pad = false", b"init.bias = [1]", b"target = [1, 2]", b'padding = "same"',
         b'[[layers]]\ntype = "ReLU"', b'[[layers]]\ntype = "Sigmoid"', b'[[layers]]\ntype = "Flatten"',
         b'[[layers]]\ntype = "Linear"\nin_features = 1\nout_features = 2', b'[[layers]]\ntype = "Sum"',
         b'[loss]\ntype = "L1Loss"', b'[loss]\ntype = "CrossEntropyLoss"\ntarget = [0]', b"[optimizer]",
         b'title = "x"', b"x = 1", b"[input]", b"[[layers]]", b"values = [[1]]"]


def _tokens(data: bytes, pattern) -> list[re.Match]:
    return list(pattern.finditer(data))


def _replace(data: bytes, match: re.Match, new: bytes) -> bytes:
    return data[:match.start()] + new + data[match.end():]


@st.composite
def mutation(draw, data: bytes) -> bytes:
    # weighted towards mutations that keep the TOML readable, so the layers and options are reached
    kind = draw(st.sampled_from(["flip", "swap", "swap", "number", "number", "number", "string", "string", "delete",
                                 "duplicate", "insert", "insert"]))
    lines = data.split(b"\n")
    if kind == "flip" and data:
        i = draw(st.integers(0, len(data) - 1))
        return data[:i] + bytes([data[i] ^ (1 << draw(st.integers(0, 7)))]) + data[i + 1:]
    if kind == "swap":  # two numbers, two strings or two names
        tokens = _tokens(data, draw(st.sampled_from([NUMBER, STRING, NAME])))
        if len(tokens) >= 2:
            a, b = sorted(draw(st.lists(st.sampled_from(tokens), min_size=2, max_size=2, unique_by=lambda m: m.start())),
                          key=lambda m: m.start())
            return data[:a.start()] + b.group() + data[a.end():b.start()] + a.group() + data[b.end():]
    if kind == "number":
        numbers = _tokens(data, NUMBER)
        if numbers:
            return _replace(data, draw(st.sampled_from(numbers)), draw(st.sampled_from(EDGE_NUMBERS)))
    if kind == "string":
        strings = _tokens(data, STRING)
        if strings:
            return _replace(data, draw(st.sampled_from(strings)), draw(st.sampled_from(INJECTIONS)))
    if kind in ("delete", "duplicate", "insert"):
        i = draw(st.integers(0, len(lines) - 1))
        if kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        else:
            lines.insert(i, draw(st.sampled_from(LINES)))
        return b"\n".join(lines)
    return data


def symbols_small(data: bytes) -> bool:
    """At most MAX_SYMBOLS symbolic input entries, judging by every `shape` line that is not far
    beyond the size limit (those are refused at once); a mutant must stay quick to derive."""
    for line in re.findall(rb"(?m)^[^#\n]*shape[^\n]*", data):
        sizes = [int(n) for n in re.findall(rb"\d+", line)]
        product = 1
        for n in sizes:
            product *= max(n, 1)
        if MAX_SYMBOLS < product <= 10**12 and all(n < 10**7 for n in sizes):
            return False
    return True


@st.composite
def mutants(draw) -> bytes:
    data = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        data = draw(mutation(data))
    return data


FORMATS = st.sampled_from(["text", "json", "latex", "markdown"])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def derive_file(workdir: Path, data: bytes, fmt: str) -> tuple[int, str, str]:
    path = workdir / "spec.toml"
    path.write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["derive", str(path), "--format", fmt])
    return code, out.getvalue(), err.getvalue()


def check(workdir: Path, data: bytes, fmt: str) -> None:
    try:
        spec.parse(data)
    except SymgradError:
        pass
    code, out, err = derive_file(workdir, data, fmt)
    assert "Traceback" not in err, err
    if code == 0:
        assert err == "" and out, (err, out[:200])
        if fmt == "json":
            assert {"output", "loss", "gradients"} <= set(json.loads(out))
    else:
        assert code == 2, f"exit {code}: {err}"
        assert err.startswith("symgrad: error: ") and err.endswith("\n") and err.count("\n") == 1, err


def _seed(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


@settings(max_examples=round(settings.default.max_examples * 8))  # ci: 3200, about 30 s
@given(mutants().filter(symbols_small), FORMATS)
# found by this test: math.isfinite(10**400) raised OverflowError (exit 3)
@example(_seed("conv_avg_pool.toml").replace(b"lr = 0.01", b"lr = " + b"9" * 400), "text")
# Python's 4300-digit limit on int(): tomllib raised ValueError (exit 3)
@example(_seed("conv_sum.toml").replace(b"target = 230", b"target = " + b"9" * 5000), "json")
def test_mutated_examples_end_in_exit_0_or_one_line_exit_2(workdir, data, fmt):
    check(workdir, data, fmt)


@settings(max_examples=settings.default.max_examples)
@given(st.binary(max_size=300), FORMATS)
def test_raw_bytes_end_in_exit_0_or_one_line_exit_2(workdir, data, fmt):
    check(workdir, data, fmt)


def test_seed_corpus_is_the_small_examples(workdir):
    assert len(SEEDS) >= 9
    for data in SEEDS:
        assert symbols_small(data)
        check(workdir, data, "json")
        assert derive_file(workdir, data, "json")[0] == 0  # the seeds themselves derive


# ---------------------------------------------------------------- the TOML reader's pathological inputs
#
# Each example is a spec made to be slow or deep for Python's TOML reader (symgrad/core/limits.py): dotted
# keys of up to 50,000 parts (30,000 took tomllib 30 s and 3.6 GB), tables and inline tables by the
# tens of thousands, arrays of up to 400,000 values, nesting up to 5,000 deep, strings that never end,
# a few of them mixed, around a valid spec. `spec.parse` must return a spec or raise SymgradError,
# within PARSE_SECONDS of CPU time each (measured: under 1 s; a bound against a hang, not a speed target) and with at most 1 GB more address space than the
# test process has, so a regression fails instead of swapping.

PARSE_SECONDS = 5
VALID = (EXAMPLES / "conv_sum.toml").read_text(encoding="utf-8")


@st.composite
def pathological(draw) -> str:
    kind = draw(st.sampled_from(["dotted", "header", "inline_key", "tables", "inline_tables", "array", "rows",
                                 "nested", "inline_nested", "strings"]))
    n = draw(st.one_of(st.integers(1, 20), st.integers(20, 5000), st.sampled_from([30_000, 50_000, 400_000])))
    if kind == "dotted":
        return ".".join(["a"] * min(n, 50_000)) + " = 1\n" + VALID
    if kind == "header":
        return VALID + "[" + ".".join(["t"] * min(n, 50_000)) + "]\n"
    if kind == "inline_key":
        return "x = {" + ".".join(["a"] * min(n, 50_000)) + " = 1}\n" + VALID
    if kind == "tables":
        return VALID + '[[layers]]\ntype = "ReLU"\n' * min(n, 50_000)
    if kind == "inline_tables":
        return "layers = [" + ", ".join(['{type = "Sum"}'] * min(n, 60_000)) + "]\n" + VALID.split("[[layers]]")[0]
    if kind == "array":
        return VALID.replace("values = [[1,2,3],[4,5,6],[7,8,9]]", "values = [[" + ",".join(["1"] * n) + "]]")
    if kind == "rows":
        side = max(1, int(n ** 0.5))
        rows = ",".join("[" + ",".join(["2"] * side) + "]" for _ in range(side))
        return VALID.replace("values = [[1,2,3],[4,5,6],[7,8,9]]", f"values = [{rows}]")
    depth = min(n, 5000)
    closed = draw(st.booleans())
    if kind == "nested":
        return VALID.replace("target = 230", "target = " + "[" * depth + ("1" + "]" * depth if closed else ""))
    if kind == "inline_nested":
        return "x = " + "{a = " * depth + ("1" + "}" * depth if closed else "") + "\n" + VALID
    quote = draw(st.sampled_from(['"""', "'''", '"', "'"]))
    return VALID.replace('title = "', "title = " + quote + "a." * min(n, 50_000) + ("" if closed else "\n") + '"')


@contextlib.contextmanager
def address_space(extra: int):
    """At most `extra` more bytes of address space than this process has now, restored afterwards."""
    import resource

    with open("/proc/self/status") as status:
        size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize"))
    old = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (size + extra, old[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, old)


@settings(max_examples=max(10, settings.default.max_examples // 8))  # ci: 50, about 15 s
@given(st.one_of(pathological(), st.lists(pathological(), min_size=2, max_size=3).map("\n".join)))
@example("a" + ".a" * 29_999 + " = 1\n")  # issue 17
@example('[input]\nvalues = [[1]]\n' + '[[layers]]\ntype = "ReLU"\n' * 100_000)  # issue 17
def test_toml_reader_pathological_inputs_are_bounded(text):
    import time

    start = time.process_time()
    with address_space(2**30):
        try:
            spec.parse(text)
        except SymgradError:
            pass
    assert time.process_time() - start < PARSE_SECONDS
