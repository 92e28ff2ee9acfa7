"""Option validation mirrors torch: symgrad raises OptionError exactly when torch raises.

Every row of the table is run twice: symgrad constructs the layers and derives on an
input of the given shape; torch constructs the same modules from the same keyword
arguments and runs forward, loss and backward on an input of the same shape. A row
also says which option symgrad's OptionError must name.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pytest
from lazy_torch import torch

import symgrad as sg
from symgrad import OptionError


@dataclass
class Row:
    name: str
    layers: list  # [(class name, args, kwargs)] - the same for symgrad and torch
    shape: tuple = (1, 1, 4, 4)
    reduction: str = "mean"
    target: tuple | None = None  # None: a scalar target 0
    option: str | None = None  # the option symgrad must name, None: accepted
    deliberate: bool = False  # torch runs it, symgrad refuses on purpose (docs/guarantees.md)


def L(kind, *args, **kwargs):
    return (kind, args, kwargs)


ROWS = [
    # kernel_size 0
    Row("maxpool_kernel0", [L("MaxPool2d", 0)], option="kernel_size"),
    Row("avgpool_kernel0", [L("AvgPool2d", 0)], option="kernel_size"),
    Row("conv_kernel0", [L("Conv2d", 1, 1, 0)], option="kernel_size"),
    Row("conv_kernel_pair_with_zero", [L("Conv2d", 1, 1, (2, 0))], option="kernel_size"),
    # stride 0
    Row("maxpool_stride0", [L("MaxPool2d", 2, stride=0)], option="stride"),
    Row("avgpool_stride_pair_with_zero", [L("AvgPool2d", 2, stride=(1, 0))], option="stride"),
    Row("conv_stride0", [L("Conv2d", 1, 1, 2, stride=0)], option="stride"),
    # negative padding
    Row("maxpool_pad_negative", [L("MaxPool2d", 2, padding=-1)], option="padding"),
    Row("avgpool_pad_negative", [L("AvgPool2d", 3, padding=-1)], (1, 1, 5, 5), option="padding"),
    Row("conv_pad_negative", [L("Conv2d", 1, 1, 2, padding=-1)], option="padding"),
    Row("conv_pad_pair_negative", [L("Conv2d", 1, 1, 2, padding=(0, -1))], option="padding"),
    # dilation 0
    Row("maxpool_dilation0", [L("MaxPool2d", 2, dilation=0)], option="dilation"),
    Row("conv_dilation0", [L("Conv2d", 1, 1, 2, dilation=0)], option="dilation"),
    # pool padding limits
    Row("maxpool_pad_gt_half_kernel", [L("MaxPool2d", 3, padding=2)], (1, 1, 8, 8), option="padding"),
    Row("avgpool_pad_gt_half_kernel", [L("AvgPool2d", 2, padding=2)], (1, 1, 8, 8), option="padding"),
    Row("maxpool_k2_pad2_dil3_rejected", [L("MaxPool2d", 2, padding=2, dilation=3)], (1, 1, 8, 8), option="padding"),
    Row("maxpool_k3_pad2_dil2_rejected", [L("MaxPool2d", 3, padding=2, dilation=2)], (1, 1, 8, 8), option="padding"),
    Row("maxpool_k2_pad1_dil3_ok", [L("MaxPool2d", 2, padding=1, dilation=3)], (1, 1, 8, 8)),
    Row("maxpool_k3_pad1_ok", [L("MaxPool2d", 3, padding=1)]),
    Row("avgpool_k3_pad1_ok", [L("AvgPool2d", 3, padding=1)]),
    Row("maxpool_pad_pair_ok", [L("MaxPool2d", (2, 4), padding=(1, 2))]),
    Row("maxpool_pad_pair_rejected", [L("MaxPool2d", (2, 4), padding=(2, 1))], (1, 1, 8, 8), option="padding"),
    # output too small
    Row("maxpool_output_too_small", [L("MaxPool2d", 3)], (1, 1, 2, 2), option="kernel_size"),
    Row("avgpool_output_too_small", [L("AvgPool2d", 3)], (1, 1, 2, 2), option="kernel_size"),
    Row("maxpool_dilated_too_small", [L("MaxPool2d", 2, dilation=3)], (1, 1, 3, 3), option="kernel_size"),
    Row("maxpool_exact_fit_ok", [L("MaxPool2d", 3)], (1, 1, 3, 3)),
    Row("maxpool_padding_makes_it_fit", [L("MaxPool2d", 3, padding=1)], (1, 1, 1, 1)),
    Row("avgpool_ceil_small_ok", [L("AvgPool2d", 2, ceil_mode=True)], (1, 1, 3, 3)),
    Row("pool_after_conv_too_small", [L("Conv2d", 1, 1, 3), L("MaxPool2d", 3)], option="kernel_size"),
    # conv kernel larger than the input
    Row("conv_kernel_larger_than_input", [L("Conv2d", 1, 1, 5)], option="kernel_size"),
    Row("conv_dilated_kernel_larger", [L("Conv2d", 1, 1, 3, dilation=2)], option="kernel_size"),
    Row("conv_kernel_fits_after_padding", [L("Conv2d", 1, 1, 5, padding=1)], (1, 1, 3, 3)),
    Row("conv_rect_kernel_too_wide", [L("Conv2d", 1, 1, (2, 5))], option="kernel_size"),
    # padding strings
    Row("conv_same_stride2", [L("Conv2d", 1, 1, 3, stride=2, padding="same")], option="padding"),
    Row("conv_same_stride_pair", [L("Conv2d", 1, 1, 3, stride=(1, 2), padding="same")], option="padding"),
    Row("conv_same_ok", [L("Conv2d", 1, 1, 2, padding="same")]),
    Row("conv_same_dilated_ok", [L("Conv2d", 1, 1, 3, padding="same", dilation=2)], (1, 1, 3, 3)),
    Row("conv_valid_ok", [L("Conv2d", 1, 1, 3, padding="valid")]),
    Row("conv_padding_foo", [L("Conv2d", 1, 1, 3, padding="foo")], option="padding"),
    # groups and channels
    Row("conv_groups_not_dividing_in", [L("Conv2d", 3, 2, 2, groups=2)], (1, 3, 4, 4), option="groups"),
    Row("conv_groups_not_dividing_out", [L("Conv2d", 2, 3, 2, groups=2)], (1, 2, 4, 4), option="groups"),
    Row("conv_groups0", [L("Conv2d", 2, 2, 2, groups=0)], (1, 2, 4, 4), option="groups"),
    Row("conv_groups2_ok", [L("Conv2d", 2, 4, 2, groups=2)], (1, 2, 4, 4)),
    Row("conv_wrong_input_channels", [L("Conv2d", 2, 1, 3)], (1, 3, 4, 4), option="in_channels"),
    Row("conv_second_layer_wrong_channels", [L("Conv2d", 1, 2, 2), L("Conv2d", 3, 1, 2)], option="in_channels"),
    # divisor_override
    Row("avgpool_divisor_override0", [L("AvgPool2d", 2, divisor_override=0)], option="divisor_override"),
    Row("avgpool_divisor_override_negative_ok", [L("AvgPool2d", 2, divisor_override=-1)]),
    # MSELoss
    Row("mse_reduction_bogus", [L("Conv2d", 1, 1, 2)], reduction="bogus", option="reduction"),
    Row("mse_reduction_none_has_no_gradient", [L("Conv2d", 1, 1, 2)], reduction="none", option="reduction"),
    Row("mse_reduction_sum_ok", [L("Conv2d", 1, 1, 2)], reduction="sum"),
    Row("mse_target_not_broadcastable", [L("Conv2d", 1, 1, 2)], target=(1, 1, 3, 4), option="target"),
    Row("mse_target_wrong_last_axis", [L("Conv2d", 1, 1, 2)], target=(2,), option="target"),
    Row("mse_target_row_ok", [L("Conv2d", 1, 1, 2)], target=(3,)),
    Row("mse_target_one_ok", [L("Conv2d", 1, 1, 2)], target=(1,)),
    Row("mse_target_full_ok", [L("Conv2d", 1, 1, 2)], target=(1, 1, 3, 3)),
    Row("mse_target_channel_broadcast_ok", [L("Conv2d", 1, 2, 2)], target=(1, 1, 3, 3)),
    # integers at torch's edges (docs/guarantees.md, "Numbers at the edges"): conv options are int64 ...
    Row("conv_stride_int64_max_ok", [L("Conv2d", 1, 1, 2, stride=2**63 - 1)]),
    Row("conv_stride_2_63", [L("Conv2d", 1, 1, 2, stride=2**63)], option="stride"),
    Row("conv_stride_2_64", [L("Conv2d", 1, 1, 2, stride=2**64)], option="stride"),
    Row("conv_stride_pair_2_64", [L("Conv2d", 1, 1, 2, stride=(1, 2**64))], option="stride"),
    Row("conv_dilation_int64_max_kernel1_ok", [L("Conv2d", 1, 1, 1, dilation=2**63 - 1)]),
    Row("conv_dilation_2_63", [L("Conv2d", 1, 1, 1, dilation=2**63)], option="dilation"),
    Row("conv_same_dilation_int64_max_ok", [L("Conv2d", 1, 1, 2, padding="same", dilation=2**63 - 1)]),
    Row("conv_padding_int64_max", [L("Conv2d", 1, 1, 2, padding=2**63 - 1)], option="padding"),
    Row("conv_padding_2_63", [L("Conv2d", 1, 1, 2, padding=2**63)], option="padding"),
    Row("conv_dilated_kernel_overflows_int64", [L("Conv2d", 1, 1, 2, dilation=2**63 - 1)],
        option="kernel_size", deliberate=True),
    # ... pooling's kernel_size, stride, padding and dilation are 32-bit C ints, divisor_override int64
    Row("maxpool_stride_int32_max_ok", [L("MaxPool2d", 2, stride=2**31 - 1)]),
    Row("maxpool_stride_2_31", [L("MaxPool2d", 2, stride=2**31)], option="stride"),
    Row("maxpool_stride_2_64", [L("MaxPool2d", 2, stride=2**64)], option="stride"),
    Row("maxpool_dilation_int32_max_kernel1_ok", [L("MaxPool2d", 1, dilation=2**31 - 1)]),
    Row("maxpool_dilation_2_31", [L("MaxPool2d", 1, dilation=2**31)], option="dilation"),
    Row("maxpool_dilation_2_63", [L("MaxPool2d", 2, dilation=2**63)], option="dilation"),
    Row("maxpool_kernel_int32_max_ok", [L("MaxPool2d", 2**31 - 1, padding=2**30 - 1)], (1, 1, 1, 1)),
    Row("maxpool_kernel_beyond_int32", [L("MaxPool2d", 2**31 + 1, padding=2**30)], (1, 1, 1, 1),
        option="kernel_size"),
    Row("avgpool_kernel_int32_max_ok", [L("AvgPool2d", 2**31 - 1, padding=2**30 - 1)], (1, 1, 1, 1)),
    Row("avgpool_stride_2_31", [L("AvgPool2d", 2, stride=(2**31, 1))], option="stride"),
    Row("avgpool_padding_2_63", [L("AvgPool2d", 2, padding=2**63)], option="padding"),
    Row("avgpool_divisor_int64_max_ok", [L("AvgPool2d", 2, divisor_override=2**63 - 1)]),
    Row("avgpool_divisor_int64_min_ok", [L("AvgPool2d", 2, divisor_override=-2**63)]),
    Row("avgpool_divisor_2_63", [L("AvgPool2d", 2, divisor_override=2**63)], option="divisor_override"),
    Row("avgpool_divisor_below_int64", [L("AvgPool2d", 2, divisor_override=-2**63 - 1)], option="divisor_override"),
    Row("flatten_start_dim_2_63", [L("Flatten", 2**63)], option="start_dim"),
    Row("linear_in_features_2_63", [L("Flatten"), L("Linear", 2**63, 1)], option="in_features"),
]


def symgrad_run(row: Row):
    """None if symgrad accepts the row, else the OptionError it raised."""
    try:
        layers = [getattr(sg, kind)(*args, **kwargs) for kind, args, kwargs in row.layers]
        net = sg.Sequential(*layers)
        target = 0 if row.target is None else np.zeros(row.target, dtype=int)
        sg.derive(net, np.zeros(row.shape, dtype=int), sg.MSELoss(reduction=row.reduction), target, sg.SGD(lr=0.1))
    except OptionError as error:
        return error
    return None


def torch_run(row: Row):
    """None if torch accepts the row (forward, loss, backward), else the exception it raised."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            modules = [getattr(torch.nn, kind)(*args, **kwargs) for kind, args, kwargs in row.layers]
            model = torch.nn.Sequential(*modules).double()
            x = torch.zeros(row.shape, dtype=torch.float64, requires_grad=True)
            out = model(x)
            target = torch.zeros(row.target or (), dtype=torch.float64)
            loss = torch.nn.MSELoss(reduction=row.reduction)(out, target)
            loss.backward()
    except (RuntimeError, ValueError, TypeError, OverflowError, IndexError) as error:
        return error
    return None


@pytest.mark.torch
@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_symgrad_refuses_exactly_what_torch_refuses(row):
    theirs = torch_run(row)
    ours = symgrad_run(row)
    if row.deliberate:  # torch's own int64 size arithmetic wraps around: it runs on a wrong output size
        assert theirs is None and ours is not None, f"symgrad: {ours!r}; torch: {theirs!r}"
        assert ours.option == row.option, ours
        return
    assert (theirs is None) == (row.option is None), f"the table is wrong about torch: {theirs!r}"
    assert (ours is None) == (theirs is None), f"symgrad: {ours!r}; torch: {theirs!r}"
    if ours is not None:
        assert ours.option == row.option, f"named {ours.option!r} ({ours}), expected {row.option!r}"
        assert ours.message and str(ours).startswith(ours.where)


def test_table_covers_the_brief():
    assert len(ROWS) >= 40
    assert len({r.name for r in ROWS}) == len(ROWS)
    assert sum(r.option is None for r in ROWS) >= 10  # accepted rows keep the checks honest
    named = {r.option for r in ROWS}
    assert {"kernel_size", "stride", "padding", "dilation", "groups", "in_channels", "divisor_override",
            "reduction", "target"} <= named


def test_shape_errors_name_the_layer():
    error = symgrad_run(Row("x", [L("Conv2d", 1, 1, 3), L("MaxPool2d", 3)]))
    assert isinstance(error, OptionError)
    assert error.where == "layers[1] MaxPool2d"
    error = symgrad_run(Row("x", [L("Conv2d", 1, 2, 2), L("Conv2d", 3, 1, 2)]))
    assert error.where == "layers[1] Conv2d" and error.option == "in_channels"


def test_constructor_errors_are_raised_at_construction():
    """Option errors that do not depend on the input are raised by the constructor, like torch's."""
    with pytest.raises(OptionError) as info:
        sg.Conv2d(1, 1, 3, padding="foo")
    assert info.value.option == "padding" and info.value.where == "Conv2d"
    with pytest.raises(OptionError) as info:
        sg.Conv2d(3, 2, 2, groups=2)
    assert info.value.option == "groups"
    with pytest.raises(OptionError) as info:
        sg.MSELoss(reduction="bogus")
    assert info.value.option == "reduction"
    with pytest.raises(OptionError) as info:
        sg.AvgPool2d(2, divisor_override=0)
    assert info.value.option == "divisor_override"
    with pytest.raises(OptionError) as info:
        sg.MaxPool2d(2, padding=2, dilation=3)
    assert info.value.option == "padding"


@pytest.mark.torch
def test_target_larger_than_output_is_refused_although_torch_broadcasts():
    """A deliberate, documented difference: torch broadcasts the *output* up to a larger
    target (with a UserWarning that results are likely wrong); symgrad refuses."""
    with pytest.warns(UserWarning, match="target size"):
        loss = torch.nn.MSELoss()(torch.zeros(1, 1, 2, 2), torch.zeros(2, 1, 2, 2))
    assert loss.shape == ()
    error = symgrad_run(Row("x", [L("MaxPool2d", 2)], (1, 1, 4, 4), target=(2, 1, 2, 2)))
    assert isinstance(error, OptionError) and error.option == "target"


@pytest.mark.torch
@pytest.mark.parametrize("kwargs,option", [
    (dict(lr=-0.1), "lr"), (dict(lr=0.1, momentum=-1), "momentum"), (dict(lr=0.1, weight_decay=-1), "weight_decay"),
    (dict(lr=0.1, nesterov=True), "nesterov"), (dict(lr=0.1, momentum=0.9, dampening=0.5, nesterov=True), "nesterov"),
])
def test_sgd_refusals_match_torch(kwargs, option):
    with pytest.raises(ValueError):
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], **kwargs)
    with pytest.raises(OptionError) as info:
        sg.SGD(**kwargs)
    assert info.value.option == option
