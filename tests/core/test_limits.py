"""Every limit in symgrad/core/limits.py, at the limit (accepted) and just past it (refused: one line,
exit status 2, naming the place and the limit), and documented in docs/guarantees.md.

Cheap limits are run at the limit through the CLI or the spec reader; for expensive ones the
check function is shown to accept exactly the limit (deriving there takes seconds to minutes).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from npz_headers import npz_claiming

import symgrad as sg
from symgrad.core import limits, tensor
from symgrad import spec
from symgrad.cli.commands import main
from symgrad.core.errors import OptionError

from paths import BAD_SPECS, ROOT


def refused(capsys, argv, place, option, limit):
    """main(argv) ends with exit 2 and one stderr line `place: option: ...` naming `limit`."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == "" and err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith(f"symgrad: error: {place}: {option}: "), err
    assert limit in err, err
    return err


def accepted(capsys, argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def write(tmp_path, text, name="spec.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- documented

def test_every_limit_is_in_the_guarantees_table():
    doc = (ROOT / "docs" / "guarantees.md").read_text(encoding="utf-8")
    section = doc.split("## Limits", 1)[1].split("\n## ", 1)[0]
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(\w+)` \| ([^|]+) \|", section, re.M)}
    assert set(rows) == set(limits.LIMITS), set(rows) ^ set(limits.LIMITS)
    for name, value in limits.LIMITS.items():
        shown = rows[name].strip().replace(",", "").replace(" ", "")
        expected = {str(value), f"{value >> 20}MiB" if value >= 1 << 20 else str(value)}
        assert shown in expected, (name, rows[name], value)
    for name in limits.LIMITS:
        assert f"{name} = " in (ROOT / "symgrad" / "core" / "limits.py").read_text(), name


# ---------------------------------------------------------------- the spec's text

def test_spec_bytes(tmp_path, capsys):
    body = '[input]\nvalues = [[1, 2], [3, 4]]\n[[layers]]\ntype = "Sum"\n'
    pad = limits.MAX_SPEC_BYTES - len(body.encode()) - 2
    at = write(tmp_path, body + "#" + "x" * pad + "\n")
    assert at.stat().st_size == limits.MAX_SPEC_BYTES
    accepted(capsys, ["derive", at, "--format", "json"])
    past = write(tmp_path, body + "#" + "x" * (pad + 1) + "\n", "past.toml")
    refused(capsys, ["derive", past], "spec", "file", "MAX_SPEC_BYTES")
    with pytest.raises(OptionError, match="MAX_SPEC_BYTES"):
        spec.parse(past.read_bytes())


def _prescan_refuses(text, limit):
    with pytest.raises(OptionError, match=limit) as error:
        limits.check_spec_text(text)
    assert (error.value.where, error.value.option) == ("spec", "toml")


def test_key_parts(tmp_path, capsys):
    at = ".".join(["a"] * limits.MAX_KEY_PARTS)
    limits.check_spec_text(f"{at} = 1\n[{at}]\n")
    with pytest.raises(OptionError, match="unknown option"):  # read by tomllib, refused as a key
        spec.parse(f"{at} = 1\n")
    _prescan_refuses(f"{at}.a = 1\n", "MAX_KEY_PARTS")
    _prescan_refuses(f"[{at}.a]\n", "MAX_KEY_PARTS")
    _prescan_refuses(f"x = {{{at}.a = 1}}\n", "MAX_KEY_PARTS")
    limits.check_spec_text(f'"{at}.a.b.c" = 1\n')  # one quoted part
    limits.check_spec_text(f'title = "{at}.a.b.c"\n')  # a value, not a key
    refused(capsys, ["derive", write(tmp_path, f"{at}.a = 1\n")], "spec", "toml", "MAX_KEY_PARTS")


def test_nesting(tmp_path, capsys):
    n = limits.MAX_NESTING
    limits.check_spec_text("a = " + "[" * n + "]" * n)
    with pytest.raises(OptionError, match="input: values: nested more than 4"):  # read, then refused in place
        spec.parse("[input]\nvalues = " + "[" * n + "1" + "]" * n + '\n[[layers]]\ntype = "Sum"\n')
    _prescan_refuses("a = " + "[" * (n + 1) + "]" * (n + 1), "MAX_NESTING")
    _prescan_refuses("a = " + "{a = " * (n + 1) + "1" + "}" * (n + 1), "MAX_NESTING")
    refused(capsys, ["derive", write(tmp_path, "a = " + "[" * 100_000)], "spec", "toml", "MAX_NESTING")


def test_table_headers(tmp_path, capsys):
    limits.check_spec_text("".join(f"[t{i}]\n" for i in range(limits.MAX_TABLES)))
    _prescan_refuses("".join(f"[t{i}]\n" for i in range(limits.MAX_TABLES + 1)), "MAX_TABLES")
    _prescan_refuses('[[layers]]\ntype = "ReLU"\n' * (limits.MAX_TABLES + 1), "MAX_TABLES")
    limits.check_spec_text("layers = [" + ", ".join(["{type = 'ReLU'}"] * limits.MAX_TABLES) + "]\n")
    _prescan_refuses("layers = [" + ", ".join(["{type = 'ReLU'}"] * (limits.MAX_TABLES + 1)) + "]\n", "MAX_TABLES")
    thousand = '[[layers]]\ntype = "Conv2d"\nin_channels = 1\nout_channels = 1\nkernel_size = 1\ninit = {weight = [[1]]}\n'
    limits.check_spec_text(thousand * limits.MAX_LAYERS)


def test_array_values(tmp_path, capsys):
    n = limits.MAX_ARRAY_VALUES
    limits.check_spec_text("a = [" + "1," * n + "]\n")
    limits.check_spec_text("a = [" + ", ".join(['"x"'] * n) + "]\n")
    _prescan_refuses("a = [" + "1," * (n + 1) + "]\n", "MAX_ARRAY_VALUES")
    _prescan_refuses("a = [[" + "1, " * n + "], [1]]\n", "MAX_ARRAY_VALUES")
    _prescan_refuses("a = [" + ", ".join(['"x"'] * (n + 1)) + "]\n", "MAX_ARRAY_VALUES")
    rows = ", ".join(["[1, 2, 3, 4]"] * (n // 4 + 1))
    refused(capsys, ["derive", write(tmp_path, f"[input]\nvalues = [{rows}]\n")], "spec", "toml", "MAX_ARRAY_VALUES")


def test_the_prescan_passes_every_example_and_every_bad_spec_it_does_not_mean():
    for path in [*(ROOT / "symgrad" / "examples").glob("*.toml"), *BAD_SPECS.glob("*.toml")]:
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue
        if text.startswith(("# expect: spec | toml", "# expect: spec | file")):
            continue  # refused while reading, some of them by the pre-scan
        limits.check_spec_text(text)


# ---------------------------------------------------------------- layers, channels, tensors

def _layers(count: int, last: str = "Sum") -> str:
    return "[input]\nvalues = [[1]]\n" + '[[layers]]\ntype = "ReLU"\n' * (count - 1) + f'[[layers]]\ntype = "{last}"\n'


def test_layers(tmp_path, capsys):
    s = spec.parse(_layers(limits.MAX_LAYERS))
    assert len(s.network) == limits.MAX_LAYERS
    refused(capsys, ["derive", write(tmp_path, _layers(limits.MAX_LAYERS + 1))], "spec", "layers", "MAX_LAYERS")
    inline = "layers = [" + ", ".join(['{type = "ReLU"}'] * (limits.MAX_LAYERS + 1)) + "]\n[input]\nvalues = [[1]]\n"
    refused(capsys, ["derive", write(tmp_path, inline, "inline.toml")], "spec", "layers", "MAX_LAYERS")


def _conv_spec(channels: int) -> str:
    values = "[" + ", ".join(["[[1]]"] * channels) + "]"
    return (f"[input]\nvalues = {values}\n[[layers]]\ntype = \"Conv2d\"\nin_channels = {channels}\n"
            "out_channels = 1\nkernel_size = 1\n[[layers]]\ntype = \"Sum\"\n[weights]\nseed = 0\n")


def test_channels(tmp_path, capsys):
    out = accepted(capsys, ["derive", write(tmp_path, _conv_spec(limits.MAX_CHANNELS)), "--format", "json"])
    assert '"0.weight"' in out
    refused(capsys, ["derive", write(tmp_path, _conv_spec(limits.MAX_CHANNELS + 1), "past.toml")],
            "layers[0] Conv2d", "in_channels", "MAX_CHANNELS")
    net = sg.Sequential(sg.Conv2d(1, limits.MAX_CHANNELS + 1, 1), sg.Sum())
    with pytest.raises(OptionError, match="layers\\[0\\] Conv2d: out_channels: .*MAX_CHANNELS"):
        sg.derive(net, [[1]])


def test_entries_per_tensor(tmp_path, capsys):
    tensor.check_size("input", "shape", (1, 1, 1000, 1000))
    assert limits.MAX_TENSOR_ENTRIES == 1000 * 1000
    with pytest.raises(OptionError, match="MAX_TENSOR_ENTRIES"):
        tensor.check_size("input", "shape", (1, 1, 1000, 1001))
    refused(capsys, ["derive", write(tmp_path, '[input]\nshape = [1, 1, 1000, 1001]\n[[layers]]\ntype = "Sum"\n')],
            "input", "shape", "MAX_TENSOR_ENTRIES")
    seeded = ('[input]\nvalues = [[1]]\n[[layers]]\ntype = "Flatten"\n[[layers]]\ntype = "Linear"\nin_features = 1\n'
              'out_features = 1000001\n[[layers]]\ntype = "Sum"\n[weights]\nseed = 0\n')
    refused(capsys, ["derive", write(tmp_path, seeded, "seeded.toml")], "layers[1] Linear", "weight",
            "MAX_TENSOR_ENTRIES")


def test_sizes_too_large_to_print_are_refused_in_one_line(tmp_path, capsys):
    """A product of two 3,000-digit sizes would exceed Python's 4,300-digit str() guard."""
    side = "9" * 3000
    err = refused(capsys, ["derive", write(tmp_path, f'[input]\nshape = [1, 1, {side}, {side}]\n[[layers]]\n'
                                                     'type = "Sum"\n')], "input", "shape", "MAX_TENSOR_ENTRIES")
    assert "over 10^100 entries" in err


def test_backward_passes(tmp_path, capsys):
    body = '[input]\nvalues = [[1, 2]]\n[[layers]]\ntype = "Sum"\n'
    out = accepted(capsys, ["derive", write(tmp_path, f"backward_passes = {limits.MAX_BACKWARD_PASSES}\n" + body),
                            "--format", "json"])
    assert '"input": [[[[10000.0, 10000.0]]]]' in out  # d(sum)/dx summed over the passes
    for passes, shown in ((limits.MAX_BACKWARD_PASSES + 1, "10,001 passes"), (10**500, "over 10^100 passes")):
        err = refused(capsys, ["derive", write(tmp_path, f"backward_passes = {passes}\n" + body, "past.toml")],
                      "spec", "backward_passes", "MAX_BACKWARD_PASSES")
        assert shown in err
    with pytest.raises(OptionError, match="MAX_BACKWARD_PASSES"):
        sg.derive(sg.Sequential(sg.Sum()), [[1, 2]], backward_passes=limits.MAX_BACKWARD_PASSES + 1)


def _zeros(*shape) -> np.ndarray:
    array = np.empty(shape, dtype=object)
    array.fill(sp.Integer(0))
    return array


def _check(net, x, loss=None, target=None):
    limits.check_derivation(net, x, net.shapes(x.shape), loss, target)


def test_entries_in_all(tmp_path, capsys):
    n = limits.MAX_ENTRIES - 1  # the input and Sum's one output
    _check(sg.Sequential(sg.Sum()), _zeros(1, 1, 1, n))
    with pytest.raises(OptionError, match="layers\\[0\\] Sum: output: .*MAX_ENTRIES"):
        _check(sg.Sequential(sg.Sum()), _zeros(1, 1, 1, n + 1))
    half = (limits.MAX_ENTRIES - 4) // 2  # input, conv output, and the conv's weight and bias (2)
    _check(sg.Sequential(sg.Conv2d(1, 1, 1).init(weight=[[2]], bias=[1]), sg.Sum()), _zeros(1, 1, 1, half - 1))
    text = ('[input]\nshape = [1, 1, 300, 300]\n[[layers]]\ntype = "Conv2d"\nin_channels = 1\nout_channels = 2\n'
            'kernel_size = 1\ninit.weight = [[[[1]]], [[[2]]]]\ninit.bias = [0, 0]\n[[layers]]\ntype = "Sum"\n')
    refused(capsys, ["derive", write(tmp_path, text)], "layers[0] Conv2d", "output", "MAX_ENTRIES")


def test_symbolic_entries(tmp_path, capsys):
    limits.check_symbolic_input((1, 1, 250, 400))
    with pytest.raises(OptionError, match="input: shape: .*MAX_SYMBOLS"):
        limits.check_symbolic_input((1, 1, 250, 401))
    n = limits.MAX_SYMBOLS
    _check(sg.Sequential(sg.Linear(1, n, bias=False), sg.Sum()), _zeros(1, 1))
    with pytest.raises(OptionError, match="layers\\[0\\] Linear: weight: .*MAX_SYMBOLS"):
        _check(sg.Sequential(sg.Linear(1, n + 1, bias=False), sg.Sum()), _zeros(1, 1))
    _check(sg.Sequential(sg.Linear(1, n // 2, bias=False)), _zeros(1, 1), sg.MSELoss())  # and y_1 ... y_50000
    with pytest.raises(OptionError, match="loss MSELoss: target: .*MAX_SYMBOLS"):
        _check(sg.Sequential(sg.Linear(1, n // 2 + 1, bias=False)), _zeros(1, 1), sg.MSELoss())
    text = ("[input]\nvalues = [[1]]\n[[layers]]\ntype = \"Linear\"\nin_features = 1\n"
            f"out_features = {n + 1}\nbias = false\n[[layers]]\ntype = \"Sum\"\n")
    refused(capsys, ["derive", write(tmp_path, text)], "layers[0] Linear", "weight", "MAX_SYMBOLS")
    text = f'[input]\nshape = [1, 1, 1, {n + 1}]\n[[layers]]\ntype = "Sum"\n'
    refused(capsys, ["derive", write(tmp_path, text, "input.toml")], "input", "shape", "MAX_SYMBOLS")


def test_symbols_at_the_limit_derive(tmp_path, capsys):
    """100,000 symbols through Sum: about 8 s and 200 MB."""
    text = '[input]\nshape = [1, 1, 250, 400]\n[[layers]]\ntype = "Sum"\n'
    out = accepted(capsys, ["derive", write(tmp_path, text), "--format", "json", "--wrt", "input"])
    assert out.startswith('{"output"')


def test_products(tmp_path, capsys):
    conv = sg.Conv2d(1, 1, 10, bias=False).init(weight=np.ones((10, 10), dtype=int).tolist())
    assert limits.layer_terms(conv, (1, 1, 109, 109), (1, 1, 100, 100)) == limits.MAX_TERMS
    _check(sg.Sequential(conv), _zeros(1, 1, 109, 109), sg.MSELoss(), 0)
    with pytest.raises(OptionError, match="layers\\[1\\] ReLU: output: .*MAX_TERMS"):
        _check(sg.Sequential(conv, sg.ReLU()), _zeros(1, 1, 109, 109), sg.MSELoss(), 0)
    pool = sg.MaxPool2d(2**31 - 1, padding=2**30 - 1)  # the window is counted within the input
    assert limits.layer_terms(pool, (1, 1, 1, 1), (1, 1, 1, 1)) == 1
    text = ("[input]\nshape = [1, 16, 64, 64]\n[[layers]]\ntype = \"Conv2d\"\nin_channels = 16\nout_channels = 16\n"
            "kernel_size = 5\n[loss]\ntype = \"MSELoss\"\ntarget = 0\n")
    refused(capsys, ["derive", write(tmp_path, text)], "layers[0] Conv2d", "output", "MAX_TERMS")


def test_shapes_of_a_large_network_are_still_listed(tmp_path, capsys):
    """`shapes` builds nothing: a network past the derivation limits still gets its table."""
    text = ("[input]\nshape = [1, 3, 100, 100]\n[[layers]]\ntype = \"Conv2d\"\nin_channels = 3\nout_channels = 64\n"
            "kernel_size = 3\n")
    out = accepted(capsys, ["shapes", write(tmp_path, text)])
    assert "[1, 64, 98, 98]" in out
    refused(capsys, ["derive", write(tmp_path, text)], "layers[0] Conv2d", "output", "MAX_ENTRIES")


# ---------------------------------------------------------------- written-out expressions

def _tanh_chain(count: int, symbolic: bool = True) -> str:
    source = "shape = [1, 1, 1, 2]" if symbolic else "values = [[1, 2]]"
    return f"expand = true\n[input]\n{source}\n" + '[[layers]]\ntype = "Tanh"\n' * count + '[[layers]]\ntype = "Sum"\n'


def _deepest(count: int) -> int:
    s = spec.parse(_tanh_chain(count))
    s.expand = False
    return max(limits.expansion_depths(s.derive(progress=False).named))


def test_expansion_depth(tmp_path, capsys):
    count = next(n for n in range(limits.MAX_DEPTH - 12, limits.MAX_DEPTH) if _deepest(n + 1) > limits.MAX_DEPTH)
    assert _deepest(count) == limits.MAX_DEPTH
    at = write(tmp_path, _tanh_chain(count))
    for fmt in ("text", "json"):
        accepted(capsys, ["derive", at, "--format", fmt])
    past = write(tmp_path, _tanh_chain(count + 1), "past.toml")
    code = main(["derive", str(past)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert re.match(r"symgrad: error: layers\[\d+\] Tanh: expand: .*MAX_DEPTH", err), err
    assert f"nests {limits.MAX_DEPTH + 1} levels" in err
    auto = spec.parse(_tanh_chain(count + 1).replace("expand = true", 'expand = "auto"')).derive(progress=False)
    assert not auto.expanded  # auto keeps it in names
    numbers = spec.parse(_tanh_chain(300, symbolic=False)).derive(progress=False)  # values stay short: no bound
    x = np.array([1.0, 2.0])
    for _ in range(300):
        x = np.tanh(x)
    assert numbers.expanded and float(numbers.loss) == pytest.approx(float(x.sum()), rel=1e-12)


def test_estimated_depth_is_the_written_out_depth():
    def depth(expr):
        best, stack = 0, [(expr, 1)]
        while stack:
            node, level = stack.pop()
            best = max(best, level)
            stack.extend((arg, level + 1) for arg in node.args)
        return best

    net = sg.Sequential(sg.Conv2d(1, 2, 2), sg.Sigmoid(), sg.MaxPool2d(2), sg.Flatten(), sg.Linear(8, 3), sg.Tanh())
    d = sg.derive(net, sg.symbolic("x", (1, 1, 5, 5)), sg.MSELoss(), expand=False, progress=False)
    values = d.named.exact_values()
    real = [max(depth(values[s]) for s in array.reshape(-1))
            for _, array in [*d.named.activations, *reversed(d.named.deltas)]]
    estimated = limits.expansion_depths(d.named)
    assert all(r <= e <= r + 1 for r, e in zip(real, estimated)), (real, estimated)


def test_diff_work(tmp_path, capsys):
    side = 100  # ReLU over 100 entries and an MSE: 100 entries x (100 + 100) products
    x = _zeros(1, 1, 1, side)
    net = sg.Sequential(sg.ReLU())
    limits.check_diff(net, x, {}, net.shapes(x.shape), sg.MSELoss())
    with pytest.raises(OptionError, match="derive: method: .*MAX_DIFF_WORK"):
        x = _zeros(1, 1, 1, side + 1)
        limits.check_diff(net, x, {}, net.shapes(x.shape), sg.MSELoss())
    text = f'[input]\nshape = [1, 1, 1, {side + 1}]\n[[layers]]\ntype = "ReLU"\n[loss]\ntype = "MSELoss"\ntarget = 0\n'
    refused(capsys, ["derive", write(tmp_path, text), "--method", "diff"], "derive", "method", "MAX_DIFF_WORK")
    deep = write(tmp_path, _tanh_chain(80).replace("expand = true\n", ""), "deep.toml")
    refused(capsys, ["derive", deep, "--method", "diff"], "layers[63] Tanh", "method", "MAX_DEPTH")


# ---------------------------------------------------------------- weights files

LINEAR = ('[input]\nvalues = [[1, 2]]\n[[layers]]\ntype = "Linear"\nin_features = 2\nout_features = 1\n'
          '[[layers]]\ntype = "Sum"\n[weights]\nfile = "w.npz"\n')


def test_weights_array_size(tmp_path, capsys):
    spec_path = write(tmp_path, LINEAR)
    npz_claiming(tmp_path / "w.npz", {"0.weight": (1000, 1000)})  # at the limit: the shape is what is wrong
    err = refused(capsys, ["derive", spec_path], "weights", "file", "expected shape [1, 2], got [1000, 1000]")
    assert "MAX_" not in err
    npz_claiming(tmp_path / "w.npz", {"0.weight": (1000, 1001)})
    err = refused(capsys, ["derive", spec_path], "weights", "file", "MAX_TENSOR_ENTRIES")
    assert "w.npz" in err and "'0.weight'" in err
    npz_claiming(tmp_path / "w.npz", {"0.weight": (100_000, 100_000)})  # the 80 GB header
    err = refused(capsys, ["derive", spec_path], "weights", "file", "80,000,000,000 bytes")
    assert "'0.weight'" in err
    np.savez(tmp_path / "w.npz", **{"0.weight": np.ones((1, 2)), "0.bias": np.ones(1)})
    accepted(capsys, ["derive", spec_path])


def test_weights_file_size(tmp_path, capsys):
    spec_path = write(tmp_path, LINEAR)
    with open(tmp_path / "w.npz", "wb") as handle:  # sparse: no disk used
        handle.truncate(limits.MAX_WEIGHTS_FILE_BYTES)
    err = refused(capsys, ["derive", spec_path], "weights", "file", "cannot read")
    assert "MAX_WEIGHTS_FILE_BYTES" not in err
    with open(tmp_path / "w.npz", "wb") as handle:
        handle.truncate(limits.MAX_WEIGHTS_FILE_BYTES + 1)
    refused(capsys, ["derive", spec_path], "weights", "file", "MAX_WEIGHTS_FILE_BYTES")


def test_weights_array_count(tmp_path, capsys):
    spec_path = write(tmp_path, LINEAR)
    names = {f"x{i}": (1,) for i in range(limits.MAX_WEIGHTS_ARRAYS)}
    npz_claiming(tmp_path / "w.npz", names)
    refused(capsys, ["derive", spec_path], "weights", "file", "unknown parameter 'x0'")
    npz_claiming(tmp_path / "w.npz", {**names, "one_more": (1,)})
    refused(capsys, ["derive", spec_path], "weights", "file", "MAX_WEIGHTS_ARRAYS")


# ---------------------------------------------------------------- an all-number net with tanh and softmax

TINY = """
[input]
values = [[[[1, 2, 0, -1], [3, 1, 2, 0], [0, -2, 1, 1], [2, 0, 1, 3]]]]

[[layers]]
type = "Conv2d"
in_channels = 1
out_channels = 2
kernel_size = 3
init.weight = [[[[0.1, -0.2, 0.3], [0.0, 0.5, -0.1], [0.2, 0.1, -0.3]]], [[[0.3, 0.1, -0.2], [-0.4, 0.2, 0.1], [0.0, -0.1, 0.2]]]]
init.bias = [0.1, -0.2]

[[layers]]
type = "Tanh"

[[layers]]
type = "Flatten"

[[layers]]
type = "Linear"
in_features = 8
out_features = 3
init.weight = [[0.1, 0.2, -0.1, 0.3, 0.0, -0.2, 0.1, 0.4], [-0.3, 0.1, 0.2, 0.0, 0.1, 0.3, -0.2, 0.1], [0.2, -0.1, 0.0, 0.1, 0.3, 0.2, 0.1, -0.4]]
init.bias = [0.0, 0.1, -0.1]

[loss]
type = "CrossEntropyLoss"
target = [1]

[optimizer]
type = "SGD"
lr = 0.1
"""


@pytest.mark.torch
@pytest.mark.torch
def test_all_number_tanh_cross_entropy_net_is_quick_and_exact_where_short(tmp_path, capsys):
    """It took 22 to 48 s (every printer evaluated 1,000-node exact trees again and again); about 1.3 s now."""
    import time

    path = write(tmp_path, TINY)
    for fmt in ("text", "json", "latex", "markdown"):
        start = time.process_time()  # CPU time: a bound against the old 22-48 s, not a speed target
        accepted(capsys, ["derive", path, "--format", fmt])
        assert time.process_time() - start < 10, fmt  # measured 0.6 s in-process; 5 s is the promise
    assert main(["check", str(path)]) == 0, capsys.readouterr()  # torch agrees
    capsys.readouterr()
    d = spec.parse(TINY).derive(progress=False)
    values = d.named.exact_values()  # the exact closed forms, still available one by one
    for name, value in d.named.values.items():
        exact = values[name]
        assert abs(sp.N(value - exact, 40)) <= sp.Float(1e-25) * (1 + abs(sp.N(exact, 40))), name
        if value != exact:
            assert value.is_Float  # only long closed forms are evaluated
    assert d.forward[1][1][0, 0, 0, 0] == -sp.tanh(sp.Rational(2, 5))  # short ones stay exact
    grad = d.gradients["0.weight"][0, 0, 0, 0]
    assert grad.is_Float and abs(float(grad) - -0.12465968362060337) < 1e-15
