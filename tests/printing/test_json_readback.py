"""Every string of `derive --format json` reads back with plain SymPy and gives torch's numbers.

The contract: an entry with symbols is a string that `sympy.sympify(s)` reads back (no
symgrad import, no extra locals), and with numbers put in for the symbols it gives what
torch autograd gives, ties included; every name (the keys of named.definitions, the
names inside the strings) reads back as itself; an entry without symbols is a JSON number.

The parsing happens in a child process that imports only sympy (READER below, one process
for the whole module, asked one JSON line at a time) and reports whether symgrad was ever
imported there. The parent derives, asks torch (float64) and compares:

- every bundled example (all numbers) and a symbolic variant of each (input, parameters
  and target made symbols), at random small integers and at all-equal values (every
  max-pool window tied);
- random small symbolic networks (hypothesis; conv, pools, ReLU, Sigmoid/Tanh, Flatten,
  Linear, Sum, the three losses, SGD) at integers in -2..2, sometimes all equal, so ties
  and ReLU at exactly 0 happen on purpose;
- symbol names SymPy's parser reads as something else are refused (exit 2, one line),
  and the refused set is exactly what parse_expr does;
- an all-number softmax whose input gradient is exactly 0 prints numbers only;
- seeded weights (float64s made exact) print as floats, not 17-digit fractions, and read back to
  torch's numbers within float64 rounding; under --exact as exact fractions, which read back too.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import random_nets as rn
import symgrad as sg
from symgrad.core import names
from symgrad import spec as specs
from symgrad.cli.commands import main
from symgrad.core import decimals
from symgrad.printing import render
from symgrad.printing.texnames import name_latex
from symgrad.verify import torch_reference
from symgrad.verify.numeric import random_values

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")

EXAMPLES = Path(sg.__file__).resolve().parent / "examples"
# lenet*, tutorial_net*: whole networks (and their shape tables), tens of seconds each to derive
SMALL_EXAMPLES = sorted(p.stem for p in EXAMPLES.glob("*.toml")
                        if not p.stem.startswith(("lenet", "tutorial_net")))

READER = r'''
import json, sys
import sympy


def parse(tree):
    if isinstance(tree, str):
        return sympy.sympify(tree)
    if isinstance(tree, list):
        return [parse(t) for t in tree]
    if isinstance(tree, dict):
        return {k: parse(t) for k, t in tree.items()}
    return tree  # a JSON number


def value(tree, env):
    if isinstance(tree, list):
        return [value(t, env) for t in tree]
    if isinstance(tree, dict):
        return {k: value(t, env) for k, t in tree.items()}
    if not isinstance(tree, sympy.Basic):
        return tree
    expr = tree.xreplace(env)
    left = sorted(s.name for s in expr.free_symbols)
    if left:
        raise ValueError("no value for " + ", ".join(left) + " in " + str(tree)[:200])
    return float(sympy.N(expr, 30))


def count(tree):
    if isinstance(tree, (list, dict)):
        return sum(count(t) for t in (tree.values() if isinstance(tree, dict) else tree))
    return isinstance(tree, sympy.Basic)


for line in sys.stdin:
    request = json.loads(line)
    document, answer = request["document"], {"not_itself": [], "at": []}
    try:
        fields = {k: parse(document[k]) for k in ("output", "loss", "gradients", "updated", "parameters")
                  if k in document}
        named = document.get("named")
        definitions = []
        if named:
            for key, definition in named["definitions"].items():
                name = sympy.sympify(key)
                if not (type(name) is sympy.Symbol and name.name == key):
                    answer["not_itself"].append(key)
                definitions.append((sympy.Symbol(key), parse(definition)))
            fields["named_gradients"] = parse(named["gradients"])
        answer["parsed"] = count(fields) + 2 * len(definitions)
        for values in request["values"]:
            env = {sympy.Symbol(k): sympy.Integer(v) for k, v in values.items()}
            for name, definition in definitions:  # in order, each from the earlier ones, exactly (ties stay ties)
                env[name] = definition.xreplace(env) if isinstance(definition, sympy.Basic) else \
                    sympy.Float(definition)
            answer["at"].append({k: value(v, env) for k, v in fields.items() if k != "parameters"})
    except Exception as error:  # reported to the parent, which fails the test with it
        answer["error"] = f"{type(error).__name__}: {error}"
    answer["symgrad_imported"] = any(m == "symgrad" or m.startswith("symgrad.") for m in sys.modules)
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
'''


class Reader:
    """A child Python that imports only sympy and reads documents back (see READER)."""

    def __init__(self):
        self.process = subprocess.Popen([sys.executable, "-c", READER], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, cwd="/")

    def read(self, document: dict, values: list[dict]) -> dict:
        """Parse every string of `document` once; its fields' numbers at each of `values` ({name: int})."""
        self.process.stdin.write(json.dumps({"document": document, "values": values}) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        assert not answer["symgrad_imported"], "the reader imported symgrad"
        assert "error" not in answer, answer["error"]
        assert not answer["not_itself"], f"names that do not read back as themselves: {answer['not_itself']}"
        return answer

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def reader():
    child = Reader()
    yield child
    child.close()


# --------------------------------------------------------------------------- helpers

def document_of(d) -> dict:
    return json.loads(render(d, "json"))


def close(ours, theirs, label):
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, f"{label}: shape {ours.shape} vs torch {theirs.shape}"
    assert np.allclose(ours, theirs, rtol=1e-9, atol=1e-9), f"{label}: {ours} vs torch {theirs}"


def torch_inputs(d, values: dict) -> dict:
    """The input, parameters and target at `values`, as float64 arrays for torch_reference (symgrad's own
    results are not evaluated: the numbers compared with torch are the read-back JSON's)."""
    def floats(array):
        array = np.asarray(array, dtype=object)
        return np.array([float(e.xreplace(values)) for e in array.reshape(-1)], dtype=np.float64).reshape(array.shape)

    numbers = {"input": floats(d.tensors.input),
               "parameters": {k: floats(p.value) for k, p in d.tensors.parameters.items()}}
    if d.tensors.target is not None:
        numbers["target"] = floats(d.tensors.target)
    return numbers


def agrees_with_torch(reader, d, *value_sets: dict, document: dict | None = None) -> dict:
    """The JSON of `d`, read back by plain SymPy at each of `value_sets` ({Symbol: int}), equals torch autograd."""
    value_sets = value_sets or ({},)
    document = document_of(d) if document is None else document
    answer = reader.read(document, [{s.name: int(v) for s, v in values.items()} for values in value_sets])
    for values, at in zip(value_sets, answer["at"]):
        theirs = torch_reference(d, torch_inputs(d, values))
        close(at["output"], theirs["output"], "output")
        close(at["loss"], theirs["loss"], "loss")
        assert set(at["gradients"]) == set(theirs["gradients"]), (set(at["gradients"]), set(theirs["gradients"]))
        for name, grad in at["gradients"].items():
            close(grad, theirs["gradients"][name], f"dL/d{name}")
        for name, grad in at.get("named_gradients", {}).items():
            close(grad, theirs["gradients"][name], f"named dL/d{name}")
        if theirs["updated"]:
            assert set(at["updated"]) == set(theirs["updated"]), (set(at["updated"]), set(theirs["updated"]))
            for name, value in at["updated"].items():
                close(value, theirs["updated"][name], f"updated {name}")
    return answer


def json_numbers_only(document: dict) -> bool:
    def numbers(tree):
        if isinstance(tree, list):
            return all(numbers(t) for t in tree)
        if isinstance(tree, dict):
            return all(numbers(t) for t in tree.values())
        return isinstance(tree, float)

    return all(numbers(document[k]) for k in ("output", "loss", "gradients", "updated", "parameters")
               if k in document)


def symbolic_variant(name: str) -> dict:
    """The example with every input entry, parameter and target a symbol."""
    data = tomllib.loads((EXAMPLES / f"{name}.toml").read_text(encoding="utf-8"))
    if "values" in data["input"]:
        shape = list(np.asarray(data["input"]["values"]).shape)
        data["input"] = {"shape": shape, "symbol": "x"}
    data.pop("steps", None)  # several steps need numbers (conv_adam_steps)
    for layer in data.get("layers", []):
        layer.pop("init", None)
    if "loss" in data and data["loss"].get("type") != "CrossEntropyLoss":
        data["loss"].pop("target", None)
    return data


# --------------------------------------------------------------------------- bundled examples

@pytest.mark.torch
@pytest.mark.parametrize("name", SMALL_EXAMPLES)
def test_example_json_is_numbers_that_torch_gives(reader, name):
    d = specs.load(EXAMPLES / f"{name}.toml").derive("rules")
    if d.free_symbols:  # avg_pool_backward, conv_symbolic: symbols as bundled
        values = random_values(d.free_symbols, seed=1)
    else:
        values = {}
        assert json_numbers_only(document_of(d)), name
    agrees_with_torch(reader, d, values)


@pytest.mark.torch
@pytest.mark.parametrize("name", SMALL_EXAMPLES)
def test_symbolic_example_reads_back_and_gives_torchs_numbers_ties_included(reader, name):
    d = specs.from_dict(symbolic_variant(name)).derive("rules")
    assert d.free_symbols
    answer = agrees_with_torch(reader, d, random_values(d.free_symbols, seed=7, low=-2, high=2),
                               {s: sp.Integer(1) for s in d.free_symbols})  # every window tied
    assert answer["parsed"] > 0


@pytest.mark.torch
def test_max_pool_ties_and_relu_at_zero_route_as_torch(reader):
    net = sg.Sequential(sg.Conv2d(1, 1, 2), sg.ReLU(), sg.MaxPool2d(2, stride=1))  # overlapping windows
    d = sg.derive(net, sg.symbolic("x", (1, 1, 3, 4)), sg.MSELoss(), optimizer=sg.SGD(lr=0.1))
    document = document_of(d)
    text = json.dumps(document)
    assert "Piecewise" in text and "Heaviside" in text
    assert "FirstArgmax" not in text and "1[" not in text
    agrees_with_torch(reader, d, {s: sp.Integer(0) for s in d.free_symbols},  # ReLU at 0, all windows tied
                      {s: sp.Integer(1) for s in d.free_symbols}, random_values(d.free_symbols, seed=3, low=-1, high=1))


# --------------------------------------------------------------------------- random symbolic networks

LARGEST = 100_000  # characters of JSON a random network's check reads back
IMAGE = ["Conv2d", "MaxPool2d", "AvgPool2d", "ReLU", "Linear"]
KINDS = ["Conv2d", "MaxPool2d", "AvgPool2d", "ReLU", "Sigmoid", "Tanh", "Linear", "CrossEntropyLoss"]


def _layer(kind: str, shape: tuple):
    if kind == "Conv2d":
        return rn.conv2d(shape)
    if kind in ("MaxPool2d", "AvgPool2d"):
        return rn.pool2d(shape, kind)
    if kind == "Linear":
        return rn.linear(shape)
    return st.just((kind, {}))


@st.composite
def small_symbolic_nets(draw, kind: str):
    """A layer of `kind` (or, for CrossEntropyLoss, that loss) and maybe another image layer before or after it,
    on a small input, then nothing, Sum, or Flatten (and Linear); every value an integer in -2..2 (rn.finish),
    and how the symbols are set: as drawn, all equal (every max-pool window tied) or zero (ReLU at 0)."""
    x_shape = shape = draw(rn.input_shape(max_channels=2, max_side=3))
    plan = [kind if kind != "CrossEntropyLoss" else draw(st.sampled_from(IMAGE))]
    if draw(st.booleans()):
        plan.insert(draw(st.integers(0, 1)), draw(st.sampled_from(IMAGE)))
    layers = []
    for layer in plan:
        shape = rn.add_layer(draw, layers, shape, _layer(layer, shape))
    tail = "logits" if kind == "CrossEntropyLoss" else draw(st.sampled_from(["none", "sum", "flatten"]))
    if tail == "sum":
        layers.append(("Sum", {}))
        shape = ()
    elif tail == "flatten":
        shape = rn.add_layer(draw, layers, shape, rn.flatten(shape))
    elif tail == "logits":  # (N, C) logits for the cross-entropy loss
        shape = rn.add_layer(draw, layers, shape, st.just(("Flatten", {})))
        if draw(st.booleans()):
            shape = rn.add_layer(draw, layers, shape, rn.linear(shape))
    net = draw(rn.finish(layers, shape, x_shape))
    if kind == "CrossEntropyLoss":
        target = draw(arrays(np.int64, (shape[0],), elements=st.integers(0, shape[1] - 1)))
        net = dataclasses.replace(net, loss=("CrossEntropyLoss", {}), target=target)
    return net, draw(st.booleans()), draw(st.sampled_from(["drawn", "drawn", "all equal", "zeros"]))


def _symbolic_derivation(net: rn.Net, symbolic_target: bool):
    """The network with a symbolic input, symbolic parameters and (sometimes) a symbolic target."""
    layers = [getattr(sg, kind)(**kwargs) for kind, kwargs in net.layers]
    loss = None if net.loss is None else getattr(sg, net.loss[0])(**net.loss[1])
    target = None if symbolic_target and net.loss is not None and net.loss[0] != "CrossEntropyLoss" else net.target
    optimizer = None if net.sgd is None else sg.SGD(**net.sgd)
    try:
        return sg.derive(sg.Sequential(*layers), sg.symbolic("x", net.x.shape), loss, target, optimizer,
                         backward_passes=net.passes)
    except sg.OptionError as error:  # the one documented refusal (tests/engine/test_properties.py)
        assert error.option == "dilation" and "lies entirely in the padding" in error.message, error
        assume(False)


def _values(d, net: rn.Net, mode: str) -> dict:
    """Integers for every free symbol: the drawn ones (-2..2), all equal (every window tied) or zeros."""
    if mode != "drawn":
        fill = 0 if mode == "zeros" else 1
        return {s: sp.Integer(fill) for s in d.free_symbols}
    values = {}
    arrays = [(d.tensors.input, net.x)] + [(d.tensors.parameters[k].value, v) for k, v in net.params.items()]
    for symbols, numbers in arrays:
        for s, n in zip(symbols.reshape(-1), np.asarray(numbers).reshape(-1)):
            values[s] = sp.Integer(int(n))
    rest = sorted(d.free_symbols - set(values), key=lambda s: s.name)  # a symbolic target
    values.update({s: sp.Integer((i % 5) - 2) for i, s in enumerate(rest)})
    return values


@pytest.mark.torch
@pytest.mark.parametrize("kind", KINDS)
def test_random_symbolic_networks_read_back_and_give_torchs_numbers(reader, kind):
    @settings(max_examples=6, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    @given(small_symbolic_nets(kind))
    def check(drawn):
        net, symbolic_target, mode = drawn
        d = _symbolic_derivation(net, symbolic_target)
        text = render(d, "json")
        # a few drawn networks print a megabyte (Sum of a wide conv: every gradient repeats the whole sum), which
        # SymPy takes ~10 s to read back; the examples above and the rest here cover the same forms
        assume(len(text) < LARGEST)
        agrees_with_torch(reader, d, _values(d, net, mode), document=json.loads(text))

    check()


# --------------------------------------------------------------------------- names

def test_generated_names_read_back_as_themselves_and_are_unique(reader):
    net = sg.Sequential(sg.Conv2d(2, 2, 2), sg.ReLU(), sg.MaxPool2d(1), sg.Conv2d(2, 1, 1), sg.Sum())
    d = sg.derive(net, sg.symbolic("x", (1, 2, 11, 3)), sg.MSELoss(), expand=False)
    names_ = [str(s) for s in d.named.definitions] + [str(s) for s in d.free_symbols]
    assert len(set(names_)) == len(names_)
    assert {"x_1_10_1", "sigma_1_10_2", "delta_sigma_1_10_2", "a_1_10_2", "S_1_10_2", "sigma3_10_1", "S4",
            "delta_S4", "k0_1111", "y"} <= set(names_)
    scalar = sg.derive(sg.Sequential(sg.Sum()), sg.symbolic("x", (1, 1, 2, 2)), sg.MSELoss())
    assert [str(s) for s in scalar.named.definitions] == ["S_", "delta_S"]  # a bare S would read as SymPy's S
    at = reader.read(document_of(scalar), [{"x_11": 1, "x_12": 2, "x_21": 3, "x_22": 4, "y": 0}])["at"][0]
    assert at["loss"] == 100
    assert not [n for n in names_ if "^" in n or "," in n]
    answer = reader.read(document_of(d), [{s.name: 1 for s in d.free_symbols}])
    assert answer["parsed"] >= len(d.named.definitions)
    for shape in ((1, 1, 12, 12), (2, 3, 10, 11), (1, 1, 1, 100)):
        entries = [s.name for s in sg.symbolic("x", shape).reshape(-1)]
        assert len(set(entries)) == len(entries), shape


@pytest.mark.parametrize("name,latex", [
    ("delta_sigma_11", r"\delta^{\sigma}_{11}"), ("delta_S_11", r"\delta^{S}_{11}"), ("delta_S", r"\delta^{S}"),
    ("x_1_10", "x_{1,10}"), ("x_110", "x_{110}"), ("sigma3_1_2_10", r"\sigma^{[3]}_{1,2,10}"), ("S_", "S"),
    ("delta_S3_12", r"\delta^{S^{[3]}}_{12}"), ("k0_111", "k^{[0]}_{111}"),
])
def test_latex_forms_of_names(name, latex):
    assert name_latex(name) == latex


def test_the_refused_set_is_what_parse_expr_reads_as_something_else():
    """Only our own fixed strings are parsed here (never user text): the table against SymPy's parser."""
    from sympy.parsing.sympy_parser import parse_expr

    refused = set(names._parser_names())
    allowed = ["x", "e", "E_", "S_", "k_11", "sigma", "delta_S_11", "x_1_10", "y", "a", "z", "f", "w", "b", "n",
               "i", "match", "case", "type", "lam", "t", "pi_", "int", "float", "list", "dict", "object"]
    for name in sorted(refused) + allowed:
        try:
            parsed = parse_expr(name)
        except (SyntaxError, TypeError, ValueError, AttributeError, NotImplementedError):
            parsed = None  # a keyword alone, a class that needs arguments: not a symbol either way
        symbol = type(parsed) is sp.Symbol and parsed.name == name
        assert symbol == (name not in refused), name
    for name in ("E", "I", "pi", "N", "S", "Q", "O", "beta", "gamma", "zeta", "exp", "log", "sign", "Max", "tanh",
                 "lambda", "True", "None", "class", "max", "sum", "input", "oo", "nan", "Symbol", "Heaviside"):
        assert name in refused, name


REFUSED = ["E", "I", "pi", "N", "S", "Q", "O", "beta", "gamma", "zeta", "exp", "log", "sign", "Max", "tanh",
           "lambda", "True", "None", "class", "max", "sum", "input", "oo", "Piecewise"]


@pytest.mark.parametrize("name", REFUSED)
def test_symbol_names_sympy_reads_otherwise_are_refused_in_one_line(name, tmp_path, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_text(f'[input]\nvalues = [["{name}", 2], [3, 4]]\n[[layers]]\ntype = "Sum"\n', encoding="utf-8")
    assert main(["derive", str(spec), "--format", "json"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"symgrad: error: input: values: symbol name {name} would read back as "), err
    assert f"e.g. {name}_" in err


@pytest.mark.parametrize("section,option", [
    ('[input]\nshape = [1, 1, 2, 2]\nsymbol = "E"\n[[layers]]\ntype = "Sum"\n', "input: symbol"),
    ('[input]\nvalues = [[1, 2], [3, 4]]\n[[layers]]\ntype = "Conv2d"\nin_channels = 1\nout_channels = 1\n'
     'kernel_size = 1\ninit.weight = [["pi"]]\n[[layers]]\ntype = "Sum"\n', "layers[0] Conv2d: init.weight"),
    ('[input]\nvalues = [[1, 2], [3, 4]]\n[[layers]]\ntype = "Sum"\n[loss]\ntype = "MSELoss"\ntarget = "N"\n',
     "loss MSELoss: target"),
])
def test_refusal_names_the_place_and_option(section, option, tmp_path, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_text(section, encoding="utf-8")
    assert main(["derive", str(spec)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"symgrad: error: {option}: symbol name ") and err.count("\n") == 1, err


def test_python_api_refuses_the_same_names():
    with pytest.raises(sg.OptionError, match="would read back as sympy.E"):
        sg.symbolic("E", (1, 1, 2, 2))
    with pytest.raises(sg.OptionError, match="would read back as sympy.S"):
        sg.derive(sg.Sequential(sg.Sum()), [[sp.Symbol("S"), 1]])
    with pytest.raises(sg.OptionError, match="collides with the named upstream gradients"):
        sg.derive(sg.Sequential(sg.Sum()), [["delta_sigma_11", 1]])
    d = sg.derive(sg.Sequential(sg.Sum()), [["E_", "e"]])  # the suggested spellings work
    assert {s.name for s in d.free_symbols} == {"E_", "e"}


# --------------------------------------------------------------------------- numbers

SOFTMAX = """
[input]
values = [[1, 2]]
[[layers]]
type = "Flatten"
[[layers]]
type = "Linear"
in_features = 2
out_features = 2
init.weight = [[1, 1], [1, 1]]
init.bias = [0, 1]
[loss]
type = "CrossEntropyLoss"
target = [1]
[optimizer]
type = "SGD"
lr = 0.5
"""


@pytest.mark.torch
def test_all_number_softmax_with_an_exactly_zero_gradient_prints_numbers_only(reader):
    d = specs.parse(SOFTMAX).derive("rules")
    zero = d.tensors.input_gradient.reshape(-1)[0]
    assert not zero.free_symbols and zero != 0  # SymPy does not see that it is 0
    document = document_of(d)
    assert json_numbers_only(document), document
    assert document["gradients"]["input"] == [[[[0.0, 0.0]]]]
    agrees_with_torch(reader, d, {})


def test_beyond_float_range_is_a_string_that_reads_back():
    d = specs.parse('[input]\nvalues = [[1e300]]\n[[layers]]\ntype = "Sum"\n'
                    '[loss]\ntype = "MSELoss"\ntarget = 0\n').derive("rules")
    document = document_of(d)
    assert document["output"] == 1e300
    assert isinstance(document["loss"], str) and sp.sympify(document["loss"]) == sp.Integer(10) ** 600


SEEDED = """
[input]
shape = [1, 1, 3, 3]
symbol = "x"
[[layers]]
type = "Conv2d"
in_channels = 1
out_channels = 2
kernel_size = 2
[[layers]]
type = "Sigmoid"
[[layers]]
type = "AvgPool2d"
kernel_size = 2
stride = 1
[[layers]]
type = "Flatten"
[[layers]]
type = "Linear"
in_features = 2
out_features = 2
[loss]
type = "MSELoss"
target = [[1, -2]]
[optimizer]
type = "SGD"
lr = 0.1
[weights]
seed = 0
"""


@pytest.mark.torch
@pytest.mark.parametrize("expand", ["true", "false"])
def test_seeded_weights_are_floats_that_read_back_to_torchs_numbers_and_exact_under_exact(reader, expand):
    d = specs.parse(f"expand = {expand}\n" + SEEDED).derive("rules")
    fraction = re.compile(r"\d{10,}/\d{10,}")  # a float64 made exact: 10956934985716349/200000000000000000
    values = random_values(d.free_symbols, seed=5, low=-2, high=2)
    document = document_of(d)
    assert not fraction.search(json.dumps(document)) and "0.04362499146542287" in json.dumps(document)
    agrees_with_torch(reader, d, values, document=document)  # float64 rounding of the coefficients only
    with decimals.exact_fractions():
        exact = document_of(d)
    assert fraction.search(json.dumps(exact))
    agrees_with_torch(reader, d, values, document=exact)
