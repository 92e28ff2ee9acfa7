"""AdaptiveAvgPool2d and AdaptiveMaxPool2d: torch's window formula, its ties and its validation.

torch gives output index i of n over an input axis of size H the window
[floor(i*H/n), ceil((i+1)*H/n)) (0-based): windows may overlap and differ in size,
and an output larger than the input repeats entries. The average divides by the
window's own size; the maximum routes its gradient to the first maximum, row-major.
"""

from __future__ import annotations

from math import prod

import numpy as np
import sympy as sp

from ..core import tensor
from ..core.errors import OptionError
from ..core.values import shown
from . import options as opt
from .argmax import FirstArgmax
from .base import Gradients, ParameterlessLayer, missing

_ROWS = (r"R_i = \left\{\left\lfloor \tfrac{(i-1)H}{n_h} \right\rfloor + 1, \dots, "
         r"\left\lceil \tfrac{iH}{n_h} \right\rceil\right\},\ C_j = \left\{\left\lfloor \tfrac{(j-1)W}{n_w} "
         r"\right\rfloor + 1, \dots, \left\lceil \tfrac{jW}{n_w} \right\rceil\right\}")


def window_bounds(size: int, n: int, i: int) -> tuple[int, int]:
    """torch's window of output i (0-based) of n over `size` inputs: [start, end), 0-based."""
    return (i * size) // n, -((-(i + 1) * size) // n)


class _AdaptivePool2d(ParameterlessLayer):
    """What both adaptive pools share: output_size, 3-D or 4-D input, the windows."""

    output_letter = "S"
    rule_words = "general_plain"

    def __init__(self, output_size):
        super().__init__()
        self.output_size = self._output_size(output_size)

    def _output_size(self, value):
        """An int or a pair, an entry None keeping the input's size (torch's _pair, then its checks)."""
        w = self.type_name
        entries = tuple(value) if isinstance(value, (list, tuple)) else (value, value)
        if len(entries) != 2:
            raise OptionError(w, "output_size", f"output_size must be 2, got {shown(list(entries))}")
        sizes = []
        for entry in entries:
            if entry is None:
                sizes.append(None)
                continue
            number = opt.integer(w, "output_size", entry, bits=64)
            if number < 0:
                raise OptionError(w, "output_size", "elements of output_size must be greater than or equal to 0 "
                                                    f"but received {shown(list(entries))}")
            if number == 0:
                raise OptionError(w, "output_size", "must be positive: torch would give an empty output")
            sizes.append(number)
        return tuple(sizes)

    def options(self):
        return {"output_size": self.output_size}

    def array_options(self, in_shape):
        """The output size with None entries resolved: the twin knows no input shape before it runs."""
        return {"output_size": self.output_shape(in_shape)[-2:]}

    def output_shape(self, in_shape):
        in_shape = tuple(in_shape)
        if len(in_shape) not in (3, 4):
            raise OptionError(self.where, "input", f"Expected 3D or 4D tensor, but got: {list(in_shape)}")
        return in_shape[:-2] + tuple(size if n is None else n for size, n in zip(in_shape[-2:], self.output_size))

    def shape_formula(self, in_shape):
        parts = [f"{axis}: {size} (None keeps the input's)" if n is None else f"{axis}: {n} (output_size)"
                 for axis, size, n in zip("HW", tuple(in_shape)[-2:], self.output_size)]
        return "; ".join(parts)

    def terms(self, in_shape, out_shape):
        """Each output reads its window; the largest window bounds them."""
        largest = [max(end - start for start, end in (window_bounds(size, n, i) for i in range(n)))
                   for size, n in zip(in_shape[-2:], out_shape[-2:])]
        return prod(out_shape) * prod(largest)

    def _windows(self, in_shape, out_shape):
        """Per output row i and column j: the input rows and columns (0-based) of its window."""
        return [[list(range(*window_bounds(size, n, i))) for i in range(n)]
                for size, n in zip(in_shape[-2:], out_shape[-2:])]

    def index_instance(self, key, in_shape):
        """The rule with this input's sizes and output_size filled in."""
        if key not in self.index_form:
            return ""
        (h, w), (nh, nw) = tuple(in_shape)[-2:], self.output_shape(in_shape)[-2:]
        rows = _ROWS.replace("H}{n_h}", f"\\cdot {h}}}{{{nh}}}").replace("W}{n_w}", f"\\cdot {w}}}{{{nw}}}")
        rule = self.index_form[key].split(r" \\ ")[0].replace(r"\begin{gathered}", "").replace("c,", "")
        return r"\begin{gathered}%s \\ %s\end{gathered}" % (rule.replace(r"\end{gathered}", ""), rows)


class AdaptiveAvgPool2d(_AdaptivePool2d):
    type_name = "AdaptiveAvgPool2d"
    words = {
        "en": {"note:forward": "torch's window formula: output i of n over H inputs covers rows "
                               "floor((i-1)H/n)+1 to ceil(iH/n); windows may overlap and differ in size, "
                               "and each average divides by its own window's size."},
        "zh": {"note:forward": "自适应池化按 torch 的窗口公式：$H$ 个输入上 $n$ 个输出中的第 $i$ 个覆盖第 $\\lfloor (i-1)H/n \\rfloor + 1$ 到 "
                               "$\\lceil iH/n \\rceil$ 行；窗口可能重叠、大小不一，每个平均值除以它自己窗口的大小。"},
    }
    figure = missing("every window entry shares the gradient alike: nothing to highlight")
    index_form = {
        "forward": r"\begin{gathered}S_{c,i,j} = \frac{1}{|R_i|\,|C_j|} \sum_{h \in R_i} \sum_{w \in C_j} X_{c,h,w}"
                   r" \\ " + _ROWS + r"\end{gathered}",
        "input": r"\begin{gathered}\frac{\partial L}{\partial X_{c,h,w}} = \sum_{(i,j):\, h \in R_i,\, w \in C_j} "
                 r"\frac{\delta_{c,i,j}}{|R_i|\,|C_j|} \\ " + _ROWS + r"\end{gathered}",
    }

    @classmethod
    def from_torch(cls, module):
        return cls(module.output_size)

    def forward(self, x, params):
        out_shape = self.output_shape(x.shape)
        rows, cols = self._windows(x.shape, out_shape)
        out = np.empty(out_shape, dtype=object)
        for idx in np.ndindex(*out_shape):
            *lead, i, j = idx
            total = tensor.add_all([x[(*lead, h, w)] for h in rows[i] for w in cols[j]])
            out[idx] = total / (len(rows[i]) * len(cols[j]))
        return out

    def backward(self, delta, x, out, params):
        rows, cols = self._windows(x.shape, out.shape)
        dx = tensor.term_lists(x.shape)
        for idx in np.ndindex(*out.shape):
            *lead, i, j = idx
            share = delta[idx] / (len(rows[i]) * len(cols[j]))
            if share == 0:
                continue
            for h in rows[i]:
                for w in cols[j]:
                    dx[(*lead, h, w)].append(share)
        return Gradients(input=tensor.collect(dx))

    def torch_module(self):
        import torch

        return torch.nn.AdaptiveAvgPool2d(self.output_size)


class AdaptiveMaxPool2d(_AdaptivePool2d):
    type_name = "AdaptiveMaxPool2d"
    words = {
        "en": {
            "note:forward": "torch's window formula: output i of n over H inputs covers rows "
                            "floor((i-1)H/n)+1 to ceil(iH/n); windows may overlap and differ in size.",
            "note:input": "The argmax is the first maximum of the window, row by row (torch's rule for ties); "
                          "windows that overlap add up.",
            "figure": "Adaptive max pooling routes each window's $\\delta$ to its first maximum (highlighted, "
                      "with the window (i, j) it comes from).",
        },
        "zh": {
            "note:forward": "自适应池化按 torch 的窗口公式：$H$ 个输入上 $n$ 个输出中的第 $i$ 个覆盖第 $\\lfloor (i-1)H/n \\rfloor + 1$ 到 "
                            "$\\lceil iH/n \\rceil$ 行；窗口可能重叠、大小不一。",
            "note:input": "$\\operatorname{argmax}$ 取窗口中按行优先的第一个最大值（与 torch 处理相等值的规则一致）；窗口重叠时梯度累加。",
            "figure": "自适应最大值池化把每个窗口的 $\\delta$ 传给窗口中第一个最大值（高亮，并标出来自哪个窗口 $(i, j)$）。",
        },
    }
    index_form = {
        "forward": r"\begin{gathered}S_{c,i,j} = \max_{(h,w) \in R_i \times C_j} X_{c,h,w} \\ " + _ROWS
                   + r"\end{gathered}",
        "input": r"\begin{gathered}\frac{\partial L}{\partial X_{c,h,w}} = \sum_{i,j} \delta_{c,i,j}\, "
                 r"\mathbb{I}\left[(h,w) = \operatorname*{argmax}_{(u,v) \in R_i \times C_j} X_{c,u,v}\right] \\ "
                 + _ROWS + r"\end{gathered}",
    }

    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        if opt.boolean(self.type_name, "return_indices", return_indices):
            raise OptionError(self.type_name, "return_indices", "is not supported: the output must be a tensor")

    @classmethod
    def from_torch(cls, module):
        return cls(module.output_size, return_indices=module.return_indices)

    def forward(self, x, params):
        out_shape = self.output_shape(x.shape)
        rows, cols = self._windows(x.shape, out_shape)
        out = np.empty(out_shape, dtype=object)
        for idx in np.ndindex(*out_shape):
            *lead, i, j = idx
            window = [x[(*lead, h, w)] for h in rows[i] for w in cols[j]]
            out[idx] = sp.Max(*window, evaluate=all(v.is_number for v in window))  # as MaxPool2d: no slow compares
        return out

    def backward(self, delta, x, out, params):
        rows, cols = self._windows(x.shape, out.shape)
        dx = tensor.term_lists(x.shape)
        for idx in np.ndindex(*out.shape):
            *lead, i, j = idx
            if delta[idx] == 0:
                continue
            positions = [(*lead, h, w) for h in rows[i] for w in cols[j]]
            window = [x[p] for p in positions]
            for k, position in enumerate(positions):
                route = FirstArgmax(k, *window)
                if route != 0:
                    dx[position].append(delta[idx] * route)
        return Gradients(input=tensor.collect(dx))

    def figure(self, in_shape, x):
        """Where each window of the input's first channel routes its delta (None if symbolic)."""
        first = np.asarray(x).reshape((-1,) + tuple(in_shape)[-2:])[0]
        if not all(v.is_comparable for v in first.reshape(-1)):
            return None
        (nh, nw) = self.output_shape(in_shape)[-2:]
        marks: dict[tuple[int, int], list[str]] = {}
        for i in range(1, nh + 1):
            for j in range(1, nw + 1):
                h, w = _first_argmax(first, _window(self, in_shape, i, j))
                marks.setdefault((h - 1, w - 1), []).append(f"{i},{j}")
        return {position: "; ".join(windows) for position, windows in marks.items()}

    def torch_module(self):
        import torch

        return torch.nn.AdaptiveMaxPool2d(self.output_size)


# -------------------------------------------------------------------- index forms, evaluated (1-based)

def _window(layer, in_shape, i: int, j: int) -> list[tuple[int, int]]:
    """R_i x C_j by the index form: floor((i-1)H/n)+1 .. ceil(iH/n), row-major, 1-based."""
    (h, w), (nh, nw) = tuple(in_shape)[-2:], layer.output_shape(in_shape)[-2:]
    rows = range(sp.floor(sp.Rational((i - 1) * h, nh)) + 1, sp.ceiling(sp.Rational(i * h, nh)) + 1)
    cols = range(sp.floor(sp.Rational((j - 1) * w, nw)) + 1, sp.ceiling(sp.Rational(j * w, nw)) + 1)
    return [(r, c) for r in rows for c in cols]


def _first_argmax(plane, window):
    """The first (row-major) position of the window's maximum in one (H, W) plane: later must be larger."""
    best = window[0]
    for h, w in window[1:]:
        if plane[h - 1, w - 1] > plane[best[0] - 1, best[1] - 1]:
            best = (h, w)
    return best


def _planes(layer, x):
    """Every output's index (leading axes, then i and j, 0-based)."""
    return np.ndindex(*layer.output_shape(x.shape))


def _avg_forward_by_index_form(layer, x, params, delta=None):
    out = np.empty(layer.output_shape(x.shape), dtype=object)
    for *lead, i, j in _planes(layer, x):
        window = _window(layer, x.shape, i + 1, j + 1)
        out[(*lead, i, j)] = sum((x[(*lead, h - 1, w - 1)] for h, w in window), sp.Integer(0)) / len(window)
    return out


def _avg_input_by_index_form(layer, x, params, delta):
    grad = np.full(x.shape, sp.Integer(0), dtype=object)
    for *lead, i, j in _planes(layer, x):
        window = _window(layer, x.shape, i + 1, j + 1)
        for h, w in window:
            grad[(*lead, h - 1, w - 1)] += delta[(*lead, i, j)] / len(window)
    return grad


def _max_forward_by_index_form(layer, x, params, delta=None):
    out = np.empty(layer.output_shape(x.shape), dtype=object)
    for *lead, i, j in _planes(layer, x):
        out[(*lead, i, j)] = sp.Max(*[x[(*lead, h - 1, w - 1)] for h, w in _window(layer, x.shape, i + 1, j + 1)])
    return out


def _max_input_by_index_form(layer, x, params, delta):
    grad = np.full(x.shape, sp.Integer(0), dtype=object)
    for *lead, i, j in _planes(layer, x):
        h, w = _first_argmax(x[tuple(lead)], _window(layer, x.shape, i + 1, j + 1))
        grad[(*lead, h - 1, w - 1)] += delta[(*lead, i, j)]
    return grad


AdaptiveAvgPool2d.index_rules = {"forward": _avg_forward_by_index_form, "input": _avg_input_by_index_form}
AdaptiveMaxPool2d.index_rules = {"forward": _max_forward_by_index_form, "input": _max_input_by_index_form}


# ----------------------------------------------------------- array twins: whole float64 arrays at once
#
# Copied into generated modules with only `np`. Per axis, a 0/1 matrix says which inputs each window
# holds: the average is two matrix products; the maximum loops over the largest window's offsets,
# each offset clamped to its window's last entry (a repeat never beats the first maximum).

def _adaptive_bounds(size, n):
    """torch's window starts and ends (0-based, end exclusive) of n outputs over `size` inputs."""
    i = np.arange(n)
    return (i * size) // n, -((-(i + 1) * size) // n)


def _adaptive_matrix(size, n):
    """(n, size): 1 where input k lies in window i."""
    starts, ends = _adaptive_bounds(size, n)
    k = np.arange(size)
    return ((k >= starts[:, None]) & (k < ends[:, None])).astype(np.float64)


def _adaptive_avg_pool2d_forward(x, *, output_size):
    rows, cols = _adaptive_matrix(x.shape[-2], output_size[0]), _adaptive_matrix(x.shape[-1], output_size[1])
    return (rows @ x @ cols.T) / (rows.sum(axis=1)[:, None] * cols.sum(axis=1))


def _adaptive_avg_pool2d_backward(delta, x, out, *, want_input=True, output_size):
    if not want_input:
        return (None,)
    rows, cols = _adaptive_matrix(x.shape[-2], output_size[0]), _adaptive_matrix(x.shape[-1], output_size[1])
    share = delta / (rows.sum(axis=1)[:, None] * cols.sum(axis=1))
    batch = np.broadcast_shapes(x.shape[:-2], delta.shape[:-2])
    return (np.broadcast_to(rows.T @ share @ cols, batch + x.shape[-2:]).copy(),)


def _adaptive_offsets(size, n):
    """(n, largest window): per window its inputs, the last repeated to fill the row."""
    starts, ends = _adaptive_bounds(size, n)
    return np.minimum(starts[:, None] + np.arange((ends - starts).max()), ends[:, None] - 1)


def _adaptive_max_winner(x, output_size):
    """Per output, the (row, column) torch routes to: the first maximum (row-major), a NaN if any (the last)."""
    rows, cols = _adaptive_offsets(x.shape[-2], output_size[0]), _adaptive_offsets(x.shape[-1], output_size[1])
    best = win_r = win_c = None
    for a in range(rows.shape[1]):
        for b in range(cols.shape[1]):
            r, c = rows[:, a][:, None], cols[:, b][None, :]
            value = x[..., r, c]
            if best is None:
                best = value.copy()
                win_r, win_c = np.broadcast_to(r, value.shape).copy(), np.broadcast_to(c, value.shape).copy()
                continue
            moved = (value > best) | np.isnan(value)  # torch: `val > maxval || isnan(val)`
            best = np.where(moved, value, best)
            win_r, win_c = np.where(moved, r, win_r), np.where(moved, c, win_c)
    return best, win_r, win_c


def _adaptive_max_pool2d_forward(x, *, output_size):
    return _adaptive_max_winner(x, output_size)[0]


def _adaptive_max_pool2d_backward(delta, x, out, *, want_input=True, output_size):
    if not want_input:
        return (None,)
    h, w = x.shape[-2:]
    batch = np.broadcast_shapes(x.shape[:-2], delta.shape[:-2])
    _, win_r, win_c = _adaptive_max_winner(np.broadcast_to(x, batch + (h, w)), output_size)
    problems = int(np.prod(batch, dtype=np.int64))
    dx = np.zeros((problems, h * w))
    routed = np.broadcast_to(delta, win_r.shape).reshape(problems, -1)
    np.add.at(dx, (np.arange(problems)[:, None], (win_r * w + win_c).reshape(problems, -1)), routed)
    return (dx.reshape(batch + (h, w)),)


AdaptiveAvgPool2d.array_twin = {"forward": _adaptive_avg_pool2d_forward, "backward": _adaptive_avg_pool2d_backward}
AdaptiveMaxPool2d.array_twin = {"forward": _adaptive_max_pool2d_forward, "backward": _adaptive_max_pool2d_backward}
