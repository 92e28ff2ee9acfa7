"""Conv2d: torch's cross-correlation with stride, padding, dilation, groups and bias."""

from __future__ import annotations

import numpy as np

from .. import tensor
from ..errors import OptionError
from . import options as opt
from .base import Gradients, Layer
from .geometry import conv_formula, conv_out_size, per_axis, taps


class Conv2d(Layer):
    type_name = "Conv2d"
    output_letter = "sigma"
    index_form = {
        "forward": r"\sigma_{i,j} = b + \sum_{a,b} K_{a,b}\, X_{i s + a d - p,\; j s + b d - p}",
        "weight": r"\frac{\partial L}{\partial K_{a,b}} = \sum_{i,j} \delta_{i,j}\, X_{i s + a d - p,\; j s + b d - p}",
        "bias": r"\frac{\partial L}{\partial b} = \sum_{i,j} \delta_{i,j}",
        "input": r"\frac{\partial L}{\partial X_{h,w}} = \sum_{\substack{i,j,a,b\\ i s + a d - p = h\\ j s + b d - p = w}} \delta_{i,j}\, K_{a,b}",
    }

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", *, weight=None, bias_values=None):
        super().__init__()
        w = self.type_name
        self.in_channels = opt.integer(w, "in_channels", in_channels, 1)
        self.out_channels = opt.integer(w, "out_channels", out_channels, 1)
        self.kernel_size = opt.pair(w, "kernel_size", kernel_size, 1)
        self.stride = opt.pair(w, "stride", stride, 1)
        self.dilation = opt.pair(w, "dilation", dilation, 1)
        self.groups = opt.integer(w, "groups", groups, 1)
        self.bias = opt.boolean(w, "bias", bias)
        self.padding_mode = opt.choice(w, "padding_mode", padding_mode, ("zeros", "reflect", "replicate", "circular"))
        if self.padding_mode != "zeros":
            raise OptionError(w, "padding_mode", f"only 'zeros' is supported by symgrad, got {padding_mode!r}")
        if self.in_channels % self.groups:
            raise OptionError(w, "groups", f"in_channels ({self.in_channels}) must be divisible by groups ({self.groups})")
        if self.out_channels % self.groups:
            raise OptionError(w, "groups", f"out_channels ({self.out_channels}) must be divisible by groups ({self.groups})")
        self.padding = self._padding(padding)
        tensor.check_size(w, "out_channels", (self.out_channels, self.in_channels // self.groups, *self.kernel_size))
        if weight is not None:
            self.init(weight=weight)
        if bias_values is not None:
            self.init(bias=bias_values)

    def _padding(self, padding):
        """(top, bottom, left, right); 'same' pads d(k-1) in total, the odd one on the bottom/right."""
        w = self.type_name
        if isinstance(padding, str):
            opt.choice(w, "padding", padding, ("valid", "same"))
            if padding == "valid":
                return (0, 0, 0, 0)
            if self.stride != (1, 1):
                raise OptionError(w, "padding", "padding='same' is not supported for strided convolutions")
            pads = []
            for k, d in zip(self.kernel_size, self.dilation):
                total = d * (k - 1)
                pads += [total // 2, total - total // 2]
            return tuple(pads)
        ph, pw = opt.pair(w, "padding", padding, 0)
        return (ph, ph, pw, pw)

    def options(self):
        shown = {
            "in_channels": self.in_channels, "out_channels": self.out_channels,
            "kernel_size": self.kernel_size, "stride": self.stride,
            "padding": self.padding_option(), "dilation": self.dilation,
            "groups": self.groups, "bias": self.bias,
        }
        return shown

    def padding_option(self):
        """The padding as torch's argument: a pair when symmetric, else 'same'."""
        top, bottom, left, right = self.padding
        if top == bottom and left == right:
            return (top, left)
        return "same"

    def parameter_shapes(self):
        shapes = {"weight": (self.out_channels, self.in_channels // self.groups, *self.kernel_size)}
        if self.bias:
            shapes["bias"] = (self.out_channels,)
        return shapes

    def output_shape(self, in_shape):
        if len(in_shape) != 4:
            raise OptionError(self.where, "input", f"expected a 4-D input (N, C, H, W), got shape {list(in_shape)}")
        n, c, h, w = in_shape
        if c != self.in_channels:
            raise OptionError(self.where, "in_channels",
                              f"expected input with {self.in_channels} channels, got {c} channels")
        top, bottom, left, right = self.padding
        sizes = []
        for size, k, d, lo, hi in zip((h, w), self.kernel_size, self.dilation, (top, left), (bottom, right)):
            if size + lo + hi < d * (k - 1) + 1:
                raise OptionError(self.where, "kernel_size",
                                  f"kernel ({self.kernel_size[0]}x{self.kernel_size[1]}, dilation {self.dilation}) "
                                  f"is larger than the padded input ({h + top + bottom}x{w + left + right})")
        for size, k, s, lo, hi, d in zip((h, w), self.kernel_size, self.stride, (top, left), (bottom, right), self.dilation):
            sizes.append(conv_out_size(size, k, s, lo, hi, d))
        # padding is the only way past the input's (already bounded) spatial size
        tensor.check_size(self.where, "padding", sizes)
        tensor.check_size(self.where, "out_channels", (n, self.out_channels, *sizes))
        return (n, self.out_channels, *sizes)

    def shape_formula(self, in_shape):
        top, bottom, left, right = self.padding
        return per_axis([conv_formula(size, k, s, lo, hi, d) for size, k, s, lo, hi, d in zip(
            in_shape[2:], self.kernel_size, self.stride, (top, left), (bottom, right), self.dilation)])

    def _windows(self, in_shape, out_shape):
        """For each output (i, j): the (a, b, h, w) taps inside the input."""
        _, _, h, w = in_shape
        top, _, left, _ = self.padding
        rows = [list(taps(i, self.kernel_size[0], self.stride[0], top, self.dilation[0], h)) for i in range(out_shape[2])]
        cols = [list(taps(j, self.kernel_size[1], self.stride[1], left, self.dilation[1], w)) for j in range(out_shape[3])]
        return rows, cols

    def _group_channels(self, o):
        per_in = self.in_channels // self.groups
        per_out = self.out_channels // self.groups
        first = (o // per_out) * per_in
        return range(first, first + per_in)

    def forward(self, x, params):
        out_shape = self.output_shape(x.shape)
        weight = params["weight"]
        rows, cols = self._windows(x.shape, out_shape)
        out = np.empty(out_shape, dtype=object)
        for n, o, i, j in np.ndindex(*out_shape):
            terms = [tensor.times(weight[o, c - self._group_channels(o)[0], a, b], x[n, c, hh, ww])
                     for c in self._group_channels(o) for a, hh in rows[i] for b, ww in cols[j]]
            if self.bias:
                terms.append(params["bias"][o])
            out[n, o, i, j] = tensor.add_all(terms)
        return out

    def backward(self, delta, x, out, params):
        weight = params["weight"]
        rows, cols = self._windows(x.shape, out.shape)
        dx = tensor.term_lists(x.shape)
        dw = tensor.term_lists(weight.shape)
        for n, o, i, j in np.ndindex(*out.shape):
            d = delta[n, o, i, j]
            if d == 0:
                continue
            first = self._group_channels(o)[0]
            for c in self._group_channels(o):
                for a, hh in rows[i]:
                    for b, ww in cols[j]:
                        dx[n, c, hh, ww].append(tensor.times(d, weight[o, c - first, a, b]))
                        dw[o, c - first, a, b].append(tensor.times(d, x[n, c, hh, ww]))
        grads = {"weight": tensor.collect(dw)}
        if self.bias:
            grads["bias"] = tensor.vector(tensor.add_all(delta[:, o].reshape(-1)) for o in range(self.out_channels))
        return Gradients(input=tensor.collect(dx), params=grads)

    def torch_module(self):
        import torch

        o = self.options()
        return torch.nn.Conv2d(self.in_channels, self.out_channels, self.kernel_size, stride=self.stride,
                               padding=o["padding"], dilation=self.dilation, groups=self.groups, bias=self.bias)
