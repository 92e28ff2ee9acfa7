"""Dropout (issue 16 item 1): torch parity in float64 with torch's own mask (recovered from its output on a ones
input under a seed, then given to symgrad: torch's real nn.Dropout under that seed must give the same output and
gradient), the seeded mask's definition, rules vs sympy.diff, train vs eval, index forms and array twins vs the
engine, validation mirrored against torch, from_torch, and `symgrad check`.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from lazy_torch import torch, F

import symgrad as sg
from symgrad.core.errors import OptionError
from symgrad.ops.dropout import Dropout
from symgrad.ops.base import undeclared
from symgrad.printing.words import LANGUAGES
from twins import rebuilt

PROBABILITIES = [0, 0.2, 0.5, 1]
SHAPE = (2, 3, 4, 5)


def _exact(array):
    return sg.core.tensor.to_array(np.asarray(array).tolist())


def _floats(array):
    return np.array([float(v) for v in np.asarray(array, dtype=object).reshape(-1)]).reshape(np.shape(array))


def _engine(layer, x, delta):
    out = layer.forward(_exact(x), {})
    return out, layer.backward(_exact(delta), _exact(x), out, {}).input


def _problem(shape=SHAPE, seed=0):
    """x and delta in eighths: exact in binary and in decimal, so symgrad reads the very floats torch gets."""
    rng = np.random.default_rng(seed)
    return rng.integers(-4, 5, size=shape) / 4, rng.integers(-40, 41, size=shape) / 8


def _torch_mask(p, shape, seed):
    """torch's own mask under `seed`: where its output on a ones input is nonzero."""
    torch.manual_seed(seed)
    with torch.no_grad():
        out = torch.nn.Dropout(p)(torch.ones(shape, dtype=torch.float64))
    return (out != 0).to(torch.int64).numpy()


def _torch_dropout(p, x, delta, seed):
    """torch's real nn.Dropout under `seed`: its output and dL/dx."""
    torch.manual_seed(seed)
    xt = torch.tensor(x, requires_grad=True)
    out = torch.nn.Dropout(p)(xt)
    out.backward(torch.from_numpy(delta))
    return out.detach().numpy(), xt.grad.numpy()


# ---------------------------------------------------------------- torch parity (float64): torch's own mask

@pytest.mark.torch
@pytest.mark.parametrize("p", PROBABILITIES)
@pytest.mark.parametrize("seed", [0, 7])
def test_torchs_mask_given_to_symgrad_gives_torchs_output_and_gradient(p, seed):
    x, delta = _problem(seed=seed)
    mask = _torch_mask(p, SHAPE, seed)
    if 0 < p < 1:
        assert 0 < mask.sum() < mask.size  # some kept, some dropped: the test can fail
    expected_out, expected_dx = _torch_dropout(p, x, delta, seed)
    layer = Dropout(p, mask=mask.tolist())
    out, dx = _engine(layer, x, delta)
    np.testing.assert_array_equal(_floats(out), expected_out)  # to the last bit: 1/(1 - p) is 1, 5/4 or 2
    np.testing.assert_array_equal(_floats(dx), expected_dx)
    if p == 1:
        assert not np.any(expected_dx) and all(v == 0 for v in dx.reshape(-1))
    # symgrad's torch twin holds the same mask: the same numbers through torch autograd
    xt = torch.tensor(x, requires_grad=True)
    twin_out = layer.torch_module()(xt)
    twin_out.backward(torch.from_numpy(delta))
    np.testing.assert_array_equal(twin_out.detach().numpy(), expected_out)
    np.testing.assert_array_equal(xt.grad.numpy(), expected_dx)


@pytest.mark.torch
@pytest.mark.parametrize("p", PROBABILITIES)
def test_functional_dropout_scales_as_symgrad(p):
    """F.dropout's kept entries are x / (1 - p), its dropped ones 0; p = 0 is the identity, p = 1 all zeros."""
    x, _ = _problem((3, 7))
    torch.manual_seed(3)
    theirs = F.dropout(torch.tensor(x), p, training=True).numpy()
    kept = theirs != 0
    if p == 0:
        np.testing.assert_array_equal(theirs, x)
    if p == 1:
        assert not kept.any()
    mask = (kept | (x == 0)).astype(int) if p < 1 else np.zeros_like(x, dtype=int)  # a kept 0 stays kept
    ours, _ = _engine(Dropout(p, mask=mask.tolist()), x, np.ones_like(x))
    np.testing.assert_allclose(_floats(ours), theirs, rtol=1e-15, atol=0)
    if 0 < p < 1:
        assert all(v == sp.Integer(int(m)) / (1 - sg.core.tensor.number(p)) * sg.core.tensor.number(float(xv))
                   for v, m, xv in zip(ours.reshape(-1), mask.reshape(-1), x.reshape(-1)))  # exact rationals


def test_the_seeded_mask_is_numpys_default_rng_kept_where_r_is_at_least_p():
    for p, seed in [(0.2, 0), (0.5, 1), (0, 2), (1, 3), (0.9, 2**40)]:
        layer = Dropout(p, seed=seed)
        expected = (np.random.default_rng(seed).random(SHAPE) >= p).astype(np.int64)
        np.testing.assert_array_equal(layer.mask_for(SHAPE), expected)
    big = Dropout(0.2, seed=5).mask_for((200, 500))
    assert abs(big.mean() - 0.8) < 0.01  # kept with probability 1 - p
    assert Dropout(0, seed=1).mask_for(SHAPE).all() and not Dropout(1, seed=1).mask_for(SHAPE).any()
    # the same seed, the same mask for every use and every pass; another seed, another mask
    assert np.array_equal(Dropout(0.5, seed=4).mask_for(SHAPE), Dropout(0.5, seed=4).mask_for(SHAPE))
    assert not np.array_equal(Dropout(0.5, seed=4).mask_for(SHAPE), Dropout(0.5, seed=5).mask_for(SHAPE))


def test_outputs_and_gradients_are_exact_rationals():
    layer = Dropout(0.2, mask=[[1, 0], [1, 1]])
    out, dx = _engine(layer, np.array([[0.3, 1.0], [-2.0, 0.0]]), np.array([[1.0, 1.0], [0.5, 2.0]]))
    assert out.tolist() == [[sp.Rational(3, 8), 0], [sp.Rational(-5, 2), 0]]
    assert dx.tolist() == [[sp.Rational(5, 4), 0], [sp.Rational(5, 8), sp.Rational(5, 2)]]


# ---------------------------------------------------------------- train vs eval

@pytest.mark.torch
@pytest.mark.parametrize("p", PROBABILITIES)
def test_eval_mode_is_the_identity_as_torchs(p):
    x, delta = _problem()
    for layer in (Dropout(p, training=False), Dropout(p, training=False, seed=1)):
        out, dx = _engine(layer, x, delta)
        np.testing.assert_array_equal(_floats(out), x)
        np.testing.assert_array_equal(_floats(dx), delta)
        assert layer.mask_for(SHAPE) is None and layer.figure(SHAPE, _exact(x)) is None
        assert layer.index_instance("forward", SHAPE) == r"u_{i} = x_{i}"
    xt = torch.tensor(x, requires_grad=True)
    module = torch.nn.Dropout(p).eval()
    module(xt).backward(torch.from_numpy(delta))
    np.testing.assert_array_equal(xt.grad.numpy(), delta)
    twin = Dropout(p, training=False).torch_module()
    assert not twin.training
    np.testing.assert_array_equal(twin(torch.tensor(x)).numpy(), x)


def test_training_changes_the_output_and_eval_does_not():
    x = sg.symbolic("x", (1, 1, 2, 2))
    train = Dropout(0.5, mask=[[1, 0], [0, 1]]).forward(x, {})
    assert train.reshape(-1).tolist() == [2 * x[0, 0, 0, 0], 0, 0, 2 * x[0, 0, 1, 1]]
    assert Dropout(0.5, training=False, mask=[[1, 0], [0, 1]]).forward(x, {}).tolist() == x.tolist()


# ---------------------------------------------------------------- symbolic: rules vs sympy.diff

@pytest.mark.parametrize("make", [lambda: Dropout(0.2, mask=[[1, 0, 1], [0, 1, 1]]), lambda: Dropout(0.5, seed=2),
                                  lambda: Dropout(1, seed=0), lambda: Dropout(0.2, training=False)],
                         ids=["mask", "seed", "p1", "eval"])
def test_rules_equal_sympy_diff_symbolically(make):
    x = sg.symbolic("x", (1, 1, 2, 3))
    net = lambda: sg.Sequential(make(), sg.Tanh())  # noqa: E731
    rules = sg.derive(net(), x, sg.MSELoss(), None, sg.SGD(lr=0.1))
    diff = sg.derive(net(), x, sg.MSELoss(), None, sg.SGD(lr=0.1), method="diff")
    assert sp.simplify(rules.loss - diff.loss) == 0
    for a, b in zip(np.array(rules.gradients["input"].tolist(), dtype=object).reshape(-1),
                    np.array(diff.gradients["input"].tolist(), dtype=object).reshape(-1)):
        assert sp.simplify(a - b) == 0, (a, b)


# ---------------------------------------------------------------- index forms and array twins vs the engine

LAYERS = [("mask_0.2", lambda: Dropout(0.2, mask=[[[[1, 0, 1], [1, 1, 0]]]])), ("seed_0.5", lambda: Dropout(0.5, seed=3)),
          ("p0", lambda: Dropout(0, seed=1)), ("p1", lambda: Dropout(1.0, seed=1)),
          ("eval", lambda: Dropout(0.5, training=False)), ("inplace", lambda: Dropout(0.5, True, seed=9))]


@pytest.mark.parametrize("make", [m for _, m in LAYERS], ids=[n for n, _ in LAYERS])
def test_index_rules_equal_the_engine(make):
    layer, shape = make(), (1, 1, 2, 3)
    assert set(Dropout.index_rules) == set(Dropout.index_form) == {"forward", "input"}
    x, delta = _exact(_problem(shape)[0]), _exact(np.arange(6.0).reshape(shape) - 2)
    out = layer.forward(x, {})
    assert Dropout.index_rules["forward"](layer, x, {}).tolist() == out.tolist()
    assert Dropout.index_rules["input"](layer, x, {}, delta).tolist() == layer.backward(delta, x, out, {}).input.tolist()


#: 1/(1 - 0.2) as the one number printer (core/decimals.py) writes it: a terminating decimal.
FIVE_FOURTHS = ("1.25",)


def test_index_instances_write_the_scale_and_a_small_mask():
    layer = Dropout(0.2, mask=[[1, 0], [1, 1]])
    assert layer.index_instance("forward", (2, 2)) in [
        r"u_{i} = %s\, m_{i}\, x_{i}, \quad m = \begin{bmatrix}1 & 0 \\ 1 & 1\end{bmatrix}" % f for f in FIVE_FOURTHS]
    assert any(layer.index_instance("input", (2, 2)).startswith(r"\frac{\partial L}{\partial x_{i}} = %s\, m_{i}" % f)
               for f in FIVE_FOURTHS)
    assert Dropout(1, seed=0).index_instance("forward", (1, 3)) == r"u_{i} = 0 \quad (p = 1)"
    assert Dropout(0, seed=0).index_instance("forward", (1, 3)).startswith(r"u_{i} = m_{i}\, x_{i}")
    assert r"\quad m =" not in Dropout(0.5, seed=0).index_instance("forward", (1, 1, 5, 5))  # too big to write out


@pytest.mark.torch
@pytest.mark.parametrize("make", [m for _, m in LAYERS], ids=[n for n, _ in LAYERS])
@pytest.mark.parametrize("batch", [(), (3,), (2, 2)])
def test_array_twin_equals_the_engine_and_torch_with_batch_axes_in_front(make, batch):
    layer, shape = make(), (1, 1, 2, 3)
    rng = np.random.default_rng(len(batch))
    xs, deltas = rng.standard_normal((*batch, *shape)), rng.standard_normal((*batch, *shape))
    options = layer.array_options(shape)
    out = rebuilt(Dropout.array_twin["forward"])(xs, **options)
    (dx,) = rebuilt(Dropout.array_twin["backward"])(deltas, xs, out, **options)
    assert out.shape == dx.shape == (*batch, *shape) and out.dtype == dx.dtype == np.float64
    for idx in np.ndindex(*batch):
        engine_out, engine_dx = _engine(layer, xs[idx], deltas[idx])
        np.testing.assert_allclose(out[idx], _floats(engine_out), rtol=1e-15, atol=0)
        np.testing.assert_allclose(dx[idx], _floats(engine_dx), rtol=1e-15, atol=0)
        xt = torch.tensor(xs[idx], requires_grad=True)
        layer.torch_module()(xt).backward(torch.from_numpy(deltas[idx]))
        np.testing.assert_array_equal(dx[idx], xt.grad.numpy())
    (shared,) = rebuilt(Dropout.array_twin["backward"])(deltas[(0,) * len(batch)], xs, out, **options)
    assert shared.shape == (*batch, *shape)  # an unbatched delta broadcasts over x's batch axes
    assert rebuilt(Dropout.array_twin["backward"])(deltas, xs, out, want_input=False, **options) == (None,)


# ---------------------------------------------------------------- the pieces

def test_every_piece_is_declared():
    assert undeclared(Dropout) == []
    layer = Dropout()
    assert layer.options() == {"p": 0.5, "inplace": False, "training": True, "mask": None, "seed": None}
    assert layer.default_options() == layer.options() and layer.parameter_shapes() == {}
    assert Dropout.modes == ("train", "eval")
    assert not Dropout.initial_values and not Dropout.buffers and not Dropout.channels
    assert Dropout.buffers.reason and Dropout.initial_values.reason and Dropout.channels.reason
    assert set(Dropout.words) == set(LANGUAGES) and len({frozenset(Dropout.words[k]) for k in LANGUAGES}) == 1
    assert layer.terms((2, 3), (2, 3)) == 6 and layer.output_letter == "u"


def test_chinese_words_use_full_width_punctuation():
    for key, text in Dropout.words["zh"].items():
        prose = "".join(part for i, part in enumerate(text.split("$")) if i % 2 == 0)  # outside $...$
        prose = prose.replace("numpy.random.default_rng(seed).random(", "")  # code, not prose
        for half, full in [(",", "，"), (":", "："), (";", "；")]:
            assert half not in prose, (key, half, full)
        assert prose.rstrip().endswith("。"), key


def test_figure_highlights_the_dropped_cells_of_the_first_channel():
    layer = Dropout(0.5, mask=[[[[1, 0], [0, 1]], [[0, 0], [0, 0]]]])
    x = sg.symbolic("x", (1, 2, 2, 2))
    assert layer.figure(x.shape, x) == {(0, 1): "", (1, 0): ""}
    assert Dropout(0, seed=0).figure(x.shape, x) is None  # nothing dropped
    assert Dropout(1, seed=0).figure(x.shape, x) == {(h, w): "" for h in range(2) for w in range(2)}
    assert Dropout(0.5, seed=0).figure((2, 3), sg.symbolic("x", (2, 3))) is None  # no image to draw


# ---------------------------------------------------------------- validation, mirrored against torch

@pytest.mark.torch
@pytest.mark.parametrize("p", [0, 0.0, 0.2, 0.5, 1, 1.0, 0.999, 1e-300, np.float32(0.25), -0.1, -1, 1.5, 2, 1.0000001])
def test_p_is_accepted_and_refused_as_torch_does(p):
    try:
        torch.nn.Dropout(p)
        theirs = None
    except ValueError as error:
        theirs = str(error)
    try:
        Dropout(p)
        ours = None
    except OptionError as error:
        assert error.option == "p" and error.where == "Dropout"
        ours = error.message
    assert ours == theirs


@pytest.mark.torch
@pytest.mark.parametrize("p", [True, float("nan"), float("inf"), "0.5", None, sp.Rational(1, 2), 1 + 0j])
def test_what_is_no_probability_is_refused(p):
    """torch's range check lets True and NaN through (True < 0 is False); symgrad's numbers are finite reals."""
    with pytest.raises(OptionError) as info:
        Dropout(p)
    assert info.value.option == "p" and "\n" not in str(info.value)


@pytest.mark.parametrize("options,option,message", [
    ({"mask": [[0, 2]]}, "mask", "entries must be 0 or 1, got 2"),
    ({"mask": [[0, -1]]}, "mask", "entries must be 0 or 1"),
    ({"mask": [[0, 0.5]]}, "mask", "entries must be 0 or 1, got 0.5"),
    ({"mask": [[0, True]]}, "mask", "entries must be 0 or 1, got True"),
    ({"mask": [[0, float("nan")]]}, "mask", "finite"),
    ({"mask": [[1, sg.core.values.toml_float("1e-400")]]}, "mask", "too small for float64"),
    ({"mask": [["a", 1]]}, "mask", "entries must be 0 or 1"),
    ({"mask": [[0, 1], [1]]}, "mask", "not a rectangular array"),
    ({"mask": [[1], 1]}, "mask", "not a rectangular array"),
    ({"mask": []}, "mask", "empty"),
    ({"mask": 1}, "mask", "expected a nested list of 0 and 1"),
    ({"mask": [1, 0], "seed": 1}, "seed", "give mask or seed, not both"),
    ({"seed": -1}, "seed", "must be >= 0"),
    ({"seed": 1.5}, "seed", "expected an integer"),
    ({"seed": 2**64}, "seed", "at most"),
    ({"p": 0, "mask": [1, 0]}, "mask", "p = 0 keeps every entry"),
    ({"p": 1, "mask": [1, 0]}, "mask", "p = 1 drops every entry"),
    ({"inplace": 1}, "inplace", "expected true or false"),
    ({"training": "yes"}, "training", "expected true or false"),
])
def test_options_refused_with_one_line(options, option, message):
    with pytest.raises(OptionError) as info:
        Dropout(**options)
    assert info.value.where == "Dropout" and info.value.option == option and message in info.value.message
    assert "\n" not in str(info.value)


def test_the_mask_must_have_the_inputs_shape():
    with pytest.raises(OptionError, match=r"Dropout: mask: expected the input's shape \[1, 1, 2, 3\], got \[2, 2\]"):
        Dropout(mask=[[1, 0], [0, 1]]).output_shape((1, 1, 2, 3))
    assert Dropout(mask=[[1, 0, 1], [0, 1, 1]]).output_shape((1, 1, 2, 3)) == (1, 1, 2, 3)  # a spec's leading 1s
    with pytest.raises(OptionError, match="mask: expected the input's shape"):
        Dropout(mask=[[1, 0, 1]]).output_shape((2, 1, 3))  # only axes of size 1 may be left out
    with pytest.raises(OptionError, match="mask: expected the input's shape"):  # in eval mode too: a spec error
        Dropout(training=False, mask=[1, 0]).output_shape((1, 3))
    with pytest.raises(OptionError) as info:
        sg.derive(sg.Sequential(sg.Tanh(), Dropout(0.5)), [[1.0, 2.0]])
    assert info.value.where == "layers[1] Dropout" and info.value.option == "mask"
    assert "training mode needs the mask" in info.value.message and "seed" in info.value.message


@pytest.mark.torch
def test_inplace_is_accepted_as_torch_does_and_changes_nothing():
    """torch's in-place dropout overwrites its input; symgrad never does: the same numbers, so it is a no-op."""
    x, delta = _problem((2, 3))
    mask = _torch_mask(0.5, (2, 3), 11)
    torch.manual_seed(11)
    xt = torch.tensor(x, requires_grad=True)
    out = torch.nn.Dropout(0.5, inplace=True)(xt * 1)  # a non-leaf: torch runs in place on it
    out.backward(torch.from_numpy(delta))
    ours, dx = _engine(Dropout(0.5, inplace=True, mask=mask.tolist()), x, delta)
    np.testing.assert_allclose(_floats(ours), out.detach().numpy(), rtol=1e-15, atol=0)
    np.testing.assert_allclose(_floats(dx), xt.grad.numpy(), rtol=1e-15, atol=0)
    assert Dropout(0.5, inplace=True, seed=0).options()["inplace"] is True


# ---------------------------------------------------------------- from_torch

@pytest.mark.torch
def test_from_torch_maps_eval_mode_and_refuses_training_mode():
    back = Dropout.from_torch(torch.nn.Dropout(0.3, inplace=True).eval())
    assert back.options() == {"p": 0.3, "inplace": True, "training": False, "mask": None, "seed": None}
    with pytest.raises(OptionError, match="model.eval()") as info:
        Dropout.from_torch(torch.nn.Dropout(0.3))
    assert info.value.option == "training"
    for layer in (Dropout(0.2, seed=4), Dropout(0.5, mask=[[1, 0]]), Dropout(training=False), Dropout(0.1, True)):
        assert Dropout.from_torch(layer.torch_module()).options() == layer.options()  # symgrad's twin carries its mask


# ---------------------------------------------------------------- through derive and `symgrad check`

CHECKED = [lambda: sg.Sequential(sg.Conv2d(1, 2, 2), Dropout(0.2, seed=1), sg.Flatten(), sg.Linear(8, 2)),
           lambda: sg.Sequential(sg.Conv2d(1, 2, 2), Dropout(0.5, training=False), sg.Tanh()),
           lambda: sg.Sequential(sg.Conv2d(1, 2, 2), Dropout(1, seed=0), sg.Tanh())]


@pytest.mark.torch
@pytest.mark.parametrize("make", CHECKED, ids=["train", "eval", "p1"])
def test_symgrad_check_agrees_with_torch(make):
    from symgrad.verify.numeric import evaluate, random_values
    from symgrad.verify.torch_reference import compare, torch_reference

    d = sg.derive(make(), sg.symbolic("x", (1, 1, 3, 3)), sg.MSELoss(), None, sg.SGD(lr=0.1))
    for seed in range(2):
        numbers = evaluate(d, random_values(d.free_symbols, seed, -2, 2))
        rows = compare(numbers, torch_reference(d, numbers))
        assert rows and all(row["ok"] for row in rows), [(r["quantity"], r["reason"]) for r in rows if not r["ok"]]


@pytest.mark.parametrize("form", ["scalar", "array"])
def test_generated_code_equals_the_engine(form):
    from symgrad.numeric.codegen import generate_source

    make = lambda: sg.Sequential(sg.Conv2d(1, 1, 2), Dropout(0.2, seed=3), sg.Tanh())  # noqa: E731
    d = sg.derive(make(), sg.symbolic("x", (1, 1, 3, 3)), sg.MSELoss(), None, sg.SGD(lr=0.1))
    namespace = {}
    exec(compile(generate_source(d, form=form), "<generated>", "exec"), namespace)
    values = {k: np.linspace(-2, 2, int(np.prod(s))).reshape(s) for k, s in namespace["ARGUMENTS"].items()}
    got = namespace["evaluate"](**values)
    net = make()
    for name, value in values.items():
        if "." in name:
            index, attr = name.split(".")
            net.layers[int(index)].init(**{attr: value})
    engine = sg.derive(net, values["input"].tolist(), sg.MSELoss(), values["target"].tolist())
    assert got["loss"] == pytest.approx(float(engine.loss), rel=1e-12)
    np.testing.assert_allclose(got["gradients"]["input"], _floats(engine.gradients["input"]), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- a spec, its derivation page, `symgrad check`

SPEC = """
title = "Conv2d, Dropout, Sum"

[input]
values = [[1, 2, 0], [0, 1, 3], [2, 1, 1]]

[[layers]]
type = "Conv2d"
in_channels = 1
out_channels = 1
kernel_size = 2
init.weight = [[1, -1], [2, 0]]
init.bias = [0.5]

[[layers]]
type = "Dropout"
p = 0.2
{dropout}

[[layers]]
type = "Sum"
"""
MASK = [[1, 0], [1, 1]]


def _cli(*args):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "symgrad", *args], capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout, done.stderr


def _torch_conv_dropout_sum(mask, training=True):
    """torch's numbers for SPEC: nn.Conv2d, then x * mask / (1 - p) (torch's scaling; eval: x), then the sum."""
    conv = torch.nn.Conv2d(1, 1, 2).double()
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[[[1.0, -1.0], [2.0, 0.0]]]]))
        conv.bias.copy_(torch.tensor([0.5]))
    x = torch.tensor([[[[1.0, 2, 0], [0, 1, 3], [2, 1, 1]]]], dtype=torch.float64, requires_grad=True)
    scaled = torch.tensor(mask, dtype=torch.float64) / (1 - 0.2)
    out = (conv(x) * scaled if training else torch.nn.Dropout(0.2).eval()(conv(x))).sum()
    out.backward()
    return float(out.detach()), conv.weight.grad[0, 0].numpy(), x.grad[0, 0].numpy()


def _bmatrix(values) -> str:
    return r"\begin{bmatrix}" + " \\\\\n".join(" & ".join(f"{v:g}" for v in row) for row in values) + r"\end{bmatrix}"


@pytest.mark.torch
def test_a_derivation_page_renders_with_torchs_numbers(tmp_path):
    path = tmp_path / "conv_dropout.toml"
    path.write_text(SPEC.format(dropout=f"mask = {MASK}"))
    code, page, err = _cli("derive", str(path), "--format", "markdown")
    assert code == 0 and err == "", err
    total, dweight, dx = _torch_conv_dropout_sum(MASK)
    assert "### Layer 1: Dropout(p=0.2, mask=[[1, 0], [1, 1]])" in page
    from symgrad.printing.markdown import math, text  # as the Markdown writes them (\, as \thinspace)

    assert math(Dropout.index_form["forward"]) in page and text(Dropout.words["en"]["note:forward"]).split(":")[0] in page
    assert any(math(r"u_{i} = %s\, m_{i}\, x_{i}, \quad m = \begin{bmatrix}1 & 0 \\" % f) in page for f in FIVE_FOURTHS)
    assert text(Dropout.words["en"]["figure"]) in page  # the figure, under the backward rule
    assert f"S = {total:g}\n" in page and total == 4.375  # 5/4 of the kept sums: a decimal that terminates
    assert r"\frac{\partial L}{\partial K} = " + _bmatrix(dweight) in page
    assert r"\frac{\partial L}{\partial X} = " + _bmatrix(dx) in page


@pytest.mark.torch
def test_a_seeded_spec_derives_and_checks_against_torch(tmp_path):
    path = tmp_path / "seeded.toml"
    path.write_text(SPEC.format(dropout="seed = 3"))
    mask = Dropout(0.2, seed=3).mask_for((1, 1, 2, 2))[0, 0].tolist()
    code, out, err = _cli("derive", str(path), "--format", "json")
    assert code == 0, err
    import json

    total, dweight, _ = _torch_conv_dropout_sum(mask)
    result = json.loads(out)
    assert float(sp.sympify(result["loss"])) == pytest.approx(total, rel=1e-15)
    code, out, err = _cli("check", str(path))
    assert code == 0 and "5 of 5 quantities agree" in out, out + err
    eval_spec = tmp_path / "eval.toml"
    eval_spec.write_text(SPEC.format(dropout="training = false"))
    code, out, err = _cli("derive", str(eval_spec), "--format", "json")
    assert code == 0, err
    identity, _, _ = _torch_conv_dropout_sum(MASK, training=False)
    assert float(sp.sympify(json.loads(out)["loss"])) == identity != total


def test_a_spec_reads_every_option():
    from symgrad import spec as specs

    read = specs.parse(SPEC.format(dropout="inplace = true\ntraining = false\nseed = 12"))
    layer = read.network.layers[1]
    assert type(layer) is Dropout and layer.options() == {"p": 0.2, "inplace": True, "training": False,
                                                           "mask": None, "seed": 12}
    with pytest.raises(OptionError) as info:
        specs.parse(SPEC.format(dropout="mask = [[1, 0], [1, 1]]\nseeds = 1"))
    assert info.value.option == "seeds" and "did you mean" in info.value.message.lower()


@pytest.mark.torch
def test_symgrad_from_torch_reads_a_model_in_eval_mode_and_refuses_one_in_training_mode():
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 2), torch.nn.Dropout(0.4), torch.nn.Tanh()).double()
    x = torch.linspace(-1, 1, 9, dtype=torch.float64).reshape(1, 1, 3, 3)
    with pytest.raises(OptionError) as info:
        sg.from_torch(model, example_input=x)
    assert info.value.where == "layers[1] Dropout" and info.value.option == "training"
    model.eval()
    net = sg.from_torch(model, example_input=x)
    assert net.layers[1].options() == {"p": 0.4, "inplace": False, "training": False, "mask": None, "seed": None}
    d = sg.derive(net, x.tolist(), sg.MSELoss(), 0.25)
    xt = x.clone().requires_grad_(True)
    torch.nn.MSELoss()(model(xt), torch.full((1, 2, 2, 2), 0.25, dtype=torch.float64)).backward()
    np.testing.assert_allclose(_floats(d.gradients["input"]), xt.grad.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(_floats(d.gradients["0.weight"]), model[0].weight.grad.numpy(), rtol=1e-12,
                               atol=1e-14)


# ---------------------------------------------------------------- random networks with a Dropout (property tests)

from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import random_nets as rn  # noqa: E402

#: symgrad's one refusal of what torch accepts (docs/semantics.md): a max-pool window wholly in the padding.
PADDING_REFUSAL = "lies entirely in the padding"


@st.composite
def dropout_nets(draw, **mixed):
    """A random network of tests/support/random_nets.py with a Dropout (random_nets' own options for it: p in
    {0, 0.2, 0.5, 1}, a seed or eval mode) put in at a random place before any Sum; parameters renamed."""
    net = draw(rn.mixed_nets(**mixed))
    kinds = [kind for kind, _ in net.layers]
    place = draw(st.integers(0, kinds.index("Sum") if "Sum" in kinds else len(kinds)))
    dropout = draw(rn.activation((), None, kinds=("Dropout",)))
    params = {}
    for key, value in net.params.items():
        index, name = key.split(".")
        params[f"{int(index) + (int(index) >= place)}.{name}"] = value
    return rn.Net(net.layers[:place] + [dropout] + net.layers[place:], net.x, params, net.loss, net.target, net.sgd,
                  net.passes)


def _derive_or_refuse(net, method="rules"):
    try:
        return net.derive(method)
    except OptionError as error:
        assert error.option == "dilation" and PADDING_REFUSAL in error.message, error
        assume(False)


@pytest.mark.torch
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dropout_nets(max_image_layers=2, max_side=4))
def test_random_networks_with_a_dropout_match_torch(net):
    from symgrad.verify import compare, evaluate, torch_reference

    d = _derive_or_refuse(net)
    numbers = evaluate(d)
    rows = compare(numbers, torch_reference(d, numbers), rtol=1e-10, atol=1e-10)
    assert rows and all(row["ok"] for row in rows), ([(r["quantity"], r["reason"]) for r in rows if not r["ok"]], net)


@pytest.mark.torch  # random_nets asks torch for each drawn layer's output shape
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(dropout_nets(max_image_layers=2, max_side=3, transcendental=False).filter(
    lambda net: not net.kinds() & {"MaxPool2d", "ReLU", "LeakyReLU"}))  # no ties: there diff gives Heaviside(0)
def test_random_networks_with_a_dropout_rules_equal_sympy_diff(net):
    rules, diff = _derive_or_refuse(net), _derive_or_refuse(net, "diff")
    assert sp.simplify(sp.sympify(rules.loss) - sp.sympify(diff.loss)) == 0
    for key, grad in rules.gradients.items():
        for a, b in zip(np.array(grad.tolist(), dtype=object).reshape(-1),
                        np.array(diff.gradients[key].tolist(), dtype=object).reshape(-1), strict=True):
            assert sp.simplify(a - b) == 0, (key, a, b, net)
