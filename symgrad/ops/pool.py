"""MaxPool2d and AvgPool2d: windows, padding, ceil_mode and divisors exactly as torch."""

from __future__ import annotations

from math import prod

import numpy as np
import sympy as sp

from ..core import tensor
from ..core.errors import OptionError
from . import options as opt
from .argmax import FirstArgmax
from .base import Gradients, ParameterlessLayer
from .geometry import per_axis, pool_formula, pool_out_size, taps
from .indexing import COL, ROW, tap, tap_tex


class _Pool2d(ParameterlessLayer):
    """What both pools share: options, torch's padding checks, output shape, windows."""

    dilation = (1, 1)
    output_letter = "S"
    rule_words = "general"

    def __init__(self, kernel_size, stride, padding, ceil_mode):
        super().__init__()
        w = self.type_name
        # torch's pooling kernels read these four as 32-bit C ints (opt.INT32)
        self.kernel_size = opt.pair(w, "kernel_size", kernel_size, 1, bits=32)
        self.stride = self.kernel_size if stride is None or (isinstance(stride, list) and not stride) \
            else opt.pair(w, "stride", stride, 1, bits=32)
        self.padding = opt.pair(w, "padding", padding, 0, bits=32)
        self.ceil_mode = opt.boolean(w, "ceil_mode", ceil_mode)

    def default_options(self):
        return {**super().default_options(), "stride": self.kernel_size}  # torch's stride=None

    def terms(self, in_shape, out_shape):
        """Each output reads the part of its window within the input."""
        return prod(out_shape) * prod(min(k, n) for k, n in zip(self.kernel_size, in_shape[-2:]))

    def _check_padding(self):
        for k, p, d in zip(self.kernel_size, self.padding, self.dilation):
            effective = (k - 1) * d + 1
            if p > effective // 2:
                raise OptionError(self.where, "padding",
                                  f"pad should be at most half of effective kernel size, but got pad={p}, "
                                  f"kernel_size={k} and dilation={d}")
        for k, p in zip(self.kernel_size, self.padding):
            if p > k // 2:
                raise OptionError(self.where, "padding",
                                  f"pad should be smaller than or equal to half of kernel size, but got pad={p}, kernel_size={k}")

    def output_shape(self, in_shape):
        if len(in_shape) != 4:
            raise OptionError(self.where, "input", f"expected a 4-D input (N, C, H, W), got shape {list(in_shape)}")
        sizes = tuple(pool_out_size(size, k, s, p, d, self.ceil_mode)
                      for size, k, s, p, d in zip(in_shape[2:], self.kernel_size, self.stride, self.padding, self.dilation))
        if min(sizes) < 1:
            raise OptionError(self.where, "kernel_size",
                              f"output size is too small: input {in_shape[2]}x{in_shape[3]} gives {sizes[0]}x{sizes[1]}")
        return (*in_shape[:2], *sizes)

    def shape_formula(self, in_shape):
        dilations = (None, None) if isinstance(self, AvgPool2d) else self.dilation  # AvgPool2d has no dilation
        return per_axis([pool_formula(size, k, s, p, d, self.ceil_mode) for size, k, s, p, d in zip(
            in_shape[2:], self.kernel_size, self.stride, self.padding, dilations)])

    def _windows(self, in_shape, out_shape):
        """For each output (i, j): the input positions (h, w) of its window, row-major."""
        rows = [[h for _, h in taps(i, self.kernel_size[0], self.stride[0], self.padding[0], self.dilation[0], in_shape[2])]
                for i in range(out_shape[2])]
        cols = [[w for _, w in taps(j, self.kernel_size[1], self.stride[1], self.padding[1], self.dilation[1], in_shape[3])]
                for j in range(out_shape[3])]
        return rows, cols


class MaxPool2d(_Pool2d):
    type_name = "MaxPool2d"
    words = {
        "en": {
            "note:input": "The argmax is the first maximum of the window, row by row (torch's rule for ties); "
                          "windows that overlap add up.",
            "figure": "Max pooling routes each window's $\\delta$ to its first maximum (highlighted, with the "
                      "window (i, j) it comes from).",
        },
        "zh": {
            "note:input": "$\\operatorname{argmax}$ 取窗口中按行优先的第一个最大值（与 torch 处理相等值的规则一致）；窗口重叠时梯度累加。",
            "figure": "最大值池化把每个窗口的 $\\delta$ 传给窗口中第一个最大值（高亮，并标出来自哪个窗口 $(i, j)$）。",
        },
    }
    index_form = {
        "forward": r"\begin{gathered}S_{c,i,j} = \max_{(h,w) \in W_{i,j}} X_{c,h,w} \\ W_{i,j} = \left\{\left("
                   + ROW + ",\\; " + COL + r"\right)\right\}_{a \le k_h,\, b \le k_w} "
                   r"\cap [1,H] \times [1,W]\end{gathered}",
        "input": r"\frac{\partial L}{\partial X_{c,h,w}} = \sum_{i,j} \delta_{c,i,j}\, "
                 r"\mathbb{I}\left[(h,w) = \operatorname*{argmax}_{(u,v) \in W_{i,j}} X_{c,u,v}\right]"

    }

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.dilation = opt.pair(self.type_name, "dilation", dilation, 1, bits=32)
        if opt.boolean(self.type_name, "return_indices", return_indices):
            raise OptionError(self.type_name, "return_indices", "is not supported: the output must be a tensor")
        self._check_padding()

    @classmethod
    def from_torch(cls, module):
        return cls(module.kernel_size, module.stride, module.padding, module.dilation,
                   return_indices=module.return_indices, ceil_mode=module.ceil_mode)

    def options(self):
        return {"kernel_size": self.kernel_size, "stride": self.stride, "padding": self.padding,
                "dilation": self.dilation, "ceil_mode": self.ceil_mode}

    def array_options(self, in_shape):
        """The options as the twin takes them; any leading axes are batch axes, so the shape is not needed."""
        return {"kernel_size": self.kernel_size, "stride": self.stride, "padding": self.padding,
                "dilation": self.dilation, "ceil_mode": self.ceil_mode}

    def output_shape(self, in_shape):
        """As torch, except that a window lying wholly in the padding (possible with dilation) is refused:
        torch outputs -inf there and routes its gradient arbitrarily."""
        out_shape = super().output_shape(in_shape)
        rows, cols = self._windows(in_shape, out_shape)
        for axis, windows in (("height", rows), ("width", cols)):
            empty = [i for i, window in enumerate(windows) if not window]
            if empty:
                raise OptionError(self.where, "dilation", f"window {empty[0] + 1} along the {axis} lies entirely in "
                                                          "the padding (torch would output -inf there)")
        return out_shape

    def forward(self, x, params):
        out_shape = self.output_shape(x.shape)
        rows, cols = self._windows(x.shape, out_shape)
        out = np.empty(out_shape, dtype=object)
        for n, c, i, j in np.ndindex(*out_shape):
            window = [x[n, c, h, w] for h in rows[i] for w in cols[j]]
            # SymPy's Max compares symbolic arguments pairwise through the assumptions system,
            # which dominates the run time; numbers substituted later still evaluate it.
            out[n, c, i, j] = sp.Max(*window, evaluate=all(v.is_number for v in window))
        return out

    def backward(self, delta, x, out, params):
        rows, cols = self._windows(x.shape, out.shape)
        dx = tensor.term_lists(x.shape)
        for n, c, i, j in np.ndindex(*out.shape):
            d = delta[n, c, i, j]
            if d == 0:
                continue
            positions = [(h, w) for h in rows[i] for w in cols[j]]
            window = [x[n, c, h, w] for h, w in positions]
            for k, (h, w) in enumerate(positions):
                route = FirstArgmax(k, *window)
                if route != 0:
                    dx[n, c, h, w].append(d * route)
        return Gradients(input=tensor.collect(dx))

    def index_instance(self, key, in_shape):
        """The index form with this layer's numbers: the window W_ij written out."""
        window = _window_tex(self)
        if key == "forward":
            return r"\begin{gathered}S_{i,j} = \max_{(h,w) \in W_{i,j}} X_{h,w} \\ %s\end{gathered}" % window
        if key == "input":
            return (r"\begin{gathered}\frac{\partial L}{\partial X_{h,w}} = \sum_{i,j} \delta_{i,j}\, \mathbb{I}\left[(h,w) = "
                    r"\operatorname*{argmax}_{(u,v) \in W_{i,j}} X_{u,v}\right] \\ %s\end{gathered}" % window)
        return ""

    def figure(self, in_shape, x):
        """The printer's grid for sample 0, channel 0 (None if symbolic): where each window routes its delta
        (marks), the padding ring (read as -inf, so it never wins) and each window's outline."""
        _, _, ho, wo = self.output_shape(tuple(in_shape))
        if not all(v.is_comparable for v in x[0, 0].reshape(-1)):
            return None
        marks: dict[tuple[int, int], list[str]] = {}
        for i in range(1, ho + 1):
            for j in range(1, wo + 1):
                h, w = _first_argmax(x, 0, 0, _window(self, in_shape, i, j))
                marks.setdefault((h - 1, w - 1), []).append(f"{i},{j}")
        return {"marks": {position: "; ".join(windows) for position, windows in marks.items()},
                "pad": self.padding, "fill": r"-\infty", "windows": _outlines(self, in_shape)}

    def torch_module(self):
        import torch

        return torch.nn.MaxPool2d(self.kernel_size, self.stride, self.padding, self.dilation, ceil_mode=self.ceil_mode)


#: AvgPool2d's tap: torch's AvgPool2d has no dilation, so its rule has no d.
_ROW_UNDILATED, _COL_UNDILATED = "s(i-1) + a - p", "s(j-1) + b - p"


class AvgPool2d(_Pool2d):
    type_name = "AvgPool2d"
    rule_words = "general_undilated"
    words = {
        "en": {
            "note:forward": "$D_{i,j}$ is torch's divisor: explicit padding counts with `count_include_pad`, "
                            "the `ceil_mode` overhang never does.",
            "figure": "Average pooling spreads each window's $\\delta$ evenly: every cell of a window receives "
                      "$\\delta_{i,j}/D_{i,j}$ (its share, written in the cell), and a cell in several windows adds "
                      "their shares; padding cells, drawn around the input when there are any, read as 0.",
        },
        "zh": {
            "note:forward": "$D_{i,j}$ 是 torch 的除数：`count_include_pad` 时计入显式填充，但从不计入 `ceil_mode` 多出的部分。",
            "figure": "平均池化把每个窗口的 $\\delta$ 平均分给窗口中的每个元素：每个元素得到 "
                      "$\\delta_{i,j}/D_{i,j}$（写在格子里），属于多个窗口的元素把各份相加；有填充时，"
                      "画在输入四周的填充格按 0 计。",
        },
    }
    index_form = {
        "forward": r"\begin{gathered}S_{c,i,j} = \frac{1}{D_{i,j}} \sum_{(h,w) \in W_{i,j}} X_{c,h,w} \\ "
                   r"W_{i,j} = \left\{\left(" + _ROW_UNDILATED + ",\\; " + _COL_UNDILATED + r"\right)\right\}_{a \le k_h,\, b \le k_w} "
                   r"\cap [1,H] \times [1,W] \\ D_{i,j} = \begin{cases} \text{divisor\_override} & \text{divisor\_override} \neq \text{None} \\ "
                   r"\left(\min(h_0 + k_h, H + p) - h_0\right)\left(\min(w_0 + k_w, W + p) - w_0\right) "
                   r"& \text{count\_include\_pad} = \text{True} \\ |W_{i,j}| & \text{count\_include\_pad} = \text{False} \end{cases} \\ "
                   r"h_0 = s(i-1) - p,\ w_0 = s(j-1) - p\end{gathered}",
        "input": r"\frac{\partial L}{\partial X_{c,h,w}} = \sum_{(i,j):\, (h,w) \in W_{i,j}} \frac{\delta_{c,i,j}}{D_{i,j}}",
    }

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad = opt.boolean(self.type_name, "count_include_pad", count_include_pad)
        if divisor_override is not None:
            divisor_override = opt.integer(self.type_name, "divisor_override", divisor_override, bits=64)
            if divisor_override == 0:
                raise OptionError(self.type_name, "divisor_override", "divisor must be not zero")
        self.divisor_override = divisor_override
        self._check_padding()

    @classmethod
    def from_torch(cls, module):
        return cls(module.kernel_size, module.stride, module.padding, ceil_mode=module.ceil_mode,
                   count_include_pad=module.count_include_pad, divisor_override=module.divisor_override)

    def options(self):
        return {"kernel_size": self.kernel_size, "stride": self.stride, "padding": self.padding,
                "ceil_mode": self.ceil_mode, "count_include_pad": self.count_include_pad,
                "divisor_override": self.divisor_override}

    def array_options(self, in_shape):
        """The options as the twin takes them (no dilation: torch's AvgPool2d has none)."""
        return {"kernel_size": self.kernel_size, "stride": self.stride, "padding": self.padding,
                "ceil_mode": self.ceil_mode, "count_include_pad": self.count_include_pad,
                "divisor_override": self.divisor_override}

    def _extent(self, out_index, axis, size):
        """(window length counting explicit padding, length inside the input) along one axis.

        torch clips the window end at size + pad *before* clipping to the input, so
        count_include_pad counts explicit padding but never the ceil-mode overhang.
        """
        start = out_index * self.stride[axis] - self.padding[axis]
        end = min(start + self.kernel_size[axis], size + self.padding[axis])
        return end - start, min(end, size) - max(start, 0)

    def divisor(self, i, j, in_shape) -> int:
        if self.divisor_override is not None:
            return self.divisor_override
        (padded_h, inside_h), (padded_w, inside_w) = self._extent(i, 0, in_shape[2]), self._extent(j, 1, in_shape[3])
        return padded_h * padded_w if self.count_include_pad else inside_h * inside_w

    def forward(self, x, params):
        out_shape = self.output_shape(x.shape)
        rows, cols = self._windows(x.shape, out_shape)
        out = np.empty(out_shape, dtype=object)
        for n, c, i, j in np.ndindex(*out_shape):
            total = tensor.add_all([x[n, c, h, w] for h in rows[i] for w in cols[j]])
            out[n, c, i, j] = total / self.divisor(i, j, x.shape)
        return out

    def backward(self, delta, x, out, params):
        rows, cols = self._windows(x.shape, out.shape)
        dx = tensor.term_lists(x.shape)
        for n, c, i, j in np.ndindex(*out.shape):
            share = delta[n, c, i, j] / self.divisor(i, j, x.shape)
            if share == 0:
                continue
            for h in rows[i]:
                for w in cols[j]:
                    dx[n, c, h, w].append(share)
        return Gradients(input=tensor.collect(dx))

    def index_instance(self, key, in_shape):
        """The index form with this layer's numbers: W_ij written out and the divisors D_ij."""
        _, _, ho, wo = self.output_shape(tuple(in_shape))
        divisors = [[_divisor_by_index_form(self, in_shape, i, j) for j in range(1, wo + 1)] for i in range(1, ho + 1)]
        flat = {d for row in divisors for d in row}
        if len(flat) == 1:
            shown = r"D_{i,j} = %d" % flat.pop()
        elif ho * wo <= 36:
            shown = r"D = \begin{bmatrix}%s\end{bmatrix}" % r" \\ ".join(" & ".join(str(d) for d in row) for row in divisors)
        else:
            shown = r"D_{i,j} \in \{%s\}" % ", ".join(str(d) for d in sorted(flat))
        rule = {"forward": r"S_{i,j} = \frac{1}{D_{i,j}} \sum_{(h,w) \in W_{i,j}} X_{h,w}",
                "input": r"\frac{\partial L}{\partial X_{h,w}} = \sum_{(i,j):\, (h,w) \in W_{i,j}} \frac{\delta_{i,j}}{D_{i,j}}"}
        if key not in rule:
            return ""
        return r"\begin{gathered}%s \\ %s, \quad %s\end{gathered}" % (rule[key], _window_tex(self), shown)

    def figure(self, in_shape, x):
        """The printer's grid for sample 0, channel 0: each cell's share delta_ij / D_ij of every window
        holding it (marks), the padding ring (zeros) and each window's outline."""
        _, _, ho, wo = self.output_shape(tuple(in_shape))
        shares: dict[tuple[int, int], list[str]] = {}
        for i in range(1, ho + 1):
            for j in range(1, wo + 1):
                share = r"\delta_{%s}/%d" % (_pair(i, j), _divisor_by_index_form(self, in_shape, i, j))
                for h, w in _window(self, in_shape, i, j):
                    shares.setdefault((h - 1, w - 1), []).append(share)
        return {"marks": {position: "$%s$" % " + ".join(parts) for position, parts in shares.items()},
                "pad": self.padding, "fill": "0", "windows": _outlines(self, in_shape)}

    def torch_module(self):
        import torch

        return torch.nn.AvgPool2d(self.kernel_size, self.stride, self.padding, ceil_mode=self.ceil_mode,
                                  count_include_pad=self.count_include_pad, divisor_override=self.divisor_override)


# -------------------------------------------------------------------- index forms: instances, evaluation, figures

def _window_tex(layer: _Pool2d) -> str:
    """W_{i,j} with this layer's numbers: the rows and columns one window covers."""
    (sh, sw), (dh, dw), (ph, pw), (kh, kw) = layer.stride, layer.dilation, layer.padding, layer.kernel_size
    return (r"W_{i,j} = \left\{\left(%s,\; %s\right) : 1 \le a \le %d,\ 1 \le b \le %d\right\} \cap [1,H] \times [1,W]"
            % (tap_tex(sh, dh, ph, "i", "a"), tap_tex(sw, dw, pw, "j", "b"), kh, kw))


def _window(layer: _Pool2d, in_shape, i: int, j: int) -> list[tuple[int, int]]:
    """W_{i,j} by the index form (1-based i, j and positions), row-major."""
    (sh, sw), (dh, dw), (ph, pw), (kh, kw) = layer.stride, layer.dilation, layer.padding, layer.kernel_size
    rows = [tap(sh, dh, ph, i, a) for a in range(1, kh + 1)]
    cols = [tap(sw, dw, pw, j, b) for b in range(1, kw + 1)]
    return [(h, w) for h in rows if 1 <= h <= in_shape[2] for w in cols if 1 <= w <= in_shape[3]]


def _outlines(layer: _Pool2d, in_shape) -> list[tuple[int, int, int, int]]:
    """Each window's span (top, left, bottom, right; 0-based, exclusive ends) within input and padding."""
    _, _, ho, wo = layer.output_shape(tuple(in_shape))
    (sh, sw), (dh, dw), (ph, pw), (kh, kw) = layer.stride, layer.dilation, layer.padding, layer.kernel_size
    spans = []
    for i in range(1, ho + 1):
        for j in range(1, wo + 1):
            top, left = tap(sh, dh, ph, i, 1) - 1, tap(sw, dw, pw, j, 1) - 1
            bottom, right = tap(sh, dh, ph, i, kh), tap(sw, dw, pw, j, kw)
            spans.append((max(top, -ph), max(left, -pw), min(bottom, in_shape[2] + ph), min(right, in_shape[3] + pw)))
    return spans


def _pair(i: int, j: int) -> str:
    """Two 1-based indices as the page writes them: 11, or 1,10 when one has two digits."""
    return f"{i}{j}" if i < 10 and j < 10 else f"{i},{j}"


def _first_argmax(x, n, c, window):
    """The first (row-major) position of the window's maximum: a later entry must be strictly larger."""
    best = window[0]
    for h, w in window[1:]:
        if x[n, c, h - 1, w - 1] > x[n, c, best[0] - 1, best[1] - 1]:
            best = (h, w)
    return best


def _max_forward_by_index_form(layer, x, params, delta=None):
    out = np.empty(layer.output_shape(x.shape), dtype=object)
    for n, c, i, j in np.ndindex(*out.shape):
        out[n, c, i, j] = sp.Max(*[x[n, c, h - 1, w - 1] for h, w in _window(layer, x.shape, i + 1, j + 1)])
    return out


def _max_input_by_index_form(layer, x, params, delta):
    grad = np.full(x.shape, sp.Integer(0), dtype=object)
    for n, c, i, j in np.ndindex(*delta.shape):
        h, w = _first_argmax(x, n, c, _window(layer, x.shape, i + 1, j + 1))
        grad[n, c, h - 1, w - 1] += delta[n, c, i, j]
    return grad


MaxPool2d.index_rules = {"forward": _max_forward_by_index_form, "input": _max_input_by_index_form}


def _divisor_by_index_form(layer, in_shape, i: int, j: int) -> int:
    """D_{i,j} as the index form states it (1-based i, j)."""
    if layer.divisor_override is not None:
        return layer.divisor_override
    if not layer.count_include_pad:
        return len(_window(layer, in_shape, i, j))
    (sh, sw), (ph, pw), (kh, kw) = layer.stride, layer.padding, layer.kernel_size
    h0, w0 = sh * (i - 1) - ph, sw * (j - 1) - pw
    return (min(h0 + kh, in_shape[2] + ph) - h0) * (min(w0 + kw, in_shape[3] + pw) - w0)


def _avg_forward_by_index_form(layer, x, params, delta=None):
    out = np.empty(layer.output_shape(x.shape), dtype=object)
    for n, c, i, j in np.ndindex(*out.shape):
        window = _window(layer, x.shape, i + 1, j + 1)
        total = sum((x[n, c, h - 1, w - 1] for h, w in window), sp.Integer(0))
        out[n, c, i, j] = total / _divisor_by_index_form(layer, x.shape, i + 1, j + 1)
    return out


def _avg_input_by_index_form(layer, x, params, delta):
    grad = np.full(x.shape, sp.Integer(0), dtype=object)
    for n, c, i, j in np.ndindex(*delta.shape):
        share = delta[n, c, i, j] / _divisor_by_index_form(layer, x.shape, i + 1, j + 1)
        for h, w in _window(layer, x.shape, i + 1, j + 1):
            grad[n, c, h - 1, w - 1] += share
    return grad


AvgPool2d.index_rules = {"forward": _avg_forward_by_index_form, "input": _avg_input_by_index_form}


# ----------------------------------------------------------- array twins: whole float64 arrays at once
#
# For generated code at scale (docs/numeric.md, "array form"); codegen copies these functions and the
# `_pool_*` helpers they call into generated modules, so they use nothing but `np`. The window grid does
# not depend on the data: one strided view of the (padded) input per kernel offset holds that offset of
# every window, so the loops run over the kh*kw offsets, never over output positions.

def _pool_axis(size, kernel, stride, pad, dilation, ceil_mode):
    """One axis of torch's window grid: (padding needed after the input, per kernel offset the strided
    slice of the padded input it reads, the window starts in input coordinates)."""
    span = dilation * (kernel - 1)
    out = (size + 2 * pad - span - 1 + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1  # torch drops a last window that would start in the right padding
    after = max(0, (out - 1) * stride + span + 1 - pad - size)  # ceil_mode windows may overhang the padding
    reads = [slice(a * dilation, a * dilation + (out - 1) * stride + 1, stride) for a in range(kernel)]
    return after, reads, np.arange(out) * stride - pad


def _pool_pad(x, rows, cols, fill):
    """x inside a border of `fill`, (before, after) rows and columns; x itself when there is no border."""
    (top, bottom), (left, right) = rows, cols
    if not (top or bottom or left or right):
        return x
    h, w = x.shape[-2:]
    padded = np.full(x.shape[:-2] + (top + h + bottom, left + w + right), fill, dtype=np.float64)
    padded[..., top:top + h, left:left + w] = x
    return padded


def _pool_views(xp, rows, cols):
    """Per kernel offset, row-major: the strided view of xp holding that offset of every window."""
    return [xp[..., r, c] for r in rows for c in cols]


def _pool_first_inside(size, kernel, dilation, starts):
    """Per window along one axis, its first kernel offset that falls inside the input."""
    positions = starts[:, None] + np.arange(kernel) * dilation
    return np.argmax((positions >= 0) & (positions < size), axis=1)  # argmax: the first True


def _pool_disjoint(kernel_size, stride, dilation):
    """Whether no input position lies in two windows: then each offset's view of the gradient can be
    written, not added to (a strided read-modify-write and a temporary less)."""
    return all(s > d * (k - 1) for k, s, d in zip(kernel_size, stride, dilation))


def _pool_max_winner(xp, rows, cols, first):
    """Per window, the kernel offset (row-major) torch routes its gradient to. torch's scan starts at
    the window's first position inside the input with best = -inf and moves on when `value > best or
    isnan(value)`: the first maximum wins, the last NaN, and an all -inf window keeps its first position.
    Padding reads as -inf, so it never wins. Arithmetic on small integers, not masked writes (several
    times faster): offsets grow, so a move is a maximum with the offset; NaNs, rare, are routed afterwards."""
    views = _pool_views(xp, rows, cols)
    winner = np.empty(views[0].shape, dtype=np.int8 if len(views) < 128 else np.intp)
    winner[...] = first
    best = views[0].copy()  # the scan's first step; winner stays `first` (0 when offset 0 is inside)
    for offset, value in enumerate(views[1:], 1):
        np.maximum(winner, np.multiply(value > best, offset, dtype=winner.dtype), out=winner)
        np.maximum(best, value, out=best)  # a NaN sticks, as torch's best after a NaN
    if np.isnan(best).any():
        for offset, value in enumerate(views):
            winner = np.where(np.isnan(value), offset, winner)
    return winner


def _max_pool2d_forward(x, *, kernel_size, stride, padding, dilation, ceil_mode):
    """Each window's maximum (NaN if it holds one, as torch); padding reads as -inf."""
    h, w = x.shape[-2:]
    bottom, rows, _ = _pool_axis(h, kernel_size[0], stride[0], padding[0], dilation[0], ceil_mode)
    right, cols, _ = _pool_axis(w, kernel_size[1], stride[1], padding[1], dilation[1], ceil_mode)
    xp = _pool_pad(x, (padding[0], bottom), (padding[1], right), -np.inf)
    views = _pool_views(xp, rows, cols)
    out = views[0].copy()
    for value in views[1:]:
        np.maximum(out, value, out=out)
    return out


def _max_pool2d_backward(delta, x, out, *, want_input=True, kernel_size, stride, padding, dilation,
                         ceil_mode):
    """Each window's delta goes to the position torch's scan picks (`_pool_max_winner`); overlapping
    windows add up. The winners are recomputed from x, so ties and NaNs route exactly as in torch."""
    if not want_input:
        return (None,)
    h, w = x.shape[-2:]
    bottom, rows, row_starts = _pool_axis(h, kernel_size[0], stride[0], padding[0], dilation[0], ceil_mode)
    right, cols, col_starts = _pool_axis(w, kernel_size[1], stride[1], padding[1], dilation[1], ceil_mode)
    first_row = _pool_first_inside(h, kernel_size[0], dilation[0], row_starts)
    first_col = _pool_first_inside(w, kernel_size[1], dilation[1], col_starts)
    batch = np.broadcast_shapes(x.shape[:-2], delta.shape[:-2])
    xp = _pool_pad(np.broadcast_to(x, batch + (h, w)), (padding[0], bottom), (padding[1], right), -np.inf)
    winner = _pool_max_winner(xp, rows, cols, first_row[:, None] * kernel_size[1] + first_col)
    dxp = np.zeros(xp.shape)
    finite = np.isfinite(delta).all()  # then delta * 0 is 0 off the route, and multiplying beats np.where
    disjoint = _pool_disjoint(kernel_size, stride, dilation)
    share = None if disjoint else np.empty(winner.shape)
    for offset, target in enumerate(_pool_views(dxp, rows, cols)):
        routed = winner == offset
        into = target if disjoint else share
        if finite:
            np.multiply(delta, routed, out=into)
        else:
            into[...] = np.where(routed, delta, 0.0)
        if not disjoint:
            target += share
    return (dxp[..., padding[0]:padding[0] + h, padding[1]:padding[1] + w],)


def _pool_avg_count(size, kernel, pad, starts, count_include_pad):
    """Per window along one axis, its length as torch's divisor counts it: clipped to input + padding
    (count_include_pad; never the ceil_mode overhang), or to the input alone."""
    ends = np.minimum(starts + kernel, size + pad)
    if count_include_pad:
        return ends - starts
    return np.minimum(ends, size) - np.maximum(starts, 0)


def _pool_avg_divisor(shape, kernel_size, padding, row_starts, col_starts, count_include_pad,
                      divisor_override):
    """torch's divisor of each window (an (OH, OW) array), or divisor_override."""
    if divisor_override is not None:
        return divisor_override
    return (_pool_avg_count(shape[0], kernel_size[0], padding[0], row_starts, count_include_pad)[:, None]
            * _pool_avg_count(shape[1], kernel_size[1], padding[1], col_starts, count_include_pad))


def _avg_pool2d_forward(x, *, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    """Each window's sum over its positions inside the input, divided by torch's divisor."""
    h, w = x.shape[-2:]
    bottom, rows, row_starts = _pool_axis(h, kernel_size[0], stride[0], padding[0], 1, ceil_mode)
    right, cols, col_starts = _pool_axis(w, kernel_size[1], stride[1], padding[1], 1, ceil_mode)
    xp = _pool_pad(x, (padding[0], bottom), (padding[1], right), 0.0)
    views = _pool_views(xp, rows, cols)
    total = views[0].copy()
    for value in views[1:]:
        total += value
    return total / _pool_avg_divisor((h, w), kernel_size, padding, row_starts, col_starts, count_include_pad,
                                     divisor_override)


def _avg_pool2d_backward(delta, x, out, *, want_input=True, kernel_size, stride, padding, ceil_mode,
                         count_include_pad, divisor_override):
    """Each window's delta / divisor goes to every position of the window inside the input;
    overlapping windows add up."""
    if not want_input:
        return (None,)
    h, w = x.shape[-2:]
    bottom, rows, row_starts = _pool_axis(h, kernel_size[0], stride[0], padding[0], 1, ceil_mode)
    right, cols, col_starts = _pool_axis(w, kernel_size[1], stride[1], padding[1], 1, ceil_mode)
    share = delta / _pool_avg_divisor((h, w), kernel_size, padding, row_starts, col_starts, count_include_pad,
                                      divisor_override)
    batch = np.broadcast_shapes(x.shape[:-2], delta.shape[:-2])
    dxp = np.zeros(batch + (padding[0] + h + bottom, padding[1] + w + right))
    disjoint = _pool_disjoint(kernel_size, stride, (1, 1))
    for target in _pool_views(dxp, rows, cols):
        if disjoint:
            target[...] = share
        else:
            target += share
    return (dxp[..., padding[0]:padding[0] + h, padding[1]:padding[1] + w],)


MaxPool2d.array_twin = {"forward": _max_pool2d_forward, "backward": _max_pool2d_backward}
AvgPool2d.array_twin = {"forward": _avg_pool2d_forward, "backward": _avg_pool2d_backward}
