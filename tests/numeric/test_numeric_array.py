"""The array form of generated code (one NumPy statement per layer) equals the scalar form and torch.

The scalar form is the derivation printed line by line; the array form runs the same
backward pass through each op's NumPy twin. Both must give torch autograd's numbers
(float64), ties in max pooling and ReLU at 0 included, one problem or a batch at a time.
"""

from __future__ import annotations

import functools
import re
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.ops import Conv2d
from symgrad.numeric import lambdify
from symgrad.numeric.arraycode import SCALAR_FORM_LIMIT
from symgrad.verify import evaluate, torch_reference
from test_numeric import CASES, assert_agree, derivation, random_arguments, torch_numbers

NETWORKS = {
    "conv relu pool linear ce": (
        lambda: [sg.Conv2d(1, 2, 3, padding=1), sg.ReLU(), sg.MaxPool2d(2), sg.Flatten(), sg.Linear(8, 3)],
        (2, 1, 4, 4), lambda: sg.CrossEntropyLoss(), [2, 0]),
    "sigmoid tanh l1": (
        lambda: [sg.Conv2d(2, 2, 2, groups=2, bias=False), sg.Sigmoid(), sg.AvgPool2d(2, stride=1),
                 sg.Tanh(), sg.Flatten(0), sg.Linear(2, 2)],
        (1, 2, 3, 3), lambda: sg.L1Loss(reduction="sum"), None),
    "sum loss": (lambda: [sg.Conv2d(1, 1, 2, bias=False, stride=2), sg.ReLU(), sg.Sum()], (1, 1, 4, 4), None, None),
}


@functools.lru_cache(maxsize=None)
def network_derivation(name):
    layers, shape, loss, target = NETWORKS[name]
    return sg.derive(sg.Sequential(*layers()), sg.symbolic("x", shape), loss() if loss else None, target=target,
                     optimizer=sg.SGD(lr=0.1, momentum=0.9, weight_decay=0.01))


def problem(result: dict, index) -> dict:
    """One problem's results out of a batched call."""
    return {"loss": result["loss"][index], "output": result["output"][index],
            **{kind: {k: v[index] for k, v in result[kind].items()} for kind in ("gradients", "updated")}}


def statements(source: str) -> str:
    """The source with wrapped calls joined back into one line each."""
    return re.sub(r"\(\n\s+", "(", re.sub(r",\n\s+(?=\S)", ", ", source))


def both_forms(d, **kwargs):
    return lambdify(d, form="scalar", **kwargs), lambdify(d, form="array", **kwargs)


def assert_same_results(a, b):
    np.testing.assert_allclose(a["loss"], b["loss"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a["output"], b["output"], rtol=1e-12, atol=1e-12)
    for kind in ("gradients", "updated"):
        assert list(a[kind]) == list(b[kind])
        for key in a[kind]:
            assert a[kind][key].shape == b[kind][key].shape, (kind, key)
            np.testing.assert_allclose(a[kind][key], b[kind][key], rtol=1e-12, atol=1e-12, err_msg=f"{kind} {key}")


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_array_form_equals_scalar_form_and_torch(name):
    d = derivation(name)
    scalar, array = both_forms(d)
    assert "_forward(" in array.source and "_forward(" not in scalar.source
    for seed in (0, 1):
        arguments = random_arguments(array, seed)  # small integers: max-pool windows tie often
        ours = array(arguments)
        assert_same_results(ours, scalar(arguments))
        assert_agree(ours, torch_reference(d, torch_numbers(d, arguments)))


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_whole_networks_match_torch_relu_at_zero_included(name):
    d = network_derivation(name)
    scalar, array = both_forms(d)
    for seed in (0, 1, 2):
        arguments = random_arguments(array, seed, low=-1, high=1)  # many exact zeros before ReLU
        ours = array(arguments)
        assert_same_results(ours, scalar(arguments))
        assert_agree(ours, torch_reference(d, torch_numbers(d, arguments)))


@pytest.mark.torch
@pytest.mark.parametrize("batch", [(5,), (2, 3)])
def test_batches_equal_problem_by_problem_and_torch(batch):
    d = derivation("stride padding dilation")
    f = lambdify(d, form="array")
    arguments = random_arguments(f, 3, batch=batch)
    together = f(arguments)
    assert together["loss"].shape == batch
    assert together["gradients"]["0.weight"].shape == (*batch, *d.tensors.parameters["0.weight"].value.shape)
    for index in np.ndindex(*batch):
        one = {k: v[index] for k, v in arguments.items()}
        alone = f(one)
        np.testing.assert_allclose(together["loss"][index], alone["loss"], rtol=1e-13)
        for kind in ("gradients", "updated"):
            assert set(together[kind]) == set(alone[kind]), kind
            for key, value in alone[kind].items():
                np.testing.assert_allclose(together[kind][key][index], value, rtol=1e-13, atol=1e-13)
        assert_agree(problem(together, index), torch_reference(d, torch_numbers(d, one)))


def test_arrays_without_batch_axes_are_shared_by_every_problem():
    d = network_derivation("conv relu pool linear ce")
    f = lambdify(d, form="array")
    arguments = random_arguments(f, 4, batch=(3,))
    shared = {k: (v[0] if k != "input" else v) for k, v in arguments.items()}  # one set of weights
    together = f(shared)
    for b in range(3):
        alone = f({k: (v[b] if k == "input" else v) for k, v in shared.items()})
        assert_same_results(problem(together, b), alone)


@pytest.mark.torch
def test_max_pool_ties_and_all_equal_windows_route_like_torch():
    d = derivation("conv+max pool overlapping")
    f = lambdify(d, form="array")
    for fill in (0.0, 1.0, -1.0):
        arguments = {k: np.full((2, *shape), fill) for k, shape in f.arguments.items()}
        arguments["input"][1] = np.random.RandomState(0).randint(-1, 2, size=f.arguments["input"])
        result = f(arguments)
        for b in range(2):
            one = {k: v[b] for k, v in arguments.items()}
            assert_agree(problem(result, b), torch_reference(d, torch_numbers(d, one)))


@pytest.mark.torch
def test_auto_form_is_scalar_for_small_and_array_for_large_derivations():
    small = derivation("conv+max pool")
    assert "sigma_11 = " in lambdify(small).source
    large = sg.derive(sg.Sequential(sg.Conv2d(1, 2, 3), sg.MaxPool2d(2)), sg.symbolic("x", (1, 1, 20, 20)),
                      sg.MSELoss(), expand=False)
    assert len(large.named.definitions) > SCALAR_FORM_LIMIT or not large.expanded
    source = lambdify(large).source
    assert "sigma = _conv2d_forward(x, k, b, " in statements(source) and "sigma_11" not in source
    assert "S = _max_pool2d_forward(sigma, " in statements(source)
    assert len(source.splitlines()) < 1500
    f = lambdify(large)
    arguments = random_arguments(f, 5, batch=(2,))
    ours = f(arguments)
    for b in range(2):
        one = {k: v[b] for k, v in arguments.items()}
        assert_agree(problem(ours, b), torch_reference(large, torch_numbers(large, one)))


@pytest.mark.torch
def test_numbers_and_repeated_symbols_in_tensors():
    """Numbers are constants, each symbol is read at its first position, maybe from another tensor."""
    net = sg.Sequential(sg.Conv2d(1, 1, 2, bias=False, weight=[["a", 2], [1, "q"]]), sg.MaxPool2d(1))
    d = sg.derive(net, [[1, "a", 3], [4, 5, "c"], ["a", 8, 9]], sg.MSELoss(), target=[[["t", 1], [2, "t"]]],
                  optimizer=sg.SGD(lr=0.01))
    scalar, array = both_forms(d)
    assert array.arguments == scalar.arguments
    arguments = random_arguments(array, 8, batch=(3,))
    assert_same_results(array(arguments), scalar(arguments))
    values = {sp.Symbol(s, real=True): sp.Integer(v) for s, v in (("a", 2), ("c", -1), ("q", 3), ("t", 5))}
    numbers = evaluate(d, values)
    one = array({"input": np.array([[[[0, 2, 0], [0, 0, -1], [0, 0, 0]]]]),
                 "0.weight": np.array([[[[0, 0], [0, 3]]]]), "target": np.array([[[[5, 0], [0, 0]]]])})
    assert_agree(one, numbers)
    assert_agree(one, torch_reference(d, numbers))


@pytest.mark.torch
def test_large_numeric_weights_are_stored_exactly():
    weights = np.random.RandomState(1).normal(size=(6, 2, 5, 5)) / 7
    net = sg.Sequential(sg.Conv2d(2, 6, 5, weight=weights.tolist(), bias_values=[0.5] * 6), sg.MaxPool2d(2))
    d = sg.derive(net, sg.symbolic("x", (1, 2, 8, 8)), sg.MSELoss(), target=1)
    f = lambdify(d, form="array")
    assert f.arguments == {"input": (1, 2, 8, 8)}
    assert "_float64_array((6, 2, 5, 5)" in f.source and "np.full((6,), 0.5)" in f.source
    arguments = random_arguments(f, 9)
    assert_agree(f(arguments), torch_reference(d, torch_numbers(d, arguments)))


def test_wrt_skips_the_backward_work_nobody_asked_for():
    d = network_derivation("conv relu pool linear ce")
    only_last = lambdify(d, wrt=["4.weight"], form="array")
    assert "_conv2d_backward" not in only_last.source and "want_input=False" in only_last.source
    full = lambdify(d, form="array")
    arguments = random_arguments(full, 1)
    np.testing.assert_allclose(only_last(arguments)["gradients"]["4.weight"],
                               full(arguments)["gradients"]["4.weight"], rtol=1e-13)
    first = lambdify(d, wrt=["0.bias"], form="array")
    assert "dL_dx" not in first.source
    np.testing.assert_allclose(first(arguments)["gradients"]["0.bias"], full(arguments)["gradients"]["0.bias"],
                               rtol=1e-13)


@pytest.mark.torch
def test_backward_passes_scale_the_array_form_like_torch():
    d = sg.derive(sg.Sequential(sg.Conv2d(1, 1, 2), sg.MaxPool2d(2, stride=1)), sg.symbolic("x", (1, 1, 3, 3)),
                  sg.MSELoss(), optimizer=sg.SGD(lr=0.1), backward_passes=3)
    scalar, array = both_forms(d)
    arguments = random_arguments(array, 6)
    assert_same_results(array(arguments), scalar(arguments))
    assert_agree(array(arguments), torch_reference(d, torch_numbers(d, arguments)))


def test_refusals_name_the_option():
    with pytest.raises(sg.OptionError, match="form"):
        lambdify(derivation("conv+max pool"), form="vector")
    with pytest.raises(sg.OptionError, match="method='diff'"):
        lambdify(derivation("conv+avg pool", method="diff"), form="array")
    compound = sg.derive(sg.Sequential(sg.Sum()), np.array([[[[2 * sp.Symbol("a", real=True)]]]], dtype=object))
    with pytest.raises(sg.OptionError, match="expression"):
        lambdify(compound, form="array")


def test_generated_array_module_is_standalone_readable_numpy(tmp_path):
    d = network_derivation("conv relu pool linear ce")
    source = lambdify(d, form="array").source
    compile(source, "generated.py", "exec")
    assert "import torch" not in source and "sympy" not in source and "symgrad." not in source.split('"""', 2)[2]
    assert max(len(line) for line in source.splitlines()) <= 120
    for line in ("sigma = _conv2d_forward(x, k0, b0, ", "a = _relu_forward(sigma", "S = _max_pool2d_forward(a, ",
                 "delta_a, = _max_pool2d_backward(delta_S, a, S, ", "dL_dx, dL_dk0, dL_db0 = _conv2d_backward(delta_sigma, x, sigma"):
        assert any(text.strip().startswith(line) for text in statements(source).splitlines()), line
    path = tmp_path / "generated_net.py"
    path.write_text(source)
    arguments = random_arguments(lambdify(d, form="array"), 2)
    np.savez(tmp_path / "args.npz", **{k.replace(".", "_"): v for k, v in arguments.items()})
    script = ("import numpy as np, generated_net as g\n"
              "a = np.load('args.npz')\n"
              "r = g.evaluate({k: a[k.replace('.', '_')] for k in g.ARGUMENTS})\n"
              "print(repr(float(r['loss'])))\n")
    run = subprocess.run([sys.executable, "-S", "-c", "import sys; sys.path[:0] = ['.'] + "
                          f"{[p for p in sys.path if 'site-packages' in p]!r}\n" + script],
                         cwd=tmp_path, capture_output=True, text=True, check=True)
    assert float(run.stdout) == pytest.approx(lambdify(d, form="array")(arguments)["loss"], rel=1e-15)


def test_emit_form_on_the_command_line(tmp_path, capsys):
    from symgrad.cli.commands import main
    from test_numeric import SPEC, _import

    spec_path = tmp_path / "net.toml"
    spec_path.write_text(SPEC)
    out = tmp_path / "net_array.py"
    assert main(["derive", str(spec_path), "--emit-python", str(out), "--emit-form", "array"]) == 0
    capsys.readouterr()
    module = _import(out)
    # the docstring wraps its lines: a long temporary path may put "array" on the next line
    assert "_conv2d_forward(" in out.read_text() and "--emit-form array" in " ".join(module.__doc__.split())
    scalar_out = tmp_path / "net_scalar.py"
    assert main(["derive", str(spec_path), "--emit-python", str(scalar_out)]) == 0  # small: auto is scalar
    assert "_conv2d_forward(" not in scalar_out.read_text() and "    sigma_111 = " in scalar_out.read_text()
    arguments = random_arguments(lambdify(network_or_spec(spec_path)), 3, batch=(2,))
    assert_same_results(module.evaluate(arguments), _import(scalar_out).evaluate(arguments))
    refused = tmp_path / "refused.py"
    assert main(["derive", str(spec_path), "--emit-form", "array"]) == 2
    assert "--emit-form" in capsys.readouterr().err
    assert main(["derive", str(spec_path), "--method", "diff", "--emit-python", str(refused),
                 "--emit-form", "array"]) == 2
    err = capsys.readouterr().err
    assert "form" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not refused.exists()


def network_or_spec(path):
    from symgrad import spec

    return spec.load(path).derive()


SCALE = 2.0  # a module constant: generated code could not copy it


def _twin_reading_a_constant(x):
    return SCALE * np.asarray(x)


def _twin_calling_a_helper(x):
    return _twin_reading_a_constant(x)


def test_copier_refuses_twins_that_read_globals_other_than_np():
    from symgrad.core.errors import SymgradError
    from symgrad.numeric.arraycode import copied_functions

    with pytest.raises(SymgradError, match="uses the global 'SCALE'"):
        copied_functions([_twin_reading_a_constant])
    with pytest.raises(SymgradError, match="uses the global '_twin_reading_a_constant'"):  # not a symgrad function
        copied_functions([_twin_calling_a_helper])
    assert list(copied_functions([Conv2d.array_twin["backward"]]))[0] == "_conv2d_backward"
