"""Whole networks: LeNet and the tutorial Net end to end against torch; derivations kept in names;
the expansion against an independent explicit backprop; seeded and file weights."""

import importlib
import json

import numpy as np
import pytest
import sympy as sp
from lazy_torch import torch

import symgrad as sg
from symgrad import spec as specs
from symgrad.cli.commands import main
from symgrad.core.errors import OptionError
from symgrad.engine.named import _tree_size
from symgrad.verify import compare, evaluate, random_values, torch_reference

from paths import EXAMPLES

engine = importlib.import_module("symgrad.engine.derivation")  # the engine: derive() as a plain record


def _check_against_torch(d, seed=0):
    numbers = evaluate(d, random_values(d.free_symbols, seed))
    rows = compare(numbers, torch_reference(d, numbers))
    assert all(r["ok"] for r in rows), [(r["quantity"], r["max_abs_error"]) for r in rows if not r["ok"]]
    return rows


# ---------------------------------------------------------------- whole networks, end to end


@pytest.mark.torch
def test_lenet_end_to_end_with_the_cli(capsys):
    """LeNet: 61,706 parameters, every gradient derived, evaluated and compared with torch (float64)."""
    assert main(["check", str(EXAMPLES / "lenet.toml")]) == 0
    out = capsys.readouterr().out
    assert "13 of 13 quantities agree with torch autograd" in out
    for name in ["0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "9.weight", "11.bias", "input"]:
        assert f"dL/d{name} " in out


@pytest.mark.torch
def test_tutorial_net_end_to_end():
    spec = specs.load(EXAMPLES / "tutorial_net.toml")
    d = spec.derive()
    assert not d.expanded
    sizes = {k: int(np.prod(v.shape)) for k, v in d.parameters.items()}
    assert sum(sizes.values()) == 81_194
    rows = _check_against_torch(d, seed=3)
    assert {r["quantity"] for r in rows} >= {f"dL/d{k}" for k in sizes} | {"dL/dinput", "loss", "output"}
    _generated_code_agrees_with_torch(d)


def _generated_code_agrees_with_torch(d):
    """d.lambdify() on a whole network: the array form (a statement per layer), a batch of 2 vs torch."""
    from test_numeric import torch_numbers
    from test_numeric_array import problem

    f = d.lambdify()
    body = f.source[f.source.index("def compute("):f.source.index("# Helpers")]
    assert "_conv2d_forward(" in body and len(body.splitlines()) < 120
    rng = np.random.default_rng(4)
    arguments = {name: rng.standard_normal((2, *shape)) for name, shape in f.arguments.items()}
    result = f(arguments)
    for b in range(2):
        rows = compare(problem(result, b), torch_reference(d, torch_numbers(d, {k: v[b] for k, v in arguments.items()})))
        assert all(r["ok"] for r in rows), [(r["quantity"], r["max_abs_error"]) for r in rows if not r["ok"]]


@pytest.mark.torch
def test_first_stage_at_full_size_is_kept_in_names_and_agrees_with_torch():
    d = specs.load(EXAMPLES / "lenet_first_stage.toml").derive()
    assert not d.expanded and d.named.expanded_size() > engine.EXPAND_LIMIT
    assert d.gradients["0.weight"].shape == (6, 1, 5, 5) and d.gradients["input"].shape == (1, 1, 32, 32)
    k = d.gradients["0.weight"][0, 0, 0, 0]  # dL/dk_111 = sum over 28x28 positions of delta^sigma * x
    assert len(k.args) == 28 * 28
    assert k.free_symbols <= set(d.named.definitions) | set(d.tensors.input.reshape(-1))
    _check_against_torch(d, seed=1)
    _generated_code_agrees_with_torch(d)


# ---------------------------------------------------------------- expanded or kept in names

NETS = {
    "conv relu max linear": lambda: [sg.Conv2d(1, 2, 2), sg.ReLU(), sg.MaxPool2d(2), sg.Flatten(), sg.Linear(2, 3)],
    "conv sigmoid avg": lambda: [sg.Conv2d(1, 1, 2, stride=1, padding=1), sg.Sigmoid(), sg.AvgPool2d(2, ceil_mode=True)],
    "conv tanh sum": lambda: [sg.Conv2d(1, 2, 2, dilation=2), sg.Tanh(), sg.Sum()],
    "max overlapping": lambda: [sg.Conv2d(1, 1, 2, bias=False), sg.MaxPool2d(2, stride=1)],
}
LOSSES = {"conv relu max linear": (sg.CrossEntropyLoss(), [2]), "conv sigmoid avg": (sg.L1Loss(), None),
          "conv tanh sum": (None, None), "max overlapping": (sg.MSELoss(), 5)}


def _net_and_loss(name):
    loss, target = LOSSES[name]
    return sg.Sequential(*NETS[name]()), loss, target


def _explicit(net, x, loss, target):
    """Backprop on whole expressions, without names: the engine's rules applied directly (independent of
    named.py's substitution)."""
    params = net.parameters()
    x = engine.as_input(x)
    target_array = engine._target(loss, target, net.shapes(x.shape)[-1])
    activations = engine._forward(net, x, params)
    deltas, grads = engine.backprop(net, activations, params, loss, target_array)
    return activations, engine._loss(loss, activations[-1], target_array), deltas, grads


@pytest.mark.parametrize("name", sorted(NETS))
def test_expansion_of_the_named_form_is_the_explicit_backprop(name):
    net, loss, target = _net_and_loss(name)
    x = sg.symbolic("x", (1, 1, 4, 4))
    d = sg.derive(net, x, loss, target, expand=True)
    activations, loss_value, deltas, grads = _explicit(net, x, loss, target)
    assert sp.srepr(d.loss) == sp.srepr(loss_value)
    assert len(d.forward) == len(activations) - 1 and len(d.deltas) == len(deltas)
    assert set(grads) == {"input", *d.tensors.parameters}
    for i, a in enumerate(activations[1:]):
        assert sp.srepr(d.forward[i][1]) == sp.srepr(sg.core.tensor.to_sympy(a))
    for (_, ours), (_, theirs) in zip(d.deltas, deltas):
        assert [sp.srepr(e) for e in np.asarray(ours.tolist() if hasattr(ours, "tolist") else ours, dtype=object).reshape(-1)] \
            == [sp.srepr(e) for e in theirs.reshape(-1)]
    for key, grad in grads.items():
        assert [sp.srepr(e) for e in d.tensors.gradient(key).reshape(-1)] == [sp.srepr(e) for e in grad.reshape(-1)], key


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(NETS))
def test_kept_in_names_evaluates_like_the_exact_expansion(name):
    net, loss, target = _net_and_loss(name)
    x = sg.symbolic("x", (1, 1, 4, 4))
    full = sg.derive(net, x, loss, target, optimizer=sg.SGD(0.1, momentum=0.5, weight_decay=0.1), expand=True)
    named = sg.derive(net, x, loss, target, optimizer=sg.SGD(0.1, momentum=0.5, weight_decay=0.1), expand=False)
    assert full.expanded and not named.expanded
    assert named.free_symbols == full.free_symbols  # names are not free symbols
    values = random_values(full.free_symbols, 7)
    exact, fast = evaluate(full, values), evaluate(named, values)
    assert fast["loss"] == pytest.approx(exact["loss"], rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(fast["output"], exact["output"], rtol=1e-12, atol=1e-12)
    for kind in ("gradients", "updated"):
        for key in exact[kind]:
            np.testing.assert_allclose(fast[kind][key], exact[kind][key], rtol=1e-12, atol=1e-12, err_msg=key)
    _check_against_torch(named, seed=7)


def test_fields_kept_in_names_are_one_step_deep():
    net = sg.Sequential(sg.Conv2d(1, 1, 2, bias=False), sg.MaxPool2d(2))
    d = sg.derive(net, sg.symbolic("x", (1, 1, 3, 3)), sg.MSELoss(), 60, expand=False)
    S, sigma = sp.Symbol("S_11", real=True), sp.Symbol("sigma_11", real=True)
    assert d.loss == (S - 60) ** 2
    assert d.output[0, 0, 0, 0] == d.named.definitions[S]
    assert d.forward[0][1][0, 0, 0, 0] == d.named.definitions[sigma]
    assert d.gradients["0.weight"][0, 0, 0, 0] == d.named.gradients["0.weight"][0, 0, 0, 0]
    assert d.named.values[S] == S  # not expanded: names stand for themselves
    assert d.named.expand(d.gradients["0.weight"][0, 0, 0, 0]) == sg.derive(
        net, sg.symbolic("x", (1, 1, 3, 3)), sg.MSELoss(), 60).gradients["0.weight"][0, 0, 0, 0]
    with pytest.raises(OptionError, match="expand=True"):
        d.hessian("0.weight")


def test_all_numeric_derivation_kept_in_names_shows_float64_numbers(capsys, tmp_path):
    net = sg.Sequential(sg.Conv2d(1, 1, 2, bias=False).init(weight=[[3, 2], [1, 5]]), sg.MaxPool2d(2))
    args = (net, [[1, 2, 3], [4, 5, 6], [7, 8, 9]], sg.MSELoss(), 60, sg.SGD(lr=0.01))
    exact, floats = sg.derive(*args), sg.derive(*args, expand=False)
    assert exact.expanded and not floats.expanded
    assert float(floats.loss) == 400 and isinstance(floats.loss, sp.Float)
    def compared(t):
        weight = t.parameters["0.weight"]
        return [t.output, weight.gradient, t.input_gradient, weight.updated, t.layers[0].output]
    for ours, theirs in zip(compared(floats.tensors), compared(exact.tensors), strict=True):
        np.testing.assert_allclose(np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float))
    spec = tmp_path / "s.toml"
    spec.write_text('expand = false\n[input]\nvalues = [[1,2,3],[4,5,6],[7,8,9]]\n[[layers]]\ntype = "Conv2d"\n'
                    'in_channels = 1\nout_channels = 1\nkernel_size = 2\nbias = false\ninit.weight = [[3,2],[1,5]]\n'
                    '[[layers]]\ntype = "MaxPool2d"\nkernel_size = 2\n[loss]\ntype = "MSELoss"\ntarget = 60\n'
                    '[optimizer]\ntype = "SGD"\nlr = 0.01\n')
    assert main(["derive", str(spec), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)  # the contract's example, evaluated in float64
    assert document["loss"] == 400.0 and document["output"] == [[[[80.0]]]]
    assert document["gradients"]["0.weight"] == [[[[200.0, 240.0], [320.0, 360.0]]]]
    assert document["updated"]["0.weight"] == pytest.approx(np.array([[[[1.0, -0.4], [-2.2, 1.4]]]]))


def test_size_estimate_tells_small_from_large():
    net = sg.Sequential(sg.Conv2d(1, 2, 2), sg.Sigmoid(), sg.AvgPool2d(2), sg.Flatten(), sg.Linear(8, 2))
    d = sg.derive(net, sg.symbolic("x", (1, 1, 5, 5)), sg.CrossEntropyLoss(), [1], expand=True)
    computed = [*d.tensors.gradients().values(), *(layer.output for layer in d.tensors.layers)]
    actual = sum(_tree_size(e, {}) for a in computed for e in a.reshape(-1)) + sum(_tree_size(e, {}) for _, a in d.deltas for e in np.asarray(
                     a.tolist() if hasattr(a, "tolist") else a, dtype=object).reshape(-1)) + _tree_size(d.loss, {})
    estimate = d.named.expanded_size()
    assert actual / 3 < estimate < actual * 3
    small = sg.derive(sg.Sequential(sg.Conv2d(1, 1, 2), sg.MaxPool2d(2)), sg.symbolic("x", (1, 1, 6, 6)), sg.MSELoss())
    assert small.expanded  # "auto" expands what is small


def test_expand_option_is_validated():
    net = sg.Sequential(sg.Conv2d(1, 1, 2), sg.Sum())
    for bad in ["yes", 1, 0.0, None]:
        with pytest.raises(OptionError, match="expand"):
            sg.derive(net, [[1, 2], [3, 4]], expand=bad)
    with pytest.raises(OptionError, match="spec: expand"):
        specs.parse('expand = 1\n[input]\nvalues = [[1,2],[3,4]]\n[[layers]]\ntype = "Sum"\n')


# ---------------------------------------------------------------- weights

LENET_STAGE = '[input]\nshape = [1, 1, 6, 6]\n[[layers]]\ntype = "Conv2d"\nin_channels = 1\nout_channels = 2\n' \
              'kernel_size = 3\n[[layers]]\ntype = "Sigmoid"\n[[layers]]\ntype = "Flatten"\n[[layers]]\n' \
              'type = "Linear"\nin_features = 32\nout_features = 3\n[loss]\ntype = "CrossEntropyLoss"\ntarget = [1]\n'


def test_seeded_weights_follow_torch_default_bounds_and_are_reproducible():
    first = specs.parse(LENET_STAGE + "[weights]\nseed = 5\n")
    again = specs.parse(LENET_STAGE + "[weights]\nseed = 5\n")
    other = specs.parse(LENET_STAGE + "[weights]\nseed = 6\n")
    params = first.network.parameters()
    assert set(params) == {"0.weight", "0.bias", "3.weight", "3.bias"}
    for name, fan_in in [("0.weight", 9), ("0.bias", 9), ("3.weight", 32), ("3.bias", 32)]:
        values = np.asarray(params[name], dtype=float)
        assert np.all(np.abs(values) <= 1 / np.sqrt(fan_in)) and values.std() > 0.1 / np.sqrt(fan_in)
        assert np.array_equal(values, np.asarray(again.network.parameters()[name], dtype=float))
        assert not np.array_equal(values, np.asarray(other.network.parameters()[name], dtype=float))
    # init wins over [weights], and the other numbers do not move
    given = specs.parse(LENET_STAGE.replace('kernel_size = 3\n', 'kernel_size = 3\ninit.bias = [1, 2]\n', 1)
                        + "[weights]\nseed = 5\n").network.parameters()
    assert list(given["0.bias"]) == [1, 2]
    assert np.array_equal(np.asarray(given["3.weight"], dtype=float), np.asarray(params["3.weight"], dtype=float))


@pytest.mark.torch
def test_weights_file_round_trips_torch_state_dict(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Sigmoid(), torch.nn.Flatten(), torch.nn.Linear(32, 3))
    np.savez(tmp_path / "w.npz", **{k: v.detach().numpy() for k, v in model.state_dict().items()})
    (tmp_path / "net.toml").write_text(LENET_STAGE + '[weights]\nfile = "w.npz"\n')
    spec = specs.load(tmp_path / "net.toml")
    for name, value in model.state_dict().items():
        assert np.array_equal(np.asarray(spec.network.parameters()[name], dtype=float), value.double().numpy())
    _check_against_torch(spec.derive(), seed=2)


def _bad_file(tmp_path, **arrays):
    np.savez(tmp_path / "w.npz", **arrays)
    (tmp_path / "net.toml").write_text(LENET_STAGE + '[weights]\nfile = "w.npz"\n')
    return tmp_path / "net.toml"


GOOD = {"0.weight": np.zeros((2, 1, 3, 3)), "0.bias": np.zeros(2), "3.weight": np.zeros((3, 32)), "3.bias": np.zeros(3)}


@pytest.mark.parametrize("change, message", [
    ({"0.weight": np.zeros((2, 1, 2, 2))}, "0.weight: expected shape [2, 1, 3, 3], got [2, 1, 2, 2]"),
    ({"1.weight": np.zeros(3)}, "unknown parameter '1.weight'"),
    ({"3.bias": None}, "no array for parameter '3.bias'"),
    ({"3.bias": np.array([1.0, np.nan, 0])}, "3.bias: values must be finite"),
    ({"3.bias": np.array(["a", "b", "c"])}, "3.bias: expected real numbers"),
    ({"3.bias": np.array([1, 0, np.longdouble("1e400")])}, "3.bias: values beyond float64's range"),
    ({"3.bias": np.array([1, 0, np.longdouble("1e-400")])}, "3.bias: values too small for a float64"),
])
def test_bad_weights_files_are_refused_naming_the_parameter(tmp_path, change, message):
    arrays = {**GOOD, **change}
    arrays = {k: v for k, v in arrays.items() if v is not None}
    with pytest.raises(OptionError, match="weights: file: " + message.replace("[", r"\[").replace("]", r"\]")):
        specs.load(_bad_file(tmp_path, **arrays))


def test_weights_files_are_never_unpickled(tmp_path, capsys):
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (tmp_path / "objects.npy").rename(tmp_path / "w.npz")
    (tmp_path / "net.toml").write_text(LENET_STAGE + '[weights]\nfile = "w.npz"\n')
    assert main(["check", str(tmp_path / "net.toml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("symgrad: error: weights: file:") and err.count("\n") == 1
    np.savez(tmp_path / "o.npz", **{**GOOD, "3.bias": np.array([object()] * 3, dtype=object)})
    (tmp_path / "net2.toml").write_text(LENET_STAGE + '[weights]\nfile = "o.npz"\n')
    with pytest.raises(OptionError, match="weights: file: cannot read"):
        specs.load(tmp_path / "net2.toml")


@pytest.mark.parametrize("table, message", [
    ("seed = -1", "weights: seed: must be >= 0"),
    ("seed = 1.5", "weights: seed: expected an integer"),
    ('seed = 1\nfile = "w.npz"', "weights: seed: give exactly one of seed"),
    ("", "weights: seed: give exactly one of seed"),
    ("mean = 0", "weights: mean: unknown option"),
    ('file = "missing.npz"', "weights: file: cannot read .*missing.npz: no such file"),
])
def test_bad_weights_tables_are_refused(table, message, tmp_path):
    (tmp_path / "net.toml").write_text(LENET_STAGE + "[weights]\n" + table + "\n")
    with pytest.raises(OptionError, match=message):
        specs.load(tmp_path / "net.toml")
