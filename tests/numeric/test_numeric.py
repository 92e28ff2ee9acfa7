"""Generated NumPy code (symgrad.numeric) equals torch autograd, one problem and a batch at a time.

Derivations are fully symbolic (sg.symbolic input, symbol kernels and targets), the
main use: one derivation, then numbers. Values are small integers so max-pool windows
tie often; some cases make every window tie on purpose.
"""

from __future__ import annotations

import functools
import importlib.util

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.cli.commands import main
from symgrad.numeric import generate_source, lambdify
from symgrad.verify import compare, evaluate, torch_reference

CASES = {
    "conv+sum": (lambda: [sg.Conv2d(1, 1, 2, bias=False), sg.Sum()], (1, 1, 3, 3), None),
    "conv+avg pool": (lambda: [sg.Conv2d(1, 1, 2, bias=False), sg.AvgPool2d(2)], (1, 1, 5, 5), sg.MSELoss),
    "conv+avg pool pad ceil": (lambda: [sg.Conv2d(1, 1, 2), sg.AvgPool2d(2, padding=1, ceil_mode=True,
                                                                       count_include_pad=False)],
                               (1, 1, 4, 4), sg.MSELoss),
    "conv+max pool": (lambda: [sg.Conv2d(1, 1, 2, bias=False), sg.MaxPool2d(2)], (1, 1, 3, 3), sg.MSELoss),
    "conv+max pool overlapping": (lambda: [sg.Conv2d(1, 1, 2), sg.MaxPool2d(2, stride=1)], (1, 1, 4, 4),
                                  sg.MSELoss),
    "stride padding dilation": (lambda: [sg.Conv2d(1, 2, 2, stride=2, padding=1, dilation=2),
                                         sg.MaxPool2d(2, stride=1, padding=1, dilation=2)], (1, 1, 6, 6), sg.MSELoss),
    "multi-channel bias": (lambda: [sg.Conv2d(2, 3, 2), sg.MaxPool2d(2, stride=1)], (2, 2, 3, 3), sg.MSELoss),
    "sum reduction": (lambda: [sg.Conv2d(1, 1, 3, padding=1), sg.AvgPool2d(3, stride=2, padding=1)], (1, 1, 5, 5),
                      lambda: sg.MSELoss(reduction="sum")),
}


@functools.lru_cache(maxsize=None)
def derivation(name, method="rules"):
    """One derivation per case, shared by the tests (deriving is the slow part; they only read it)."""
    layers, shape, loss = CASES[name]
    return sg.derive(sg.Sequential(*layers()), sg.symbolic("x", shape), loss() if loss else None,
                     optimizer=sg.SGD(lr=0.1, momentum=0.9, nesterov=True), method=method)


def random_arguments(f, seed, batch=(), low=-2, high=2):
    rng = np.random.RandomState(seed)
    return {name: rng.randint(low, high + 1, size=batch + shape).astype(np.float64)
            for name, shape in f.arguments.items()}


def torch_numbers(d, arguments):
    """What torch_reference needs, from the arrays given to the generated function."""
    def value(array, name):
        return arguments[name] if name in arguments else np.asarray(array, dtype=np.float64)
    t = d.tensors
    numbers = {"input": value(t.input, "input"),
               "parameters": {k: value(p.value, k) for k, p in t.parameters.items()}}
    if t.target is not None:
        numbers["target"] = value(t.target, "target")
    return numbers


def assert_agree(ours, theirs):
    rows = compare(ours, theirs)
    assert all(r["ok"] for r in rows), [(r["quantity"], r["max_abs_error"]) for r in rows if not r["ok"]]
    return rows


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_torch_autograd(name, seed):
    d = derivation(name)
    f = lambdify(d)
    arguments = random_arguments(f, seed)
    rows = assert_agree(f(arguments), torch_reference(d, torch_numbers(d, arguments)))
    assert {r["quantity"] for r in rows} >= {"loss", "output", "dL/dinput"}


@pytest.mark.torch
@pytest.mark.parametrize("name", ["conv+max pool", "conv+max pool overlapping", "stride padding dilation",
                                  "multi-channel bias"])
@pytest.mark.parametrize("fill", [0.0, 1.0, -1.0])
def test_max_pool_ties_route_to_first_maximum_like_torch(name, fill):
    """All-equal input and kernel: every window ties; torch gives the whole gradient to the first entry."""
    d = derivation(name)
    f = lambdify(d)
    arguments = {n: np.full(shape, fill) for n, shape in f.arguments.items()}
    arguments["target"] = np.full(f.arguments["target"], 5.0)
    assert_agree(f(arguments), torch_reference(d, torch_numbers(d, arguments)))


def test_tied_window_gradient_goes_to_first_entry():
    net = sg.Sequential(sg.MaxPool2d(2))
    d = sg.derive(net, sg.symbolic("x", (1, 1, 2, 2)), sg.MSELoss())
    result = d.lambdify()(input=np.ones((1, 1, 2, 2)), target=np.zeros((1, 1, 1, 1)))
    assert result["gradients"]["input"].tolist() == [[[[2.0, 0.0], [0.0, 0.0]]]]


def test_agrees_with_exact_substitution():
    d = derivation("multi-channel bias")
    f = d.lambdify()  # the Derivation method delegates to symgrad.numeric.lambdify
    arguments = random_arguments(f, 3)
    values = {}
    for name, array in arguments.items():
        given = {"input": d.tensors.input, "target": d.tensors.target}.get(name)
        given = d.tensors.parameters[name].value if given is None else given
        values.update((s, sp.Integer(int(v))) for s, v in zip(given.reshape(-1), array.reshape(-1)))
    exact = evaluate(d, values)  # SymPy's exact rationals, rounded once
    ours = f(arguments)
    for name in d.gradients:
        np.testing.assert_allclose(ours["gradients"][name], exact["gradients"][name], rtol=1e-14, atol=1e-14)
    for name in d.parameters:
        np.testing.assert_allclose(ours["updated"][name], exact["updated"][name], rtol=1e-14, atol=1e-14)
    assert ours["loss"] == pytest.approx(exact["loss"], rel=1e-14)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["conv+max pool overlapping", "multi-channel bias", "conv+avg pool pad ceil"])
def test_batch_of_eight_equals_eight_evaluations_and_torch(name):
    d = derivation(name)
    f = lambdify(d)
    batch = random_arguments(f, 7, batch=(8,))
    together = f(batch)
    assert together["loss"].shape == (8,)
    assert together["output"].shape == (8, *d.tensors.output.shape)
    for b in range(8):
        one = {k: v[b] for k, v in batch.items()}
        alone = f(one)
        assert alone["loss"] == together["loss"][b]
        for kind in ("gradients", "updated"):
            assert set(together[kind]) == set(alone[kind]), kind
            for key, value in alone[kind].items():
                np.testing.assert_array_equal(together[kind][key][b], value)
        sliced = {"output": together["output"][b], "loss": together["loss"][b],
                  "gradients": {k: v[b] for k, v in together["gradients"].items()},
                  "updated": {k: v[b] for k, v in together["updated"].items()}}
        assert_agree(sliced, torch_reference(d, torch_numbers(d, one)))


def test_arrays_without_batch_axis_are_shared():
    d = derivation("conv+max pool")
    f = lambdify(d)
    args = random_arguments(f, 2, batch=(4,))
    shared = dict(args, **{"0.weight": args["0.weight"][0]})
    together = f(shared)
    for b in range(4):
        alone = f({k: (v if k == "0.weight" else v[b]) for k, v in shared.items()})
        np.testing.assert_array_equal(together["gradients"]["0.weight"][b], alone["gradients"]["0.weight"])


@pytest.mark.torch
def test_numbers_in_the_derivation_are_constants():
    net = sg.Sequential(sg.Conv2d(1, 1, 2, bias=False, weight=[[3, 2], [1, 5]]), sg.MaxPool2d(2))
    d = sg.derive(net, [[1, 2, 3], [4, 5, "a"], [7, 8, 9]], sg.MSELoss(), target=60, optimizer=sg.SGD(lr=0.01))
    f = lambdify(d)
    assert f.arguments == {"input": (1, 1, 3, 3)}
    result = f(input=np.array([[[[0, 0, 0], [0, 0, 6], [0, 0, 0]]]]))  # only the position of "a" is read
    numbers = evaluate(d, {sp.Symbol("a", real=True): sp.Integer(6)})
    assert_agree(result, numbers)
    assert_agree(result, torch_reference(d, numbers))
    batched = f(input=np.arange(3.0)[:, None, None, None, None] + np.zeros((3, 1, 1, 3, 3)))
    assert batched["loss"].shape == (3,)


def test_fully_numeric_derivation_needs_no_arguments():
    net = sg.Sequential(sg.Conv2d(1, 1, 2, bias=False, weight=[[3, 2], [1, 5]]), sg.MaxPool2d(2))
    d = sg.derive(net, [[1, 2, 3], [4, 5, 6], [7, 8, 9]], sg.MSELoss(), target=60, optimizer=sg.SGD(lr=0.01))
    result = lambdify(d)()
    assert result["loss"] == 400.0
    assert result["gradients"]["0.weight"].tolist() == [[[[200.0, 240.0], [320.0, 360.0]]]]
    np.testing.assert_allclose(result["updated"]["0.weight"], [[[[1, -0.4], [-2.2, 1.4]]]])


def test_wrt_keeps_only_the_lines_it_needs():
    d = derivation("multi-channel bias")
    f = lambdify(d, wrt=["0.bias"])
    assert list(f(random_arguments(f, 0))["gradients"]) == ["0.bias"]
    assert "dL_dx" not in f.source and "dL_dk" not in f.source and "dL_db" in f.source
    with pytest.raises(sg.OptionError, match="unknown name"):
        lambdify(d, wrt=["1.weight"])


@pytest.mark.torch
def test_backward_passes_scale_the_generated_gradients_like_torch():
    d = sg.derive(sg.Sequential(sg.Conv2d(1, 1, 2), sg.MaxPool2d(2, stride=1)), sg.symbolic("x", (1, 1, 3, 3)),
                  sg.MSELoss(), optimizer=sg.SGD(lr=0.1), backward_passes=3)
    f = lambdify(d)
    arguments = random_arguments(f, 6)
    assert_agree(f(arguments), torch_reference(d, torch_numbers(d, arguments)))


@pytest.mark.torch
def test_method_diff_uses_common_subexpressions():
    d = derivation("conv+avg pool", method="diff")
    f = lambdify(d)
    assert "# common subexpressions" in f.source
    arguments = random_arguments(f, 4)
    assert_agree(f(arguments), torch_reference(d, torch_numbers(d, arguments)))


def test_bad_arguments_are_refused_clearly():
    f = lambdify(derivation("conv+max pool"))
    good = random_arguments(f, 0)
    with pytest.raises(TypeError, match="missing: 0.weight"):
        f(input=good["input"], target=good["target"])
    with pytest.raises(TypeError, match="unknown: weight"):
        f(good, weight=good["0.weight"])
    with pytest.raises(ValueError, match=r"input: expected shape \(1, 1, 3, 3\)"):
        f(good, input=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="do not broadcast"):
        f(good, input=np.zeros((2, 1, 1, 3, 3)), target=np.zeros((3, 1, 1, 1, 1)))


def test_source_is_readable_python_with_named_intermediates():
    d = sg.derive(sg.Sequential(sg.Conv2d(1, 1, 3), sg.MaxPool2d(2, stride=1)), sg.symbolic("x", (1, 1, 6, 6)),
                  sg.MSELoss(), optimizer=sg.SGD(lr=0.1))
    source = lambdify(d).source
    compile(source, "generated.py", "exec")
    lines = source.splitlines()
    assert max(len(line) for line in lines) <= 100
    for line in ("sigma_11 = ", "S_11 = np.maximum(np.maximum(np.maximum(sigma_11, sigma_12), sigma_21), sigma_22)",
                 "delta_S_11 = ", "delta_sigma_11 = ", "dL_dk_11 = ", "dL_db_1 = ", "dL_dx_11 = "):
        assert any(text.strip().startswith(line) for text in lines), line
    assert "_first_argmax(0, sigma_11, sigma_12, sigma_21, sigma_22)" in source
    assert "import torch" not in source and "sympy" not in source and "Heaviside" not in source
    assert sum(1 for text in lines if " = " in text) > len(d.named.definitions) // 2


def test_names_are_sanitised_and_unique():
    net = sg.Sequential(sg.Conv2d(1, 1, 2, bias=False), sg.Sum())
    d = sg.derive(net, [["output", "batch"], ["arrays", "x_1"], ["np", "lambda_"], ["loss", 1]])
    f = lambdify(d)
    for name in ("output_2 = ", "batch_2 = ", "np_2 = ", "loss_2 = "):
        assert name in f.source
    values = np.arange(8.0).reshape(1, 1, 4, 2)
    numbers = evaluate(d, dict(zip(d.tensors.input.reshape(-1)[:7], map(sp.Integer, range(7))))
                       | {s: sp.Integer(1) for s in d.tensors.parameters["0.weight"].value.reshape(-1)})
    result = f(input=values, **{"0.weight": np.ones((1, 1, 2, 2))})
    assert_agree(result, numbers)


def test_generated_docstring_escapes_user_text():
    d = derivation("conv+sum")
    source = generate_source(d, origin='the spec a"""b\\ " + __import__("os").getcwd() + "', command="x")
    namespace = {}
    exec(compile(source, "generated.py", "exec"), namespace)
    assert 'a"""b\\' in namespace["__doc__"]


SPEC = '''title = "conv -> max pool, \\"symbolic\\""

[input]
shape = [1, 1, 4, 4]
symbol = "x"

[[layers]]
type = "Conv2d"
in_channels = 1
out_channels = 2
kernel_size = 2

[[layers]]
type = "MaxPool2d"
kernel_size = 2
stride = 1

[loss]
type = "MSELoss"

[optimizer]
type = "SGD"
lr = 0.01
'''


def _import(path):
    spec = importlib.util.spec_from_file_location("generated_grad", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.torch
def test_emit_python_writes_an_importable_module(tmp_path, capsys):
    spec_path = tmp_path / "net.toml"
    spec_path.write_text(SPEC)
    out = tmp_path / "net_grad.py"
    assert main(["derive", str(spec_path), "--emit-python", str(out)]) == 0
    assert "gradients" in capsys.readouterr().out  # the derivation is still printed
    module = _import(out)
    assert str(spec_path) in module.__doc__ and "--emit-python" in module.__doc__
    assert "evaluate(" in module.__doc__ and "(B,)" in module.__doc__
    d = sg.derive(sg.Sequential(sg.Conv2d(1, 2, 2), sg.MaxPool2d(2, stride=1)), sg.symbolic("x", (1, 1, 4, 4)),
                  sg.MSELoss(), optimizer=sg.SGD(lr=0.01))
    f = lambdify(d)
    assert module.ARGUMENTS == f.arguments
    arguments = random_arguments(f, 5, batch=(3,))
    result = module.evaluate(arguments)
    for b in range(3):
        one = {k: v[b] for k, v in arguments.items()}
        sliced = {"output": result["output"][b], "loss": result["loss"][b],
                  "gradients": {k: v[b] for k, v in result["gradients"].items()},
                  "updated": {k: v[b] for k, v in result["updated"].items()}}
        assert_agree(sliced, torch_reference(d, torch_numbers(d, one)))


def test_emit_python_with_wrt_and_refusals(tmp_path, capsys):
    spec_path = tmp_path / "net.toml"
    spec_path.write_text(SPEC)
    out = tmp_path / "only_weight.py"
    assert main(["derive", str(spec_path), "--wrt", "0.weight", "--out", str(tmp_path / "d.txt"),
                 "--emit-python", str(out)]) == 0
    assert list(_import(out).ARGUMENTS) == ["input", "0.weight", "0.bias", "target"]
    assert "dL_dx_11" not in out.read_text()
    assert main(["derive", str(spec_path), "--emit-python", str(spec_path)]) == 2
    assert "--emit-python" in capsys.readouterr().err and spec_path.read_text() == SPEC
    assert main(["derive", str(spec_path), "--emit-python", str(tmp_path / "missing" / "x.py")]) == 2
    assert main(["derive", str(spec_path), "--out", str(out), "--emit-python", str(out)]) == 2


def test_numeric_code_never_imports_torch():
    import subprocess
    import sys

    code = ("import sys, numpy as np, symgrad as sg\n"
            "d = sg.derive(sg.Sequential(sg.Conv2d(1, 1, 2), sg.MaxPool2d(2)), sg.symbolic('x', (1, 1, 3, 3)), sg.MSELoss())\n"
            "f = d.lambdify()\n"
            "f({name: np.ones(shape) for name, shape in f.arguments.items()})\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True)
