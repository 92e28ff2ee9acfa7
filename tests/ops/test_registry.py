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
@pytest.mark.parametrize("name,cls", [(n, c) for n, c in sorted(LAYERS.items()) if n != "Sum"])
def test_torch_twin_has_the_same_name(name, cls):
    """Sum is left out: torch has no Sum module (symgrad's twin is x.sum())."""
    required = [p for p in inspect.signature(cls).parameters.values() if p.default is inspect.Parameter.empty]
    layer = cls(**{p.name: 2 if "kernel" in p.name else 1 for p in required})
    module = layer.torch_module()
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


# ---------------------------------------------------------------- the protocol: every piece given or declared missing

from symgrad.ops import OPS  # noqa: E402
from symgrad.ops.base import LOSS_PIECES, UNDECLARED, Missing, missing, undeclared  # noqa: E402
from symgrad.printing.words import LANGUAGES, WORDS  # noqa: E402


def _small(cls):
    """An instance with the required options set small (kernels of 2, one channel)."""
    required = [p for p in inspect.signature(cls).parameters.values() if p.default is inspect.Parameter.empty]
    return cls(**{p.name: 2 if "kernel" in p.name else 1 for p in required})


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_piece_is_given_or_declared_missing(name):
    assert undeclared(OPS[name]) == [], f"{name} leaves these pieces undeclared"


@pytest.mark.parametrize("name", sorted(OPS))
def test_words_are_in_every_language_with_the_same_keys(name):
    cls = OPS[name]
    assert set(cls.words) == set(LANGUAGES)
    keys = {lang: set(cls.words[lang]) for lang in LANGUAGES}
    assert len({frozenset(k) for k in keys.values()}) == 1, keys
    for key in keys[LANGUAGES[0]]:
        assert key == "figure" or key.startswith("note:"), key
        if key.startswith("note:"):
            assert key[len("note:"):] in cls.index_form, f"{name}: a note for {key} but no such index form"
    has_figure = not isinstance(getattr(cls, "figure", missing("loss")), Missing)
    assert ("figure" in keys[LANGUAGES[0]]) == (issubclass(cls, Layer) and has_figure), \
        f"{name}: a figure needs a caption, and a caption a figure"


@pytest.mark.parametrize("name,cls", sorted(LAYERS.items()))
def test_letters_and_rules_cover_every_parameter(name, cls):
    layer = _small(cls)
    assert cls.rule_words in WORDS[LANGUAGES[0]]
    assert isinstance(cls.output_letter, str) and cls.output_letter
    for parameter in layer.parameter_shapes():
        assert parameter in cls.symbol_bases and parameter in cls.parameter_letters, f"{name}.{parameter}"
        assert parameter in cls.index_rules
    if not layer.parameter_shapes():
        assert isinstance(cls.initial_values, Missing)
    else:
        assert cls.initial_values, f"{name} has parameters but no initial values"


@pytest.mark.parametrize("name,cls", [(n, c) for n, c in sorted(LAYERS.items()) if c.initial_values])
def test_initial_values_have_the_parameter_shapes(name, cls):
    layer = _small(cls)
    values = layer.initial_values(np.random.default_rng(0))
    assert list(values) == list(layer.parameter_shapes())
    for parameter, shape in layer.parameter_shapes().items():
        assert values[parameter].shape == shape and values[parameter].dtype == np.float64


@pytest.mark.parametrize("name,cls", sorted(LAYERS.items()))
def test_buffers_are_declared_whole(name, cls):
    layer = _small(cls)
    if not cls.buffers:
        assert isinstance(cls.buffers, Missing) and cls.buffers.reason
        return
    shapes = layer.buffer_shapes()
    assert set(layer.initial_buffers()) == set(shapes) == set(layer.buffers())


@pytest.mark.parametrize("name,cls", [(n, c) for n, c in sorted(LAYERS.items()) if not c.from_torch])
def test_a_layer_without_from_torch_says_why(name, cls):
    assert isinstance(cls.from_torch, Missing) and cls.from_torch.reason


@pytest.mark.torch
@pytest.mark.parametrize("name,cls", [(n, c) for n, c in sorted(LAYERS.items()) if c.from_torch])
def test_from_torch_reads_back_the_torch_twin(name, cls):
    layer = _small(cls)
    back = cls.from_torch(layer.torch_module())
    assert type(back) is cls and back.options() == layer.options()


def test_a_piece_left_out_is_reported():
    class Half(LAYERS["ReLU"]):
        """A throwaway op that forgot its letters and never said it has no figure."""

        type_name = "Half"
        parameter_letters = UNDECLARED
        figure = UNDECLARED

    assert undeclared(Half) == ["parameter_letters", "figure"]

    class Buffered(LAYERS["ReLU"]):
        buffers = BaseLayer.buffers  # says it has buffers: then the three buffer methods are owed

    assert undeclared(Buffered) == ["buffer_shapes", "initial_buffers", "updated_buffers"]

    class Loose(BaseLoss):
        type_name = "Loose"

    assert undeclared(Loose) == [piece for piece in LOSS_PIECES if piece != "type_name"]


def test_missing_is_falsy_and_says_why():
    piece = missing("no parameters")
    assert not piece and piece.reason == "no parameters"
    with pytest.raises(NotImplementedError, match="no parameters"):
        piece()


def test_the_registry_is_discovered_and_exposed_by_name():
    import symgrad
    import symgrad.ops

    assert all(not cls.__module__.rsplit(".", 1)[-1].startswith("_") for cls in OPS.values())  # drafts stay out
    assert set(OPS) <= set(symgrad.__all__)
    assert all(getattr(symgrad, name) is cls is getattr(symgrad.ops, name) for name, cls in OPS.items())
    with pytest.raises(AttributeError):
        symgrad.NoSuchLayer


class _Buffered(LAYERS["ReLU"]):
    """A throwaway layer with one buffer, to see buffers go through init, a weights file and buffers()."""

    buffers = BaseLayer.buffers

    def buffer_shapes(self):
        return {"running_mean": (2,)}

    def initial_buffers(self):
        return {"running_mean": np.zeros(2)}

    def updated_buffers(self, x, params, buffers):
        return buffers


def test_buffers_come_from_init_a_weights_file_or_their_defaults(tmp_path):
    from symgrad import OptionError, Sequential
    from symgrad.engine import weights

    layer = _Buffered()
    assert undeclared(_Buffered) == []
    assert np.array_equal(layer.buffers()["running_mean"], [0, 0])
    assert layer.init(running_mean=[1, 2]).buffers()["running_mean"] == [1, 2]
    filed = _Buffered()
    np.savez(tmp_path / "w.npz", **{"0.running_mean": np.array([3.0, 4.0])})
    weights.apply(Sequential(filed), {"file": "w.npz"}, str(tmp_path))
    assert np.array_equal(filed.buffers()["running_mean"], [3, 4]) and filed.initial == {}
    with pytest.raises(OptionError, match="not a parameter"):
        _Buffered().init(running_var=[1, 2])
