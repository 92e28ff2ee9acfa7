"""Torch parity: a table of named configurations, each derived with numbers and checked
against torch autograd in float64, twice:

- through `symgrad.verify.torch_reference` / `compare` (the helper users run), and
- through an independent torch computation written here from the same option table
  (torch.nn.functional calls and torch.optim.SGD), so the helper itself is tested.

Inputs are small integers (numpy RandomState with a fixed seed per case) chosen so that
max-pool windows tie often; some cases use all-equal or all-zero inputs on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
import sympy as sp
from lazy_torch import torch, F

import symgrad as sg
from symgrad.verify import compare, evaluate, torch_reference

# torch warns that even kernels with padding="same" may copy the input: expected here
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")


@dataclass
class Case:
    name: str
    layers: list  # [(class name, kwargs)], kwargs are the same for symgrad and torch
    shape: tuple  # N, C, H, W
    loss: str | None = "mean"  # MSELoss reduction, or None (the network ends with Sum)
    target: str = "scalar"  # "scalar", "full" or "row" (shape (W_out,), broadcast)
    sgd: dict = field(default_factory=lambda: {"lr": 0.1})
    x: str = "random"  # "random", "binary" (0/1: many ties), "zeros", "ones", "minus_ones"
    seed: int = 0


def C(name, layers, shape, **kw):
    return Case(name, layers, shape, **kw)


conv = lambda *a, **k: ("Conv2d", dict(zip(("in_channels", "out_channels", "kernel_size"), a), **k))
maxp = lambda k, **kw: ("MaxPool2d", dict(kernel_size=k, **kw))
avgp = lambda k, **kw: ("AvgPool2d", dict(kernel_size=k, **kw))
SUM = ("Sum", {})

CASES = [
    # Conv2d: stride, padding int / pair / "same" / "valid", dilation, groups, bias
    C("conv_bias_sum_noloss", [conv(1, 1, 2), SUM], (1, 1, 3, 3), loss=None),
    C("conv_stride2", [conv(1, 1, 2, stride=2)], (1, 1, 4, 4)),
    C("conv_stride_pair_rect_kernel", [conv(1, 2, (2, 3), stride=(1, 2))], (1, 1, 4, 5), target="full"),
    C("conv_pad1", [conv(1, 1, 3, padding=1)], (1, 1, 3, 3), target="full"),
    C("conv_pad_pair_batch", [conv(2, 1, 2, padding=(1, 0))], (2, 2, 3, 3), target="full"),
    C("conv_pad_stride_batch", [conv(2, 3, 3, stride=2, padding=1)], (2, 2, 5, 5)),
    C("conv_same_odd", [conv(1, 1, 3, padding="same")], (1, 1, 4, 4), target="full"),
    C("conv_same_even_asym", [conv(1, 1, 2, padding="same")], (1, 1, 3, 3), target="full"),
    C("conv_same_even_rect", [conv(2, 2, (2, 4), padding="same")], (2, 2, 3, 4), target="full"),
    C("conv_same_dilated_even_asym", [conv(1, 1, 2, padding="same", dilation=3)], (1, 1, 4, 4), target="full"),
    C("conv_same_dilated_odd", [conv(1, 2, 3, padding="same", dilation=2)], (1, 1, 5, 5)),
    C("conv_valid", [conv(1, 1, 3, padding="valid")], (1, 1, 4, 4), target="full"),
    C("conv_dilation2", [conv(1, 1, 2, dilation=2)], (1, 1, 4, 4), target="full"),
    C("conv_dilation_pair_stride_pad", [conv(1, 1, 2, dilation=(2, 1), stride=2, padding=1)], (1, 1, 5, 5)),
    C("conv_groups2", [conv(2, 2, 2, groups=2)], (2, 2, 3, 3), target="full"),
    C("conv_groups2_out4", [conv(2, 4, 2, groups=2)], (1, 2, 3, 3)),
    C("conv_depthwise3_nobias", [conv(3, 3, 2, groups=3, bias=False)], (1, 3, 3, 3), target="full"),
    C("conv_nobias_multichannel", [conv(2, 3, 2, bias=False)], (2, 2, 3, 3), loss="sum", target="full"),
    C("conv_zero_input", [conv(1, 2, 2)], (1, 1, 3, 3), x="zeros", target="full"),
    C("conv_conv_chain", [conv(1, 2, 2), conv(2, 1, 2, padding=1)], (1, 1, 3, 3), target="full"),
    # MaxPool2d: stride, padding, dilation, ceil_mode, ties
    C("conv_maxpool2", [conv(1, 1, 2), maxp(2)], (1, 1, 3, 3)),
    C("maxpool_overlap_ties", [maxp(2, stride=1), SUM], (2, 2, 4, 4), loss=None, x="binary"),
    C("maxpool_k3_s2_p1", [maxp(3, stride=2, padding=1)], (1, 2, 4, 4), target="full", x="binary"),
    C("maxpool_rect_pad_pair", [maxp((2, 3), stride=(2, 3), padding=(1, 1))], (1, 1, 4, 4), target="full"),
    C("maxpool_dilation2", [maxp(2, dilation=2)], (1, 1, 5, 5), target="full", x="binary"),
    C("maxpool_dilation_pad", [maxp(2, stride=1, padding=1, dilation=2)], (1, 1, 4, 4), target="full", x="binary"),
    C("maxpool_ceil", [maxp(2, stride=2, ceil_mode=True)], (1, 1, 5, 5), target="full"),
    C("maxpool_ceil_pad_drops_window", [maxp(2, stride=2, padding=1, ceil_mode=True)], (1, 1, 5, 5), target="full"),
    C("maxpool_ceil_overlap", [maxp(3, stride=2, ceil_mode=True)], (2, 1, 6, 6), x="binary"),
    C("maxpool_all_equal", [maxp(2, stride=1), SUM], (2, 2, 3, 3), loss=None, x="ones"),
    C("maxpool_minus_ones_pad", [maxp(3, stride=1, padding=1)], (1, 1, 3, 3), target="full", x="minus_ones"),
    C("conv_bias_zero_input_maxpool_ties", [conv(2, 2, 2), maxp(2, stride=1)], (1, 2, 4, 4), x="zeros"),
    # AvgPool2d: padding, ceil_mode, count_include_pad, divisor_override
    C("conv_avgpool2", [conv(1, 1, 2), avgp(2)], (1, 1, 3, 3)),
    C("avgpool_pad1_include", [avgp(3, stride=1, padding=1)], (1, 1, 4, 4), target="full"),
    C("avgpool_pad1_exclude", [avgp(3, stride=1, padding=1, count_include_pad=False)], (1, 1, 4, 4), target="full"),
    C("avgpool_ceil_include", [avgp(2, stride=2, ceil_mode=True)], (1, 2, 5, 5), target="full"),
    C("avgpool_ceil_exclude", [avgp(2, stride=2, ceil_mode=True, count_include_pad=False)], (1, 1, 5, 5), target="full"),
    C("avgpool_ceil_pad_include", [avgp(3, stride=2, padding=1, ceil_mode=True)], (1, 1, 6, 6), target="full"),
    C("avgpool_ceil_pad_exclude", [avgp(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)],
      (2, 1, 6, 6), target="full"),
    C("avgpool_ceil_pad_drops_window", [avgp(2, stride=2, padding=1, ceil_mode=True)], (1, 1, 5, 5), target="full"),
    C("avgpool_divisor3", [avgp(2, divisor_override=3)], (1, 1, 4, 4), target="full"),
    C("avgpool_divisor_ceil_pad", [avgp(3, stride=2, padding=1, ceil_mode=True, divisor_override=5)], (1, 1, 6, 6),
      target="full"),
    C("avgpool_divisor_negative", [avgp(2, stride=1, divisor_override=-2)], (1, 1, 3, 3), target="full"),
    C("avgpool_rect_pad_pair", [avgp((2, 3), stride=(1, 2), padding=(1, 0))], (1, 1, 4, 5), target="full"),
    C("avgpool_stride_gt_kernel", [avgp(2, stride=3)], (1, 1, 5, 5), target="full"),
    C("conv_max_avg_sum_chain", [conv(1, 2, 2, padding=1), maxp(2, stride=1), avgp(2, ceil_mode=True), SUM],
      (2, 1, 4, 4), loss=None),
    # MSELoss: mean / sum, scalar / full / broadcast targets
    C("mse_sum_full", [conv(1, 1, 2)], (1, 1, 4, 4), loss="sum", target="full"),
    C("mse_sum_scalar", [conv(1, 1, 2)], (1, 1, 3, 3), loss="sum", target="scalar"),
    C("mse_mean_full_batch", [conv(2, 2, 2)], (2, 2, 3, 3), loss="mean", target="full"),
    C("mse_mean_row_broadcast", [conv(1, 2, 2)], (1, 1, 4, 4), loss="mean", target="row"),
    C("mse_on_sum_scalar", [conv(1, 1, 2), SUM], (1, 1, 3, 3), loss="mean", target="scalar"),
    # SGD options (one step)
    C("sgd_momentum", [conv(1, 1, 2), avgp(2)], (1, 1, 3, 3), sgd=dict(lr=0.05, momentum=0.9)),
    C("sgd_momentum_dampening", [conv(1, 1, 2)], (1, 1, 3, 3), sgd=dict(lr=0.05, momentum=0.9, dampening=0.5)),
    C("sgd_weight_decay", [conv(2, 1, 2)], (1, 2, 3, 3), sgd=dict(lr=0.1, weight_decay=0.25)),
    C("sgd_nesterov", [conv(1, 1, 2), maxp(2)], (1, 1, 3, 3), sgd=dict(lr=0.01, momentum=0.5, nesterov=True)),
    C("sgd_maximize", [conv(1, 1, 2)], (1, 1, 3, 3), sgd=dict(lr=0.1, maximize=True)),
    C("sgd_everything", [conv(1, 2, 2), conv(2, 1, 1)], (1, 1, 3, 3),
      sgd=dict(lr=0.02, momentum=0.75, weight_decay=0.5, nesterov=True, maximize=True)),
    C("sgd_none", [conv(1, 1, 2)], (1, 1, 3, 3), sgd=None),
]


def make_input(case: Case, rng: np.random.RandomState) -> np.ndarray:
    if case.x == "random":
        return rng.randint(-2, 3, size=case.shape)
    if case.x == "binary":
        return rng.randint(0, 2, size=case.shape)
    fill = {"zeros": 0, "ones": 1, "minus_ones": -1}[case.x]
    return np.full(case.shape, fill, dtype=np.int64)


def build(case: Case):
    """(symgrad network, input, target, integer parameter values by torch name)."""
    rng = np.random.RandomState(1000 + case.seed + sum(map(ord, case.name)))
    x = make_input(case, rng)
    layers, params = [], {}
    for i, (kind, kwargs) in enumerate(case.layers):
        layer = getattr(sg, kind)(**kwargs)
        for name, shape in layer.parameter_shapes().items():
            values = rng.randint(-3, 4, size=shape)
            layer.init(**{name: values})
            params[f"{i}.{name}"] = values
        layers.append(layer)
    net = sg.Sequential(*layers)
    target = None
    if case.loss is not None:
        out_shape = net.shapes(x.shape)[-1]
        if case.target == "scalar":
            target = int(rng.randint(-5, 6))
        elif case.target == "full":
            target = rng.randint(-4, 5, size=out_shape)
        else:
            target = rng.randint(-4, 5, size=out_shape[-1:])
    return net, x, target, params


def sgd_options(case: Case, params: dict):
    """The case's SGD options; pooling-only networks have nothing to update, so no optimizer
    (an optimizer over no parameters is tested on its own below)."""
    return case.sgd if params else None


def derive_case(case: Case):
    net, x, target, params = build(case)
    loss = None if case.loss is None else sg.MSELoss(reduction=case.loss)
    sgd = sgd_options(case, params)
    optimizer = None if sgd is None else sg.SGD(**sgd)
    return sg.derive(net, x, loss, target, optimizer), x, target, params


def independent_torch(case: Case, x, target, params) -> dict:
    """The same computation written directly in torch.nn.functional from the case table."""
    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    h = xt
    for i, (kind, kw) in enumerate(case.layers):
        if kind == "Conv2d":
            h = F.conv2d(h, tensors[f"{i}.weight"], tensors.get(f"{i}.bias"), stride=kw.get("stride", 1),
                         padding=kw.get("padding", 0), dilation=kw.get("dilation", 1), groups=kw.get("groups", 1))
        elif kind == "MaxPool2d":
            h = F.max_pool2d(h, kw["kernel_size"], kw.get("stride"), kw.get("padding", 0), kw.get("dilation", 1),
                             ceil_mode=kw.get("ceil_mode", False))
        elif kind == "AvgPool2d":
            h = F.avg_pool2d(h, kw["kernel_size"], kw.get("stride"), kw.get("padding", 0),
                             ceil_mode=kw.get("ceil_mode", False), count_include_pad=kw.get("count_include_pad", True),
                             divisor_override=kw.get("divisor_override"))
        elif kind == "Sum":
            h = h.sum()
        else:  # pragma: no cover - the table only uses the kinds above
            raise AssertionError(kind)
    out = h
    if case.loss is None:
        loss = out
    else:
        t = torch.as_tensor(np.asarray(target), dtype=torch.float64)
        loss = F.mse_loss(out, t.expand_as(out), reduction=case.loss)
    loss.backward()
    result = {"output": out.detach().numpy().copy(), "loss": float(loss.detach()),
              "gradients": {k: v.grad.numpy().copy() for k, v in tensors.items()}}
    result["gradients"]["input"] = xt.grad.numpy().copy()
    if sgd_options(case, params) is not None:
        opt = torch.optim.SGD(list(tensors.values()), **case.sgd)
        opt.step()
        result["updated"] = {k: v.detach().numpy().copy() for k, v in tensors.items()}
    return result


def floats(array) -> np.ndarray:
    a = np.array(array, dtype=object)
    return np.vectorize(float, otypes=[np.float64])(a) if a.shape else np.float64(float(a[()]))


@pytest.mark.torch
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_parity_with_torch_reference_helper(case):
    d, x, target, params = derive_case(case)
    assert not d.free_symbols, "a numeric case must derive to numbers only"
    numbers = evaluate(d)
    rows = compare(numbers, torch_reference(d, numbers), rtol=1e-12, atol=1e-12)
    expected = {"output", "loss", "dL/dinput", *(f"dL/d{k}" for k in params)}
    if sgd_options(case, params) is not None:
        expected |= {f"updated {k}" for k in params}
    assert {r["quantity"] for r in rows} == expected
    bad = [(r["quantity"], r["max_abs_error"]) for r in rows if not r["ok"]]
    assert not bad, f"{case.name}: differs from torch in {bad}"


@pytest.mark.torch
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_parity_with_independent_torch(case):
    d, x, target, params = derive_case(case)
    ref = independent_torch(case, x, target, params)
    np.testing.assert_allclose(floats(d.output), ref["output"], rtol=1e-12, atol=1e-12, err_msg="output")
    assert float(d.loss) == pytest.approx(ref["loss"], rel=1e-12, abs=1e-12)
    assert set(d.gradients) == set(ref["gradients"])
    for name, grad in d.gradients.items():
        # every gradient is exact: a SymPy rational, never a float
        assert all(isinstance(v, sp.Rational) for v in np.array(grad.tolist(), dtype=object).reshape(-1)), name
        np.testing.assert_allclose(floats(grad.tolist()), ref["gradients"][name], rtol=1e-12, atol=1e-12,
                                   err_msg=f"dL/d{name}")
    if sgd_options(case, params) is not None:
        assert set(d.updated) == set(params)
        for name, value in d.updated.items():
            np.testing.assert_allclose(floats(value.tolist()), ref["updated"][name], rtol=1e-12, atol=1e-12,
                                       err_msg=f"updated {name}")
    else:
        assert d.updated == {}


@pytest.mark.torch
def test_reference_helper_with_sgd_on_a_parameterless_network():
    """A pooling-only network with an optimizer: nothing to update, and the torch check
    must say so instead of crashing (torch.optim.SGD refuses an empty parameter list)."""
    d = sg.derive(sg.Sequential(sg.MaxPool2d(2), sg.Sum()), [[1, 2], [3, 4]], optimizer=sg.SGD(lr=0.1))
    assert d.updated == {}
    numbers = evaluate(d)
    rows = compare(numbers, torch_reference(d, numbers))
    assert {r["quantity"] for r in rows} == {"output", "loss", "dL/dinput"}
    assert all(r["ok"] for r in rows)


def test_case_table_is_broad():
    """Guard the coverage the table promises (N>1, C>1, every option family)."""
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)
    assert any(c.shape[0] > 1 for c in CASES) and any(c.shape[1] > 1 for c in CASES)
    options = {(kind, key) for c in CASES for kind, kw in c.layers for key in kw}
    for needed in [("Conv2d", "stride"), ("Conv2d", "padding"), ("Conv2d", "dilation"), ("Conv2d", "groups"),
                   ("Conv2d", "bias"), ("MaxPool2d", "stride"), ("MaxPool2d", "padding"), ("MaxPool2d", "dilation"),
                   ("MaxPool2d", "ceil_mode"), ("AvgPool2d", "padding"), ("AvgPool2d", "ceil_mode"),
                   ("AvgPool2d", "count_include_pad"), ("AvgPool2d", "divisor_override")]:
        assert needed in options, needed
    sgd_keys = {k for c in CASES if c.sgd for k in c.sgd}
    assert {"momentum", "dampening", "weight_decay", "nesterov", "maximize"} <= sgd_keys


# --- explicit tie and padding semantics -------------------------------------

def _input_grad(net, x):
    d = sg.derive(net, x)
    g = np.array(d.gradients["input"].tolist(), dtype=object)
    return g.reshape(g.shape[-2:]), d


def _torch_input_grad(module, x):
    xt = torch.tensor(np.asarray(x, dtype=float)[None, None], requires_grad=True)
    module(xt).sum().backward()
    return xt.grad[0, 0].numpy()


@pytest.mark.torch
def test_all_equal_window_routes_everything_to_first():
    x = [[7, 7], [7, 7]]
    grad, _ = _input_grad(sg.Sequential(sg.MaxPool2d(2), sg.Sum()), x)
    assert grad.tolist() == [[1, 0], [0, 0]]
    np.testing.assert_array_equal(_torch_input_grad(torch.nn.MaxPool2d(2), x), [[1, 0], [0, 0]])


@pytest.mark.torch
def test_tie_later_in_window_goes_to_first_maximum():
    x = [[0, 5, 1], [5, 2, 5], [1, 5, 0]]
    grad, _ = _input_grad(sg.Sequential(sg.MaxPool2d(3), sg.Sum()), x)
    assert grad.tolist() == [[0, 1, 0], [0, 0, 0], [0, 0, 0]]
    np.testing.assert_array_equal(_torch_input_grad(torch.nn.MaxPool2d(3), x), grad.astype(float))


@pytest.mark.torch
def test_overlapping_windows_accumulate():
    x = [[0, 1, 0], [1, 9, 1], [0, 1, 0]]
    grad, _ = _input_grad(sg.Sequential(sg.MaxPool2d(2, stride=1), sg.Sum()), x)
    assert grad.tolist() == [[0, 0, 0], [0, 4, 0], [0, 0, 0]]
    np.testing.assert_array_equal(_torch_input_grad(torch.nn.MaxPool2d(2, stride=1), x), grad.astype(float))


@pytest.mark.torch
def test_overlapping_all_equal_windows_accumulate_on_each_first():
    x = np.ones((3, 3), dtype=int)
    grad, _ = _input_grad(sg.Sequential(sg.MaxPool2d(2, stride=1), sg.Sum()), x)
    assert grad.tolist() == [[1, 1, 0], [1, 1, 0], [0, 0, 0]]
    np.testing.assert_array_equal(_torch_input_grad(torch.nn.MaxPool2d(2, stride=1), x), grad.astype(float))


@pytest.mark.torch
def test_maxpool_padding_is_minus_infinity():
    x = -np.ones((2, 2), dtype=int)
    net = sg.Sequential(sg.MaxPool2d(2, padding=1))
    d = sg.derive(net, x, sg.MSELoss(), 0)
    out = np.array(d.output.tolist(), dtype=object).reshape(2, 2)
    assert out.tolist() == [[-1, -1], [-1, -1]]  # zero padding would give 0
    torch_out = torch.nn.MaxPool2d(2, padding=1)(torch.tensor(x, dtype=torch.float64)[None, None])
    np.testing.assert_array_equal(torch_out[0, 0].numpy(), [[-1, -1], [-1, -1]])
    grad, _ = _input_grad(sg.Sequential(sg.MaxPool2d(2, padding=1), sg.Sum()), x)
    assert grad.tolist() == [[1, 1], [1, 1]]


@pytest.mark.torch
def test_design_example_avgpool_ceil_include_pad_first_row():
    d = sg.derive(sg.Sequential(sg.AvgPool2d(3, stride=2, padding=1, ceil_mode=True)), np.ones((6, 6), dtype=int),
                  sg.MSELoss(), 0)
    out = np.array(d.output.tolist(), dtype=object).reshape(4, 4)
    assert out[0].tolist() == [sp.Rational(4, 9), sp.Rational(2, 3), sp.Rational(2, 3), sp.Rational(1, 3)]
    torch_out = torch.nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True)(torch.ones(1, 1, 6, 6, dtype=torch.float64))
    np.testing.assert_allclose(torch_out[0, 0].numpy(), floats(out), rtol=1e-15)
    np.testing.assert_allclose(torch_out[0, 0, 0].numpy(), [0.444, 0.667, 0.667, 0.333], atol=5e-4)


@pytest.mark.torch
def test_ceil_mode_drops_window_starting_in_padding():
    layer = sg.MaxPool2d(2, stride=2, padding=1, ceil_mode=True)
    assert sg.Sequential(layer).shapes((1, 1, 5, 5))[-1] == (1, 1, 3, 3)
    assert torch.nn.MaxPool2d(2, stride=2, padding=1, ceil_mode=True)(torch.zeros(1, 1, 5, 5)).shape == (1, 1, 3, 3)


@pytest.mark.torch
def test_reference_helper_detects_a_wrong_gradient():
    """compare() must flag a deliberately corrupted gradient (the helper can fail)."""
    d, *_ = derive_case(CASES[1])
    numbers = evaluate(d)
    ref = torch_reference(d, numbers)
    numbers["gradients"]["0.weight"] = numbers["gradients"]["0.weight"] + 1e-6
    rows = {r["quantity"]: r for r in compare(numbers, ref)}
    assert not rows["dL/d0.weight"]["ok"]
    assert rows["dL/dinput"]["ok"]


# --- random configurations (hypothesis): validation and numbers agree with torch ----

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

pairs = lambda lo, hi: st.tuples(st.integers(lo, hi), st.integers(lo, hi))


@st.composite
def random_layer(draw):
    kind = draw(st.sampled_from(["MaxPool2d", "AvgPool2d", "Conv2d"]))
    k, s, p = draw(pairs(1, 3)), draw(pairs(1, 3)), draw(pairs(0, 2))
    if kind == "MaxPool2d":
        kw = dict(kernel_size=k, stride=s, padding=p, dilation=draw(pairs(1, 2)), ceil_mode=draw(st.booleans()))
    elif kind == "AvgPool2d":
        kw = dict(kernel_size=k, stride=s, padding=p, ceil_mode=draw(st.booleans()),
                  count_include_pad=draw(st.booleans()), divisor_override=draw(st.sampled_from([None, None, 2, -3])))
    else:
        groups = draw(st.integers(1, 2))
        padding = draw(st.sampled_from([p, p[0], "same", "valid"]))
        kw = dict(in_channels=groups * draw(st.integers(1, 2)), out_channels=groups * draw(st.integers(1, 2)),
                  kernel_size=k, stride=(1, 1) if padding == "same" else s, padding=padding,
                  dilation=draw(pairs(1, 2)), groups=groups, bias=draw(st.booleans()))
    channels = kw.get("in_channels", draw(st.integers(1, 2)))
    shape = (draw(st.integers(1, 2)), channels, draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    return kind, kw, shape, draw(st.integers(0, 2**16))


@pytest.mark.torch
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_layer())
def test_random_layer_matches_torch(config):
    kind, kw, shape, seed = config
    rng = np.random.RandomState(seed)
    x = rng.randint(-2, 3, size=shape)
    try:
        with torch.no_grad():
            torch_out = getattr(torch.nn, kind)(**kw).double()(torch.tensor(x, dtype=torch.float64))
        torch_error = None
    except (RuntimeError, ValueError) as error:
        torch_error = error
    try:
        layer = getattr(sg, kind)(**kw)
        for name, pshape in layer.parameter_shapes().items():
            layer.init(**{name: rng.randint(-3, 4, size=pshape)})
        optimizer = sg.SGD(lr=0.1, momentum=0.5, weight_decay=0.1) if layer.parameter_shapes() else None
        d = sg.derive(sg.Sequential(layer), x, sg.MSELoss(), 1, optimizer)
        ours = None
    except sg.OptionError as error:
        ours = error
    if torch_error is None and not bool(torch.isfinite(torch_out).all()):
        # a max-pool window lying wholly in the padding: torch outputs -inf and routes its
        # gradient by an artefact of its index initialisation; symgrad refuses it (docs/semantics.md)
        assert ours is not None and ours.option == "dilation", f"symgrad accepted {kind}({kw}) on {shape}"
        return
    assert (ours is None) == (torch_error is None), f"symgrad: {ours!r}; torch: {torch_error!r}"
    if ours is not None:
        return
    numbers = evaluate(d)
    bad = [r["quantity"] for r in compare(numbers, torch_reference(d, numbers), rtol=1e-12, atol=1e-12) if not r["ok"]]
    assert not bad, f"{kind}({kw}) on {shape}: differs from torch in {bad}"


# --- every registered layer: random instances from the op tables (tests/support/op_tables.py) ----

import op_tables  # noqa: E402
from symgrad.ops import LAYERS  # noqa: E402

TABLE = [pair for name in sorted(LAYERS) for pair in op_tables.layers(name, 3, seed=f"parity {name}")]


@pytest.mark.torch
@pytest.mark.parametrize("layer,shape", TABLE, ids=str)
def test_every_registered_layer_matches_torch(layer, shape):
    """Each op's own torch twin in float64; a max-pool window wholly in the padding is refused (docs/semantics.md)."""
    rng = np.random.RandomState(sum(shape))
    x = rng.randint(-2, 3, size=shape)
    for name, pshape in layer.parameter_shapes().items():
        layer.init(**{name: rng.randint(-3, 4, size=pshape)})
    optimizer = sg.SGD(lr=0.1, momentum=0.5, weight_decay=0.1) if layer.parameter_shapes() else None
    with torch.no_grad():
        torch_out = layer.torch_module().double()(torch.tensor(x, dtype=torch.float64))
    if not bool(torch.isfinite(torch_out).all()):
        with pytest.raises(sg.OptionError) as refused:
            sg.derive(sg.Sequential(layer), x, sg.MSELoss(), 1, optimizer)
        assert refused.value.option == "dilation", refused.value
        return
    d = sg.derive(sg.Sequential(layer), x, sg.MSELoss(), 1, optimizer)
    numbers = evaluate(d)
    bad = [r["quantity"] for r in compare(numbers, torch_reference(d, numbers), rtol=1e-12, atol=1e-12) if not r["ok"]]
    assert not bad, f"{layer!r} on {shape}: differs from torch in {bad}"
