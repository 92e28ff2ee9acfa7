"""The backprop rules against sympy.diff of the whole loss, on small fully symbolic cases.

Smooth ops (conv, avg pooling, Sum, MSELoss) must agree symbolically: expand(a - b) == 0
entrywise. Max pooling differs in form (FirstArgmax indicators vs Heaviside terms), so
agreement is shown at random distinct rationals (no ties), where both must evaluate to
the same exact numbers; a last test documents the deliberate disagreement on ties.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import sympy as sp

import symgrad as sg


def entries(array) -> list:
    if isinstance(array, sp.Basic) and not isinstance(array, sp.NDimArray):
        return [array]
    return list(np.array(array.tolist(), dtype=object).reshape(-1))


def both(make_net, shape, loss=None, target=None):
    x = sg.symbolic("x", shape)
    rules = sg.derive(make_net(), x, loss, target, sg.SGD(lr=0.1))
    diff = sg.derive(make_net(), x, loss, target, sg.SGD(lr=0.1), method="diff")
    return rules, diff


SMOOTH = [
    ("conv_sum", lambda: sg.Sequential(sg.Conv2d(1, 1, 2, bias=False), sg.Sum()), (1, 1, 3, 3), None),
    ("conv_bias_sum", lambda: sg.Sequential(sg.Conv2d(1, 1, 2), sg.Sum()), (1, 1, 3, 3), None),
    ("conv_stride2", lambda: sg.Sequential(sg.Conv2d(1, 1, 2, stride=2), sg.Sum()), (1, 1, 4, 4), None),
    ("conv_pad1_mse", lambda: sg.Sequential(sg.Conv2d(1, 1, 2, padding=1, bias=False)), (1, 1, 3, 3), "mean"),
    ("conv_dilation2_mse", lambda: sg.Sequential(sg.Conv2d(1, 1, 2, dilation=2, bias=False)), (1, 1, 4, 4), "sum"),
    ("conv_same_even", lambda: sg.Sequential(sg.Conv2d(1, 1, 2, padding="same", bias=False), sg.Sum()),
     (1, 1, 3, 3), None),
    ("conv_two_channels_groups", lambda: sg.Sequential(sg.Conv2d(2, 2, 2, groups=2, bias=False), sg.Sum()),
     (1, 2, 2, 3), None),
    ("conv_avgpool_mse", lambda: sg.Sequential(sg.Conv2d(1, 1, 2, bias=False), sg.AvgPool2d(2)), (1, 1, 3, 3),
     "mean"),
    ("avg_pad1", lambda: sg.Sequential(sg.AvgPool2d(2, padding=1), sg.Sum()), (1, 1, 3, 3), None),
    ("avg_pad1_exclude_mse", lambda: sg.Sequential(sg.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)),
     (1, 1, 4, 4), "mean"),
    ("avg_ceil_mse", lambda: sg.Sequential(sg.AvgPool2d(2, ceil_mode=True)), (1, 1, 3, 3), "sum"),
    ("avg_ceil_pad_include_mse", lambda: sg.Sequential(sg.AvgPool2d(3, stride=2, padding=1, ceil_mode=True)),
     (1, 1, 4, 4), "mean"),
    ("avg_divisor_override_mse", lambda: sg.Sequential(sg.AvgPool2d(2, stride=1, divisor_override=3)),
     (1, 1, 3, 3), "mean"),
    ("avg_divisor_ceil", lambda: sg.Sequential(sg.AvgPool2d(2, ceil_mode=True, divisor_override=5), sg.Sum()),
     (1, 1, 3, 3), None),
]


@pytest.mark.parametrize("name,make,shape,reduction", SMOOTH, ids=[c[0] for c in SMOOTH])
def test_rules_equal_sympy_diff_symbolically(name, make, shape, reduction):
    loss = None if reduction is None else sg.MSELoss(reduction=reduction)
    rules, diff = both(make, shape, loss)  # target omitted: symbolic y's
    x = sg.symbolic("x", shape)
    # fully symbolic: the loss depends on every input entry (no entry is a number)
    assert set(x.reshape(-1)) <= rules.loss.free_symbols
    assert sp.expand(rules.loss - diff.loss) == 0
    for a, b in zip(entries(rules.output), entries(diff.output)):
        assert sp.expand(a - b) == 0
    assert set(rules.gradients) == set(diff.gradients)
    for key in rules.gradients:
        ga, gb = entries(rules.gradients[key]), entries(diff.gradients[key])
        assert len(ga) == len(gb)
        for i, (a, b) in enumerate(zip(ga, gb)):
            assert sp.expand(a - b) == 0, f"{key}[{i}]: rules {a} vs diff {b}"
    for key in rules.updated:
        for a, b in zip(entries(rules.updated[key]), entries(diff.updated[key])):
            assert sp.expand(a - b) == 0


def test_symbolic_cases_really_are_symbolic():
    """Guard: the kernels are symbols (weight= omitted) and gradients are not constants."""
    rules, _ = both(SMOOTH[1][1], (1, 1, 3, 3))
    kernel = entries(rules.parameters["0.weight"])
    assert all(isinstance(k, sp.Symbol) for k in kernel)
    grad_k = entries(rules.gradients["0.weight"])
    assert all(g.free_symbols for g in grad_k)  # dL/dk_ab = sum of x's
    grad_x = entries(rules.gradients["input"])
    assert grad_x[0] == kernel[0]  # corner input touches only k_11


def test_a_wrong_rule_would_be_caught():
    """The symbolic comparison is not vacuous: conv with and without padding differ."""
    a, _ = both(lambda: sg.Sequential(sg.Conv2d(1, 1, 2, bias=False), sg.Sum()), (1, 1, 3, 3))
    b, _ = both(lambda: sg.Sequential(sg.Conv2d(1, 1, 2, padding=1, bias=False), sg.Sum()), (1, 1, 3, 3))
    diffs = [sp.expand(p - q) for p, q in zip(entries(a.gradients["0.weight"]), entries(b.gradients["0.weight"]))]
    assert any(d != 0 for d in diffs)


# --- max pooling: Heaviside (diff) vs FirstArgmax (rules) ---------------------

MAX = [
    ("max2_sum", lambda: sg.Sequential(sg.MaxPool2d(2), sg.Sum()), (1, 1, 2, 2), None),
    ("max2_stride1_overlap", lambda: sg.Sequential(sg.MaxPool2d(2, stride=1), sg.Sum()), (1, 1, 3, 3), None),
    ("max_pad1_mse", lambda: sg.Sequential(sg.MaxPool2d(2, padding=1)), (1, 1, 3, 3), "mean"),
    ("max_ceil_mse", lambda: sg.Sequential(sg.MaxPool2d(2, ceil_mode=True)), (1, 1, 3, 3), "sum"),
    ("max_dilation2", lambda: sg.Sequential(sg.MaxPool2d(2, stride=1, dilation=2), sg.Sum()), (1, 1, 3, 3), None),
    ("conv_max_mse", lambda: sg.Sequential(sg.Conv2d(1, 1, 2, bias=False), sg.MaxPool2d(2)), (1, 1, 3, 3), "mean"),
]


def distinct_rationals(symbols, rng):
    """Distinct non-integer rationals: no ties, in any max window, after any linear map of integers."""
    values = rng.sample(range(-500, 500), len(symbols))
    return {s: sp.Rational(v, 7) + sp.Rational(1, 1000 + i) for i, (s, v) in enumerate(zip(symbols, values))}


@pytest.mark.parametrize("name,make,shape,reduction", MAX, ids=[c[0] for c in MAX])
def test_maxpool_rules_equal_diff_at_distinct_rationals(name, make, shape, reduction):
    loss = None if reduction is None else sg.MSELoss(reduction=reduction)
    rules, diff = both(make, shape, loss)
    assert any(e.has(sp.Heaviside) for key in diff.gradients for e in entries(diff.gradients[key]))
    assert not any(e.has(sp.Heaviside) for key in rules.gradients for e in entries(rules.gradients[key]))
    symbols = sorted(rules.free_symbols | diff.free_symbols, key=lambda s: s.name)
    rng = random.Random(sum(map(ord, name)))
    for _ in range(4):
        values = distinct_rationals(symbols, rng)
        assert rules.loss.xreplace(values) == diff.loss.xreplace(values)
        for key in rules.gradients:
            for i, (a, b) in enumerate(zip(entries(rules.gradients[key]), entries(diff.gradients[key]))):
                va, vb = a.xreplace(values), b.xreplace(values)
                assert va.is_Rational and vb.is_Rational, (key, i, va, vb)
                assert va == vb, f"{key}[{i}]: rules {va} vs diff {vb}"


def test_maxpool_symbolic_rule_is_first_argmax_indicator():
    rules, _ = both(MAX[0][1], (1, 1, 2, 2))
    grads = entries(rules.gradients["input"])
    x = list(sg.symbolic("x", (1, 1, 2, 2)).reshape(-1))
    # x_12 is the max: it gets 1, everyone else 0
    at = {x[0]: 1, x[1]: 5, x[2]: 3, x[3]: 5}
    assert [g.xreplace(at) for g in grads] == [0, 1, 0, 0]


@pytest.mark.torch
def test_ties_diff_gives_half_shares_rules_follow_torch():
    """All four values tied: sympy.diff gives Heaviside(0) = 1/2 to each (sum 2); the rules
    give the whole gradient to the first maximum, as torch does (sum 1)."""
    make = MAX[0][1]
    rules, diff = both(make, (1, 1, 2, 2))
    tie = {s: sp.Integer(3) for s in rules.free_symbols | diff.free_symbols}
    via_diff = [g.xreplace(tie) for g in entries(diff.gradients["input"])]
    via_rules = [g.xreplace(tie) for g in entries(rules.gradients["input"])]
    assert via_diff == [sp.Rational(1, 2)] * 4
    assert sum(via_diff) == 2
    assert via_rules == [1, 0, 0, 0]
    # the same with numbers in the input from the start
    tied = [[3, 3], [3, 3]]
    numeric_diff = sg.derive(make(), tied, method="diff")
    numeric_rules = sg.derive(make(), tied)
    assert entries(numeric_diff.gradients["input"]) == [sp.Rational(1, 2)] * 4
    assert entries(numeric_rules.gradients["input"]) == [1, 0, 0, 0]
    import torch

    xt = torch.full((1, 1, 2, 2), 3.0, dtype=torch.float64, requires_grad=True)
    torch.nn.MaxPool2d(2)(xt).sum().backward()
    assert xt.grad.reshape(-1).tolist() == [1.0, 0.0, 0.0, 0.0]


def test_partial_tie_diff_splits_rules_take_first():
    """Two of four tied for the max: diff splits 1/2 + 1/2, rules give 1 to the earlier one."""
    make = MAX[0][1]
    tied = [[1, 4], [4, 2]]
    assert entries(sg.derive(make(), tied, method="diff").gradients["input"]) == \
        [0, sp.Rational(1, 2), sp.Rational(1, 2), 0]
    assert entries(sg.derive(make(), tied).gradients["input"]) == [0, 1, 0, 0]
