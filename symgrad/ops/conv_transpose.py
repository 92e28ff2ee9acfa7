"""ConvTranspose2d: torch's transposed convolution, written as Conv2d's transpose.

A transposed convolution is the adjoint of the Conv2d with the same kernel, stride,
padding, dilation and groups, whose input has this layer's output size: its forward is
Conv2d's dL/dX (the input scattered through the kernel), its dL/d(input) is Conv2d's
forward of delta, and its dL/dK is Conv2d's weight gradient with input and delta in
swapped roles. The weight has torch's layout (in_channels, out_channels/groups, kh, kw),
which is exactly that Conv2d's (its out_channels, its in_channels/groups, kh, kw).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..core import tensor
from ..core.errors import OptionError
from ..core.values import shown
from . import options as opt
from .base import Gradients, Layer, missing, one_weight_row_per_output, uniform_fan_in
from .conv import Conv2d, window_add, window_view
from .geometry import per_axis
from .indexing import COL, ROW, at, tap, tap_tex

_GROUP_OUT = r"o^{*} = o + \tfrac{C_{out}}{g}\left\lfloor \tfrac{(c-1)\,g}{C_{in}} \right\rfloor"


def transpose_out_size(size: int, kernel: int, stride: int, pad: int, dilation: int, output_padding: int) -> int:
    """(H-1)s - 2p + d(k-1) + output_padding + 1, as torch computes a transposed convolution's output."""
    return (size - 1) * stride - 2 * pad + dilation * (kernel - 1) + output_padding + 1


class ConvTranspose2d(Layer):
    type_name = "ConvTranspose2d"
    output_letter = "sigma"
    symbol_bases = {"weight": "k", "bias": "b"}
    parameter_letters = {"weight": "K", "bias": "b"}
    rule_words = "general"
    index_form = {
        "forward": r"\begin{gathered}\sigma_{n,o,h,w} = b_{o} + \sum_{c=1}^{C_{in}/g} \sum_{a=1}^{k_h} "
                   r"\sum_{b=1}^{k_w} \sum_{i,j} K_{c^{*},o',a,b}\, X_{n,c^{*},i,j}\, [\,h = " + ROW + r"\,]\, "
                   r"[\,w = " + COL + r"\,] \\ c^{*} = c + \tfrac{C_{in}}{g} q, \quad o' = o - \tfrac{C_{out}}{g} q, "
                   r"\quad q = \left\lfloor \tfrac{(o-1)\,g}{C_{out}} \right\rfloor\end{gathered}",
        "input": r"\frac{\partial L}{\partial X_{n,c,i,j}} = \sum_{o=1}^{C_{out}/g} \sum_{a=1}^{k_h} "
                 r"\sum_{b=1}^{k_w} K_{c,o,a,b}\, \delta_{n,o^{*},\; " + ROW + r",\; " + COL + r"}, \quad "
                 + _GROUP_OUT,
        "weight": r"\frac{\partial L}{\partial K_{c,o,a,b}} = \sum_{n,i,j} X_{n,c,i,j}\, \delta_{n,o^{*},\; "
                  + ROW + r",\; " + COL + r"}, \quad " + _GROUP_OUT,
        "bias": r"\frac{\partial L}{\partial b_{o}} = \sum_{n,h,w} \delta_{n,o,h,w}",
    }
    words = {
        "en": {
            "note:forward": "A transposed convolution scatters every input entry $X_{n,c,i,j}$ through the kernel: "
                            "tap $(a, b)$ lands on output row $s(i-1) + d(a-1) - p + 1$ and column "
                            "$s(j-1) + d(b-1) - p + 1$ (the bracket $[\\,\\cdot\\,]$ is 1 when it holds, else 0), "
                            "and what lands outside the output is dropped. It is the transpose of the Conv2d "
                            "with the same kernel, stride, padding, dilation and groups: its forward is that "
                            "Conv2d's $\\partial L/\\partial X$, so its own $\\partial L/\\partial X$ is that "
                            "Conv2d's forward applied to $\\delta$. `output_padding` only lengthens the output at "
                            "the bottom and right.",
            "figure": "Which input entries multiply into $\\frac{\\partial L}{\\partial {weight}_{11}}$ "
                      "(highlighted): those whose tap $(1, 1)$ lands inside the output, not in the cropped padding.",
        },
        "zh": {
            "note:forward": "转置卷积把输入的每个元素 $X_{n,c,i,j}$ 经卷积核散布到输出上：偏移 $(a, b)$ 落在输出的第 $s(i-1) + d(a-1) - p + 1$ 行、第 "
                            "$s(j-1) + d(b-1) - p + 1$ 列（方括号 $[\\,\\cdot\\,]$ 在条件成立时为 1，否则为 0），落在输出之外的部分舍去。它是卷积核、步幅、"
                            "填充、膨胀和分组都相同的 `Conv2d` 的转置：它的前向就是那个 `Conv2d` 的 $\\partial L/\\partial X$，所以它自己的 "
                            "$\\partial L/\\partial X$ 就是对 $\\delta$ 做那个 `Conv2d` 的前向卷积。`output_padding` "
                            "只在输出的下方和右方加长。",
            "figure": "参与 $\\frac{\\partial L}{\\partial {weight}_{11}}$ 的输入元素（高亮）：偏移 $(1, 1)$ "
                      "落在输出之内（而不是被裁掉的填充中）的那些元素。",
        },
    }
    buffers = missing("no buffers")
    modes = missing("same in train and eval")
    terms = one_weight_row_per_output  # weight (C_in, C_out/g, k_h, k_w): C_out/g * kernel area per output

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros"):
        super().__init__()
        w = self.type_name
        # torch's order: its constructor checks groups and padding_mode, its forward the sizes
        self.in_channels = opt.integer(w, "in_channels", in_channels, 1, bits=64)
        self.out_channels = opt.integer(w, "out_channels", out_channels, 1, bits=64)
        self.groups = opt.integer(w, "groups", groups, 1, bits=64)
        if self.in_channels % self.groups:
            raise OptionError(w, "groups",
                              f"in_channels ({self.in_channels}) must be divisible by groups ({self.groups})")
        if self.out_channels % self.groups:
            raise OptionError(w, "groups",
                              f"out_channels ({self.out_channels}) must be divisible by groups ({self.groups})")
        if not (isinstance(padding_mode, str) and padding_mode == "zeros"):
            raise OptionError(w, "padding_mode", 'Only "zeros" padding mode is supported for ConvTranspose2d')
        self.padding_mode = padding_mode
        if isinstance(kernel_size, (list, tuple)) and len(kernel_size) != 2:  # torch would build a 1-D or 3-D weight
            raise OptionError(w, "kernel_size", f"expected an int or a pair [h, w], got {shown(list(kernel_size))}")
        self.kernel_size = opt.pair(w, "kernel_size", kernel_size, 1, bits=64)
        self.stride = opt.pair(w, "stride", stride, 1, bits=64)
        self.padding = opt.pair(w, "padding", padding, 0, bits=64)
        self.output_padding = opt.pair(w, "output_padding", output_padding, 0, bits=64)
        self.bias = opt.boolean(w, "bias", bias)
        self.dilation = opt.pair(w, "dilation", dilation, 1, bits=64)
        (oph, opw), (sh, sw), (dh, dw) = self.output_padding, self.stride, self.dilation
        if not ((oph < sh or oph < dh) and (opw < sw or opw < dw)):
            raise OptionError(w, "output_padding",
                              f"output padding must be smaller than either stride or dilation, but got "
                              f"output_padding_height: {oph} output_padding_width: {opw} stride_height: {sh} "
                              f"stride_width: {sw} dilation_height: {dh} dilation_width: {dw}")
        tensor.check_size(w, "in_channels", (self.in_channels, self.out_channels // self.groups, *self.kernel_size))
        self.adjoint = Conv2d(self.out_channels, self.in_channels, self.kernel_size, stride=self.stride,
                              padding=self.padding, dilation=self.dilation, groups=self.groups, bias=False)

    def options(self):
        return {"in_channels": self.in_channels, "out_channels": self.out_channels, "kernel_size": self.kernel_size,
                "stride": self.stride, "padding": self.padding, "output_padding": self.output_padding,
                "groups": self.groups, "bias": self.bias, "dilation": self.dilation}

    def channels(self):
        return {"in_channels": self.in_channels, "out_channels": self.out_channels}

    def parameter_shapes(self):
        shapes = {"weight": (self.in_channels, self.out_channels // self.groups, *self.kernel_size)}
        if self.bias:
            shapes["bias"] = (self.out_channels,)
        return shapes

    def _sizes(self, h, w):
        return [transpose_out_size(size, k, s, p, d, op) for size, k, s, p, d, op in zip(
            (h, w), self.kernel_size, self.stride, self.padding, self.dilation, self.output_padding)]

    def output_shape(self, in_shape):
        if len(in_shape) != 4:
            raise OptionError(self.where, "input", f"expected a 4-D input (N, C, H, W), got shape {list(in_shape)}")
        n, c, h, w = in_shape
        if c != self.in_channels:
            raise OptionError(self.where, "in_channels",
                              f"expected input with {self.in_channels} channels, got {c} channels")
        sizes = self._sizes(h, w)
        if min(sizes) < 1:
            raise OptionError(self.where, "padding", f"Given input size per channel: ({h} x {w}). Calculated output "
                                                     f"size per channel: ({sizes[0]} x {sizes[1]}). Output size is "
                                                     f"too small")
        tensor.check_size(self.where, "padding", sizes)
        tensor.check_size(self.where, "out_channels", (n, self.out_channels, *sizes))
        return (n, self.out_channels, *sizes)

    def shape_formula(self, in_shape):
        return per_axis([f"({size}-1)*{s} - 2*{p} + {d}*({k}-1) + {op} + 1 = "
                         f"{transpose_out_size(size, k, s, p, d, op)}" for size, k, s, p, d, op in zip(
                             in_shape[2:], self.kernel_size, self.stride, self.padding, self.dilation,
                             self.output_padding)])

    # ---------------------------------------------------------------- the maths: Conv2d's rules transposed

    def _stretched(self, x, out_shape):
        """x zero-padded at the bottom/right to the adjoint Conv2d's output size on `out_shape`.

        That size is H + floor(output_padding / s): larger than H only when output_padding >= stride
        (allowed when it is below the dilation); the extra rows reach the output through no tap.
        """
        target = self.adjoint.output_shape(tuple(out_shape))
        if target == x.shape:
            return x
        stretched = np.full(target, sp.Integer(0), dtype=object)
        stretched[:, :, :x.shape[2], :x.shape[3]] = x
        return stretched

    def forward(self, x, params):
        out_shape = self.output_shape(x.shape)
        stretched = self._stretched(x, out_shape)
        zeros = np.full(out_shape, sp.Integer(0), dtype=object)
        out = self.adjoint.backward(stretched, zeros, stretched, {"weight": params["weight"]}).input
        if self.bias:
            for n, o, h, w in np.ndindex(*out.shape):
                out[n, o, h, w] = tensor.add_all([out[n, o, h, w], params["bias"][o]])
        return out

    def backward(self, delta, x, out, params):
        stretched = self._stretched(x, out.shape)
        conv = {"weight": params["weight"]}
        dx = self.adjoint.forward(delta, conv)[:, :, :x.shape[2], :x.shape[3]]
        dw = self.adjoint.backward(stretched, delta, stretched, conv).params["weight"]
        grads = {"weight": dw}
        if self.bias:
            grads["bias"] = tensor.vector(tensor.add_all(delta[:, o].reshape(-1)) for o in range(self.out_channels))
        return Gradients(input=np.ascontiguousarray(dx), params=grads)

    def array_options(self, in_shape):
        return {"stride": tuple(int(v) for v in self.stride), "padding": tuple(int(v) for v in self.padding),
                "output_padding": tuple(int(v) for v in self.output_padding),
                "dilation": tuple(int(v) for v in self.dilation), "groups": int(self.groups)}

    # ---------------------------------------------------------------- torch: twin, converter, init

    def torch_module(self):
        import torch

        return torch.nn.ConvTranspose2d(self.in_channels, self.out_channels, self.kernel_size, stride=self.stride,
                                        padding=self.padding, output_padding=self.output_padding,
                                        groups=self.groups, bias=self.bias, dilation=self.dilation)

    @classmethod
    def from_torch(cls, module):
        return cls(module.in_channels, module.out_channels, module.kernel_size, stride=module.stride,
                   padding=module.padding, output_padding=module.output_padding, groups=module.groups,
                   bias=module.bias is not None, dilation=module.dilation, padding_mode=module.padding_mode)

    def initial_values(self, rng):
        """torch's init, as Conv2d's: fan_in = weight.size(1) * kh * kw reads out_channels/groups here (dim 1 of
        the transposed layout), exactly what torch's kaiming_uniform(a=sqrt(5)) reads."""
        return uniform_fan_in(rng, self.parameter_shapes())

    def figure(self, in_shape, x):
        """Marks for the printer's grid: the input entries (i, j) in dL/dK_{1,1}, whose tap (1, 1) lands inside."""
        _, _, ho, wo = self.output_shape(tuple(in_shape))
        (sh, sw), (dh, dw), (ph, pw) = self.stride, self.dilation, self.padding
        return {(i, j): "" for i in range(in_shape[2]) for j in range(in_shape[3])
                if 1 <= tap(sh, dh, ph, i + 1, 1) <= ho and 1 <= tap(sw, dw, pw, j + 1, 1) <= wo}

    # ---------------------------------------------------------------- index forms with this layer's numbers

    def index_instance(self, key: str, in_shape) -> str:
        (sh, sw), (dh, dw), (kh, kw), (ph, pw) = self.stride, self.dilation, self.kernel_size, self.padding
        _, _, hi, wi = in_shape
        rows, cols = tap_tex(sh, dh, ph, "i", "a"), tap_tex(sw, dw, pw, "j", "b")
        per_in, per_out = self.in_channels // self.groups, self.out_channels // self.groups
        star = r"o^{*}" if self.groups > 1 else "o"
        where = (r", \quad o^{*} = o + %d\left\lfloor \tfrac{c-1}{%d} \right\rfloor" % (per_out, per_in)
                 if self.groups > 1 else "")
        taps = r"\sum_{a=1}^{%d} \sum_{b=1}^{%d} " % (kh, kw)
        inputs = r"\sum_{i=1}^{%d} \sum_{j=1}^{%d} " % (hi, wi)
        if key == "forward":
            bias = r"b_{o} + " if self.bias else ""
            if self.groups > 1:
                q = r"\left\lfloor \tfrac{o-1}{%d} \right\rfloor" % per_out
                kernel, image = r"c^{*},o'", r"c^{*}"
                where = r", \quad c^{*} = c + %s%s, \quad o' = o - %d%s" % (per_in if per_in > 1 else "", q, per_out, q)
            else:
                kernel, image, where = "c,o", "c", ""
            return (r"\sigma_{n,o,h,w} = %s\sum_{c=1}^{%d} %s%sK_{%s,a,b}\, X_{n,%s,i,j}\, [\,h = %s\,]\, "
                    r"[\,w = %s\,]%s") % (bias, per_in, taps, inputs, kernel, image, rows, cols, where)
        if key == "input":
            return (r"\frac{\partial L}{\partial X_{n,c,i,j}} = \sum_{o=1}^{%d} %sK_{c,o,a,b}\, "
                    r"\delta_{n,%s,\; %s,\; %s}%s") % (per_out, taps, star, rows, cols, where)
        if key == "weight":
            return r"\frac{\partial L}{\partial K_{c,o,a,b}} = \sum_{n} %sX_{n,c,i,j}\, \delta_{n,%s,\; %s,\; %s}%s" % (
                inputs, star, rows, cols, where)
        if key == "bias":
            _, _, ho, wo = self.output_shape(tuple(in_shape))
            return r"\frac{\partial L}{\partial b_{o}} = \sum_{n} \sum_{h=1}^{%d} \sum_{w=1}^{%d} \delta_{n,o,h,w}" % (
                ho, wo)
        return ""


def _o_star(layer: ConvTranspose2d, c: int, o: int) -> int:
    """o* = o + (C_out/g) floor((c-1) g / C_in), 1-based: the output channel that K_{c,o} writes."""
    return o + (layer.out_channels // layer.groups) * ((c - 1) * layer.groups // layer.in_channels)


def _bracket(s: int, d: int, p: int, h: int, a: int, size: int):
    """The input position i (1-based) whose bracket [h = s(i-1) + d(a-1) - p + 1] holds for output h, tap a;
    None when no i in 1..size does (the sum over i of the bracketed terms is that one term, or nothing)."""
    i, rest = divmod(h - d * (a - 1) + p - 1, s)
    return i + 1 if rest == 0 and 0 <= i < size else None


def _forward_by_index_form(layer: ConvTranspose2d, x, params, delta=None):
    """The gather as written: each output entry sums K X over its group's channels and taps, at the inputs
    (i, j) whose brackets [h = tap] [w = tap] hold."""
    (sh, sw), (dh, dw), (kh, kw), (ph, pw) = layer.stride, layer.dilation, layer.kernel_size, layer.padding
    per_in, per_out = layer.in_channels // layer.groups, layer.out_channels // layer.groups
    out = np.empty(layer.output_shape(x.shape), dtype=object)
    for n, o, h, w in np.ndindex(*out.shape):
        q = o * layer.groups // layer.out_channels  # 0-based o: floor((o-1) g / C_out) for the 1-based o
        total = params["bias"][o] if layer.bias else sp.Integer(0)
        for c, a, b in np.ndindex(per_in, kh, kw):
            i, j = _bracket(sh, dh, ph, h + 1, a + 1, x.shape[2]), _bracket(sw, dw, pw, w + 1, b + 1, x.shape[3])
            if i is not None and j is not None:
                total += params["weight"][c + per_in * q, o - per_out * q, a, b] * x[n, c + per_in * q, i - 1, j - 1]
        out[n, o, h, w] = total
    return out


def _input_by_index_form(layer: ConvTranspose2d, x, params, delta):
    (sh, sw), (dh, dw), (kh, kw), (ph, pw) = layer.stride, layer.dilation, layer.kernel_size, layer.padding
    grad = np.empty(x.shape, dtype=object)
    for n, c, i, j in np.ndindex(*x.shape):
        grad[n, c, i, j] = sum((params["weight"][c, o, a, b] * at(
            delta, n, _o_star(layer, c + 1, o + 1) - 1, tap(sh, dh, ph, i + 1, a + 1), tap(sw, dw, pw, j + 1, b + 1))
            for o, a, b in np.ndindex(layer.out_channels // layer.groups, kh, kw)), sp.Integer(0))
    return grad


def _weight_by_index_form(layer: ConvTranspose2d, x, params, delta):
    (sh, sw), (dh, dw), (ph, pw) = layer.stride, layer.dilation, layer.padding
    grad = np.empty(params["weight"].shape, dtype=object)
    for c, o, a, b in np.ndindex(*grad.shape):
        grad[c, o, a, b] = sum((x[n, c, i, j] * at(
            delta, n, _o_star(layer, c + 1, o + 1) - 1, tap(sh, dh, ph, i + 1, a + 1), tap(sw, dw, pw, j + 1, b + 1))
            for n, i, j in np.ndindex(x.shape[0], *x.shape[2:])), sp.Integer(0))
    return grad


def _bias_by_index_form(layer: ConvTranspose2d, x, params, delta):
    return np.array([sum(delta[:, o].reshape(-1), sp.Integer(0)) for o in range(delta.shape[1])], dtype=object)


ConvTranspose2d.index_rules = {"forward": _forward_by_index_form, "input": _input_by_index_form,
                               "weight": _weight_by_index_form, "bias": _bias_by_index_form}


# ---------------------------------------------------------------- array twin: whole float64 arrays (generated code)
#
# The same transpose on arrays: the forward is Conv2d's col2im (kernel^T @ x gives one plane per kernel tap,
# each added at its strided offset of a canvas, then the padding cropped off), the backward is Conv2d's im2col
# forward of delta (the canvas's windows against the kernel) and its weight gradient with x and delta swapped.
# The canvas is the output with p rows/columns on each side: s(H-1) + d(k-1) + 1 + output_padding long.


def _conv_transpose2d_layout(x, weight, batch, groups):
    """x as (*batch, N, g, C/g, H*W) and the kernel as (*batch, 1, g, C/g, O/g*kh*kw): the matmul operands."""
    in_channels, per_out, kh, kw = weight.shape[-4:]
    n, _, height, width = x.shape[-4:]
    per_in = in_channels // groups
    images = np.broadcast_to(x, tuple(batch) + (n, in_channels, height, width)).reshape(
        tuple(batch) + (n, groups, per_in, height * width))
    kernels = np.broadcast_to(weight, tuple(batch) + (in_channels, per_out, kh, kw)).reshape(
        tuple(batch) + (1, groups, per_in, per_out * kh * kw))
    return images, kernels


def _conv_transpose2d_canvas(height, width, kernel, stride, dilation, output_padding):
    """The output's size before its padding is cropped off: s(H-1) + d(k-1) + 1 + output_padding per axis."""
    return tuple(s * (size - 1) + d * (k - 1) + 1 + op
                 for size, k, s, d, op in zip((height, width), kernel, stride, dilation, output_padding))


def _conv_transpose2d_forward(x, weight, bias=None, *, stride, padding, output_padding, dilation, groups):
    """sigma (*batch, N, O, OH, OW) of x (*bx, N, C, H, W), weight (*bw, C, O/g, kh, kw); batches broadcast."""
    x, weight = np.asarray(x, dtype=np.float64), np.asarray(weight, dtype=np.float64)
    in_channels, per_out, kh, kw = weight.shape[-4:]
    n, _, height, width = x.shape[-4:]
    batch = tuple(np.broadcast_shapes(x.shape[:-4], weight.shape[:-4], () if bias is None else np.shape(bias)[:-1]))
    images, kernels = _conv_transpose2d_layout(x, weight, batch, groups)
    planes = np.matmul(kernels.swapaxes(-1, -2), images).reshape(
        batch + (n, groups * per_out, kh, kw, height, width))
    ph, pw = padding
    ch, cw = _conv_transpose2d_canvas(height, width, (kh, kw), stride, dilation, output_padding)
    canvas = window_add(np.zeros(batch + (n, groups * per_out, ch, cw)), planes, stride, dilation)
    out = canvas[..., ph:ch - ph, pw:cw - pw]
    if bias is not None:
        out = out + np.asarray(bias, dtype=np.float64)[..., None, :, None, None]
    return np.ascontiguousarray(out)


def _conv_transpose2d_backward(delta, x, out, weight, bias=None, *, want_input=True, stride, padding, output_padding,
                               dilation, groups):
    """(dx or None, dweight[, dbias]) per problem from delta (*batch, N, O, OH, OW): sums over N, not batch.

    delta is put back on the canvas; its windows (one per input position, im2col) against the kernel give dx
    (Conv2d's forward), and against x give dweight (Conv2d's weight gradient, input and delta swapped).
    """
    x, weight = np.asarray(x, dtype=np.float64), np.asarray(weight, dtype=np.float64)
    delta = np.asarray(delta, dtype=np.float64)
    in_channels, per_out, kh, kw = weight.shape[-4:]
    n, _, height, width = x.shape[-4:]
    oh, ow = delta.shape[-2:]
    batch = tuple(np.broadcast_shapes(x.shape[:-4], weight.shape[:-4], delta.shape[:-4],
                                      () if bias is None else np.shape(bias)[:-1]))
    images, kernels = _conv_transpose2d_layout(x, weight, batch, groups)
    ph, pw = padding
    ch, cw = _conv_transpose2d_canvas(height, width, (kh, kw), stride, dilation, output_padding)
    canvas = np.zeros(batch + (n, groups * per_out, ch, cw))
    canvas[..., ph:ph + oh, pw:pw + ow] = delta
    # one window per input position: the view has more when output_padding >= stride, so keep the first ones
    windows = window_view(canvas, (kh, kw), stride, dilation)[..., :height, :width]
    columns = windows.reshape(batch + (n, groups, per_out * kh * kw, height * width))
    dweight = np.matmul(images, columns.swapaxes(-1, -2)).sum(axis=-4).reshape(
        batch + (in_channels, per_out, kh, kw))
    dx = np.matmul(kernels, columns).reshape(batch + (n, in_channels, height, width)) if want_input else None
    if bias is None:
        return dx, dweight
    return dx, dweight, np.broadcast_to(delta, batch + delta.shape[-4:]).sum(axis=(-4, -2, -1))


ConvTranspose2d.array_twin = {"forward": _conv_transpose2d_forward, "backward": _conv_transpose2d_backward}
