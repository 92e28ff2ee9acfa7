"""Every registered op declares everything DESIGN.md's "one op, one place" asks for."""

import inspect

import numpy as np
import pytest
import sympy as sp

from symgrad.ops import LAYERS, LOSSES, Layer, Loss
from symgrad.ops.base import Layer as BaseLayer, Loss as BaseLoss


def _overrides(cls, base, name):
    return getattr(cls, name) is not getattr(base, name)


@pytest.mark.parametrize("name,cls", sorted(LAYERS.items()))
def test_layer_declares_everything(name, cls):
    assert cls.type_name == name
    assert issubclass(cls, Layer)
    for method in ("output_shape", "forward", "backward", "torch_module"):
        assert _overrides(cls, BaseLayer, method), f"{name} lacks {method}"
    assert "forward" in cls.index_form and "input" in cls.index_form
    # every parameter has its backward formula
    required = [p for p in inspect.signature(cls).parameters.values() if p.default is inspect.Parameter.empty]
    args = {p.name: 2 if "kernel" in p.name else 1 for p in required}
    layer = cls(**args)
    for parameter in layer.parameter_shapes():
        assert parameter in cls.index_form, f"{name} lacks the index form of dL/d{parameter}"


@pytest.mark.parametrize("name,cls", sorted(LOSSES.items()))
def test_loss_declares_everything(name, cls):
    assert cls.type_name == name
    assert issubclass(cls, Loss)
    for method in ("check_target", "forward", "backward", "torch_module"):
        assert _overrides(cls, BaseLoss, method), f"{name} lacks {method}"
    assert {"forward", "input"} <= set(cls.index_form)


@pytest.mark.torch
@pytest.mark.parametrize("name,cls", sorted(LAYERS.items()))
def test_torch_twin_has_the_same_name(name, cls):
    required = [p for p in inspect.signature(cls).parameters.values() if p.default is inspect.Parameter.empty]
    layer = cls(**{p.name: 2 if "kernel" in p.name else 1 for p in required})
    module = layer.torch_module()
    if name != "Sum":  # torch has no Sum module; symgrad's twin is x.sum()
        assert type(module).__name__ == name


def test_first_argmax_follows_torch_ties():
    from symgrad.ops.argmax import FirstArgmax

    a, b = sp.symbols("a b", real=True)
    window = [sp.Integer(3)] * 4
    assert [FirstArgmax(k, *window) for k in range(4)] == [1, 0, 0, 0]
    assert [FirstArgmax(k, 1, 5, 5, 2) for k in range(4)] == [0, 1, 0, 0]
    # symbolic stays unevaluated, and numbers substituted later decide it
    route = FirstArgmax(1, a, b)
    assert route.has(FirstArgmax)
    assert route.xreplace({a: 2, b: 2}) == 0 and route.xreplace({a: 1, b: 2}) == 1
    assert sp.diff(route, a) == 0
    piecewise = route.rewrite(sp.Piecewise)
    for va, vb in [(1, 2), (2, 2), (3, 2)]:
        assert piecewise.subs({a: va, b: vb}) == route.xreplace({a: va, b: vb})
    assert np.sum([FirstArgmax(k, *window) for k in range(4)]) == 1
