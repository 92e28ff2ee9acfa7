"""steps = n (engine/training.py): n optimizer steps on the same batch, zero_grad before each, the optimizer's
state carried, against torch's own training loop in float64 (written out here, independently of symgrad's
verify): the loss, every gradient and every parameter after every step; and the refusals, one line each."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from lazy_torch import torch

import symgrad as sg
from symgrad.core import limits
from symgrad.core.errors import OptionError
from symgrad.engine import training

X = [[1, 2, 0, 1], [0, -1, 3, 2], [2, 1, 1, -2], [1, 0, -1, 3]]
WEIGHT = [[[[0.5, 0.25], [0.25, 0.5]]], [[[-1.0, 0.5], [-0.5, 1.0]]]]
BIAS = [0.25, -0.5]
TARGET = [[[[1.5]], [[-0.5]]]]

#: conv -> max pool -> MSE; SGD with momentum and weight decay, Adam, AdamW, RMSprop, Adagrad, with options
CASES = [
    ("SGD", {"lr": 0.1}), ("SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "dampening": 0.25}), ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"lr": 0.1}), ("Adam", {"lr": 0.1, "amsgrad": True, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.1}), ("AdamW", {"lr": 0.1, "weight_decay": 0.5, "maximize": True}),
    ("RMSprop", {"lr": 0.01}), ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1}), ("Adagrad", {"lr": 0.1, "lr_decay": 0.5, "initial_accumulator_value": 0.3}),
]


def _network():
    return sg.Sequential(sg.Conv2d(1, 2, 2).init(weight=WEIGHT, bias=BIAS), sg.MaxPool2d(3))


def torch_loop(d, optimizer, steps, target=TARGET, passes=1):
    """torch: the same network and numbers; `for step in range(steps)`: zero_grad, forward, backward, step."""
    model = torch.nn.Sequential(*[layer.torch_module() for layer in d.network]).double()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.tensor(d.tensors.parameters[name].value.astype(float)))
    opt = optimizer.torch_optimizer(model.parameters())
    x = torch.tensor(d.tensors.input.astype(float))
    y = torch.tensor(np.asarray(target, dtype=float))
    history = []
    for _ in range(steps):
        opt.zero_grad()
        for _ in range(passes):
            loss = torch.nn.MSELoss()(model(x), y)
            loss.backward()
        grads = {name: p.grad.numpy().copy() for name, p in model.named_parameters()}
        opt.step()
        history.append((loss.item(), grads, {name: p.detach().numpy().copy() for name, p in model.named_parameters()}))
    return history


def assert_steps_match(d, history):
    assert [s.number for s in d.steps] == list(range(1, len(history) + 1))
    for step, (loss, grads, updated) in zip(d.steps, history):
        np.testing.assert_allclose(float(step.loss), loss, rtol=1e-12, err_msg=f"step {step.number} loss")
        assert set(step.parameters) == set(updated)
        for name, p in step.parameters.items():
            where = f"step {step.number} {name}"
            np.testing.assert_allclose(p.gradient.astype(float), grads[name], rtol=1e-11, atol=1e-12, err_msg=where)
            np.testing.assert_allclose(p.updated.astype(float), updated[name], rtol=1e-11, atol=1e-12, err_msg=where)


@pytest.mark.torch
@pytest.mark.parametrize("kind, options", CASES, ids=[f"{k}-{'-'.join(o)}" for k, o in CASES])
def test_three_steps_match_torchs_training_loop(kind, options):
    optimizer = getattr(sg, kind)(**options)
    d = sg.derive(_network(), X, sg.MSELoss(), target=TARGET, optimizer=optimizer, steps=3)
    history = torch_loop(d, optimizer, 3)
    assert_steps_match(d, history)
    # the parameters moved each step, and differently each time (the state, not a fresh optimizer per step)
    first, second, third = (s.parameters["0.weight"].updated.astype(float) for s in d.steps)
    assert not np.allclose(first, second) and not np.allclose(second - first, third - second)


@pytest.mark.torch
def test_the_state_is_carried_not_restarted():
    """Adam's second step from its carried moments differs from a fresh Adam's first step at the same place."""
    optimizer = sg.Adam(lr=0.1)
    d = sg.derive(_network(), X, sg.MSELoss(), target=TARGET, optimizer=optimizer, steps=2)
    second = d.steps[1].parameters["0.weight"]
    fresh = optimizer.step(second.value, second.gradient)
    assert not np.allclose(fresh.astype(float), second.updated.astype(float))
    assert_steps_match(d, torch_loop(d, optimizer, 2))


def test_step_one_is_the_derivation_and_steps_chain():
    d = sg.derive(_network(), X, sg.MSELoss(), target=TARGET, optimizer=sg.SGD(lr=0.1, momentum=0.9), steps=3)
    first = d.steps[0]
    assert first.loss == d.loss
    for name, p in d.tensors.parameters.items():
        assert np.array_equal(first.parameters[name].value, p.value)
        assert np.array_equal(first.parameters[name].gradient, p.gradient)
        assert np.array_equal(first.parameters[name].updated, p.updated)  # the derivation's one step, exact
    assert np.array_equal(first.input_gradient, d.tensors.input_gradient)
    for before, after in zip(d.steps, d.steps[1:]):  # each step starts where the one before ended
        for name in d.tensors.parameters:
            assert np.array_equal(after.parameters[name].value, before.parameters[name].updated)
    assert all(e.is_Rational for s in d.steps for p in s.parameters.values() for e in p.updated.reshape(-1))


def test_one_step_is_todays_derivation():
    args = (X, sg.MSELoss(), TARGET, sg.Adam(lr=0.1))
    one, default = sg.derive(_network(), *args, steps=1), sg.derive(_network(), *args)
    assert one.steps == [] and default.steps == []
    assert one.loss == default.loss and one.updated == default.updated


@pytest.mark.torch
def test_steps_with_accumulated_backward_passes():
    optimizer = sg.SGD(lr=0.01, momentum=0.9)
    d = sg.derive(_network(), X, sg.MSELoss(), target=TARGET, optimizer=optimizer, backward_passes=2, steps=3)
    assert_steps_match(d, torch_loop(d, optimizer, 3, passes=2))


@pytest.mark.torch
def test_a_shared_layer_stays_shared_across_steps():
    conv = sg.Conv2d(1, 1, 2, bias=False).init(weight=[[0.5, -0.25], [0.25, 0.5]])
    net = sg.Sequential(conv, sg.ReLU(), conv, sg.Sum())
    optimizer = sg.Adam(lr=0.1)
    d = sg.derive(net, X, optimizer=optimizer, steps=3)
    assert list(d.steps[2].parameters) == ["0.weight"]
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 2, bias=False)).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[[[0.5, -0.25], [0.25, 0.5]]]], dtype=torch.float64))
    twin = torch.nn.Sequential(model[0], torch.nn.ReLU(), model[0])
    opt = optimizer.torch_optimizer(model.parameters())
    x = torch.tensor(np.asarray(X, dtype=float)).reshape(1, 1, 4, 4)
    for step in d.steps:
        opt.zero_grad()
        loss = twin(x).sum()
        loss.backward()
        opt.step()
        np.testing.assert_allclose(float(step.loss), loss.item(), rtol=1e-12)
        np.testing.assert_allclose(step.parameters["0.weight"].updated.astype(float),
                                   model[0].weight.detach().numpy(), rtol=1e-11, atol=1e-12)


@pytest.mark.torch
def test_running_statistics_move_every_step():
    """A training BatchNorm2d: each step's forward pass moves the running statistics the step before left."""
    net = sg.Sequential(sg.Conv2d(1, 2, 2).init(weight=WEIGHT, bias=BIAS), sg.BatchNorm2d(2).init(weight=[1.0, 0.5], bias=[0.0, 0.25]),
                        sg.MaxPool2d(3))
    optimizer = sg.SGD(lr=0.1, momentum=0.5)
    d = sg.derive(net, X, sg.MSELoss(), target=TARGET, optimizer=optimizer, steps=2)  # BatchNorm: 6 s a step
    model = torch.nn.Sequential(*[layer.torch_module() for layer in d.network]).double()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.tensor(d.tensors.parameters[name].value.astype(float)))
    opt = optimizer.torch_optimizer(model.parameters())
    x = torch.tensor(d.tensors.input.astype(float))
    for step in d.steps:
        opt.zero_grad()
        loss = torch.nn.MSELoss()(model(x), torch.tensor(TARGET, dtype=torch.float64))
        loss.backward()
        opt.step()
        np.testing.assert_allclose(float(step.loss), loss.item(), rtol=1e-11)
        for name, value in model.state_dict().items():
            ours = step.buffers[name] if name in step.buffers else step.parameters[name].updated
            np.testing.assert_allclose(np.asarray(ours, dtype=float), value.numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=f"step {step.number} {name}")
    assert int(d.steps[-1].buffers["1.num_batches_tracked"][()]) == 2


def test_the_given_network_is_left_as_it_was():
    net = _network()
    sg.derive(net, X, sg.MSELoss(), target=TARGET, optimizer=sg.Adam(lr=0.1), steps=3)
    assert net.layers[0].initial["weight"] == WEIGHT


def test_long_exact_entries_are_carried_to_digits():
    """Adam's square roots of irrational second moments do not grow into ever longer exact trees."""
    d = sg.derive(_network(), X, sg.MSELoss(), target=TARGET, optimizer=sg.Adam(lr=0.1), steps=4)
    for step in d.steps:
        for p in step.parameters.values():
            for e in p.updated.reshape(-1):
                assert e.is_Rational or e.is_Float or sp.count_ops(e) <= limits.EXACT_NODES, e
    assert training.kept(sp.sqrt(2) + sp.Rational(1, 3)) == sp.sqrt(2) + sp.Rational(1, 3)  # short: exact
    long = sum(sp.sqrt(k) for k in range(2, 60))
    assert training.kept(long).is_Float and abs(training.kept(long) - long.evalf(40)) < 1e-25
    assert training.kept(sp.Rational(10**40 + 1, 3)).is_Float and training.kept(sp.Rational(7, 3)) == sp.Rational(7, 3)


@pytest.mark.parametrize("kwargs, message", [
    ({"steps": 2}, "need an optimizer"),
    ({"steps": 0, "optimizer": sg.SGD()}, "must be >= 1"),
    ({"steps": True, "optimizer": sg.SGD()}, "expected an integer"),
    ({"steps": 2.0, "optimizer": sg.SGD()}, "expected an integer"),
    ({"steps": limits.MAX_STEPS + 1, "optimizer": sg.SGD()}, "MAX_STEPS"),
])
def test_bad_steps_are_refused(kwargs, message):
    with pytest.raises(OptionError, match=message) as error:
        sg.derive(_network(), X, sg.MSELoss(), target=TARGET, **kwargs)
    assert (error.value.where, error.value.option) == ("derive", "steps")


@pytest.mark.parametrize("change, named", [
    ({"network": lambda: sg.Sequential(sg.Conv2d(1, 2, 2), sg.MaxPool2d(3))}, "0.weight, 0.bias"),
    ({"target": None}, "the loss target"),
    ({"input": [[1, "a", 0, 1]] * 4}, "the input"),
    ({"target": [[[["t"]], [[0]]]]}, "the loss target"),
])
def test_symbols_are_refused_for_several_steps(change, named):
    arguments = {"network": _network, "input": X, "target": TARGET, **change}
    with pytest.raises(OptionError, match="more than one step needs numbers") as error:
        sg.derive(arguments["network"](), arguments["input"], sg.MSELoss(), target=arguments["target"],
                  optimizer=sg.SGD(lr=0.1), steps=2)
    assert error.value.option == "steps" and named in error.value.message
    d = sg.derive(arguments["network"](), arguments["input"], sg.MSELoss(), target=arguments["target"],
                  optimizer=sg.SGD(lr=0.1), steps=1)  # one step in symbols stays as it was
    assert d.free_symbols and d.steps == []


def test_generated_code_refuses_several_steps():
    d = sg.derive(_network(), X, sg.MSELoss(), target=TARGET, optimizer=sg.SGD(lr=0.1), steps=2)
    with pytest.raises(OptionError, match="one optimizer step") as error:
        d.lambdify()
    assert error.value.option == "steps"


@pytest.mark.torch
def test_steps_of_a_derivation_kept_in_names():
    """expand=False (as a whole network is kept): each step's numbers come from the named program in float64."""
    net = sg.Sequential(sg.Conv2d(1, 2, 2).init(weight=WEIGHT, bias=BIAS), sg.Tanh(), sg.MaxPool2d(3))
    optimizer = sg.Adam(lr=0.1)
    d = sg.derive(net, X, sg.MSELoss(), target=TARGET, optimizer=optimizer, steps=3, expand=False)
    assert not d.expanded and all(e.is_number for e in d.steps[2].parameters["0.weight"].updated.reshape(-1))
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 2), torch.nn.Tanh(), torch.nn.MaxPool2d(3)).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor(WEIGHT, dtype=torch.float64))
        model[0].bias.copy_(torch.tensor(BIAS, dtype=torch.float64))
    opt = optimizer.torch_optimizer(model.parameters())
    x = torch.tensor(d.tensors.input.astype(float))
    for step in d.steps:
        opt.zero_grad()
        loss = torch.nn.MSELoss()(model(x), torch.tensor(TARGET, dtype=torch.float64))
        loss.backward()
        opt.step()
        np.testing.assert_allclose(float(step.loss), loss.item(), rtol=1e-12)
        np.testing.assert_allclose(step.parameters["0.weight"].updated.astype(float), model[0].weight.detach().numpy(),
                                   rtol=1e-11, atol=1e-12)


def test_large_parameters_are_summarised_per_step():
    """A parameter of more than MAX_SHOWN entries: its first entries and its norm each step, not a matrix."""
    from symgrad.printing import render
    from symgrad.printing.training import MAX_SHOWN

    weight = np.arange(2 * 18, dtype=float).reshape(2, 18) / 100
    net = sg.Sequential(sg.Conv2d(1, 2, 2).init(weight=WEIGHT, bias=BIAS), sg.Flatten(),
                        sg.Linear(18, 2).init(weight=weight.tolist(), bias=[0.0, 0.5]))
    d = sg.derive(net, X, sg.MSELoss(), target=[[1.0, -1.0]], optimizer=sg.SGD(lr=0.1), steps=2)
    assert weight.size > MAX_SHOWN
    text = render(d, "text")
    after = d.steps[1].parameters["2.weight"].updated.astype(float)
    assert f"    2.weight (2 x 18): [{after[0, 0]:.4f}, {after[0, 1]:.4f}, " in text
    assert f"norm {np.linalg.norm(after):.4f}" in text
    latex = render(d, "latex")
    assert r"{W}^{(2)} \approx \left[" in latex or r"^{(2)} \approx \left[" in latex


def test_steps_by_sympy_diff_are_the_rules_steps():
    """method="diff" (sympy.diff of the whole loss, the ground truth) takes the same steps as the rules."""
    net = sg.Sequential(sg.Conv2d(1, 1, 2, bias=False).init(weight=[[0.5, -0.25], [0.25, 0.5]]), sg.AvgPool2d(3))
    runs = [sg.derive(net, X, sg.MSELoss(), target=2, optimizer=sg.RMSprop(lr=0.1, momentum=0.5), steps=3,
                      method=method) for method in ("rules", "diff")]
    for ours, truth in zip(*(d.steps for d in runs)):
        assert sp.simplify(ours.loss - truth.loss) == 0
        difference = ours.parameters["0.weight"].updated - truth.parameters["0.weight"].updated
        assert all(abs(float(e)) < 1e-25 for e in difference.reshape(-1))
