"""LeakyReLU, ELU, GELU (issue 16 item 1): torch parity in float64 with zeros on purpose (torch's derivative
at exactly 0 is the left branch), rules vs sympy.diff, index forms and array twins vs the engine, validation
mirrored against torch, and derive end to end.

The layers are symgrad/ops/rectifiers.py, found by the registry as every op.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import sympy as sp
from lazy_torch import torch

import symgrad as sg
from symgrad.core.errors import OptionError
from symgrad.ops.rectifiers import ELU, GELU, LeakyReLU
from symgrad.ops.base import undeclared
from symgrad.printing.words import LANGUAGES
from twins import rebuilt

TOL = {"rtol": 1e-12, "atol": 1e-12}
CLASSES = [LeakyReLU, ELU, GELU]
LAYERS = [
    ("leaky_default", lambda: LeakyReLU()), ("leaky_0.2", lambda: LeakyReLU(0.2)),
    ("leaky_negative", lambda: LeakyReLU(-0.5)), ("leaky_zero", lambda: LeakyReLU(0.0)),
    ("leaky_int", lambda: LeakyReLU(2)), ("leaky_inplace", lambda: LeakyReLU(0.3, inplace=True)),
    ("elu_default", lambda: ELU()), ("elu_0.7", lambda: ELU(0.7)), ("elu_negative", lambda: ELU(-1.0)),
    ("elu_zero", lambda: ELU(0.0)), ("elu_inplace", lambda: ELU(1.5, inplace=True)),
    ("gelu", lambda: GELU()), ("gelu_tanh", lambda: GELU("tanh")),
]
IDS = [name for name, _ in LAYERS]
#: Zeros, ties and both signs on purpose (0 is where torch's branch choice shows).
X = np.array([[-2.0, -0.5, 0.0, 0.0], [0.5, 0.0, 1.5, -1.0], [3.0, -3.0, 0.0, 0.25]])


def _exact(array):
    return sg.core.tensor.to_array(np.asarray(array).tolist())


def _floats(array):
    return np.array([float(v) for v in np.asarray(array, dtype=object).reshape(-1)]).reshape(np.shape(array))


def _engine(layer, x, delta):
    out = layer.forward(_exact(x), {})
    return out, layer.backward(_exact(delta), _exact(x), out, {}).input


def _delta(shape, seed=0):
    return np.random.default_rng(seed).integers(-4, 5, size=shape) / 2


# ---------------------------------------------------------------- torch parity (float64)

@pytest.mark.torch
@pytest.mark.parametrize("make", [m for _, m in LAYERS], ids=IDS)
def test_forward_and_gradient_match_torch_at_zeros_and_ties(make):
    layer = make()
    delta = _delta(X.shape)
    delta[0, 2] = 1.0  # a nonzero delta at an x = 0: the derivative there shows
    out, dx = _engine(layer, X, delta)
    xt = torch.tensor(X, requires_grad=True)
    module = getattr(torch.nn, layer.type_name)(**layer.options())  # inplace as given: torch's in-place kernels too
    tout = module(xt * 1)  # a non-leaf: torch runs an in-place module on it
    tout.backward(torch.from_numpy(delta))
    np.testing.assert_allclose(_floats(out), tout.detach().numpy(), **TOL)
    np.testing.assert_allclose(_floats(dx), xt.grad.numpy(), **TOL)


@pytest.mark.torch
def test_derivative_at_zero_is_torchs_left_branch():
    """Measured: LeakyReLU'(0) = negative_slope, ELU'(0) = alpha, GELU'(0) = 1/2; the engine gives exactly these."""
    for layer, expected in [(LeakyReLU(0.2), sp.Rational(1, 5)), (LeakyReLU(-0.5), sp.Rational(-1, 2)),
                            (ELU(0.7), sp.Rational(7, 10)), (ELU(), 1), (GELU(), sp.Rational(1, 2)),
                            (GELU("tanh"), sp.Rational(1, 2))]:
        xt = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        layer.torch_module()(xt).backward(torch.ones(1, dtype=torch.float64))
        _, dx = _engine(layer, np.zeros(1), np.ones(1))
        assert dx[0] == expected and float(xt.grad[0]) == float(expected), layer


@pytest.mark.torch
@pytest.mark.parametrize("make", [m for _, m in LAYERS], ids=IDS)
def test_torch_module_and_from_torch_round_trip(make):
    """The twin is out of place (as ReLU's); from_torch reads inplace from torch's module."""
    layer = make()
    module = layer.torch_module()
    assert type(module).__name__ == layer.type_name and not getattr(module, "inplace", False)
    back = type(layer).from_torch(module)
    assert type(back) is type(layer)
    assert back.options() == {**layer.options(), **({"inplace": False} if "inplace" in layer.options() else {})}
    options = layer.options()
    if "inplace" in options:
        read = type(layer).from_torch(getattr(torch.nn, layer.type_name)(**options))
        assert read.options() == options and repr(read) == repr(layer)


@pytest.mark.torch
@pytest.mark.parametrize("make", [m for _, m in LAYERS], ids=IDS)
def test_symgrad_checks_torch_model_takes_a_leaf_input(make):
    """`symgrad check` runs the network's twins on a leaf that requires grad: an in-place twin would be refused."""
    from symgrad.verify.torch_reference import torch_model

    xt = torch.tensor(X, requires_grad=True)
    torch_model(sg.Sequential(make(), make())).forward(xt).sum().backward()
    assert xt.grad is not None


# ---------------------------------------------------------------- symbolic: rules vs sympy.diff

def _entries(array):
    if isinstance(array, sp.Basic) and not isinstance(array, sp.NDimArray):
        return [array]
    return list(np.array(array.tolist(), dtype=object).reshape(-1))


def _both(layer, shape, loss):
    x = sg.symbolic("x", shape)
    rules = sg.derive(sg.Sequential(layer), x, loss, None, sg.SGD(lr=0.1))
    diff = sg.derive(sg.Sequential(type(layer)(**layer.options())), x, loss, None, sg.SGD(lr=0.1), method="diff")
    assert set(x.reshape(-1)) <= rules.loss.free_symbols
    return x, rules, diff


@pytest.mark.parametrize("layer", [LeakyReLU(0.2), LeakyReLU(-0.5), ELU(0.7), ELU(-1.0)], ids=repr)
def test_kinked_rules_equal_sympy_diff_away_from_zero(layer):
    """At 0 the two differ on purpose (Heaviside(0) = 1/2); at random nonzero rationals they agree exactly."""
    x, rules, diff = _both(layer, (1, 1, 2, 2), sg.MSELoss())
    rng = random.Random(repr(layer))
    for _ in range(5):
        point = {s: sp.Rational(rng.choice([-1, 1]) * rng.randint(1, 9), rng.randint(1, 4)) for s in x.reshape(-1)}
        for a, b in zip(_entries(rules.gradients["input"]), _entries(diff.gradients["input"])):
            assert sp.simplify(a.xreplace(point) - b.xreplace(point)) == 0


@pytest.mark.parametrize("layer", [GELU(), GELU("tanh")], ids=repr)
def test_gelu_rules_equal_sympy_diff_symbolically(layer):
    _, rules, diff = _both(layer, (1, 1, 1, 2), sg.MSELoss(reduction="sum"))
    assert sp.simplify(rules.loss - diff.loss) == 0
    for a, b in zip(_entries(rules.gradients["input"]), _entries(diff.gradients["input"])):
        assert a.free_symbols and sp.simplify(a - b) == 0, (a, b)


def test_symbolic_rules_keep_torchs_indicator_at_zero():
    x = sp.Symbol("x", real=True)
    for layer, at_zero in [(LeakyReLU(0.2), sp.Rational(1, 5)), (ELU(0.7), sp.Rational(7, 10))]:
        local = layer.backward(np.array([1], dtype=object), np.array([x], dtype=object),
                               layer.forward(np.array([x], dtype=object), {}), {}).input[0]
        assert not local.has(sp.Heaviside) and local.xreplace({x: 0}) == at_zero
        assert local.xreplace({x: 1}) == 1


# ---------------------------------------------------------------- index forms, instances, array twins

def _equal(got, expected) -> bool:
    got, expected = np.asarray(got, dtype=object), np.asarray(expected, dtype=object)
    return got.shape == expected.shape and all(sp.simplify(a - b) == 0
                                               for a, b in zip(got.reshape(-1), expected.reshape(-1)))


@pytest.mark.parametrize("make", [m for _, m in LAYERS], ids=IDS)
def test_index_rules_equal_the_engine(make):
    layer = make()
    assert set(type(layer).index_rules) == set(type(layer).index_form) == {"forward", "input"}
    x, delta = _exact(X[:2]), _exact(_delta(X[:2].shape, 1))
    out = layer.forward(x, {})
    expected = {"forward": out, "input": layer.backward(delta, x, out, {}).input}
    for key, rule in type(layer).index_rules.items():
        assert _equal(rule(layer, x, {}, delta), expected[key]), key


def test_a_wrong_index_rule_would_be_caught():
    x, delta = _exact(X[:1]), _exact(np.ones((1, 4)))
    layer = LeakyReLU(0.2)
    wrong = LeakyReLU.index_rules["input"](LeakyReLU(0.3), x, {}, delta)
    assert not _equal(wrong, layer.backward(delta, x, layer.forward(x, {}), {}).input)


def test_instances_fill_in_the_numbers():
    assert LeakyReLU(0.2).index_instance("forward", (2,)) == r"a_{i} = \max(x_{i}, 0) + 0.2 \min(x_{i}, 0)"
    assert r"0.2\, \mathbb{I}" in LeakyReLU(0.2).index_instance("input", (2,))
    assert "s" not in LeakyReLU(0.2).index_instance("input", (2,)).replace("partial", "")
    assert r"0.7\, e^{x_{i}}" in ELU(0.7).index_instance("input", (2,))
    assert r"+ \left(-0.5\right) \min" in LeakyReLU(-0.5).index_instance("forward", (2,))
    assert r"+ \left(-1\right)\, e^{x_{i}}" in ELU(-1).index_instance("input", (2,))
    assert GELU().index_instance("forward", (2,)) == ""
    assert r"\tanh u_{i}" in GELU("tanh").index_instance("forward", (2,)) and "0.044715" in \
        GELU("tanh").index_instance("input", (2,))
    for cls in CLASSES:
        assert "a_{i}" in cls.index_form["forward"] and r"\partial x_{i}" in cls.index_form["input"]


@pytest.mark.parametrize("make", [m for _, m in LAYERS], ids=IDS)
def test_array_twin_equals_the_engine_with_batch_axes(make):
    """Generated-module copies (np only): a batch of 2 problems in front, each one the engine's problem."""
    layer = make()
    cls = type(layer)
    options = layer.array_options(X.shape)
    batch_x = np.stack([X, -X])
    batch_delta = np.stack([_delta(X.shape, 2), _delta(X.shape, 3)])
    out = rebuilt(cls.array_twin["forward"])(batch_x, **options)
    (dx,) = rebuilt(cls.array_twin["backward"])(batch_delta, batch_x, out, **options)
    for p in range(2):
        e_out, e_dx = _engine(layer, batch_x[p], batch_delta[p])
        np.testing.assert_allclose(out[p], _floats(e_out), **TOL)
        np.testing.assert_allclose(dx[p], _floats(e_dx), **TOL)
    assert rebuilt(cls.array_twin["backward"])(batch_delta, batch_x, out, want_input=False, **options) == (None,)
    shared = rebuilt(cls.array_twin["backward"])(batch_delta, X, out[0], **options)[0]  # batch axes broadcast
    assert shared.shape == batch_delta.shape


# ---------------------------------------------------------------- validation, mirrored against torch

def _torch_refuses(make_module, x=None) -> bool:
    x = torch.tensor([-1.0, 0.0, 1.0], dtype=torch.float64, requires_grad=True) if x is None else x
    try:
        make_module()(x * 1).sum().backward()
    except (TypeError, RuntimeError, ValueError):
        return True
    return False


REFUSED = [  # (symgrad class, kwargs, option): refused by torch too
    (LeakyReLU, {"negative_slope": "0.1"}, "negative_slope"), (ELU, {"alpha": "1"}, "alpha"),
    (LeakyReLU, {"negative_slope": -0.5, "inplace": True}, "inplace"),
    (ELU, {"alpha": -1.0, "inplace": True}, "inplace"),
    (GELU, {"approximate": "exact"}, "approximate"), (GELU, {"approximate": "Tanh"}, "approximate"),
    (GELU, {"approximate": None}, "approximate"), (GELU, {"approximate": 1}, "approximate"),
]
ACCEPTED = [
    (LeakyReLU, {}), (LeakyReLU, {"negative_slope": 0}), (LeakyReLU, {"negative_slope": -3}),
    (LeakyReLU, {"negative_slope": 0.0, "inplace": True}), (ELU, {"alpha": 0.0, "inplace": True}),
    (ELU, {"alpha": -2}), (GELU, {"approximate": "none"}), (GELU, {"approximate": "tanh"}),
]


@pytest.mark.torch
@pytest.mark.parametrize("cls,kwargs,option", REFUSED, ids=str)
def test_symgrad_refuses_what_torch_refuses(cls, kwargs, option):
    assert _torch_refuses(lambda: getattr(torch.nn, cls.type_name)(**kwargs))
    with pytest.raises(OptionError) as info:
        cls(**kwargs)
    assert info.value.option == option and info.value.where == cls.type_name


@pytest.mark.torch
@pytest.mark.parametrize("cls,kwargs", ACCEPTED, ids=str)
def test_symgrad_accepts_what_torch_accepts(cls, kwargs):
    assert not _torch_refuses(lambda: getattr(torch.nn, cls.type_name)(**kwargs))
    assert cls(**kwargs).output_shape((2, 3)) == (2, 3)


@pytest.mark.torch
def test_messages_are_torchs():
    for make, symgrad_make in [(lambda: torch.nn.GELU("exact"), lambda: GELU("exact")),
                               (lambda: torch.nn.GELU(1), lambda: GELU(1))]:
        with pytest.raises((RuntimeError, TypeError)) as torch_error:
            make()(torch.zeros(1))
        with pytest.raises(OptionError) as ours:
            symgrad_make()
        assert str(torch_error.value) in ours.value.message
    with pytest.raises(RuntimeError, match="In-place leakyReLu backward calculation is triggered with a negative slope"):
        _torch_backward_raising(torch.nn.LeakyReLU(-0.5, inplace=True))
    with pytest.raises(OptionError, match="In-place leakyReLu backward calculation is triggered with a negative slope"):
        LeakyReLU(-0.5, inplace=True)
    with pytest.raises(RuntimeError, match="In-place elu backward calculation is triggered with a negative slope"):
        _torch_backward_raising(torch.nn.ELU(-0.5, inplace=True))
    with pytest.raises(OptionError, match="In-place elu backward calculation is triggered with a negative slope"):
        ELU(-0.5, inplace=True)


def _torch_backward_raising(module):
    x = torch.tensor([-1.0, 1.0], dtype=torch.float64, requires_grad=True)
    module(x * 1).sum().backward()


@pytest.mark.parametrize("cls,kwargs,option", [
    (LeakyReLU, {"negative_slope": True}, "negative_slope"), (LeakyReLU, {"negative_slope": float("nan")},
                                                              "negative_slope"),
    (LeakyReLU, {"negative_slope": float("inf")}, "negative_slope"), (LeakyReLU, {"inplace": 1}, "inplace"),
    (LeakyReLU, {"negative_slope": sp.Rational(1, 5)}, "negative_slope"), (ELU, {"alpha": None}, "alpha"),
    (ELU, {"alpha": float("nan")}, "alpha"), (ELU, {"inplace": "no"}, "inplace"),
], ids=str)
def test_symgrad_is_stricter_where_torch_computes_nan_or_reads_a_bool(cls, kwargs, option):
    """torch takes True as 1 and computes with nan/inf slopes; symgrad wants a finite real number (docs)."""
    with pytest.raises(OptionError) as info:
        cls(**kwargs)
    assert info.value.option == option


def test_numpy_numbers_are_taken():
    assert LeakyReLU(np.float64(0.25)).negative_slope == 0.25 and ELU(np.int64(2)).alpha == 2.0


# ---------------------------------------------------------------- the protocol

@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_piece_is_declared(cls):
    assert undeclared(cls) == []
    layer = cls()
    assert layer.parameter_shapes() == {} and cls.symbol_bases == {} and cls.parameter_letters == {}
    assert not cls.initial_values and not cls.buffers and not cls.modes and not cls.figure
    assert cls.output_letter == "a" and cls.rule_words == "general_plain"
    assert set(cls.words) == set(LANGUAGES)
    keys = {frozenset(cls.words[lang]) for lang in LANGUAGES}
    assert len(keys) == 1 and all(k.startswith("note:") and k[5:] in cls.index_form for k in keys.pop())
    assert layer.shape_formula((2, 3)) and layer.output_shape((1, 2, 3)) == (1, 2, 3)


def test_notes_say_where_torch_is_subtle():
    assert "left branch" in LeakyReLU.words["en"]["note:input"] and "$s$" in LeakyReLU.words["zh"]["note:input"]
    assert "\\alpha" in ELU.words["en"]["note:input"]
    assert "0.044715" in GELU.words["en"]["note:forward"] and "0.044715" in GELU.words["zh"]["note:forward"]


# ---------------------------------------------------------------- end to end through derive

X4 = np.array([[[[0.0, -1.5], [2.0, 0.0]], [[-0.5, 0.5], [0.0, 1.0]]]])
TARGET = np.array([[[[1.0, 0.0], [0.5, -1.0]], [[0.0, 0.0], [2.0, -0.5]]]])


def _derive(layer):
    return sg.derive(sg.Sequential(layer), X4.tolist(), sg.MSELoss(), TARGET.tolist(), sg.SGD(lr=0.1))


@pytest.mark.parametrize("make", [m for _, m in LAYERS], ids=IDS)
def test_derive_through_a_sequential(make):
    layer = make()
    d = _derive(layer)
    out, dx = _engine(layer, X4, 2 * (_floats(layer.forward(_exact(X4), {})) - TARGET) / TARGET.size)
    assert set(d.gradients) == {"input"}
    np.testing.assert_allclose(np.array(d.output.tolist(), dtype=float), _floats(out), **TOL)
    np.testing.assert_allclose(np.array(d.gradients["input"].tolist(), dtype=float), _floats(dx), **TOL)


@pytest.mark.torch
@pytest.mark.parametrize("make", [m for _, m in LAYERS], ids=IDS)
def test_derive_equals_torch_end_to_end(make):
    layer = make()
    d = _derive(layer)
    xt = torch.tensor(X4, requires_grad=True)
    loss = torch.nn.MSELoss()(layer.torch_module()(xt * 1), torch.from_numpy(TARGET))
    loss.backward()
    assert float(d.loss) == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(np.array(d.gradients["input"].tolist(), dtype=float), xt.grad.numpy(), **TOL)


# ---------------------------------------------------------------- generated code (docs/numeric.md): both forms

def _generated(make, form):
    """The loss and dL/dx of the generated module on an input with a 0 in it, and the engine's at the same numbers."""
    from symgrad.numeric.codegen import generate_source

    d = sg.derive(sg.Sequential(make()), sg.symbolic("x", (1, 1, 1, 5)), sg.MSELoss(), None, sg.SGD(lr=0.1))
    namespace = {}
    exec(compile(generate_source(d, form=form), "<generated>", "exec"), namespace)
    values = {k: np.linspace(-1, 1, int(np.prod(s))).reshape(s) * (1 if k == "input" else -0.5)
              for k, s in namespace["ARGUMENTS"].items()}
    got = namespace["evaluate"](**values)
    engine = sg.derive(sg.Sequential(make()), values["input"].tolist(), sg.MSELoss(), values["target"].tolist())
    return got, engine


@pytest.mark.parametrize("make", [m for _, m in LAYERS], ids=IDS)
def test_generated_array_form_equals_the_engine(make):
    got, engine = _generated(make, "array")
    assert got["loss"] == pytest.approx(float(engine.loss), rel=1e-12)
    np.testing.assert_allclose(got["gradients"]["input"], np.array(engine.gradients["input"].tolist(), dtype=float),
                               **TOL)


@pytest.mark.parametrize("make", [m for name, m in LAYERS if name != "gelu"], ids=[n for n in IDS if n != "gelu"])
def test_generated_scalar_form_equals_the_engine(make):
    got, engine = _generated(make, "scalar")
    assert got["loss"] == pytest.approx(float(engine.loss), rel=1e-12)
    np.testing.assert_allclose(got["gradients"]["input"], np.array(engine.gradients["input"].tolist(), dtype=float),
                               **TOL)


def test_generated_scalar_form_of_gelu_runs():
    got, engine = _generated(lambda: GELU(), "scalar")
    assert got["loss"] == pytest.approx(float(engine.loss), rel=1e-12)


# ---------------------------------------------------------------- derivation pages: en and zh, and real LaTeX

def _page_derivation():
    from symgrad.ops.identity import Identity

    return sg.derive(sg.Sequential(Identity(), *_page_layers()), sg.symbolic("x", (1, 2, 1, 2)), sg.MSELoss(), None,
                     sg.SGD(lr=0.1))


def test_derivation_pages_print_the_rules_notes_and_instances():
    from symgrad.printing.markdown import math, text  # as the Markdown writes them (\, as \thinspace)
    from symgrad.printing.steps import markdown_body

    d = _page_derivation()
    shown = lambda s: s.replace("\\_", "_")  # noqa: E731  prose escapes _
    pages = {language: shown(markdown_body(d, language)) for language in LANGUAGES}
    for layer in d.network.layers[1:]:
        for language, page in pages.items():
            for key in ("forward", "input"):
                assert shown(math(type(layer).index_form[key])) in page, (layer, language, key)
                assert shown(math(layer.index_instance(key, (1, 2, 1, 2)))) in page
                note = layer.words[language].get(f"note:{key}")
                assert note is None or shown(text(note)) in page, (layer, language, key)


def test_derivation_page_compiles_with_pdflatex(tmp_path):
    """The index forms and instances are real LaTeX: the page (en) compiles as a standalone document."""
    import shutil
    import subprocess

    from symgrad.printing import latex
    from symgrad.printing.steps import latex_body

    if shutil.which("latexmk") is None or shutil.which("pdflatex") is None:
        pytest.fail("latexmk and pdflatex are needed (tests/printing/test_latex_compile.py says how to install TeX Live)")
    source = tmp_path / "page.tex"
    source.write_text(latex.document(latex_body(_page_derivation(), "en")), encoding="utf-8")
    result = subprocess.run(["latexmk", "-pdf", "-norc", "-interaction=nonstopmode", "-halt-on-error", source.name],
                            cwd=tmp_path, capture_output=True, stdin=subprocess.DEVNULL, timeout=600)
    log = source.with_suffix(".log").read_text(errors="replace") if source.with_suffix(".log").exists() else "no log"
    assert result.returncode == 0, [line for line in log.splitlines() if line.startswith("!")][:3]


def _page_layers():
    """The layers the pages print, after an Identity (a first layer's input rule is printed only for dL/dx)."""
    return [LeakyReLU(0.2), ELU(0.5), GELU(), GELU("tanh")]


# ---------------------------------------------------------------- `symgrad check`: the library's own torch comparison


def _checked(layer):
    return lambda: sg.Sequential(sg.Conv2d(1, 2, 2), layer, sg.Flatten(), sg.Linear(8, 2))


CHECKED = [_checked(LeakyReLU(0.2)), _checked(ELU(0.7)), _checked(GELU()), _checked(GELU("tanh")),
           _checked(LeakyReLU(-0.5))]
CHECKED_IDS = ["leaky", "elu", "gelu", "gelu_tanh", "leaky_negative"]


@pytest.mark.torch
@pytest.mark.parametrize("make", CHECKED, ids=CHECKED_IDS)
def test_symgrad_check_agrees_with_torch(make):
    """Conv2d -> the layer -> Linear, symbolic, evaluated at random small integers, vs torch."""
    from symgrad.verify.numeric import evaluate, random_values
    from symgrad.verify.torch_reference import compare, torch_reference

    d = sg.derive(make(), sg.symbolic("x", (1, 1, 3, 3)), sg.MSELoss(), None, sg.SGD(lr=0.1))
    for seed in range(3):
        numbers = evaluate(d, random_values(d.free_symbols, seed, -2, 2))  # as `symgrad check --seed`
        rows = compare(numbers, torch_reference(d, numbers))
        assert rows and all(row["ok"] for row in rows), [(r["quantity"], r["reason"]) for r in rows if not r["ok"]]


# ---------------------------------------------------------------- second derivatives (symgrad.engine.hessian) vs torch

@pytest.mark.torch
@pytest.mark.parametrize("make", [lambda: GELU(), lambda: GELU("tanh"), lambda: ELU(0.5), lambda: LeakyReLU(0.2)],
                         ids=["gelu", "gelu_tanh", "elu", "leaky"])
def test_hessian_matches_torch(make):
    """d^2 L / dK^2 through the layer (conv -> layer -> MSELoss), against torch.autograd.functional.hessian."""
    weight = np.array([[[[0.5, -1.0], [0.25, 1.5]]], [[[1.0, 0.5], [-0.5, 0.0]]]])
    x = np.array([[[[1.0, -0.5, 0.0], [0.0, 2.0, -1.0], [0.5, 0.5, 1.0]]]])
    target = np.array([[[[1.0, 0.0], [0.5, -1.0]], [[0.0, 0.25], [0.0, 1.0]]]])
    conv = sg.Conv2d(1, 2, 2, bias=False).init(weight=weight.tolist())
    d = sg.derive(sg.Sequential(conv, make()), x.tolist(), sg.MSELoss(), target.tolist())
    ours = np.array(d.hessian("0.weight").evalf().tolist(), dtype=float)
    module = make().torch_module()

    def loss(w):
        out = module(torch.nn.functional.conv2d(torch.from_numpy(x), w))
        return torch.nn.functional.mse_loss(out, torch.from_numpy(target))

    theirs = torch.autograd.functional.hessian(loss, torch.from_numpy(weight)).reshape(8, 8).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
