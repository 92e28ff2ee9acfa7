"""Property-based verification: random small networks against torch autograd and sympy.diff.

Every example is a random network drawn by tests/support/random_nets.py (conv, pools, activations,
Flatten, Linear, Sum; MSE, L1 and cross-entropy losses; SGD with random options), with
integer inputs and weights in -2..2 so that ties and zeros happen on purpose, and sometimes
several backward passes summed. For each:

- symgrad's numbers (rules) equal torch autograd in float64: output, loss, every gradient
  and the SGD update (symgrad.verify: evaluate, torch_reference, compare);
- on small networks, the rules equal `sympy.diff` of the whole loss (method="diff");
- option validation: symgrad raises OptionError exactly when torch raises, over layer
  options drawn from ranges that include invalid values.

How many examples run is set by the hypothesis profile (tests/conftest.py): "ci" by
default, "nightly" with HYPOTHESIS_PROFILE=nightly (docs/guarantees.md). Each test runs
its examples through `run`, which counts them, so a test also fails if too few examples
were checked (for instance if most were refused).
"""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import pytest
import sympy as sp
from lazy_torch import torch
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

import random_nets as rn
import symgrad as sg
from symgrad.verify import compare, evaluate, torch_reference

pytestmark = [pytest.mark.torch,  # every test here needs torch
              pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")]


def examples(fraction: float = 1.0) -> int:
    """A share of the loaded profile's max_examples (ci: 400, nightly: 20000)."""
    return max(1, round(settings.default.max_examples * fraction))


def run(strategy, check, fraction: float = 1.0, regressions=()) -> Counter:
    """Run `check(value, counts)` on `fraction` of the profile's examples; return the counts.

    `check` may `assume` an example away (counting the reason); `regressions` are
    explicit examples (hypothesis.example) that always run first.
    """
    counts = Counter()

    def test(value):
        counts["drawn"] += 1
        check(value, counts)
        counts["checked"] += 1

    test = given(strategy)(test)
    for value in regressions:
        test = example(value)(test)
    settings(max_examples=examples(fraction))(test)()
    print(f"\n{check.__name__}: {dict(counts)}")  # shown with pytest -s
    assert counts["checked"] >= 0.9 * examples(fraction), counts
    return counts


# --- symgrad (rules) vs torch autograd, float64 ----------------------------------------

# symgrad refuses one thing torch accepts on purpose (docs/semantics.md): a max-pool
# window lying wholly in the padding (torch outputs -inf there). Nothing else may be refused.
DOCUMENTED_REFUSAL = "lies entirely in the padding"


def derive_or_refuse(net: rn.Net, counts: Counter, method: str = "rules"):
    try:
        return net.derive(method)
    except sg.OptionError as error:
        assert error.option == "dilation" and DOCUMENTED_REFUSAL in error.message, \
            f"symgrad refused what torch accepts: {error}"
        counts["refused: max-pool window in padding"] += 1
        assume(False)


def check_against_torch(net: rn.Net, counts: Counter) -> None:
    d = derive_or_refuse(net, counts)
    ours = evaluate(d)
    rows = compare(ours, torch_reference(d, ours), rtol=1e-10, atol=1e-10)
    expected = {"output", "loss", "dL/dinput", *(f"dL/d{name}" for name in net.params)}
    if net.sgd is not None:
        expected |= {f"updated {name}" for name in net.params}
    assert {r["quantity"] for r in rows} == expected
    bad = {r["quantity"]: r["max_abs_error"] for r in rows if not r["ok"]}
    assert not bad, f"differs from torch in {bad} for {net}"
    counts.update(net.kinds())


def test_conv_networks_match_torch():
    counts = run(rn.conv_nets(), check_against_torch)
    assert counts["Conv2d"] == counts["checked"]


def test_pool_networks_match_torch():
    counts = run(rn.pool_nets(), check_against_torch)
    assert counts["MaxPool2d"] and counts["AvgPool2d"]


def test_mixed_networks_match_torch():
    counts = run(rn.mixed_nets(), check_against_torch)
    for kind in ("Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "Linear", "Sum", *rn.PIECEWISE, *rn.SMOOTH):
        assert counts[kind], f"no example used {kind}: {counts}"



def test_issue16_networks_match_torch():
    """ConvTranspose2d, BatchNorm2d, the adaptive pools, the new losses with their options and the new
    optimizers, in random small networks (rn.new_piece_nets), against torch autograd in float64."""
    counts = run(rn.new_piece_nets(), check_against_new_pieces, fraction=0.2)  # ci: 80
    for kind in rn.NEW_IMAGE_LAYERS + rn.NEW_LOSSES + rn.NEW_OPTIMIZERS:
        assert counts[kind], f"no example used {kind}: {counts}"


def check_against_new_pieces(net: rn.Net, counts: Counter) -> None:
    d = derive_or_refuse(net, counts)
    ours = evaluate(d)
    rows = compare(ours, torch_reference(d, ours), rtol=1e-9, atol=1e-9)
    quantities = {r["quantity"] for r in rows}
    assert {"output", "loss", *(f"dL/d{name}" for name in net.params)} <= quantities
    if net.optimizer is not None:
        assert {f"updated {name}" for name in net.params} <= quantities
    bad = {r["quantity"]: r["max_abs_error"] for r in rows if not r["ok"]}
    assert not bad, f"differs from torch in {bad} for {net}"
    counts.update(net.kinds() | {net.loss[0]} | ({net.optimizer[0]} if net.optimizer else set()))

# --- rules vs sympy.diff on small networks ----------------------------------------------

def _as_float(value) -> float:
    return float(sp.N(value, 30))


#: Layers with a kink at 0, where torch's one-sided derivative is not sympy.diff's Heaviside(0) = 1/2.
KINKED = (sg.ReLU, sg.LeakyReLU, sg.ELU)


def has_ties(d) -> bool:
    """A ReLU (LeakyReLU, ELU) input of exactly 0 or a max-pool window with two equal maxima: there the rules
    follow torch (ReLU'(0) = 0, first maximum) while sympy.diff gives Heaviside(0) = 1/2 (docs/semantics.md)."""
    activations = [d.tensors.input] + [d.tensors.layers[i].output for i in range(len(d.network))]
    for layer, x, out in zip(d.network, activations, activations[1:]):
        if isinstance(layer, KINKED) and any(_as_float(v) == 0 for v in x.reshape(-1)):
            return True
        if isinstance(layer, sg.MaxPool2d):
            rows, cols = layer._windows(x.shape, out.shape)
            for n, c, i, j in np.ndindex(*out.shape):
                window = [_as_float(x[n, c, h, w]) for h in rows[i] for w in cols[j]]
                if window.count(max(window)) > 1:
                    return True
    return False


def _entries(value) -> list:
    return list(np.asarray(value, dtype=object).reshape(-1)) if isinstance(value, np.ndarray) else [value]


def same(a, b) -> bool:
    """Exactly equal when both are rational; else equal to 25 digits (exp/tanh terms differ in form)."""
    a, b = sp.sympify(a), sp.sympify(b)
    if a.is_Rational and b.is_Rational:
        return a == b
    # each side on its own at 40 digits: a Float of the rules carries its own (possibly tiny) precision, which
    # SymPy would use for a - b (a GELU gradient that cancels to 0 comes out as -2^-1130 with 1 bit)
    a, b = sp.N(a, 40), sp.N(b, 40)
    return abs(a - b) <= sp.Float(1e-25) * (1 + abs(a))


def check_rules_equal_diff(net: rn.Net, counts: Counter) -> None:
    rules = derive_or_refuse(net, counts)
    if has_ties(rules):
        counts["skipped: tie (rules follow torch, diff gives 1/2)"] += 1
        assume(False)
    diff = net.derive("diff")
    def quantities(t):
        return [("output", t.output), *((f"dL/d{k}", g) for k, g in t.gradients().items()),
                *((f"updated {k}", u) for k, u in t.updated().items())]
    assert same(rules.loss, diff.loss), f"loss: rules {rules.loss} vs diff {diff.loss}"
    for (label, ours), (_, theirs) in zip(quantities(rules.tensors), quantities(diff.tensors), strict=True):
        ours, theirs = _entries(ours), _entries(theirs)
        assert len(ours) == len(theirs), label
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert same(a, b), f"{label}[{i}]: rules {a} vs diff {b} for {net}"
    counts["exact" if all(e.is_Rational for e in _entries(rules.tensors.input_gradient)) else "to 25 digits"] += 1


PRIMES = list(sp.primerange(11, 10_000))


def untie(net: rn.Net) -> rn.Net:
    """With MaxPool2d or a KINKED layer: each input and weight entry n becomes n + 1/p (a distinct prime p
    per entry), so windows and ReLU inputs almost never tie; `has_ties` removes the rare rest."""
    if not net.kinds() & {"MaxPool2d", *(kind.type_name for kind in KINKED)}:
        return net
    offsets = iter(PRIMES)

    def shifted(values):
        out = np.empty(values.shape, dtype=object)
        for idx in np.ndindex(*values.shape):
            out[idx] = sp.Integer(int(values[idx])) + sp.Rational(1, next(offsets))
        return out

    return rn.Net(net.layers, shifted(net.x), {k: shifted(v) for k, v in net.params.items()}, net.loss, net.target,
                  net.sgd, net.passes)


def small_nets():
    """Few entries (sides up to 3, at most two image layers): sympy.diff of the whole loss stays quick."""
    return st.one_of(rn.mixed_nets(max_image_layers=2, max_side=3), rn.pool_nets(max_side=3)).map(untie)


def test_rules_equal_sympy_diff_on_small_networks():
    counts = run(small_nets(), check_rules_equal_diff, fraction=0.5)
    assert counts["exact"] and counts["to 25 digits"], counts


# --- option validation: symgrad refuses exactly what torch refuses ------------------------

# The other documented differences (docs/semantics.md, docs/guarantees.md) cannot occur here:
# the target is the scalar 0 (never larger than the output), shapes are far below symgrad's size
# limit, and padding_mode / return_indices (symgrad supports only "zeros" / False) are not drawn.
# kernel_size, stride and dilation below 1 are drawn: torch refuses them as symgrad does.

def symgrad_refuses(shape, layers) -> sg.OptionError | None:
    try:
        net = sg.Sequential(*[getattr(sg, kind)(**kwargs) for kind, kwargs in layers])
        sg.derive(net, np.zeros(shape, dtype=int), sg.MSELoss(), 0)
    except sg.OptionError as error:
        return error
    return None


PADDING_WINDOW = "a max-pool window lies wholly in the padding"


def torch_refuses(shape, layers) -> Exception | str | None:
    """The exception torch raises (forward, loss, backward on zeros), None if it accepts, or
    PADDING_WINDOW when its output holds -inf: a max-pool window saw only padding. Its backward is
    not run then: torch 2.13 writes that window's gradient outside the sample's plane (into the
    next sample, past the buffer for the last one), which aborted a run with heap corruption."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = torch.nn.Sequential(*[getattr(torch.nn, kind)(**kwargs) for kind, kwargs in layers]).double()
            x = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
            out = model(x)
            if not bool(torch.isfinite(out).all()):  # zeros in: only a padding-only max window gives -inf
                return PADDING_WINDOW
            torch.nn.MSELoss()(out, torch.zeros((), dtype=torch.float64)).backward()
    except (RuntimeError, ValueError, TypeError, OverflowError) as error:
        return error
    return None


# Integer edges (docs/guarantees.md, "Numbers at the edges"): torch hands integer options to C++ as int64
# (2**63 - 1 runs, 2**63 and 2**64 raise) and its pooling kernels read kernel_size, stride, padding and
# dilation as a 32-bit C int (2**31 - 1 runs, 2**31 raises). Channels and conv kernel sizes are left out:
# there torch allocates the weight (gigabytes) where symgrad refuses by its size limit.
EDGES = [2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64, -2**63 - 1]
EDGE_OPTIONS = {"Conv2d": ("stride", "dilation"), "MaxPool2d": ("kernel_size", "stride", "padding", "dilation"),
                "AvgPool2d": ("kernel_size", "stride", "padding", "divisor_override")}


@st.composite
def with_edges(draw, configs):
    """A config from `configs`, a quarter of the time with one integer option set to an edge value (or a pair
    holding one)."""
    shape, layers = draw(configs)
    if draw(st.integers(0, 3)) == 0:
        at = draw(st.integers(0, len(layers) - 1))
        kind, kwargs = layers[at]
        option = draw(st.sampled_from(EDGE_OPTIONS[kind]))
        edge = draw(st.sampled_from(EDGES if option != "divisor_override" else [*EDGES, -2**63]))
        if option != "divisor_override" and draw(st.booleans()):
            edge = draw(st.sampled_from([(1, edge), (edge, 2)]))
        layers = [*layers[:at], (kind, {**kwargs, option: edge}), *layers[at + 1:]]
    return shape, layers


def torch_overflows(layers) -> bool:
    """A conv's dilated kernel d(k-1) + 1 beyond int64: torch's own size arithmetic wraps around there and it
    runs on a wrong output size (kernel 2, dilation 2**63 - 1 on 4 x 4 gives 5 x 5); symgrad refuses."""
    for kind, kwargs in layers:
        if kind == "Conv2d" and kwargs.get("padding") != "same":
            kernel, dilation = kwargs["kernel_size"], kwargs.get("dilation", 1)
            pairs = zip(*(v if isinstance(v, tuple) else (v, v) for v in (kernel, dilation)))
            if any(d * (k - 1) + 1 > 2**63 - 1 for k, d in pairs):
                return True
    return False


def check_validation(config, counts: Counter) -> None:
    shape, layers = config
    ours, theirs = symgrad_refuses(shape, layers), torch_refuses(shape, layers)
    if theirs is None and ours is not None and torch_overflows(layers):
        assert ours.option == "kernel_size" and "larger than the padded input" in ours.message, ours
        counts["refused by symgrad only: torch's int64 size overflows"] += 1
        return
    if any(abs(v) >= 2**31 - 1 for _, kwargs in layers for v in _ints(kwargs)):
        counts["edge"] += 1
    if theirs == PADDING_WINDOW:
        # the one documented difference (docs/semantics.md): torch outputs -inf, symgrad refuses
        assert ours is not None and DOCUMENTED_REFUSAL in ours.message, f"{layers} on {list(shape)}: {ours!r}"
        counts["refused by symgrad only: max-pool window in padding"] += 1
        return
    assert (ours is None) == (theirs is None), f"{layers} on {list(shape)}: symgrad {ours!r}; torch {theirs!r}"
    if ours is not None:
        assert ours.where.split()[-1] in {kind for kind, _ in layers} and ours.option, ours
        counts[f"refused: {ours.option}"] += 1
    else:
        counts["accepted"] += 1


# found by this test: torch's backward here aborted the run (its only window along the height sees
# padding only); symgrad refuses it, and torch_refuses no longer runs that backward
PADDING_ONLY_WINDOW = ((2, 1, 1, 4), [("MaxPool2d", {"kernel_size": 2, "stride": 2, "padding": (1, 0), "dilation": 2})])


def _ints(kwargs) -> list[int]:
    found = []
    for value in kwargs.values():
        for v in (value if isinstance(value, tuple) else (value,)):
            if isinstance(v, int) and not isinstance(v, bool):
                found.append(v)
    return found


# the torch edges measured (docs/guarantees.md): each must be accepted or refused as torch does
EDGE_REGRESSIONS = [
    ((1, 1, 4, 4), [("Conv2d", {"in_channels": 1, "out_channels": 1, "kernel_size": 2, "stride": 2**63 - 1})]),
    ((1, 1, 4, 4), [("Conv2d", {"in_channels": 1, "out_channels": 1, "kernel_size": 2, "stride": 2**64})]),
    ((1, 1, 4, 4), [("Conv2d", {"in_channels": 1, "out_channels": 1, "kernel_size": 1, "dilation": 2**63})]),
    ((1, 1, 4, 4), [("Conv2d", {"in_channels": 1, "out_channels": 1, "kernel_size": 2, "dilation": 2**63 - 1})]),
    ((1, 1, 4, 4), [("MaxPool2d", {"kernel_size": 2, "stride": 2**31 - 1})]),
    ((1, 1, 4, 4), [("MaxPool2d", {"kernel_size": 2, "stride": 2**31})]),
    ((1, 1, 1, 1), [("MaxPool2d", {"kernel_size": 2**31 - 1, "padding": 2**30 - 1})]),
    ((1, 1, 4, 4), [("AvgPool2d", {"kernel_size": 2, "divisor_override": 2**63 - 1})]),
    ((1, 1, 4, 4), [("AvgPool2d", {"kernel_size": 2, "divisor_override": 2**63})]),
]


def test_option_validation_matches_torch():
    counts = run(with_edges(rn.any_layers()), check_validation, fraction=1.5,
                 regressions=[PADDING_ONLY_WINDOW, *EDGE_REGRESSIONS])
    assert counts["accepted"] >= 0.1 * counts["checked"], counts
    assert counts["edge"] >= 0.1 * counts["checked"], counts
    for option in ("kernel_size", "stride", "padding", "dilation", "groups", "in_channels", "divisor_override"):
        assert counts[f"refused: {option}"], f"no example refused {option}: {counts}"
