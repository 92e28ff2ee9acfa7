"""from_torch: torch modules become symgrad networks with the same options and weights."""

import numpy as np
import pytest
import sympy as sp
from lazy_torch import torch, nn

import symgrad as sg

pytestmark = pytest.mark.torch  # every test here needs torch


def _torch_gradients(module, x, target):
    """Loss and gradients from torch autograd on the very module, in float64."""
    module = module.double()
    module.zero_grad()
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    loss = nn.MSELoss()(module(xt), torch.tensor(target, dtype=torch.float64))
    loss.backward()
    grads = {name: p.grad.numpy() for name, p in module.named_parameters()}
    grads["input"] = xt.grad.numpy()
    return float(loss.detach()), grads


def _round_trip(module, x, target):
    net = sg.from_torch(module, example_input=x)
    d = sg.derive(net, x, sg.MSELoss(), target=target)
    ours = d.lambdify()()  # generated NumPy code: much faster than evalf on exp() of exact rationals
    loss, grads = _torch_gradients(module, x, target)
    assert ours["loss"] == pytest.approx(loss, rel=1e-10)
    assert set(ours["gradients"]) == set(grads)
    for name, grad in grads.items():
        np.testing.assert_allclose(ours["gradients"][name], grad, rtol=1e-9, atol=1e-12, err_msg=name)
    return net, d


def test_conv_pool_relu_flatten_linear_round_trip():
    torch.manual_seed(0)
    module = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.MaxPool2d(2), nn.ReLU(), nn.Flatten(),
                           nn.Linear(2 * 3 * 3, 3))
    x = torch.randn(1, 1, 6, 6, dtype=torch.float64).numpy()
    net, d = _round_trip(module, x, np.array([[0.5, -1.0, 2.0]]))
    assert [type(layer).__name__ for layer in net] == ["Conv2d", "MaxPool2d", "ReLU", "Flatten", "Linear"]
    assert not d.free_symbols  # every weight became a number
    assert float(d.parameters["4.bias"][1]) == module[4].bias[1].item()


def test_lenet_first_stage_round_trip():
    torch.manual_seed(1)
    module = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2))
    x = torch.randn(1, 1, 6, 6, dtype=torch.float64).numpy()
    target = torch.randn(1, 6, 3, 3, dtype=torch.float64).numpy()
    net, _ = _round_trip(module, x, target)
    conv = net.layers[0]
    assert (conv.out_channels, conv.kernel_size, conv.padding) == (6, (5, 5), (2, 2, 2, 2))


def test_weights_are_the_float32_values_exactly():
    torch.manual_seed(2)
    module = nn.Sequential(nn.Linear(3, 2))
    net = sg.from_torch(module)
    weight = net.parameters()["0.weight"]
    assert all(isinstance(v, sp.Rational) for v in weight.reshape(-1))
    np.testing.assert_array_equal(weight.astype(np.float64), module[0].weight.detach().double().numpy())


def test_options_are_copied():
    module = nn.Sequential(
        nn.Conv2d(2, 4, (3, 2), stride=1, padding="same", dilation=(2, 1), groups=2, bias=False),
        nn.MaxPool2d(3, stride=2, padding=1, dilation=2, ceil_mode=True),
        nn.AvgPool2d(2, stride=1, padding=1, ceil_mode=True, count_include_pad=False, divisor_override=3),
        nn.Tanh(), nn.Flatten(0, 2),
    )
    conv, max_pool, avg_pool, _, flatten = sg.from_torch(module, weights="symbols")
    assert conv.options()["padding"] == "same" and conv.dilation == (2, 1) and conv.groups == 2
    assert "bias" not in conv.parameter_shapes()
    assert max_pool.options() == {"kernel_size": (3, 3), "stride": (2, 2), "padding": (1, 1),
                                  "dilation": (2, 2), "ceil_mode": True}
    assert (avg_pool.count_include_pad, avg_pool.divisor_override, avg_pool.ceil_mode) == (False, 3, True)
    assert (flatten.start_dim, flatten.end_dim) == (0, 2)


def test_weights_as_symbols():
    module = nn.Sequential(nn.Conv2d(1, 1, 2), nn.Flatten())
    net = sg.from_torch(module, weights="symbols")
    params = net.parameters()
    assert str(params["0.weight"][0, 0, 1, 0]) == "k_21" and str(params["0.bias"][0]) == "b_1"


def _chain(skip=False):
    """A custom module whose forward is the chain of its children (or not, with skip)."""

    class Chain(nn.Module):
        def __init__(self, skip=False):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 2)
            self.act = nn.ReLU()
            self.skip = skip

        def forward(self, x):
            y = self.act(self.conv(x))
            return y + y if self.skip else y

    return Chain(skip)


def test_custom_module_chain_is_accepted_and_checked():
    torch.manual_seed(3)
    x = torch.randn(1, 1, 3, 3)
    net = sg.from_torch(_chain(), example_input=x)
    assert [layer.type_name for layer in net] == ["Conv2d", "ReLU"]
    with pytest.raises(sg.OptionError, match="not the chain of its children"):
        sg.from_torch(_chain(skip=True), example_input=x)


@pytest.mark.parametrize("module, message", [
    (lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Conv2d(2, 2, 1), nn.LayerNorm(2)),
     r"layers\[3\] LayerNorm: type: not supported by symgrad \(supported: Conv2d, MaxPool2d"),
    (lambda: nn.Sequential(nn.Flatten(), nn.Upsample(scale_factor=2)), r"layers\[1\] Upsample: type: not supported"),
    (lambda: nn.Sequential(nn.MaxPool2d(2, return_indices=True)), r"layers\[0\] MaxPool2d: return_indices:"),
    (lambda: nn.Sequential(nn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect")), r"layers\[0\] Conv2d: padding_mode:"),
    (lambda: nn.Sequential(nn.Sequential(nn.ReLU())), r"layers\[0\] Sequential: type: not supported"),
    (lambda: nn.Sequential(), "has no child layers"),
])
def test_refusals_name_layer_and_option(module, message):
    with pytest.raises(sg.OptionError, match=message):
        sg.from_torch(module())


def test_bad_weights_option_and_shape_mismatch():
    with pytest.raises(sg.OptionError, match="weights: must be 'numbers' or 'symbols'"):
        sg.from_torch(nn.Sequential(nn.ReLU()), weights="floats")
    with pytest.raises(sg.OptionError, match=r"layers\[0\] Conv2d: in_channels"):
        sg.from_torch(nn.Sequential(nn.Conv2d(3, 1, 2)), example_input=np.zeros((1, 1, 4, 4)))


def test_every_declared_converter_is_used_and_listed():
    """from_torch knows no layer by name: each registered layer with a `from_torch` converts (options from the
    layer's converter, parameters copied by torch's names), and the refusal lists exactly those layers."""
    import inspect

    from symgrad.from_torch import converters
    from symgrad.ops import LAYERS

    assert list(converters()) == [name for name, cls in LAYERS.items() if cls.from_torch]
    for name, cls in converters().items():
        required = [p for p in inspect.signature(cls).parameters.values() if p.default is inspect.Parameter.empty]
        options = {p.name: 2 if "kernel" in p.name else 1 for p in required}
        # in eval mode where a layer has modes: a training Dropout's torch mask cannot be read back
        layer = cls(**options, **({"training": False} if cls.modes else {}))
        twin = layer.torch_module().double()
        back, = sg.from_torch(nn.Sequential(twin))
        assert type(back) is cls and back.options() == layer.options()
        for parameter, value in twin.named_parameters():
            np.testing.assert_array_equal(np.asarray(back.initial[parameter], dtype=float), value.detach().numpy())
    with pytest.raises(sg.OptionError) as refused:
        sg.from_torch(nn.Sequential(nn.Upsample(scale_factor=2)))
    assert f"(supported: {', '.join(converters())})" in str(refused.value)
