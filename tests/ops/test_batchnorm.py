"""BatchNorm2d (issue 12 item 5): torch parity in train and eval, its rules against sympy.diff, its index
forms and array twin against the engine, its buffers after one forward, and torch's validation both ways;
then the layer as the registry finds it: the spec of docs/layers/batchnorm.md through `symgrad derive` (its
buffers in JSON and text) and `symgrad check` (torch's named_buffers), and the buffers of a shared layer
over repeated backward passes against torch.
"""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
import sympy as sp
from lazy_torch import torch

import symgrad as sg
from symgrad.core.errors import OptionError
from paths import ROOT
from symgrad.cli.commands import main
from symgrad.ops import BatchNorm2d
from twins import rebuilt

TOL = {"rtol": 1e-10, "atol": 1e-10}

#: (options, input shape): affine on/off (and torch's bias=False), running stats on/off, momentum 0.1/None/0.3.
CONFIGS = [
    ({}, (2, 2, 2, 2)),
    ({"affine": False}, (2, 2, 2, 2)),
    ({"track_running_stats": False}, (3, 2, 1, 2)),
    ({"affine": False, "track_running_stats": False}, (1, 3, 2, 2)),
    ({"momentum": None}, (2, 1, 3, 1)),
    ({"momentum": 0.3, "eps": 1e-3}, (1, 2, 1, 3)),
    ({"bias": False}, (2, 3, 1, 1)),
]
MODES = [True, False]


def _halves(rng, shape, lo=-4, hi=4):
    """Small exact numbers (k/2): ties and equal entries on purpose, and sqrt of small rationals only."""
    return rng.integers(lo, hi + 1, size=shape) / 2


def _layer(options, channels, training, buffers=None):
    layer = BatchNorm2d(channels, training=training, **options)
    if buffers and layer.track_running_stats:
        layer.init(**buffers)
    return layer


def _exact(array):
    return sg.core.tensor.to_array(np.asarray(array).tolist()) if np.ndim(array) else \
        np.array(sg.core.tensor.number(float(array)), dtype=object)


def _floats(array):
    return np.array([float(v) for v in np.asarray(array, dtype=object).reshape(-1)]).reshape(np.shape(array))


def _case(options, shape, training, seed=0, constant=False):
    """A layer, its float inputs (x, params, delta, buffers) and the engine's exact results."""
    rng = np.random.default_rng(seed)
    channels = shape[1]
    x = _halves(rng, shape)
    if constant:
        x[:, 0] = 1.5  # variance 0: xhat = 0 and the scale 1/sqrt(eps)
    fixed = np.random.default_rng(99)  # the same buffers for every seed: batched twins share the layer
    buffers = {"running_mean": _halves(fixed, (channels,)), "running_var": 1 + fixed.integers(0, 4, channels) / 4,
               "num_batches_tracked": 3}
    layer = _layer(options, channels, training, buffers)
    params = {name: _halves(rng, s, 1, 4) for name, s in layer.parameter_shapes().items()}
    delta = _halves(rng, shape)
    exact = {name: _exact(v) for name, v in params.items()}
    out = layer.forward(_exact(x), exact)
    grads = layer.backward(_exact(delta), _exact(x), out, exact)
    return layer, x, params, delta, out, grads


def _torch_run(layer, x, params, delta):
    """torch's output, gradients (input, then parameters) and buffers after one forward, in float64."""
    module = layer.torch_module()
    assert module.training == layer.training
    with torch.no_grad():
        for name, value in params.items():
            getattr(module, name).copy_(torch.from_numpy(np.asarray(value, dtype=np.float64)))
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = module(xt)
    out.backward(torch.from_numpy(delta))
    grads = {"input": xt.grad.numpy(), **{n: getattr(module, n).grad.numpy() for n in params}}
    buffers = {n: b.detach().numpy() for n, b in module.named_buffers()}
    return out.detach().numpy(), grads, buffers


# ---------------------------------------------------------------- torch parity (float64)

@pytest.mark.torch
@pytest.mark.parametrize("training", MODES, ids=["train", "eval"])
@pytest.mark.parametrize("options,shape", CONFIGS, ids=[str(c) for c, _ in CONFIGS])
def test_forward_and_gradients_match_torch(options, shape, training):
    for seed, constant in [(0, False), (1, True)]:
        layer, x, params, delta, out, grads = _case(options, shape, training, seed, constant)
        t_out, t_grads, _ = _torch_run(layer, x, params, delta)
        np.testing.assert_allclose(_floats(out), t_out, **TOL)
        ours = {"input": grads.input, **grads.params}
        assert set(ours) == set(t_grads), layer
        for name, grad in t_grads.items():
            np.testing.assert_allclose(_floats(ours[name]), grad, err_msg=f"{layer}: d{name}", **TOL)


@pytest.mark.torch
@pytest.mark.parametrize("training", MODES, ids=["train", "eval"])
@pytest.mark.parametrize("options,shape", CONFIGS, ids=[str(c) for c, _ in CONFIGS])
def test_buffers_after_one_forward_match_torch(options, shape, training):
    """running_mean by the mean, running_var by the unbiased variance, num_batches_tracked + 1 (training only)."""
    for seed, constant in [(2, False), (3, True)]:
        layer, x, params, delta, _, _ = _case(options, shape, training, seed, constant)
        _, _, t_buffers = _torch_run(layer, x, params, delta)
        exact = {name: _exact(v) for name, v in params.items()}
        ours = layer.updated_buffers(_exact(x), exact, layer.buffers())
        assert set(ours) == set(t_buffers) == set(layer.buffer_shapes())
        for name, value in t_buffers.items():
            np.testing.assert_allclose(_floats(ours[name]), value, err_msg=name, **TOL)
        assert int(ours.get("num_batches_tracked", 0)) == int(t_buffers.get("num_batches_tracked", 0))


@pytest.mark.torch
def test_defaults_state_dict_and_twins_are_torchs():
    layer = BatchNorm2d(3)
    module = torch.nn.BatchNorm2d(3)
    assert list(module.state_dict()) == [*layer.parameter_shapes(), *layer.buffer_shapes()]
    for name, value in layer.initial_buffers().items():
        np.testing.assert_array_equal(value, module.state_dict()[name].numpy())
    assert layer.initial_buffers()["num_batches_tracked"].dtype == np.int64
    for name, value in layer.initial_values(np.random.default_rng(0)).items():
        np.testing.assert_array_equal(value, getattr(module, name).detach().numpy())
    for options in [{}, {"momentum": None, "eps": 1e-3}, {"affine": False}, {"track_running_stats": False},
                    {"bias": False}, {"training": False}]:
        twin = BatchNorm2d(2, **options)
        back = BatchNorm2d.from_torch(twin.torch_module())
        assert back.options() == twin.options()
    assert list(BatchNorm2d(2, affine=False, track_running_stats=False).torch_module().state_dict()) == []


@pytest.mark.torch
def test_torch_twin_carries_the_given_buffers():
    layer = BatchNorm2d(2, training=False).init(running_mean=[0.5, -1], running_var=[2, 0.25], num_batches_tracked=7)
    module = layer.torch_module()
    assert not module.training
    assert module.running_mean.tolist() == [0.5, -1] and module.running_var.tolist() == [2, 0.25]
    assert int(module.num_batches_tracked) == 7 and module.running_mean.dtype == torch.float64
    with pytest.raises(OptionError, match="init.running_mean"):
        BatchNorm2d(2, training=False).init(running_mean=["m", 0]).torch_module()


@pytest.mark.torch
@pytest.mark.parametrize("training", MODES, ids=["train", "eval"])
def test_derive_end_to_end_matches_torch(training):
    """Sequential(BatchNorm2d) through symgrad.derive with MSELoss: loss and gradients as torch's."""
    rng = np.random.default_rng(5)
    x, target = _halves(rng, (2, 2, 2, 2)), _halves(rng, (2, 2, 2, 2))
    params = {"weight": [1.5, -0.5], "bias": [0.25, 1.0]}
    layer = BatchNorm2d(2, training=training).init(**params, running_mean=[0.5, -0.5], running_var=[2.0, 0.5])
    d = sg.derive(sg.Sequential(layer), x.tolist(), sg.MSELoss(), target=target.tolist())
    module = layer.torch_module()
    with torch.no_grad():
        for name, value in params.items():
            getattr(module, name).copy_(torch.tensor(value, dtype=torch.float64))
    xt = torch.tensor(x, requires_grad=True)
    loss = torch.nn.MSELoss()(module(xt), torch.tensor(target))
    loss.backward()
    assert float(d.loss) == pytest.approx(loss.item(), rel=1e-12)
    expected = {"0.weight": module.weight.grad, "0.bias": module.bias.grad, "input": xt.grad}
    assert set(d.gradients) == set(expected)
    for name, grad in expected.items():
        np.testing.assert_allclose(_floats(np.array(d.gradients[name].tolist(), dtype=object)), grad.numpy(), **TOL)


# ---------------------------------------------------------------- validation, mirrored against torch

SHAPES = [(2, 2, 2, 2), (1, 2, 1, 1), (1, 2, 1, 2), (2, 2, 1, 1), (2, 3, 2, 2), (1, 1, 1, 1), (2, 2, 2), (2, 2)]


@pytest.mark.torch
@pytest.mark.parametrize("training", MODES, ids=["train", "eval"])
@pytest.mark.parametrize("options", [{}, {"affine": False}, {"track_running_stats": False},
                                     {"affine": False, "track_running_stats": False}], ids=str)
def test_input_validation_mirrors_torch(options, training):
    """symgrad refuses exactly the inputs torch refuses: not 4-D, channels not num_features where a weight or
    a buffer has that size, one value per channel where batch statistics are used."""
    for shape in SHAPES:
        module = torch.nn.BatchNorm2d(2, **options).double().train(training)
        try:
            module(torch.zeros(shape, dtype=torch.float64))
            torch_error = None
        except (ValueError, RuntimeError) as error:
            torch_error = str(error)
        layer = BatchNorm2d(2, training=training, **options)
        try:
            layer.output_shape(shape)
            ours = None
        except OptionError as error:
            ours = error.message
        assert (ours is None) == (torch_error is None), (options, training, shape, ours, torch_error)
        if torch_error is not None:
            assert torch_error in ours, (ours, torch_error)


@pytest.mark.torch
@pytest.mark.parametrize("eps,training", [(0.0, True), (0.0, False), (-1e-5, False), (1e-5, True), (0.0, "nostats")])
def test_eps_validation_mirrors_torch(eps, training):
    track = training != "nostats"
    training = training is True or training == "nostats"
    module = torch.nn.BatchNorm2d(2, eps=eps, track_running_stats=track).double().train(training)
    try:
        module(torch.ones(2, 2, 1, 1, dtype=torch.float64))
        refused = False
    except ValueError:
        refused = True
    if refused:
        with pytest.raises(OptionError, match="eps"):
            BatchNorm2d(2, eps=eps, track_running_stats=track, training=training)
    else:
        BatchNorm2d(2, eps=eps, track_running_stats=track, training=training)


@pytest.mark.parametrize("kwargs,option", [
    ({"num_features": 0}, "num_features"), ({"num_features": 2.0}, "num_features"),
    ({"num_features": True}, "num_features"),
    ({"eps": "small"}, "eps"), ({"eps": float("nan")}, "eps"), ({"eps": sp.Rational(1, 10)}, "eps"),
    ({"momentum": "0.1"}, "momentum"), ({"momentum": float("inf")}, "momentum"), ({"affine": 1}, "affine"),
    ({"track_running_stats": None}, "track_running_stats"), ({"training": "eval"}, "training"), ({"bias": 0}, "bias"),
])
def test_bad_options_name_the_option(kwargs, option):
    kwargs = {"num_features": 2, **kwargs}
    with pytest.raises(OptionError) as info:
        BatchNorm2d(**kwargs)
    assert info.value.option == option and info.value.where == "BatchNorm2d"


@pytest.mark.parametrize("values,option", [
    ({"running_mean": [1, 2, 3]}, "init.running_mean"), ({"running_var": [[1, 2]]}, "init.running_var"),
    ({"num_batches_tracked": -1}, "init.num_batches_tracked"),
    ({"num_batches_tracked": 1.5}, "init.num_batches_tracked"),
    ({"running_mean": [1, float("nan")]}, "init.running_mean"), ({"weight": [1]}, None),
])
def test_bad_buffers_name_the_buffer(values, option):
    layer = BatchNorm2d(2)
    if option is None:  # parameters are checked where every layer's are: when the network is built
        layer.init(**values)
        with pytest.raises(OptionError, match="init.weight"):
            sg.Sequential(layer).parameters()
        return
    with pytest.raises(OptionError) as info:
        layer.init(**values)
    assert info.value.option == option


def test_buffers_are_not_taken_without_running_stats():
    with pytest.raises(OptionError, match="init.running_mean"):
        BatchNorm2d(2, track_running_stats=False).init(running_mean=[0, 0])
    assert BatchNorm2d(2, track_running_stats=False).buffer_shapes() == {}
    assert BatchNorm2d(2, affine=False).parameter_shapes() == {}


# ---------------------------------------------------------------- the rules against sympy.diff (no torch)

def _symbols(base, shape):
    return sg.core.tensor.symbols(base, shape)


def _close(a, b, digits=30) -> bool:
    return abs(sp.N(a - b, digits)) < sp.Float(10) ** (5 - digits)


@pytest.mark.parametrize("options,training", [({}, True), ({"momentum": None}, True), ({}, False),
                                              ({"track_running_stats": False}, False), ({"affine": False}, True)])
def test_rules_equal_sympy_diff_of_the_forward(options, training):
    """Fully symbolic x, gamma, beta, delta (and running stats in eval): dL/d(each) of L = sum(delta * z) by
    sympy.diff equals the closed-form rule, at random exact points (simplifying surds is slow)."""
    shape = (2, 2, 1, 2)
    layer = BatchNorm2d(2, training=training, **options)
    if layer.track_running_stats:
        layer.init(running_mean=["m_1", "m_2"], running_var=["v_1", "v_2"])
    x, delta = _symbols("x", shape), _symbols("d", shape)
    params = {name: _symbols({"weight": "g", "bias": "b"}[name], s) for name, s in layer.parameter_shapes().items()}
    out = layer.forward(x, params)
    grads = layer.backward(delta, x, out, params)
    loss = sum((delta * out).reshape(-1), sp.Integer(0))
    rng = random.Random(str(options) + str(training))
    free = sorted(loss.free_symbols, key=lambda s: s.name)
    points = [{s: sp.Rational(rng.randint(1, 9), rng.randint(1, 4)) for s in free} for _ in range(2)]
    checks = [(x, grads.input)] + [(params[name], grads.params[name]) for name in params]
    for variables, rule in checks:
        for idx in np.ndindex(*variables.shape):
            by_diff = sp.diff(loss, variables[idx])
            for point in points:
                assert _close(by_diff.xreplace(point), rule[idx].xreplace(point)), (layer, variables[idx])


def test_constant_channel_is_exact():
    """A channel of equal entries: xhat = 0, z = beta, dx = gamma delta' / sqrt(eps) with delta' centred."""
    layer = BatchNorm2d(1)
    x = np.full((2, 1, 1, 2), sp.Rational(3, 2), dtype=object)
    params = {"weight": np.array([sp.Integer(2)], dtype=object), "bias": np.array([sp.Rational(1, 4)], dtype=object)}
    out = layer.forward(x, params)
    assert all(v == sp.Rational(1, 4) for v in out.reshape(-1))
    delta = sg.core.tensor.to_array([[[[1, 2]]], [[[3, 6]]]])
    grads = layer.backward(delta, x, out, params)
    scale = 2 / sp.sqrt(sp.Rational(1, 100000))
    assert list(grads.input.reshape(-1)) == [scale * (d - 3) for d in (1, 2, 3, 6)]
    assert grads.params["weight"][0] == 0 and grads.params["bias"][0] == 12
    buffers = layer.updated_buffers(x, params, layer.buffers())
    assert buffers["running_mean"][0] == sp.Rational(3, 20) and buffers["running_var"][0] == sp.Rational(9, 10)


def test_momentum_none_is_the_cumulative_average():
    layer = BatchNorm2d(1, momentum=None).init(running_mean=[4], running_var=[2], num_batches_tracked=3)
    x = sg.core.tensor.to_array([[[[0, 2]]], [[[2, 4]]]])
    buffers = layer.updated_buffers(x, {"weight": np.array([1]), "bias": np.array([0])}, layer.buffers())
    assert buffers["num_batches_tracked"][()] == 4
    assert buffers["running_mean"][0] == sp.Rational(3, 4) * 4 + sp.Rational(1, 4) * 2
    assert buffers["running_var"][0] == sp.Rational(3, 4) * 2 + sp.Rational(1, 4) * sp.Rational(8, 3)


def test_initial_values_draw_nothing():
    """torch's init is ones and zeros: seeded weights of later layers stay as they were."""
    rng = np.random.default_rng(7)
    before = rng.bit_generator.state
    values = BatchNorm2d(3).initial_values(rng)
    assert rng.bit_generator.state == before
    assert values["weight"].tolist() == [1, 1, 1] and values["bias"].tolist() == [0, 0, 0]
    assert BatchNorm2d(3, affine=False).initial_values(rng) == {}


def test_derive_rules_equal_diff_end_to_end():
    """symgrad.derive through a Sequential: the rules and method='diff' agree (numbers, train mode)."""
    rng = np.random.default_rng(3)
    x, target = _halves(rng, (2, 2, 1, 2)).tolist(), _halves(rng, (2, 2, 1, 2)).tolist()
    net = sg.Sequential(BatchNorm2d(2).init(weight=[1.5, -0.5], bias=[0.5, 0.25]), sg.ReLU())
    rules = sg.derive(net, x, sg.MSELoss(), target=target)
    diff = sg.derive(net, x, sg.MSELoss(), target=target, method="diff")
    assert set(rules.gradients) == set(diff.gradients) == {"0.weight", "0.bias", "input"}
    for name in rules.gradients:
        for a, b in zip(np.array(rules.gradients[name].tolist(), dtype=object).reshape(-1),
                        np.array(diff.gradients[name].tolist(), dtype=object).reshape(-1)):
            assert _close(a, b, 25), name


# ---------------------------------------------------------------- index forms and array twin against the engine

def _layers_and_shapes():
    for options, shape in CONFIGS:
        for training in MODES:
            yield options, shape, training


@pytest.mark.parametrize("options,shape,training", list(_layers_and_shapes()))
def test_index_rules_equal_the_engine(options, shape, training):
    assert set(BatchNorm2d.index_rules) == set(BatchNorm2d.index_form)
    layer, x, params, delta, out, grads = _case(options, shape, training, seed=11, constant=True)
    exact = {name: _exact(v) for name, v in params.items()}
    engine = {"forward": out, "input": grads.input, **grads.params}
    for key, rule in BatchNorm2d.index_rules.items():
        if key not in engine:
            continue
        got = rule(layer, _exact(x), exact, _exact(delta))
        assert got.shape == engine[key].shape
        for a, b in zip(got.reshape(-1), engine[key].reshape(-1)):
            assert _close(a, b), (layer, key)


@pytest.mark.parametrize("key", ["forward", "input", "weight", "bias"])
def test_instances_fill_in_the_numbers(key):
    train, evaluation = BatchNorm2d(2), BatchNorm2d(2, training=False)
    assert r"\frac{1}{8}" in train.index_instance("forward", (2, 2, 2, 2))
    assert "running" in evaluation.index_instance("forward", (2, 2, 2, 2))
    if key != "bias":  # the bias form has no numbers to fill in
        assert r"0.00001" in train.index_instance(key, (2, 2, 2, 2))
    assert r"\beta" not in BatchNorm2d(2, affine=False).index_instance("forward", (2, 2, 2, 2))
    assert BatchNorm2d(2, affine=False).index_instance("weight", (2, 2, 2, 2)) == ""


def test_words_have_the_same_keys_in_every_language():
    words = BatchNorm2d.words
    assert set(words) == {"en", "zh"} and set(words["en"]) == set(words["zh"])
    assert all(key.split(":", 1)[1] in BatchNorm2d.index_form for key in words["en"])
    assert set(BatchNorm2d.parameter_letters) == set(BatchNorm2d.symbol_bases) == {"weight", "bias"}
    from symgrad.core.names import parser_reading
    assert parser_reading(BatchNorm2d.output_letter) is None and BatchNorm2d.output_letter != "y"
    assert all(parser_reading(base + "_1") is None and parser_reading(base + "1") is None
               for base in BatchNorm2d.symbol_bases.values())


@pytest.mark.parametrize("options,shape,training", list(_layers_and_shapes()))
def test_array_twin_equals_the_engine(options, shape, training):
    """The NumPy twin, rebuilt from its source as generated code holds it, with batch axes in front: each batch
    entry a whole (N, C, H, W) problem, its statistics its own, its dparams per problem."""
    forward, backward = rebuilt(BatchNorm2d.array_twin["forward"]), rebuilt(BatchNorm2d.array_twin["backward"])
    cases = [_case(options, shape, training, seed, constant=seed == 0) for seed in range(3)]
    layer = cases[0][0]
    for batched in (False, True):
        pick = (lambda i: np.stack([c[i] for c in cases])) if batched else (lambda i: cases[0][i])
        x, delta = pick(1), pick(3)
        params = [np.stack([c[2][n] for c in cases]) if batched else cases[0][2][n] for n in layer.parameter_shapes()]
        options_ = layer.array_options(shape)
        out = forward(x, *params, **options_)
        results = backward(delta, x, out, *params, **options_)
        assert backward(delta, x, out, *params, want_input=False, **options_)[0] is None
        assert len(results) == 1 + len(params)
        for i, case in enumerate(cases if batched else cases[:1]):
            take = (lambda a: a[i]) if batched else (lambda a: a)
            np.testing.assert_allclose(take(out), _floats(case[4]), **TOL)
            engine = [case[5].input, *(case[5].params[n] for n in layer.parameter_shapes())]
            for got, expected in zip(results, engine):
                np.testing.assert_allclose(take(got), _floats(expected), **TOL)


def test_array_twin_broadcasts_one_input_over_batched_parameters():
    layer = BatchNorm2d(2)
    forward, backward = rebuilt(BatchNorm2d.array_twin["forward"]), rebuilt(BatchNorm2d.array_twin["backward"])
    rng = np.random.default_rng(0)
    x, weight, bias = rng.standard_normal((2, 2, 2, 2)), rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    out = forward(x, weight, bias, **layer.array_options(x.shape))
    assert out.shape == (3, 2, 2, 2, 2)
    dx, dw, db = backward(np.ones_like(out), x, out, weight, bias, **layer.array_options(x.shape))
    assert dx.shape == (3, 2, 2, 2, 2) and dw.shape == db.shape == (3, 2)
    for i in range(3):
        np.testing.assert_allclose(out[i], forward(x, weight[i], bias[i], **layer.array_options(x.shape)), **TOL)


def test_options_round_trip_and_modes():
    layer = BatchNorm2d(4, eps=1e-3, momentum=None, affine=False, training=False)
    assert BatchNorm2d(**layer.options()).options() == layer.options()
    assert BatchNorm2d.modes == ("train", "eval") and not BatchNorm2d.figure
    assert list(itertools.chain(BatchNorm2d(2).buffer_shapes())) == ["running_mean", "running_var",
                                                                     "num_batches_tracked"]


def test_every_piece_is_declared():
    """What the registry test asks of every registered op (tests/ops/test_registry.py asks it too)."""
    from symgrad.ops.base import undeclared

    assert undeclared(BatchNorm2d) == []


def test_symbolic_running_stats_are_refused_by_the_array_twin():
    layer = BatchNorm2d(2, training=False).init(running_mean=["m", 0])
    with pytest.raises(OptionError, match="init.running_mean"):
        layer.array_options((2, 2, 1, 1))
    assert BatchNorm2d(2).init(running_mean=["m", 0]).array_options((2, 2, 1, 1))["running"] is None


def test_updated_buffers_take_raw_values():
    """The engine may pass torch's defaults (float64 and int64 arrays) as they are: the result stays exact."""
    layer = BatchNorm2d(1)
    x = sg.core.tensor.to_array([[[[0, 2]]]])
    buffers = layer.updated_buffers(x, {}, layer.initial_buffers())
    assert buffers["running_mean"][0] == sp.Rational(1, 10) and buffers["running_var"][0] == sp.Rational(11, 10)
    assert buffers["num_batches_tracked"][()] == 1 and isinstance(buffers["num_batches_tracked"][()], sp.Integer)


def test_spec_can_ask_for_every_option():
    """The spec reads a layer's options from its constructor's positional-or-keyword parameters."""
    import inspect

    accepted = [p.name for p in inspect.signature(BatchNorm2d.__init__).parameters.values()
                if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and p.name != "self"]
    assert sorted(accepted) == sorted(BatchNorm2d(2).options())


@pytest.mark.torch
@pytest.mark.parametrize("training", MODES, ids=["train", "eval"])
def test_from_torch_with_generic_copies_is_the_torch_module(training):
    """from_torch's generic step: the class's from_torch, then init with named_parameters and named_buffers
    as exact numbers; the result runs as the torch module does (forward, gradients, updated buffers)."""
    module = torch.nn.BatchNorm2d(2, momentum=None).double().train(training)
    with torch.no_grad():
        module.weight.copy_(torch.tensor([1.5, -0.5]))
        module.bias.copy_(torch.tensor([0.25, 1.0]))
        module.running_mean.copy_(torch.tensor([0.5, -1.0]))
        module.running_var.copy_(torch.tensor([2.0, 0.25]))
        module.num_batches_tracked.fill_(4)
    layer = BatchNorm2d.from_torch(module)
    exact = {name: sg.core.tensor.apply(lambda v: sg.core.tensor.number(float(v)), t.detach().numpy())
             for name, t in [*module.named_parameters(), *module.named_buffers()]}
    layer.init(**exact)
    rng = np.random.default_rng(4)
    x, delta = _halves(rng, (2, 2, 1, 3)), _halves(rng, (2, 2, 1, 3))
    params = {name: exact[name] for name in layer.parameter_shapes()}
    out = layer.forward(_exact(x), params)
    grads = layer.backward(_exact(delta), _exact(x), out, params)
    buffers = layer.updated_buffers(_exact(x), params, layer.buffers())
    t_out, t_grads, t_buffers = _torch_run(layer, x, {n: _floats(v) for n, v in params.items()}, delta)
    np.testing.assert_allclose(_floats(out), t_out, **TOL)
    np.testing.assert_allclose(_floats(grads.input), t_grads["input"], **TOL)
    for name, value in t_buffers.items():
        np.testing.assert_allclose(_floats(buffers[name]), value, err_msg=name, **TOL)


@pytest.mark.torch
@pytest.mark.parametrize("momentum", [0.1, None])
def test_updated_buffers_chain_like_repeated_forwards(momentum):
    """torch moves the buffers once per forward (a layer used twice, or backward_passes > 1 repeating the
    forward): updated_buffers fed its own result, k times, is torch after k forwards."""
    layer = BatchNorm2d(2, momentum=momentum).init(running_mean=[0.5, -1], running_var=[2, 0.5], num_batches_tracked=2)
    module = layer.torch_module()
    rng = np.random.default_rng(8)
    xs = [_halves(rng, (2, 2, 1, 2)) for _ in range(3)]
    buffers = layer.buffers()
    for x in xs:
        buffers = layer.updated_buffers(_exact(x), {}, buffers)
        with torch.no_grad():
            module(torch.from_numpy(x))
    for name, value in module.named_buffers():
        np.testing.assert_allclose(_floats(buffers[name]), value.numpy(), err_msg=name, **TOL)


# ---------------------------------------------------------------- discovered: spec, CLI, check

DOC = ROOT / "docs" / "layers" / "batchnorm.md"


def _doc_spec(tmp_path, training=True):
    """The spec of docs/layers/batchnorm.md (its one toml block), as a file; `training=False` adds eval mode."""
    text = DOC.read_text(encoding="utf-8").split("```toml\n", 1)[1].split("```", 1)[0]
    if not training:
        text = text.replace("num_features = 2\n", "num_features = 2\ntraining = false\n")
    path = tmp_path / "conv_batchnorm.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_registry_and_the_package_find_it():
    assert sg.BatchNorm2d is BatchNorm2d and sg.ops.LAYERS["BatchNorm2d"] is BatchNorm2d


def test_the_documented_spec_derives_with_its_buffers(tmp_path, capsys):
    import json

    code, out, err = _run(["derive", _doc_spec(tmp_path), "--format", "json"], capsys)
    assert code == 0, err
    buffers = json.loads(out)["buffers"]
    assert list(buffers) == ["1.running_mean", "1.running_var", "1.num_batches_tracked"]
    assert buffers["1.num_batches_tracked"] == 4 and isinstance(buffers["1.num_batches_tracked"], int)
    # conv output channel 0: x[i,j] - x[i+1,j+1] = [[2, 0], [2, -5]]: mean -1/4, so 0.9*0.5 + 0.1*(-1/4)
    assert buffers["1.running_mean"][0] == pytest.approx(0.425, rel=1e-12)
    code, out, _ = _run(["derive", _doc_spec(tmp_path), "--format", "text"], capsys)
    assert "running statistics (buffers after the forward pass):" in out and "1.num_batches_tracked" in out
    code, out, _ = _run(["derive", _doc_spec(tmp_path), "--format", "markdown"], capsys)
    assert "## Running statistics" in out and "1.running\\_mean" in out
    code, out, _ = _run(["derive", _doc_spec(tmp_path, training=False), "--format", "text"], capsys)
    assert code == 0 and "running statistics" not in out  # eval mode moves nothing


@pytest.mark.torch
@pytest.mark.parametrize("training", MODES, ids=["train", "eval"])
def test_the_documented_spec_checks_against_torch(tmp_path, capsys, training):
    code, out, err = _run(["check", _doc_spec(tmp_path, training)], capsys)
    assert code == 0, out + err
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        assert f"buffer 1.{name}" in out


@pytest.mark.torch
@pytest.mark.parametrize("momentum", [0.1, None])
def test_a_shared_layer_over_repeated_passes_moves_its_buffers_as_torch(momentum):
    """The same BatchNorm2d twice, backward_passes=2: four forwards in torch; symgrad's updated buffers and
    gradients agree, through verify (numbers for the symbolic running mean drawn as for parameters)."""
    from symgrad.verify import compare, evaluate, random_values, torch_reference

    bn = BatchNorm2d(2, momentum=momentum).init(weight=[1.5, -0.5], running_mean=["m", 0.5])
    rng = np.random.default_rng(7)
    x, target = _halves(rng, (2, 2, 1, 2)), _halves(rng, (2, 2, 1, 2))
    d = sg.derive(sg.Sequential(bn, sg.Tanh(), bn), x.tolist(), sg.MSELoss(), target=target.tolist(),
                  backward_passes=2, optimizer=sg.SGD(lr=0.1))
    assert d.updated_buffers["0.num_batches_tracked"] == 4
    ours = evaluate(d, random_values(d.free_symbols, 1))
    rows = compare(ours, torch_reference(d, ours))
    assert {"buffer 0.running_mean", "buffer 0.running_var", "buffer 0.num_batches_tracked"} <= \
        {row["quantity"] for row in rows}
    assert all(row["ok"] for row in rows), [(r["quantity"], r["reason"]) for r in rows if not r["ok"]]


@pytest.mark.torch
def test_buffers_from_a_weights_file_as_torchs_state_dict(tmp_path, capsys):
    """`[weights] file` written from a torch model's state_dict (running statistics and the count in it):
    derive moves those buffers, and check agrees with torch."""
    import json

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 2), torch.nn.BatchNorm2d(2)).double()
    with torch.no_grad():
        model[1].running_mean.copy_(torch.tensor([0.5, -0.25]))
        model[1].running_var.copy_(torch.tensor([2.0, 0.5]))
        model[1].num_batches_tracked.fill_(7)
    np.savez(tmp_path / "weights.npz", **{k: v.detach().numpy() for k, v in model.state_dict().items()})
    spec = tmp_path / "net.toml"
    spec.write_text('[input]\nvalues = [[1, 2, 0], [3, -1, 2], [0, 1, 4]]\n\n'
                    '[[layers]]\ntype = "Conv2d"\nin_channels = 1\nout_channels = 2\nkernel_size = 2\n\n'
                    '[[layers]]\ntype = "BatchNorm2d"\nnum_features = 2\n\n'
                    '[loss]\ntype = "MSELoss"\ntarget = 0\n\n[weights]\nfile = "weights.npz"\n', encoding="utf-8")
    code, out, err = _run(["derive", spec, "--format", "json"], capsys)
    assert code == 0, err
    buffers = json.loads(out)["buffers"]
    x = torch.tensor([[[[1.0, 2, 0], [3, -1, 2], [0, 1, 4]]]], dtype=torch.float64)
    model(x)  # torch's forward moves them
    assert buffers["1.num_batches_tracked"] == 8
    np.testing.assert_allclose(buffers["1.running_mean"], model[1].running_mean.numpy(), **TOL)
    np.testing.assert_allclose(buffers["1.running_var"], model[1].running_var.numpy(), **TOL)
    code, out, err = _run(["check", spec], capsys)
    assert code == 0 and "buffer 1.num_batches_tracked" in out, out + err
