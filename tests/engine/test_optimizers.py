"""Adam, AdamW, RMSprop and Adagrad: one step from torch's fresh state, against torch.optim in float64,
and the options torch refuses (and only those) refused with one-line errors naming optimizer and option."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp
from lazy_torch import torch

import symgrad as sg
from symgrad.core.errors import OptionError

X = [[1, 2, 0], [0, -1, 3], [2, 1, 1]]
# channel 0 stays positive, channel 1 negative everywhere: ReLU zeroes it, so its kernel's gradient is 0 (a zero
# gradient entry on purpose: Adam's 0 / (0 + eps)); the max pool over 2 x 2 has a tie in channel 0's window
WEIGHT = [[[[0.5, 0.25], [0.25, 0.5]]], [[[-1.0, -0.5], [-0.5, -1.0]]]]
BIAS = [0.25, -2.0]


def _network():
    return sg.Sequential(sg.Conv2d(1, 2, 2).init(weight=WEIGHT, bias=BIAS), sg.ReLU(), sg.MaxPool2d(2, stride=1),
                         sg.Flatten(), sg.Linear(2, 1).init(weight=[[0.5, -0.25]], bias=[0.125]))


def _torch_step(d, optimizer):
    """torch: the same network and numbers, zero_grad, forward, backward, one optimizer.step()."""
    model = torch.nn.Sequential(*[layer.torch_module() for layer in d.network]).double()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.tensor(d.tensors.parameters[name].value.astype(float)))
    opt = optimizer.torch_optimizer(model.parameters())
    opt.zero_grad()
    x = torch.tensor(np.array(X, dtype=float)).reshape(1, 1, 3, 3)
    torch.nn.MSELoss()(model(x), torch.tensor([[1.5]], dtype=torch.float64)).backward()
    grads = {name: p.grad.numpy().copy() for name, p in model.named_parameters()}
    opt.step()
    return grads, {name: p.detach().numpy().copy() for name, p in model.named_parameters()}


CASES = [
    ("Adam", {}), ("Adam", {"weight_decay": 0.1}), ("Adam", {"amsgrad": True}), ("Adam", {"maximize": True}),
    ("Adam", {"betas": (0.5, 0.75), "eps": 0.25, "lr": 0.5}), ("Adam", {"lr": 0}),
    ("Adam", {"weight_decay": 0.2, "decoupled_weight_decay": True, "amsgrad": True, "maximize": True}),
    ("Adam", {"betas": (0.0, 0.0)}),
    ("AdamW", {}), ("AdamW", {"weight_decay": 0.5, "amsgrad": True}), ("AdamW", {"maximize": True, "lr": 0.1}),
    ("AdamW", {"weight_decay": 0}),
    ("RMSprop", {}), ("RMSprop", {"centered": True}), ("RMSprop", {"momentum": 0.9}),
    ("RMSprop", {"weight_decay": 0.1, "centered": True, "momentum": 0.5, "maximize": True}),
    ("RMSprop", {"alpha": 0.5, "eps": 0.125}), ("RMSprop", {"alpha": 0}), ("RMSprop", {"alpha": 1}),
    ("Adagrad", {}), ("Adagrad", {"lr_decay": 0.5}), ("Adagrad", {"initial_accumulator_value": 0.3}),
    ("Adagrad", {"weight_decay": 0.1, "maximize": True, "eps": 0.5}),
]


@pytest.mark.torch
@pytest.mark.parametrize("kind, options", CASES, ids=[f"{k}-{'-'.join(o) or 'default'}" for k, o in CASES])
def test_one_step_matches_torch(kind, options):
    optimizer = getattr(sg, kind)(**options)
    d = sg.derive(_network(), X, sg.MSELoss(), target=1.5, optimizer=optimizer)
    grads, updated = _torch_step(d, optimizer)
    assert np.all(grads["0.weight"][1] == 0) and np.any(grads["0.weight"][0] != 0)  # the zero entries are there
    assert set(updated) == set(d.tensors.parameters)
    for name, value in updated.items():
        ours = d.tensors.parameters[name].updated
        assert all(e.is_number and not e.has(sp.Float) for e in ours.reshape(-1)), name  # exact, not floats
        np.testing.assert_allclose(ours.astype(float), value, rtol=1e-12, atol=1e-15, err_msg=name)
        moved = not np.allclose(value, d.tensors.parameters[name].value.astype(float))
        assert moved == (optimizer.lr != 0), name


def test_adam_first_step_is_exact_and_puts_eps_outside_the_root():
    g, p = sp.symbols("g p", real=True)
    step = sg.Adam(lr=0.5, betas=(0.5, 0.75), eps=0.25).step(np.array([p], dtype=object), np.array([g], dtype=object))
    assert sp.simplify(step[0] - (p - sp.Rational(1, 2) * g / (sp.Abs(g) + sp.Rational(1, 4)))) == 0
    rms = sg.RMSprop(alpha=0.5, centered=True).step(np.array([p], dtype=object), np.array([g], dtype=object))
    assert sp.simplify(rms[0] - (p - g / 100 / (sp.Abs(g) / 2 + sp.Rational(1, 10**8)))) == 0
    exact = sg.Adagrad(lr=1, initial_accumulator_value=1, eps=0).step(np.array([sp.Integer(0)], dtype=object),
                                                                      np.array([sp.Integer(1)], dtype=object))
    assert exact[0] == -1 / sp.sqrt(2)  # sqrt stays exact


def test_adamw_decays_the_parameter_before_the_step():
    g, p = sp.symbols("g p", real=True)
    step = sg.AdamW(lr=0.1, weight_decay=0.5).step(np.array([p], dtype=object), np.array([g], dtype=object))
    wanted = p * sp.Rational(19, 20) - sp.Rational(1, 10) * g / (sp.Abs(g) + sp.Rational(1, 10**8))
    assert sp.simplify(step[0] - wanted) == 0
    assert sg.AdamW().weight_decay == 0.01 and sg.AdamW().options()["weight_decay"] == 0.01


#: (optimizer, options): torch refuses or accepts each; symgrad must do the same
VALIDATION = [
    ("Adam", {"lr": -1e-3}), ("Adam", {"eps": -1e-8}), ("Adam", {"betas": (1.0, 0.999)}),
    ("Adam", {"betas": (0.9, 1.0)}),
    ("Adam", {"betas": (-0.1, 0.9)}), ("Adam", {"betas": (0, 0.9)}), ("Adam", {"weight_decay": -0.5}),
    ("Adam", {"lr": 0}), ("Adam", {"eps": 0}), ("Adam", {"betas": (0.0, 0.0)}), ("Adam", {"weight_decay": 0}),
    ("AdamW", {"lr": -1.0}), ("AdamW", {"betas": (0.9, 1.5)}), ("AdamW", {"weight_decay": -1e-2}),
    ("AdamW", {"lr": 0.0}),
    ("RMSprop", {"lr": -0.01}), ("RMSprop", {"eps": -1.0}), ("RMSprop", {"momentum": -0.9}),
    ("RMSprop", {"weight_decay": -1}), ("RMSprop", {"alpha": -0.5}), ("RMSprop", {"alpha": 0}),
    ("RMSprop", {"alpha": 1}),
    ("RMSprop", {"momentum": 0, "eps": 0}),
    ("Adagrad", {"lr": -1}), ("Adagrad", {"lr_decay": -0.1}), ("Adagrad", {"weight_decay": -0.1}),
    ("Adagrad", {"initial_accumulator_value": -1}), ("Adagrad", {"eps": -1e-10}), ("Adagrad", {"lr_decay": 0}),
    ("Adagrad", {"initial_accumulator_value": 2.5}),
]


@pytest.mark.torch
@pytest.mark.parametrize("kind, options", VALIDATION, ids=[f"{k}-{o}" for k, o in VALIDATION])
def test_refuses_what_torch_refuses(kind, options):
    try:
        getattr(torch.optim, kind)([torch.zeros(1, requires_grad=True)], **options)
        torch_error = None
    except ValueError as error:
        torch_error = str(error)
    if torch_error is None:
        getattr(sg, kind)(**options)
        return
    with pytest.raises(OptionError) as caught:
        getattr(sg, kind)(**options)
    message = str(caught.value)
    assert message.startswith(f"{kind}: {next(iter(options))}: ") and "\n" not in message
    assert torch_error.split(":")[0] in message  # torch's own words: "Invalid learning rate", "both floats", ...


@pytest.mark.torch
def test_rmsprop_alpha_above_one_refused_because_torch_writes_nan():
    p = torch.ones(1, requires_grad=True)
    opt = torch.optim.RMSprop([p], alpha=2.0)
    (2 * p).sum().backward()
    opt.step()
    assert math.isnan(p.item())
    with pytest.raises(OptionError, match=r"^RMSprop: alpha: .*nan"):
        sg.RMSprop(alpha=2.0)


@pytest.mark.torch
def test_zero_epsilon_at_a_zero_gradient_refused_where_torch_writes_nan():
    with pytest.raises(OptionError, match=r"^Adam: eps: .*divides by"):
        sg.derive(_network(), X, sg.MSELoss(), target=1.5, optimizer=sg.Adam(eps=0))
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.Adam([p], eps=0)
    (0 * p).sum().backward()
    opt.step()
    assert math.isnan(p.item())


def test_derive_takes_every_optimizer_and_refuses_other_objects():
    for kind in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad"):
        sg.derive(sg.Sequential(sg.Linear(1, 1).init(weight=[[1]], bias=[0])), [[2]], sg.MSELoss(), [[1]],
                  optimizer=getattr(sg, kind)(lr=0.5))
    with pytest.raises(OptionError, match=r"^derive: optimizer: .*Adam"):
        sg.derive(_network(), X, sg.MSELoss(), target=1.5, optimizer="Adam")


SPEC = """
title = "one Adam step"
[input]
values = [[[[1, 2, 0], [0, -1, 3], [2, 1, 1]]]]
[[layers]]
type = "Conv2d"
in_channels = 1
out_channels = 2
kernel_size = 2
init.weight = [[[[0.5, 0.25], [0.25, 0.5]]], [[[-1.0, -0.5], [-0.5, -1.0]]]]
init.bias = [0.25, -2.0]
[[layers]]
type = "ReLU"
[[layers]]
type = "MaxPool2d"
kernel_size = 2
stride = 1
[[layers]]
type = "Flatten"
[[layers]]
type = "Linear"
in_features = 2
out_features = 1
init.weight = [[0.5, -0.25]]
init.bias = [0.125]
[loss]
type = "MSELoss"
target = [[1.5]]
[optimizer]
type = "{kind}"
{options}
"""


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "symgrad", *args], capture_output=True, text=True, timeout=600)


@pytest.mark.torch
@pytest.mark.parametrize("kind, options", [("Adam", 'betas = [0.5, 0.75]\namsgrad = true\nweight_decay = 0.1'),
                                           ("AdamW", ""), ("RMSprop", "centered = true\nmomentum = 0.5"),
                                           ("Adagrad", "lr_decay = 0.5\ninitial_accumulator_value = 0.25")])
def test_spec_derives_and_checks_from_the_cli(tmp_path, kind, options):
    path = tmp_path / "spec.toml"
    path.write_text(SPEC.replace("{kind}", kind).replace("{options}", options))
    derived = _cli("derive", str(path), "--format", "json")
    assert derived.returncode == 0, derived.stderr
    updated = json.loads(derived.stdout)["updated"]
    toml = dict(line.split(" = ") for line in options.splitlines())
    values = {k: json.loads(v) for k, v in toml.items()}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    d = sg.derive(_network(), X, sg.MSELoss(), target=1.5, optimizer=getattr(sg, kind)(**values))
    _, torchs = _torch_step(d, getattr(sg, kind)(**values))
    assert set(updated) == set(torchs)
    for name, value in torchs.items():
        np.testing.assert_allclose(np.array(updated[name], dtype=float), value, rtol=1e-12, atol=1e-15, err_msg=name)
    checked = _cli("check", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_spec_refuses_a_bad_option_in_one_line(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text(SPEC.replace("{kind}", "Adam").replace("{options}", "betas = [0.9, 1.0]"))
    result = _cli("derive", str(path))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "optimizer Adam: betas: Invalid beta parameter at index 1" \
        in result.stderr
    path.write_text(SPEC.replace("{kind}", "Adamw").replace("{options}", ""))
    result = _cli("derive", str(path))
    assert result.returncode == 2 and "AdamW" in result.stderr


PAGE_CASES = [("Adam", {"weight_decay": 0.1, "amsgrad": True},
               (r"\operatorname{Adam}", r"\max(0, v)", r"\lambda = 0.1")),
              ("AdamW", {}, (r"(1 - \eta\lambda)\, K^{(0)}", r"\lambda = 0.01")),
              ("RMSprop", {"centered": True}, (r"\sqrt{v - \left((1 - \alpha)\, g\right)^2}", r"\approx")),
              ("Adagrad", {"initial_accumulator_value": 0.25}, (r"s = s_0 + g^2", r"s_0 = 0.25"))]


@pytest.mark.parametrize("kind, options, wanted", PAGE_CASES, ids=[c[0] for c in PAGE_CASES])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_page_shows_the_rule_and_the_updated_values_without_sgd_words(kind, options, wanted, lang):
    from symgrad.printing import render

    d = sg.derive(_network(), X, sg.MSELoss(), target=1.5, optimizer=getattr(sg, kind)(**options))
    page = render(d, "latex", lang=lang)
    step = page[page.index("Optimizer step" if lang == "en" else "梯度更新"):]
    for text in wanted:
        assert text in step, text
    assert "SGD" not in step and r"\eta = " in step  # its values, not SGD's "learning rate" sentence
    assert ("step from torch's fresh state" in step) == (lang == "en") and ("初始状态" in step) == (lang == "zh")
    # one line per parameter: its symbol <- Kind(symbol, dL/dsymbol), then its values
    assert step.count(r"\leftarrow \operatorname{%s}" % kind) == len(d.tensors.parameters)


@pytest.mark.torch
@pytest.mark.parametrize("kind, options", [("Adam", {"betas": (0.5, 0.75), "amsgrad": True}), ("AdamW", {"lr": 0.5}),
                                           ("RMSprop", {"centered": True, "alpha": 0.5}),
                                           ("Adagrad", {"lr_decay": 0.5, "eps": 0.25})])
def test_the_pytorch_block_builds_the_same_optimizer_and_prints_the_same_numbers(kind, options):
    import contextlib
    import io

    from symgrad.printing import torchcode
    from symgrad.verify import evaluate, random_values

    d = sg.derive(_network(), X, sg.MSELoss(), target=1.5, optimizer=getattr(sg, kind)(**options))
    numbers = evaluate(d, random_values(d.free_symbols, 0))
    source = torchcode.code(d, numbers)
    assert f"optimizer = torch.optim.{kind}(net.parameters(), " in source
    out, default = io.StringIO(), torch.get_default_dtype()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(source, "<block>", "exec"), {"__name__": "__block__"})
    finally:
        torch.set_default_dtype(default)
    assert out.getvalue() == torchcode.printout(d, numbers)


@pytest.mark.torch
@pytest.mark.parametrize("kind, options", [("Adam", {"amsgrad": True, "weight_decay": 0.1}), ("AdamW", {}),
                                           ("RMSprop", {"centered": True}), ("Adagrad", {"lr_decay": 0.5})])
def test_generated_code_steps_as_torch_with_a_symbolic_kernel(kind, options):
    net = sg.Sequential(sg.Conv2d(1, 1, 2, bias=False), sg.ReLU(), sg.Sum())
    optimizer = getattr(sg, kind)(**options)
    d = sg.derive(net, X, sg.MSELoss(), target=0.5, optimizer=optimizer)
    kernel = np.array([[[[0.5, -0.25], [0.125, 0.75]]]])
    ours = d.lambdify()(**{"0.weight": kernel})["updated"]["0.weight"]
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 2, bias=False)).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor(kernel))
    step = optimizer.torch_optimizer(model.parameters())
    out = torch.relu(model(torch.tensor(np.array(X, dtype=float)).reshape(1, 1, 3, 3))).sum()
    torch.nn.MSELoss()(out, torch.tensor(0.5, dtype=torch.float64)).backward()
    step.step()
    np.testing.assert_allclose(np.asarray(ours).reshape(kernel.shape), model[0].weight.detach().numpy(), rtol=1e-12)


STATE_CASES = CASES + [("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.25}),
                       ("SGD", {"lr": 0.1, "momentum": 0.5, "nesterov": True, "weight_decay": 0.1})]


@pytest.mark.torch
@pytest.mark.parametrize("kind, options", STATE_CASES, ids=[f"{k}-{'-'.join(o) or 'default'}" for k, o in STATE_CASES])
def test_state_carried_over_three_steps_as_torchs(kind, options):
    """update(parameter, gradient, state): torch's gradients at each step fed to symgrad's update, whose
    state (moments, max, sums, buffers, step count: lr_decay and the bias corrections) must follow torch's."""
    optimizer = getattr(sg, kind)(**options)
    d = sg.derive(_network(), X, sg.MSELoss(), target=1.5)
    model = torch.nn.Sequential(*[layer.torch_module() for layer in d.network]).double()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.tensor(d.tensors.parameters[name].value.astype(float)))
    ours = {name: p.detach().numpy().astype(object) for name, p in model.named_parameters()}
    states = {name: {} for name in ours}
    step = optimizer.torch_optimizer(model.parameters())
    x = torch.tensor(np.array(X, dtype=float)).reshape(1, 1, 3, 3)
    for _ in range(3):
        step.zero_grad()
        torch.nn.MSELoss()(model(x), torch.tensor([[1.5]], dtype=torch.float64)).backward()
        for name, p in model.named_parameters():
            ours[name], states[name] = optimizer.update(ours[name], p.grad.numpy().astype(object), states[name])
        step.step()
        for name, p in model.named_parameters():
            np.testing.assert_allclose(ours[name].astype(float), p.detach().numpy(), rtol=1e-10, atol=1e-14,
                                       err_msg=name)
    assert all(state.get("step") == 3 for state in states.values())


@pytest.mark.parametrize("kind, options, option", [
    ("Adam", {"lr": "0.01"}, "lr"), ("Adam", {"lr": math.nan}, "lr"), ("Adam", {"eps": math.inf}, "eps"),
    ("Adam", {"betas": 0.9}, "betas"), ("Adam", {"betas": (0.9,)}, "betas"), ("Adam", {"betas": (0.9, "x")}, "betas"),
    ("Adam", {"amsgrad": "yes"}, "amsgrad"), ("AdamW", {"weight_decay": sp.Rational(1, 100)}, "weight_decay"),
    ("RMSprop", {"centered": 1}, "centered"), ("RMSprop", {"alpha": 1 + 0j}, "alpha"),
    ("Adagrad", {"lr_decay": 10**400}, "lr_decay"), ("Adagrad", {"maximize": None}, "maximize")])
def test_hostile_values_are_one_line_option_errors(kind, options, option):
    with pytest.raises(OptionError) as caught:
        getattr(sg, kind)(**options)
    assert (caught.value.where, caught.value.option) == (kind, option) and "\n" not in str(caught.value)
