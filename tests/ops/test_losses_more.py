"""NLLLoss, CrossEntropyLoss's new options, BCEWithLogitsLoss, SmoothL1Loss and HuberLoss (issue 16 item 1):
torch parity in float64 (ties, zeros and ignored targets on purpose), rules vs sympy.diff on small symbolic
cases, index rules vs the engine, array twins vs torch with batch axes, validation mirroring torch both
ways, and derivation pages (en, zh) from a spec through the CLI.
"""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp
from lazy_torch import torch

import symgrad as sg
from symgrad.core.errors import OptionError
from symgrad.ops.bce import BCEWithLogitsLoss
from symgrad.ops.nll import NLLLoss
from symgrad.ops.smooth_l1 import HuberLoss, SmoothL1Loss
from symgrad.ops.base import undeclared
from symgrad.ops.cross_entropy import CrossEntropyLoss
from symgrad.printing.words import LANGUAGES
from twins import rebuilt

from paths import ROOT

TOL = {"rtol": 1e-12, "atol": 1e-12}
I = sp.Integer


def _exact(values) -> np.ndarray:
    """Nested lists of ints / floats / strings as SymPy numbers (floats by their decimal text)."""
    array = np.array(values, dtype=object)
    out = np.empty(array.shape, dtype=object)
    for idx in np.ndindex(*array.shape):
        value = array[idx]
        out[idx] = sp.Rational(str(value)) if not isinstance(value, sp.Basic) else value
    return out


def _floats(array) -> np.ndarray:
    return np.asarray(array, dtype=object).astype(np.float64)


def _torch_value_and_grad(loss, out, target):
    z = torch.tensor(_floats(out), dtype=torch.float64, requires_grad=True)
    value = loss.torch_module()(z, torch.tensor(_floats(target), dtype=torch.float64))
    value.backward()
    return value.item(), z.grad.numpy()


LOGITS = [[1, -2, 3], [0, 0, 0], [2, 2, -1], [0.5, -1, 1]]  # a row of equal logits and a tie at the top
INDICES = [2, 1, 0, 1]
PROBS = [[0.5, 0.5, 0], [0, 0, 1], [0.25, 0.25, 0.5], [1, 0, 0]]

#: (loss, output, target): each against torch's module in float64.
CASES = [
    (NLLLoss(), LOGITS, INDICES),
    (NLLLoss("sum"), LOGITS, INDICES),
    (NLLLoss(weight=[1, 2, 0.5]), LOGITS, INDICES),
    (NLLLoss(weight=[1, 2, 0.5], ignore_index=1), LOGITS, INDICES),
    (NLLLoss("sum", weight=[0, 2, 0.5], ignore_index=0), LOGITS, INDICES),
    (NLLLoss(), LOGITS, [2, -100, 0, -100]),
    (NLLLoss(weight=[-1, 2, 3]), LOGITS, INDICES),  # torch takes negative weights too
    (CrossEntropyLoss(), LOGITS, [2, -100, 0, 1]),  # the default ignore_index is -100
    (CrossEntropyLoss(weight=[1, 2, 0.5]), LOGITS, INDICES),
    (CrossEntropyLoss("sum", weight=[1, 2, 0.5]), LOGITS, INDICES),
    (CrossEntropyLoss(ignore_index=1), LOGITS, INDICES),
    (CrossEntropyLoss(label_smoothing=0.1), LOGITS, INDICES),
    (CrossEntropyLoss(label_smoothing=1), LOGITS, INDICES),
    (CrossEntropyLoss("sum", label_smoothing=0.25, ignore_index=2), LOGITS, INDICES),
    (CrossEntropyLoss(weight=[1, 2, 0.5], ignore_index=0, label_smoothing=0.2), LOGITS, INDICES),
    (CrossEntropyLoss(), LOGITS, PROBS),
    (CrossEntropyLoss("sum"), LOGITS, PROBS),
    (CrossEntropyLoss(weight=[1, 2, 0.5], label_smoothing=0.3), LOGITS, PROBS),
    (CrossEntropyLoss(ignore_index=-5), LOGITS, [[2, -1, 0], [1, 1, 1], [0, 0, 0], [0.5, 0.5, 0]]),  # not checked
    (BCEWithLogitsLoss(), LOGITS, PROBS),
    (BCEWithLogitsLoss("sum"), LOGITS, [[1, 0, 0], [0, 1, 1], [0.5, 0.5, 0.5], [2, -1, 0]]),  # torch takes any y
    (BCEWithLogitsLoss(weight=[1, 2, 0.5]), LOGITS, PROBS),
    (BCEWithLogitsLoss(pos_weight=[3, 1, 0.5]), LOGITS, PROBS),
    (BCEWithLogitsLoss(weight=[[1], [2], [0], [0.5]], pos_weight=2), LOGITS, PROBS),
    (SmoothL1Loss(), LOGITS, [[0, -1, 2], [1, -1, 0], [2, 0, 0], [0.5, 0, 0]]),  # |d| = 1 = beta, d = 0
    (SmoothL1Loss("sum", beta=0.5), LOGITS, [[0.5, -1.5, 3], [0, 0.5, -0.5], [0, 0, 0], [1, 0, 0]]),
    (SmoothL1Loss(beta=0), LOGITS, [[1, -2, 0], [0, 1, 0], [2, 2, 0], [0, 0, 0]]),  # L1: sign(0) = 0
    (SmoothL1Loss(beta=2), LOGITS, 0),  # a broadcast target
    (HuberLoss(), LOGITS, [[0, -1, 2], [1, -1, 0], [2, 0, 0], [0.5, 0, 0]]),
    (HuberLoss("sum", delta=0.5), LOGITS, [[0.5, -1.5, 3], [0, 0.5, -0.5], [0, 0, 0], [1, 0, 0]]),
    (HuberLoss(delta=2), LOGITS, [[-1, 0, 1], [2, -2, 0], [0, 0, 0], [0, 0, 0]]),
]
IDS = [f"{i}-{loss!r}" for i, (loss, _, _) in enumerate(CASES)]


def _checked(loss, out, target):
    out, target = _exact(out), _exact(target)
    target = loss.check_target(out.shape, target)
    return out, target, loss.for_target(target)


@pytest.mark.torch
@pytest.mark.parametrize("loss,out,target", CASES, ids=IDS)
def test_engine_matches_torch(loss, out, target):
    out, target, loss = _checked(loss, out, target)
    value, grad = _torch_value_and_grad(loss, out, np.broadcast_to(target, np.shape(target)))
    assert float(loss.forward(out, target)) == pytest.approx(value, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(_floats(loss.backward(out, target)), grad, **TOL)


@pytest.mark.torch
@pytest.mark.parametrize("loss,out,target", CASES, ids=IDS)
def test_array_twins_match_torch_with_batch_axes(loss, out, target):
    """The twin as generated code holds it, on two problems (batch axis in front of output and target)."""
    problems = []
    for shift in (0, 1):
        o, t, fitted = _checked(loss, np.array(out, dtype=float) + shift, target)
        problems.append((o, t))
    options = fitted.array_options(problems[0][0].shape)
    dtype = np.int64 if getattr(fitted, "target_dtype", "float64") == "int64" else np.float64
    outs = np.stack([_floats(o) for o, _ in problems])
    targets = np.stack([np.asarray(t, dtype=object).astype(dtype) for _, t in problems])
    value = rebuilt(fitted.array_twin["forward"])(outs, targets, **options)
    grad = rebuilt(fitted.array_twin["backward"])(outs, targets, **options)
    assert np.shape(value) == (2,) and grad.shape == outs.shape
    for b, (o, t) in enumerate(problems):
        torch_value, torch_grad = _torch_value_and_grad(fitted, o, t)
        np.testing.assert_allclose(value[b], torch_value, **TOL)
        np.testing.assert_allclose(grad[b], torch_grad, **TOL)


@pytest.mark.parametrize("loss,out,target", CASES, ids=IDS)
def test_index_rules_equal_the_engine(loss, out, target):
    out, target, loss = _checked(loss, out, target)
    rules = type(loss).index_rules
    for key, engine in (("forward", loss.forward(out, target)), ("input", loss.backward(out, target))):
        got = np.asarray(rules[key](loss, out, target), dtype=object).reshape(-1)
        want = np.asarray(engine, dtype=object).reshape(-1)
        assert len(got) == len(want) and all(sp.simplify(a - b) == 0 for a, b in zip(got, want)), (loss, key)


# ---------------------------------------------------------------- rules vs sympy.diff on symbols

def _symbols(shape):
    return np.array(sp.symbols(f"z0:{int(np.prod(shape))}", real=True), dtype=object).reshape(shape)


@pytest.mark.parametrize("loss,target", [
    (NLLLoss(weight=[1, 2, 0.5], ignore_index=0), [2, 0]),
    (CrossEntropyLoss(weight=[1, 2, 0.5], ignore_index=0, label_smoothing=0.2), [2, 0]),
    (CrossEntropyLoss("sum", label_smoothing=0.1), [1, 1]),
    (CrossEntropyLoss(weight=[2, 1, 1]), [[0.5, 0.5, 0], ["p", 0, "q"]]),
    (BCEWithLogitsLoss(weight=[1, 2, 0.5], pos_weight=[3, 1, 2]), [[0, 1, 0.5], ["y", 1, 0]]),
], ids=str)
def test_rules_equal_sympy_diff(loss, target):
    """The backward rule is the derivative of the forward, on symbolic logits (and symbolic probabilities)."""
    target = np.array([[sp.Symbol(v, real=True) if isinstance(v, str) else sp.Rational(str(v)) for v in row]
                       if isinstance(row, list) else I(row) for row in target], dtype=object)
    out = _symbols((2, 3))
    target = loss.check_target(out.shape, target)
    loss = loss.for_target(target)
    forward, backward = loss.forward(out, target), loss.backward(out, target)
    for idx in np.ndindex(*out.shape):
        difference = sp.diff(forward, out[idx]) - backward[idx]
        assert sp.simplify(difference) == 0 or all(
            abs(difference.subs({s: v for s, v in zip(sorted(difference.free_symbols, key=str), point)})) < 1e-20
            for point in itertools.product([-1.5, 0, 2], repeat=len(difference.free_symbols))), (loss, idx)


@pytest.mark.parametrize("loss", [SmoothL1Loss(), SmoothL1Loss(beta=0.5), SmoothL1Loss("sum", beta=0), HuberLoss(),
                                  HuberLoss("sum", delta=2)], ids=repr)
def test_piecewise_rules_equal_sympy_diff_off_the_ties(loss):
    """sympy.diff of the Piecewise forward equals the rule wherever it is differentiable (off |d| = beta and
    d = 0 for L1); at the ties the rule is torch's branch (checked against torch above)."""
    s, y = sp.symbols("s y", real=True)
    out, target = np.array([[s, I(1)]], dtype=object), np.array([[y, I(0)]], dtype=object)
    forward, backward = loss.forward(out, target), loss.backward(out, target)
    derivative = sp.diff(forward, s)
    for sv, yv in itertools.product([-3, -0.7, -0.2, 0.3, 0.9, 2.5], [0, 0.4, -1.1]):
        point = {s: sp.Rational(str(sv)), y: sp.Rational(str(yv))}
        assert sp.simplify(derivative.subs(point) - backward[0, 0].subs(point)) == 0, (loss, point)


@pytest.mark.torch
@pytest.mark.parametrize("cls,option", [(SmoothL1Loss, "beta"), (HuberLoss, "delta")])
@pytest.mark.parametrize("threshold", [0.5, 1.0, 2.0])
def test_piecewise_ties_follow_torch(cls, option, threshold):
    """|S - y| = threshold exactly (both signs), d = 0 and values just inside and outside."""
    d = np.array([threshold, -threshold, 0.0, threshold / 2, -threshold * 1.5, threshold * 2, np.nextafter(threshold, 0)])
    loss = cls("sum", **{option: threshold})
    out = _exact(d.reshape(1, -1).tolist())
    target = loss.check_target(out.shape, _exact(np.zeros((1, len(d))).tolist()))
    value, grad = _torch_value_and_grad(loss, out, target)
    assert float(loss.forward(out, target)) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(_floats(loss.backward(out, target)), grad, **TOL)
    assert _floats(loss.backward(out, target))[0, :3].tolist() == [1.0 * (threshold if cls is HuberLoss else 1),
                                                                   -1.0 * (threshold if cls is HuberLoss else 1), 0.0]


@pytest.mark.torch
def test_bce_twin_is_stable_for_large_logits():
    import warnings

    loss = BCEWithLogitsLoss(pos_weight=[2.0, 1.0])
    out = np.array([[1000.0, -1000.0], [-800.0, 800.0]])
    target = np.array([[0.0, 1.0], [1.0, 0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = rebuilt(loss.array_twin["forward"])(out, target, **loss.array_options((2, 2)))
        grad = rebuilt(loss.array_twin["backward"])(out, target, **loss.array_options((2, 2)))
    z = torch.tensor(out, requires_grad=True)
    expected = loss.torch_module()(z, torch.tensor(target))
    expected.backward()
    np.testing.assert_allclose(value, expected.item(), **TOL)
    np.testing.assert_allclose(grad, z.grad.numpy(), **TOL)


# ---------------------------------------------------------------- validation, both ways

def _torch_refuses(name, options, out, target) -> bool:
    """Whether torch raises for this loss on this output and target (or returns nan: a 0/0 mean)."""
    tensors = {k: torch.tensor(v, dtype=torch.float64) if isinstance(v, list) else v for k, v in options.items()}
    out, target = torch.tensor(np.asarray(out, dtype=float)), torch.tensor(np.asarray(target, dtype=float))
    if name in ("CrossEntropyLoss", "NLLLoss") and target.shape != out.shape:
        target = target.long()
    try:
        value = getattr(torch.nn, name)(**tensors)(out, target)
    except (RuntimeError, ValueError, IndexError):
        return True
    return bool(torch.isnan(value))


#: (loss, options, output, target, the option symgrad names): torch refuses each (or returns nan).
REFUSED = [
    ("CrossEntropyLoss", {"weight": [1, 2]}, LOGITS, INDICES, "weight"),
    ("CrossEntropyLoss", {"label_smoothing": 1.5}, LOGITS, INDICES, "label_smoothing"),
    ("CrossEntropyLoss", {}, LOGITS, [0, 3, 1, 1], "target"),
    ("CrossEntropyLoss", {}, LOGITS, [0, -1, 1, 1], "target"),
    ("CrossEntropyLoss", {"ignore_index": 0}, LOGITS, PROBS, "ignore_index"),
    ("CrossEntropyLoss", {}, LOGITS, [-100] * 4, "target"),
    ("CrossEntropyLoss", {"ignore_index": 1}, LOGITS, [1, 1, 1, 1], "target"),
    ("CrossEntropyLoss", {}, LOGITS, [[0, 1], [1, 0], [0, 1], [1, 0]], "target"),
    ("NLLLoss", {"weight": [1, 2, 3, 4]}, LOGITS, INDICES, "weight"),
    ("NLLLoss", {}, LOGITS, [0, 1, 3, 0], "target"),
    ("NLLLoss", {"weight": [0, 0, 1]}, LOGITS, [0, 1, 0, 1], "target"),
    ("NLLLoss", {}, LOGITS, PROBS, "target"),
    ("BCEWithLogitsLoss", {}, LOGITS, [0, 1, 0], "target"),
    ("BCEWithLogitsLoss", {"pos_weight": [1, 2]}, LOGITS, PROBS, "pos_weight"),
    ("BCEWithLogitsLoss", {"weight": [1, 2]}, LOGITS, PROBS, "weight"),
    ("BCEWithLogitsLoss", {"pos_weight": [[[1, 2, 3]] * 4] * 2}, LOGITS, PROBS, "pos_weight"),  # beyond the output
    ("BCEWithLogitsLoss", {"weight": [[[1, 2, 3]] * 4] * 2}, LOGITS, PROBS, "weight"),
    ("SmoothL1Loss", {"beta": -1}, LOGITS, PROBS, "beta"),
    ("HuberLoss", {"delta": 0}, LOGITS, PROBS, "delta"),
    ("HuberLoss", {"delta": -1}, LOGITS, PROBS, "delta"),
]


@pytest.mark.torch
@pytest.mark.parametrize("name,options,out,target,option", REFUSED, ids=[f"{i}-{r[0]}-{r[4]}" for i, r in
                                                                        enumerate(REFUSED)])
def test_what_torch_refuses_symgrad_refuses_naming_loss_and_option(name, options, out, target, option):
    """torch refuses each case (at the module's first call); symgrad refuses it when the loss is made or when
    the target is checked, in one line naming the loss and the option."""
    from symgrad.ops import LOSSES

    assert _torch_refuses(name, options, out, target)
    with pytest.raises(OptionError) as error:
        loss = LOSSES[name](**options)
        loss.check_target(np.shape(out), _exact(target))
    assert error.value.option == option and name in error.value.where and "\n" not in str(error.value)


@pytest.mark.parametrize("make,option", [
    (lambda: CrossEntropyLoss(reduction="none"), "reduction"), (lambda: NLLLoss(weight="a"), "weight"),
    (lambda: NLLLoss(weight=[[1, 2]]), "weight"), (lambda: NLLLoss(weight=[]), "weight"),
    (lambda: NLLLoss(ignore_index=1.5), "ignore_index"), (lambda: CrossEntropyLoss(label_smoothing="0.1"),
                                                          "label_smoothing"),
    (lambda: CrossEntropyLoss(weight=[1, float("nan"), 1]), "weight"), (lambda: CrossEntropyLoss(label_smoothing=1.01),
                                                                        "label_smoothing"), (lambda: BCEWithLogitsLoss(weight=["w"]),
                                                                        "weight"),
    (lambda: SmoothL1Loss(beta=True), "beta"), (lambda: HuberLoss(delta=float("inf")), "delta"),
])
def test_bad_options_are_one_line_naming_the_option(make, option):
    with pytest.raises(OptionError) as error:
        make()
    assert error.value.option == option and "\n" not in str(error.value)


@pytest.mark.torch
def test_what_torch_accepts_symgrad_accepts():
    """Any ignore_index, negative weights, probabilities outside [0, 1], BCE targets outside [0, 1], a negative
    label_smoothing (torch computes it as 0): torch computes them (no check), and so does symgrad, with torch's
    numbers."""
    accepted = [(CrossEntropyLoss(ignore_index=7), INDICES), (NLLLoss(ignore_index=-1), [-1, 0, 1, 2]),
                (CrossEntropyLoss(ignore_index=-5), [[2, -1, 0]] * 4), (BCEWithLogitsLoss(), [[2, -1, 0]] * 4),
                (NLLLoss(weight=[-1, 0, 2]), INDICES), (CrossEntropyLoss(label_smoothing=-0.1), INDICES),
                (CrossEntropyLoss(label_smoothing=-2), PROBS)]  # torch smooths only for > 0: negative is 0
    for loss, target in accepted:
        out, target, fitted = _checked(loss, LOGITS, target)
        value, grad = _torch_value_and_grad(fitted, out, target)
        assert float(fitted.forward(out, target)) == pytest.approx(value, rel=1e-12)
        np.testing.assert_allclose(_floats(fitted.backward(out, target)), grad, **TOL)


# ---------------------------------------------------------------- declarations, forms and words

@pytest.mark.parametrize("cls", [NLLLoss, BCEWithLogitsLoss, SmoothL1Loss, HuberLoss])
def test_every_piece_is_declared_and_words_are_in_both_languages(cls):
    assert undeclared(cls) == []
    assert set(cls.words) == set(LANGUAGES) and set(cls.index_rules) == set(cls.index_form) == {"forward", "input"}
    assert all(set(cls.words[lang]) == {"note:forward"} for lang in LANGUAGES)
    zh = cls.words["zh"]["note:forward"]
    assert all(ch >= " " for lang in LANGUAGES for ch in cls.words[lang]["note:forward"])
    prose = "".join(part for i, part in enumerate(zh.split("$")) if i % 2 == 0)  # outside math
    assert "，" in prose or "；" in prose or "。" in prose
    assert not any(mark in prose.replace("`'sum'`", "").replace("`reduction='mean'`", "") for mark in (", ", "; ", "(", ")"))


def test_cross_entropy_general_notes_in_both_languages():
    for target in (INDICES, PROBS):
        _, _, loss = _checked(CrossEntropyLoss(label_smoothing=0.1), LOGITS, target)
        assert set(loss.words) == set(LANGUAGES) and all(set(loss.words[lang]) == {"note:forward"} for lang in LANGUAGES)
        for lang in LANGUAGES:
            note = loss.words[lang]["note:forward"]
            assert r"\varepsilon" in note and r"\mathbb{I}" in note or "y_{n,c}" in note
            assert all(ch >= " " for ch in note), repr(note)  # no backslash escape read as a control character
    assert CrossEntropyLoss.words == {"en": {}, "zh": {}}  # the old options print no note, as before


def test_cross_entropy_old_options_keep_their_forms_and_twins():
    loss = CrossEntropyLoss("sum")
    target = loss.check_target((4, 3), _exact(INDICES))
    assert loss.for_target(target) is loss and not loss.general
    assert loss.index_form is CrossEntropyLoss.index_form and loss.array_options((4, 3)) == {"reduction": "sum"}
    assert repr(loss) == "CrossEntropyLoss(reduction='sum')"
    ignored = loss.for_target(loss.check_target((4, 3), _exact([0, -100, 1, 1])))
    assert ignored is not loss and ignored.general and not loss.general  # a copy: the caller's loss is unchanged
    probabilities = loss.for_target(loss.check_target((4, 3), _exact(PROBS)))
    assert probabilities.probabilities and probabilities.target_dtype == "float64" and loss.target_dtype == "int64"


def test_index_instances_write_the_numbers_in():
    assert NLLLoss().index_instance("forward", (2, 3)) == r"L = -\frac{1}{|K|} \sum_{n \in K} \ell_{n,y_n}"
    assert r"w = \left(1, 2, 0.5\right)" in NLLLoss(weight=[1, 2, 0.5]).index_instance("input", (2, 3))
    smooth = CrossEntropyLoss(label_smoothing=0.1).index_instance("forward", (2, 3))
    assert r"0.9\, \mathbb{I}[c = y_n] + \frac{1}{30}" in smooth and "D = |K|" in smooth
    assert SmoothL1Loss(beta=0.5).index_instance("input", (2, 3)) == (
        r"\frac{\partial L}{\partial S_i} = \frac{1}{6} \begin{cases} 2 (S_i - y_i) & |S_i - y_i| < 0.5 \\ "
        r"\operatorname{sign}(S_i - y_i) & \text{otherwise} \end{cases}")
    assert SmoothL1Loss("sum", beta=0).index_instance("forward", (2, 3)) == r"L = \sum_{i=1}^{6} \left| S_i - y_i \right|"
    assert "2 |S_i - y_i| - 2" in HuberLoss(delta=2).index_instance("forward", (1, 2))
    assert BCEWithLogitsLoss().index_instance("input", (2, 2)) == (
        r"\frac{\partial L}{\partial z_i} = \frac{1}{4}\, \Big( \sigma(z_i) - y_i \Big)")
    assert BCEWithLogitsLoss(weight=2, pos_weight=[2, 0.5]).index_instance("forward", (1, 2)).endswith(
        r", \quad w = 2, \quad p = \left(2, 0.5\right)")
    assert r"w = \begin{bmatrix}1 & 3 \\ 2 & 0.5\end{bmatrix}" in BCEWithLogitsLoss(
        weight=[[1, 3], [2, 0.5]]).index_instance("input", (2, 2))


# ---------------------------------------------------------------- end to end: specs, pages, check, generated code

SPEC = """[input]
values = [[[[1, 2]]], [[[0, -1]]]]
[[layers]]
type = "Flatten"
[[layers]]
type = "Linear"
in_features = 2
out_features = 3
init.weight = [[1, 0], [0, 1], [1, -1]]
init.bias = [0, 1, 0]
[loss]
%s
[optimizer]
type = "SGD"
lr = 0.1
"""
#: [loss] tables as a user writes them, each a case torch computes (ties, ignored targets, probabilities).
LOSS_TABLES = {
    "nll": 'type = "NLLLoss"\nweight = [1.0, 2.0, 0.5]\nignore_index = 1\ntarget = [2, 1]',
    "ce_probabilities": 'type = "CrossEntropyLoss"\nlabel_smoothing = 0.1\nweight = [1, 2, 0.5]\n'
                        'target = [[0.5, 0.5, 0], [0, 0, 1]]',
    "ce_default_ignored": 'type = "CrossEntropyLoss"\ntarget = [2, -100]',
    "ce_smoothing_sum": 'type = "CrossEntropyLoss"\nreduction = "sum"\nlabel_smoothing = 0.2\ntarget = [0, 2]',
    "bce": 'type = "BCEWithLogitsLoss"\npos_weight = [2, 1, 0.5]\nweight = 2\ntarget = [[1, 0, 0.5], [0, 1, 1]]',
    "smooth_l1_ties": 'type = "SmoothL1Loss"\nbeta = 1\ntarget = [[0, 1, 0], [0, 1, 2]]',  # S = [[1,3,-1],[-1,0,1]]
    "huber_ties": 'type = "HuberLoss"\ndelta = 1\ntarget = [[0, 1, 0], [0, 1, 2]]',
}


def _cli(args, tmp_path, text):
    path = tmp_path / "spec.toml"
    path.write_text(text, encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "symgrad", *args, str(path)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def _spec_derivation(name):
    from symgrad.spec import parse

    return parse(SPEC % LOSS_TABLES[name]).derive()


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(LOSS_TABLES))
def test_spec_passes_check_against_torch(tmp_path, name):
    result = _cli(["check"], tmp_path, SPEC % LOSS_TABLES[name])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "MISMATCH" not in result.stdout and "7 of 7 quantities agree" in result.stdout


@pytest.mark.parametrize("name", sorted(LOSS_TABLES))
def test_derivation_page_renders_the_loss_rules_in_markdown(tmp_path, name):
    """`symgrad derive --format markdown` on Flatten -> Linear -> the loss prints its rules, note and instance."""
    from symgrad.printing.markdown import display, text
    from symgrad.printing.steps import markdown_body

    result = _cli(["derive", "--format", "markdown"], tmp_path, SPEC % LOSS_TABLES[name])
    assert result.returncode == 0 and result.stderr == "", result.stderr
    d = _spec_derivation(name)
    loss = d.loss_fn
    pages = {"en": result.stdout, "zh": markdown_body(d, "zh")}
    for language, page in pages.items():
        for key in ("forward", "input"):
            assert display(loss.index_form[key]) in page, (language, key)
            assert display(loss.index_instance(key, (2, 3))) in page, (language, key)
        note = loss.words[language].get("note:forward")
        assert note and text(note) in page, (name, language)


def test_a_probability_target_is_float_and_class_indices_integers_in_generated_code():
    from symgrad.numeric.codegen import generate_source

    for name, dtype in (("ce_probabilities", "float64"), ("nll", "int64"), ("ce_default_ignored", "int64")):
        d = _spec_derivation(name)
        assert getattr(d.loss_fn, "target_dtype", "float64") == dtype
        line = next(line for line in generate_source(d, form="array").splitlines() if "'target':" in line)
        assert ("dtype=np.int64" in line) == (dtype == "int64"), (name, line)


@pytest.mark.parametrize("form", ["scalar", "array"])
@pytest.mark.parametrize("name", sorted(LOSS_TABLES))
def test_generated_code_equals_the_engine(name, form):
    from symgrad.numeric.codegen import generate_source

    d = _spec_derivation(name)
    namespace = {}
    exec(compile(generate_source(d, form=form), "<generated>", "exec"), namespace)
    got = namespace["evaluate"]()
    assert got["loss"] == pytest.approx(float(d.loss), rel=1e-12, abs=1e-12)
    for key in ("input", "1.weight", "1.bias"):
        np.testing.assert_allclose(got["gradients"][key], _floats(np.array(d.gradients[key].tolist(), dtype=object)),
                                   **TOL)


@pytest.mark.parametrize("table,option,fragment", [
    ('type = "NLLLoss"\nweight = [1, 2]\ntarget = [0, 1]', "weight", "for all 3 classes"),
    ('type = "CrossEntropyLoss"\nlabel_smoothing = 2\ntarget = [0, 1]', "label_smoothing", "between 0.0 and 1.0"),
    ('type = "CrossEntropyLoss"\nignore_index = 0\ntarget = [[1, 0, 0], [0, 1, 0]]', "ignore_index", "probability"),
    ('type = "CrossEntropyLoss"\ntarget = [-100, -100]', "target", "every target is ignore_index"),
    ('type = "BCEWithLogitsLoss"\ntarget = [1, 0, 1]', "target", "must be the same as input size"),
    ('type = "SmoothL1Loss"\nbeta = -1\ntarget = 0', "beta", "negative values for beta"),
    ('type = "HuberLoss"\ndelta = 0\ntarget = 0', "delta", "non-positive values for delta"),
    ('type = "NLLLoss"\nreduction = "none"\ntarget = [0, 1]', "reduction", "'mean', 'sum'"),
])
def test_bad_loss_options_in_a_spec_are_one_line(tmp_path, table, option, fragment):
    result = _cli(["derive", "--format", "json"], tmp_path, SPEC % table)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    kind = table.split('"')[1]
    assert len(lines) == 1 and f"loss {kind}: {option}:" in lines[0] and fragment in lines[0], result.stderr


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(LOSS_TABLES))
def test_the_documents_pytorch_block_runs_and_prints_the_documents_numbers(name):
    """The derivation's PyTorch block builds the loss as torch takes it (weight and pos_weight as tensors, class
    indices as integers, probabilities as floats) and prints the numbers the document shows."""
    import contextlib
    import io
    import re

    from symgrad.printing import torchcode
    from symgrad.verify import evaluate, random_values

    d = _spec_derivation(name)
    numbers = evaluate(d, random_values(d.free_symbols, 0))
    source = torchcode.code(d, numbers)
    default, out = torch.get_default_dtype(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(source, "<block>", "exec"), {"__name__": "__block__"})
    finally:
        torch.set_default_dtype(default)
    number = re.compile(r"-?\d+\.\d*(?:e[-+]\d+)?")
    printed, shown = out.getvalue(), torchcode.printout(d, numbers)
    assert number.sub("#", printed).replace(" ", "") == number.sub("#", shown).replace(" ", ""), source
    np.testing.assert_allclose([float(v) for v in number.findall(printed)], [float(v) for v in number.findall(shown)],
                               rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------- random networks (tests/support/random_nets.py)

from collections import Counter  # noqa: E402

from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import random_nets as rn  # noqa: E402

NEW_LOSSES = ("NLLLoss", "CrossEntropyLoss", "BCEWithLogitsLoss", "SmoothL1Loss", "HuberLoss")


@st.composite
def new_loss_and_target(draw, out_shape, kind):
    """`kind` (one of the new losses, or CrossEntropyLoss's new options) for the output, random options, and a
    target of small numbers: ties |d| = beta, ignored class indices, probability rows."""
    options = {"reduction": draw(st.sampled_from(["mean", "sum"]))}
    halves = st.sampled_from([0, 0.5, 1, 2])
    if kind in ("NLLLoss", "CrossEntropyLoss"):
        n, c = out_shape
        if draw(st.booleans()):
            options["weight"] = draw(st.lists(st.sampled_from([0.5, 1, 2]), min_size=c, max_size=c))
        if kind == "CrossEntropyLoss" and draw(st.booleans()):
            options["label_smoothing"] = draw(st.sampled_from([0.1, 0.5, 1.0]))
        if kind == "CrossEntropyLoss" and draw(st.booleans()):
            return (kind, options), draw(st.lists(st.lists(halves, min_size=c, max_size=c), min_size=n, max_size=n))
        ignore_index = draw(st.sampled_from([-100, 0, 1]))
        options["ignore_index"] = ignore_index
        target = draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n))
        kept = [i for i, y in enumerate(target) if y != ignore_index]
        assume(kept)  # torch's mean would be 0/0
        target = [ignore_index if i not in kept[:1] and draw(st.booleans()) else y for i, y in enumerate(target)]
        return (kind, options), target
    if kind == "BCEWithLogitsLoss":
        if draw(st.booleans()):
            options["pos_weight"] = draw(st.sampled_from([2, 0.5]))
        if draw(st.booleans()):
            options["weight"] = draw(st.sampled_from([3, 0.5]))
        target = np.asarray(draw(st.lists(halves, min_size=max(int(np.prod(out_shape)), 1),
                                          max_size=max(int(np.prod(out_shape)), 1)))).reshape(out_shape).tolist()
        return (kind, options), target
    option = "beta" if kind == "SmoothL1Loss" else "delta"
    options[option] = draw(st.sampled_from([0, 1, 2] if kind == "SmoothL1Loss" else [1, 2, 0.5]))
    return (kind, options), draw(st.integers(-2, 2))  # integer outputs: |S - y| = beta happens


@st.composite
def nets_with_new_losses(draw):
    """random_nets' mixed networks, half of them ending in Flatten -> Linear logits (the class losses' input)."""
    from hypothesis.extra.numpy import arrays

    net = draw(rn.mixed_nets(max_image_layers=2, max_side=4, transcendental=False))
    layers, params = list(net.layers), dict(net.params)
    try:
        out_shape = tuple(sg.Sequential(*[getattr(sg, k)(**kw) for k, kw in layers]).shapes(np.shape(net.x))[-1])
    except OptionError as error:  # the one documented refusal of random_nets' layers (docs/semantics.md)
        assert error.option == "dilation" and "lies entirely in the padding" in error.message, error
        assume(False)
    kind = draw(st.sampled_from(NEW_LOSSES))
    if kind in ("NLLLoss", "CrossEntropyLoss") and len(out_shape) < 2:
        kind = draw(st.sampled_from(NEW_LOSSES[2:]))  # after Sum: no logits
    if len(out_shape) > 2 and (kind in ("NLLLoss", "CrossEntropyLoss") or draw(st.booleans())):
        features, classes = int(np.prod(out_shape[1:])), draw(st.integers(2, 4))
        layers += [("Flatten", {}), ("Linear", {"in_features": features, "out_features": classes})]
        params[f"{len(layers) - 1}.weight"] = draw(arrays(np.int64, (classes, features), elements=rn.SMALL))
        params[f"{len(layers) - 1}.bias"] = draw(arrays(np.int64, (classes,), elements=rn.SMALL))
        out_shape = (out_shape[0], classes)
    loss, target = draw(new_loss_and_target(out_shape, kind))
    return rn.Net(layers, net.x, params, loss, target, net.sgd, net.passes)


@pytest.mark.torch
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(nets_with_new_losses())
def test_random_networks_with_the_new_losses_match_torch(net):
    from symgrad.verify import compare, evaluate, torch_reference

    try:
        d = net.derive()
    except OptionError as error:  # the one documented refusal of random_nets' layers
        assert error.option == "dilation" and "lies entirely in the padding" in error.message, error
        assume(False)
    ours = evaluate(d)
    rows = compare(ours, torch_reference(d, ours), rtol=1e-10, atol=1e-10)
    bad = {r["quantity"]: r["max_abs_error"] for r in rows if not r["ok"]}
    assert not bad, f"differs from torch in {bad} for {net}"
    assert {"output", "loss", "dL/dinput"} <= {r["quantity"] for r in rows}


@st.composite
def small_nets_with_new_losses(draw):
    """Small enough for sympy.diff of the whole loss: one image layer on sides up to 3."""
    net = draw(nets_with_new_losses())
    assume(sum(np.size(v) for v in net.params.values()) + np.size(net.x) <= 40 and len(net.layers) <= 4)
    return net


def _same(a, b) -> bool:
    a, b = sp.sympify(a), sp.sympify(b)
    if a.is_Rational and b.is_Rational:
        return a == b
    a, b = sp.N(a, 40), sp.N(b, 40)
    return abs(a - b) <= sp.Float(1e-25) * (1 + abs(a))


@pytest.mark.torch  # random_nets asks torch for each drawn layer's output shape
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(small_nets_with_new_losses())
def test_random_networks_with_the_new_losses_rules_equal_sympy_diff(net):
    """The rules (the losses' backward and the layers') against sympy.diff of the whole loss; ties in the
    layers (ReLU at 0, max-pool windows) are left to the torch test, as tests/engine/test_properties.py does."""
    assume(not net.kinds() & {"ReLU", "LeakyReLU", "ELU", "MaxPool2d", "AdaptiveMaxPool2d"})
    try:
        rules, diff = net.derive("rules"), net.derive("diff")
    except OptionError as error:
        assert error.option == "dilation" and "lies entirely in the padding" in error.message, error
        assume(False)
    assert _same(rules.loss, diff.loss)
    for key, grad in rules.gradients.items():
        ours = np.asarray(grad.tolist() if hasattr(grad, "tolist") else grad, dtype=object).reshape(-1)
        theirs = np.asarray(diff.gradients[key].tolist(), dtype=object).reshape(-1)
        assert len(ours) == len(theirs) and all(_same(a, b) for a, b in zip(ours, theirs)), (key, net)
