"""The ops' NumPy array twins (generated code at scale) against torch autograd and the symbolic engine.

Every twin is called the way generated code calls it: rebuilt from its source text alone
(with the helpers it calls, in a namespace holding only `np`), with `op.array_options(shape)`.
Arrays carry batch axes in front; each batch entry is its own problem, checked against
its own torch autograd call in float64.
"""

import importlib
import inspect
import pkgutil
import warnings

import numpy as np
import pytest
import sympy as sp
from lazy_torch import torch

import op_tables
import symgrad.ops
from twins import copied_sources, rebuilt
from symgrad.ops import LAYERS, LOSSES, CrossEntropyLoss, Flatten, L1Loss, Linear, MSELoss, ReLU, Sigmoid, Sum, Tanh

MINE = [ReLU, Sigmoid, Tanh, Flatten, Linear, Sum, MSELoss, L1Loss, CrossEntropyLoss]
BATCHES = [(), (3,), (2, 3)]
TOLERANCE = {"rtol": 1e-12, "atol": 1e-12}


# ---------------------------------------------------------------- twins as generated code holds them

def twin(op, key):
    return rebuilt(type(op).array_twin[key])


def _ops_functions() -> list[tuple[str, str]]:
    """(name, module) of every function defined at module level anywhere in symgrad/ops."""
    found = []
    for info in pkgutil.iter_modules(symgrad.ops.__path__):
        module = importlib.import_module(f"symgrad.ops.{info.name}")
        found += [(name, module.__name__) for name, f in vars(module).items()
                  if inspect.isfunction(f) and f.__module__ == module.__name__]
    return found


@pytest.mark.parametrize("cls", MINE, ids=lambda c: c.type_name)
def test_twins_are_plain_functions_with_unique_names(cls):
    assert set(cls.array_twin) == {"forward", "backward"}
    defined = [name for name, _ in _ops_functions()]
    for key, function in cls.array_twin.items():
        assert function.__name__.startswith("_")
        for name in copied_sources(function):
            assert defined.count(name) == 1, f"{name} is defined {defined.count(name)} times in symgrad/ops"


def test_activations_have_their_own_twins():
    functions = [f for cls in (ReLU, Sigmoid, Tanh) for f in cls.array_twin.values()]
    assert len(set(functions)) == 6


# ---------------------------------------------------------------- layers against torch autograd

def _torch_problem(layer, x, params, delta):
    """torch's output and gradients (input, then parameters) for one problem."""
    module = layer.torch_module().double()
    with torch.no_grad():
        for name, value in params.items():
            getattr(module, name).copy_(torch.from_numpy(np.array(value)))
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = module(xt)
    out.backward(torch.from_numpy(np.array(delta)))
    return out.detach().numpy(), [xt.grad.numpy(), *(getattr(module, n).grad.numpy() for n in params)]


def check_layer(layer, in_shape, x_batch=(), param_batch=(), x=None):
    """The twins of `layer` on batched arrays, problem by problem against torch (and want_input=False)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((*x_batch, *in_shape)) if x is None else x
    params = {n: rng.standard_normal((*param_batch, *s)) for n, s in layer.parameter_shapes().items()}
    options = layer.array_options(in_shape)
    batch = np.broadcast_shapes(x_batch, param_batch)
    out = twin(layer, "forward")(x, *params.values(), **options)
    assert out.shape == (*batch, *layer.output_shape(in_shape))
    delta = rng.standard_normal(out.shape)
    grads = twin(layer, "backward")(delta, x, out, *params.values(), **options)
    assert len(grads) == 1 + len(params)
    assert grads[0].shape == (*batch, *in_shape)
    for grad, shape in zip(grads[1:], layer.parameter_shapes().values()):
        assert grad.shape == (*batch, *shape)  # per problem, never summed over the batch
    xs = np.broadcast_to(x, (*batch, *in_shape))
    ps = {n: np.broadcast_to(p, (*batch, *p.shape[len(param_batch):])) for n, p in params.items()}
    for idx in np.ndindex(*batch):
        torch_out, torch_grads = _torch_problem(layer, xs[idx], {n: p[idx] for n, p in ps.items()}, delta[idx])
        np.testing.assert_allclose(out[idx], torch_out, **TOLERANCE)
        for ours, theirs in zip(grads, torch_grads):
            np.testing.assert_allclose(ours[idx], theirs, **TOLERANCE)
    without_input = twin(layer, "backward")(delta, x, out, *params.values(), want_input=False, **options)
    assert without_input[0] is None
    for ours, again in zip(grads[1:], without_input[1:]):
        np.testing.assert_array_equal(ours, again)
    return x, out, grads


@pytest.mark.torch
@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("cls", [ReLU, Sigmoid, Tanh], ids=lambda c: c.type_name)
def test_activations_match_torch(cls, batch):
    check_layer(cls(), (2, 3, 4, 4), batch)


@pytest.mark.torch
@pytest.mark.parametrize("batch", BATCHES)
def test_relu_at_exact_zeros_routes_nothing(batch):
    x = np.random.default_rng(1).standard_normal((*batch, 2, 5))
    x.reshape(-1)[::3] = 0.0
    _, _, (dx,) = check_layer(ReLU(), (2, 5), batch, x=x)
    assert np.all(dx[x == 0] == 0)


@pytest.mark.torch
def test_sigmoid_saturates_without_warnings():
    x = np.array([[-800.0, -40.0, 0.0, 40.0, 800.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_layer(Sigmoid(), (1, 5), x=x)
        check_layer(Tanh(), (1, 5), x=x)


@pytest.mark.torch
@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("start,end", [(1, -1), (0, -1), (0, 0), (2, 3), (-3, -2), (1, 2), (-1, -1), (3, 3)])
def test_flatten_matches_torch(start, end, batch):
    check_layer(Flatten(start, end), (2, 3, 4, 5), batch)


@pytest.mark.torch
@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("in_shape,start,end", [((), 0, -1), ((5,), 0, -1), ((5,), -1, 0), ((3, 4), 1, 1)])
def test_flatten_of_small_ranks_matches_torch(in_shape, start, end, batch):
    check_layer(Flatten(start, end), in_shape, batch)


@pytest.mark.torch
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("in_shape", [(4,), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize("x_batch,weight_batch", [((), ()), ((3,), ()), ((), (3,)), ((3,), (3,)), ((2, 3), (3,)),
                                                  ((2, 1), (1, 3))])
def test_linear_matches_torch(in_shape, bias, x_batch, weight_batch):
    check_layer(Linear(4, 5, bias=bias), in_shape, x_batch, weight_batch)


@pytest.mark.torch
@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("in_shape", [(), (5,), (2, 3, 4)])
def test_sum_matches_torch(in_shape, batch):
    check_layer(Sum(), in_shape, batch)


def test_sum_spreads_an_unbatched_seed_over_the_batch():
    """A network without a loss seeds delta = 1 (one number for all problems)."""
    layer = Sum()
    x = np.random.default_rng(2).standard_normal((2, 3, 4, 5))
    (dx,) = twin(layer, "backward")(1, x, x.sum(axis=(2, 3)), **layer.array_options((4, 5)))
    assert dx.dtype == np.float64 and dx.shape == x.shape and np.all(dx == 1.0)
    dx[0, 0, 0, 0] = 2.0  # a writable array of its own, not a broadcast view


# ---------------------------------------------------------------- losses against torch autograd

def check_loss(loss, problem, out, target):
    """Loss per problem and dL/d(out) against torch, problem by problem; `problem` is one output's shape."""
    options = loss.array_options(problem)
    value = twin(loss, "forward")(out, target, **options)
    grad = twin(loss, "backward")(out, target, **options)
    target_problem = problem[:1] if isinstance(loss, CrossEntropyLoss) else problem  # class indices: (N,)
    batch = np.broadcast_shapes(out.shape[:out.ndim - len(problem)], target.shape[:target.ndim - len(target_problem)])
    assert np.shape(value) == batch
    assert grad.shape == (*batch, *problem)
    outs = np.broadcast_to(out, (*batch, *problem))
    targets = np.broadcast_to(target, (*batch, *target_problem))
    for idx in np.ndindex(*batch):
        zt = torch.tensor(outs[idx], dtype=torch.float64, requires_grad=True)
        torch_value = loss.torch_module()(zt, torch.tensor(targets[idx]))
        torch_value.backward()
        np.testing.assert_allclose(np.asarray(value)[idx], torch_value.item(), **TOLERANCE)
        np.testing.assert_allclose(grad[idx], zt.grad.numpy(), **TOLERANCE)
    return value, grad


LAYOUTS = [((), ()), ((3,), ()), ((2, 3), ()), ((2, 3), (2, 3)), ((), (3,)), ((2, 1), (3,))]  # (out, target) batches


@pytest.mark.torch
@pytest.mark.parametrize("out_batch,target_batch", LAYOUTS)
@pytest.mark.parametrize("problem", [(), (4,), (2, 3)])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("cls", [MSELoss, L1Loss], ids=lambda c: c.type_name)
def test_pointwise_losses_match_torch(cls, reduction, problem, out_batch, target_batch):
    rng = np.random.default_rng(3)
    out = rng.standard_normal((*out_batch, *problem))
    check_loss(cls(reduction), problem, out, rng.standard_normal((*target_batch, *problem)))


@pytest.mark.torch
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_l1_where_output_equals_target_has_zero_gradient(reduction):
    rng = np.random.default_rng(4)
    target = rng.standard_normal((2, 4))
    out = rng.standard_normal((3, 2, 4))
    out[:, 0] = target[0]  # a whole row of every problem equal to the target
    out[1, 1, 2] = target[1, 2]
    _, grad = check_loss(L1Loss(reduction), (2, 4), out, target)
    assert np.all(grad[out == np.broadcast_to(target, out.shape)] == 0)


@pytest.mark.torch
@pytest.mark.parametrize("out_batch,target_batch", LAYOUTS)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_matches_torch(reduction, out_batch, target_batch):
    rng = np.random.default_rng(5)
    logits = rng.standard_normal((*out_batch, 4, 5)) * 3
    target = rng.integers(0, 5, size=(*target_batch, 4))
    check_loss(CrossEntropyLoss(reduction), (4, 5), logits, target)


@pytest.mark.torch
def test_cross_entropy_is_stable_for_large_logits():
    logits = np.array([[[1000.0, -1000.0, 0.0], [-1000.0, -999.0, -1001.0]], [[800.0, 800.0, 1.0], [0, 0, 0]]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, _ = check_loss(CrossEntropyLoss("sum"), (2, 3), logits, np.array([1, 0]))
    assert np.all(np.isfinite(value))


# ---------------------------------------------------------------- the same layouts as the symbolic engine

def _exact(shape, rng):
    return np.array([sp.Rational(int(v), 2) for v in rng.integers(-4, 5, size=shape).reshape(-1)],
                    dtype=object).reshape(shape)


def _floats(array):
    return np.asarray(array, dtype=object).astype(np.float64)


def _stack(arrays):
    """Problems of SymPy numbers as one float array with a batch axis in front."""
    return np.stack([_floats(a) for a in arrays])


ENGINE_LAYERS = [(ReLU(), (2, 3)), (Sigmoid(), (2, 3)), (Tanh(), (3,)), (Flatten(), (2, 3, 2)),
                 (Flatten(-2, -1), (2, 3)), (Linear(3, 2), (2, 3)), (Linear(3, 2, bias=False), (3,)),
                 (Linear(3, 2), (2, 2, 3)), (Sum(), (2, 3))]
# ... and every registered layer, three random instances each from the op tables (random options)
TABLE_LAYERS = [pair for name in sorted(LAYERS) for pair in op_tables.layers(name, 3)]


@pytest.mark.parametrize("layer,in_shape", ENGINE_LAYERS + TABLE_LAYERS, ids=str)
def test_layer_twins_agree_with_the_engine(layer, in_shape):
    """Batched twins on two problems; each equals the engine's forward and backward rule in SymPy numbers."""
    rng = np.random.default_rng(6)
    problems = []
    for _ in range(2):
        x = _exact(in_shape, rng)
        params = {n: _exact(s, rng) for n, s in layer.parameter_shapes().items()}
        out = layer.forward(x, params)
        delta = _exact(out.shape, rng)
        problems.append((x, params, out, delta, layer.backward(delta, x, out, params)))
    x = _stack(p[0] for p in problems)
    params = [_stack(p[1][n] for p in problems) for n in layer.parameter_shapes()]
    options = layer.array_options(in_shape)
    out = twin(layer, "forward")(x, *params, **options)
    dx, *dparams = twin(layer, "backward")(_stack(p[3] for p in problems), x, out, *params, **options)
    for b, (_, _, engine_out, _, engine) in enumerate(problems):
        np.testing.assert_allclose(out[b], _floats(engine_out), **TOLERANCE)
        np.testing.assert_allclose(dx[b], _floats(engine.input), **TOLERANCE)
        for name, grad in zip(layer.parameter_shapes(), dparams):
            np.testing.assert_allclose(grad[b], _floats(engine.params[name]), **TOLERANCE)


ENGINE_LOSSES = [(MSELoss(), (2, 3)), (MSELoss("sum"), ()), (L1Loss(), (4,)), (L1Loss("sum"), (2, 2)),
                 (CrossEntropyLoss(), (3, 4)), (CrossEntropyLoss("sum"), (2, 3))]


@pytest.mark.parametrize("loss,out_shape", ENGINE_LOSSES, ids=str)
def test_loss_twins_agree_with_the_engine(loss, out_shape):
    rng = np.random.default_rng(7)
    problems = []
    for _ in range(2):
        out = _exact(out_shape, rng)
        if isinstance(loss, CrossEntropyLoss):
            raw = rng.integers(0, out_shape[1], size=out_shape[0])
            target = loss.check_target(out_shape, np.array([sp.Integer(int(v)) for v in raw], dtype=object))
        else:
            target = loss.check_target(out_shape, _exact(out_shape, rng))
        problems.append((out, target, loss.forward(out, target), loss.backward(out, target)))
    dtype = np.int64 if isinstance(loss, CrossEntropyLoss) else np.float64
    out = np.stack([_floats(p[0]) for p in problems])
    target = np.stack([np.asarray(p[1], dtype=object).astype(dtype) for p in problems])
    options = loss.array_options(out_shape)
    value = twin(loss, "forward")(out, target, **options)
    grad = twin(loss, "backward")(out, target, **options)
    for b, (_, _, engine_value, engine_grad) in enumerate(problems):
        np.testing.assert_allclose(value[b], float(engine_value), **TOLERANCE)
        np.testing.assert_allclose(grad[b], _floats(engine_grad), **TOLERANCE)


# ---------------------------------------------------------------- every registered op

@pytest.mark.parametrize("cls", [*LAYERS.values(), *LOSSES.values()], ids=lambda c: c.type_name)
def test_every_registered_op_has_array_twins_generated_code_can_copy(cls):
    assert callable(cls.__dict__.get("array_twin", {}).get("forward"))
    assert callable(cls.__dict__.get("array_twin", {}).get("backward"))
    defined = [name for name, _ in _ops_functions()]
    for function in cls.array_twin.values():
        for name in copied_sources(function):
            assert defined.count(name) == 1, f"{name} is defined {defined.count(name)} times in symgrad/ops"
