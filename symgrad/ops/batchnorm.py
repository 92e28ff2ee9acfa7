"""BatchNorm2d: per-channel normalisation over (N, H, W), as torch.nn.BatchNorm2d, train and eval.

With batch statistics (training, or eval without running stats) the normalisation uses the
biased variance (divide by m = N*H*W) and the derivative runs through the statistics: the
closed form dx = gamma/sqrt(var+eps) (delta - mean(delta) - xhat mean(delta xhat)). In eval
mode with running stats the statistics are constants (the buffers) and dx = gamma delta /
sqrt(running_var + eps). A forward in training mode moves the buffers as torch does:
running_var by the *unbiased* variance (m/(m-1)), momentum None = cumulative average.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import sympy as sp

from ..core import tensor
from ..core.decimals import latex
from ..core.errors import OptionError
from ..core.values import shown
from . import options as opt
from .base import Gradients, Layer, missing

BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


class BatchNorm2d(Layer):
    type_name = "BatchNorm2d"
    output_letter = "z"  # "y" is the loss target's base (names.reserved_bases)
    symbol_bases = {"weight": "gamma", "bias": "beta"}  # never bare: gamma_1 reads back as a symbol
    parameter_letters = {"weight": r"\gamma", "bias": r"\beta"}
    rule_words = "general_plain"
    index_form = {
        "forward": r"z_{n,c,h,w} = \gamma_{c}\, \hat{X}_{n,c,h,w} + \beta_{c}, \quad \hat{X}_{n,c,h,w} = "
                   r"\frac{X_{n,c,h,w} - \mu_{c}}{\sqrt{\sigma^{2}_{c} + \epsilon}}, \quad \mu_{c} = \frac{1}{m} "
                   r"\sum_{n,h,w} X_{n,c,h,w}, \quad \sigma^{2}_{c} = \frac{1}{m} \sum_{n,h,w} "
                   r"\left(X_{n,c,h,w} - \mu_{c}\right)^{2}, \quad m = NHW",
        "input": r"\frac{\partial L}{\partial X_{n,c,h,w}} = \frac{\gamma_{c}}{\sqrt{\sigma^{2}_{c} + \epsilon}} "
                 r"\left(\delta_{n,c,h,w} - \frac{1}{m} \sum_{n',h',w'} \delta_{n',c,h',w'} - \hat{X}_{n,c,h,w}\, "
                 r"\frac{1}{m} \sum_{n',h',w'} \delta_{n',c,h',w'}\, \hat{X}_{n',c,h',w'}\right)",
        "weight": r"\frac{\partial L}{\partial \gamma_{c}} = \sum_{n,h,w} \delta_{n,c,h,w}\, \hat{X}_{n,c,h,w}",
        "bias": r"\frac{\partial L}{\partial \beta_{c}} = \sum_{n,h,w} \delta_{n,c,h,w}",
    }
    words = {
        "en": {
            "note:forward": "Batch normalisation: each channel $c$ of $X$ is normalised by its mean $\\mu_{c}$ and "
                            "variance $\\sigma^{2}_{c}$ over $(N, H, W)$, then scaled by $\\gamma_{c}$ and shifted "
                            "by $\\beta_{c}$, giving $z$. "
                            "With batch statistics (training mode) $\\sigma^{2}_{c}$ is the biased variance "
                            "(divided by $m$). A forward pass in training mode also moves the buffers: "
                            "running_mean $\\leftarrow (1-\\rho)$ running_mean $+ \\rho\\, \\mu_{c}$ and "
                            "running_var $\\leftarrow (1-\\rho)$ running_var $+ \\rho\\, \\frac{m}{m-1} "
                            "\\sigma^{2}_{c}$ (the unbiased variance), with $\\rho$ = momentum, or "
                            "$1/$num_batches_tracked when momentum is None. In eval mode $\\mu_{c}$ and "
                            "$\\sigma^{2}_{c}$ are running_mean and running_var: constants.",
            "note:input": "The derivative runs through $\\mu_{c}$ and $\\sigma^{2}_{c}$, which depend on every "
                          "entry of channel $c$; in eval mode with running statistics they are constants and "
                          "$\\partial L/\\partial X_{n,c,h,w} = \\gamma_{c}\\, \\delta_{n,c,h,w} / "
                          "\\sqrt{\\sigma^{2}_{c} + \\epsilon}$.",
        },
        "zh": {
            "note:forward": "$X$ 的每个通道 $c$ 做批归一化：在 $(N, H, W)$ 上求均值 $\\mu_{c}$ 和方差 $\\sigma^{2}_{c}$，归一化后乘以 "
                            "$\\gamma_{c}$、加上 $\\beta_{c}$，得到 $z$。使用批统计量（训练模式）时，归一化用的 $\\sigma^{2}_{c}$ 是有偏方差（除以 "
                            "$m$）。训练模式下的一次前向传播还会更新缓冲区：`running_mean` $\\leftarrow (1-\\rho)$ `running_mean` "
                            "$+ \\rho\\, \\mu_{c}$，`running_var` $\\leftarrow (1-\\rho)$ `running_var` "
                            "$+ \\rho\\, \\frac{m}{m-1} \\sigma^{2}_{c}$（无偏方差），其中 $\\rho$ 为 `momentum`；`momentum` 为 "
                            "`None` 时 $\\rho = 1/$`num_batches_tracked`（累积平均）。评估模式下 $\\mu_{c}$ 和 $\\sigma^{2}_{c}$ "
                            "取 `running_mean` 和 `running_var`，是常数。",
            "note:input": "$\\mu_{c}$ 和 $\\sigma^{2}_{c}$ 依赖通道 $c$ 的每个元素，所以梯度要经过批统计量往回传；评估模式下使用运行统计量时它们是常数，"
                          "$\\partial L/\\partial X_{n,c,h,w} = \\gamma_{c}\\, \\delta_{n,c,h,w} / \\sqrt{\\sigma^{2}_{c} + \\epsilon}$。",
        },
    }
    modes = ("train", "eval")
    figure = missing("a normalisation reads every entry of a channel: no window to highlight")

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, bias=True,
                 training=True):
        """torch's options (bias is keyword-only in torch; here, like training, a spec option too)."""
        super().__init__()
        w = self.type_name
        self.num_features = opt.integer(w, "num_features", num_features, 1, bits=64)
        self.affine = opt.boolean(w, "affine", affine)
        self.use_bias = opt.boolean(w, "bias", bias)
        self.track_running_stats = opt.boolean(w, "track_running_stats", track_running_stats)
        self.training = opt.boolean(w, "training", training)
        self.eps = _float_option(w, "eps", eps)
        if self.eps < 0 or (self.eps == 0 and self.batch_statistics):
            bound = "> 0 where batch statistics are used (training, or eval without running stats)" \
                if self.batch_statistics else ">= 0"
            raise OptionError(w, "eps", f"must be {bound}, as torch's batch_norm checks, got {shown(eps)}")
        self.momentum = None if momentum is None else _float_option(w, "momentum", momentum)
        tensor.check_size(w, "num_features", (self.num_features,))

    @property
    def batch_statistics(self) -> bool:
        """Whether the normalisation uses the batch's statistics (torch's bn_training)."""
        return self.training or not self.track_running_stats

    def terms(self, in_shape, out_shape):
        """Every output reads its channel's mean and variance: 2 m + 1 terms (m = N H W) per output entry."""
        return int(np.prod(out_shape, dtype=object)) * (2 * _count(in_shape) + 1)

    def channels(self):
        return {"num_features": self.num_features}

    def options(self):
        return {"num_features": self.num_features, "eps": self.eps, "momentum": self.momentum,
                "affine": self.affine, "bias": self.use_bias, "track_running_stats": self.track_running_stats,
                "training": self.training}

    def parameter_shapes(self):
        shapes = {"weight": (self.num_features,)} if self.affine else {}
        if self.affine and self.use_bias:
            shapes["bias"] = (self.num_features,)
        return shapes

    # ---------------------------------------------------------------- buffers (torch's state_dict names)

    def buffer_shapes(self) -> dict[str, tuple[int, ...]]:
        if not self.track_running_stats:
            return {}
        return {"running_mean": (self.num_features,), "running_var": (self.num_features,),
                "num_batches_tracked": ()}

    def initial_buffers(self) -> dict[str, np.ndarray]:
        """torch's defaults: running_mean zeros, running_var ones, num_batches_tracked 0 (int64)."""
        if not self.track_running_stats:
            return {}
        c = self.num_features
        return {"running_mean": np.zeros(c), "running_var": np.ones(c),
                "num_batches_tracked": np.array(0, dtype=np.int64)}

    def init(self, **values) -> "BatchNorm2d":
        """As every layer's init; given buffers are checked first (shape, numbers or symbols)."""
        for name, value in values.items():
            if name in self.buffer_shapes():
                self._buffer(name, value)
        return super().init(**values)

    def buffers(self) -> dict[str, np.ndarray]:
        """The current buffers as exact object arrays (given with init, else torch's defaults)."""
        return {name: self._buffer(name, value) for name, value in super().buffers().items()}

    def _buffer(self, name, value) -> np.ndarray:
        where, option = self.where, f"init.{name}"
        if name == "num_batches_tracked":
            count = value.item() if isinstance(value, np.ndarray) and value.shape == () else value  # 0-d: its entry
            return np.array(sp.Integer(opt.integer(where, option, count, 0, bits=64)), dtype=object)
        array = tensor.to_array(value, where, option)
        shape = self.buffer_shapes()[name]
        if array.shape != shape:
            raise OptionError(where, option, f"expected shape {list(shape)}, got {list(array.shape)}")
        return array

    def updated_buffers(self, x, params, buffers) -> dict[str, np.ndarray]:
        """The buffers after one forward pass of x in this layer's mode: moved only in training mode (as torch)."""
        buffers = {name: self._buffer(name, value) for name, value in buffers.items()}  # exact, whatever given
        if not (self.training and self.track_running_stats):
            return buffers
        m = _count(x.shape)
        count = buffers["num_batches_tracked"][()] + 1
        rate = 1 / count if self.momentum is None else tensor.number(self.momentum, self.where, "momentum")
        means, variances = [], []
        for c in range(self.num_features):
            mean, var = _statistics(x[:, c])
            means.append((1 - rate) * buffers["running_mean"][c] + rate * mean)
            variances.append((1 - rate) * buffers["running_var"][c] + rate * var * sp.Rational(m, m - 1))
        return {"running_mean": tensor.vector(means), "running_var": tensor.vector(variances),
                "num_batches_tracked": np.array(count, dtype=object)}

    def initial_values(self, rng) -> dict[str, np.ndarray]:
        """torch's reset_parameters: weight ones, bias zeros; nothing is drawn from rng."""
        return {name: np.ones(shape) if name == "weight" else np.zeros(shape)
                for name, shape in self.parameter_shapes().items()}

    # ---------------------------------------------------------------- shape and maths

    def output_shape(self, in_shape):
        if len(in_shape) != 4:
            raise OptionError(self.where, "input", f"expected 4D input (got {len(in_shape)}D input)")
        if self.batch_statistics and _count(in_shape) == 1:  # torch checks this first, in F.batch_norm
            raise OptionError(self.where, "input", "Expected more than 1 value per channel when training, got "
                                                   f"input size torch.Size({list(in_shape)})")
        channels = in_shape[1]
        if channels != self.num_features and (self.affine or self.track_running_stats):
            what = "running_mean" if self.track_running_stats else "weight"
            raise OptionError(self.where, "num_features",
                              f"{what} should contain {channels} elements not {self.num_features} "
                              f"(expected input with {self.num_features} channels, got {channels})")
        return tuple(in_shape)

    def shape_formula(self, in_shape):
        return "per channel: same shape as the input"

    def _constants(self, channels):
        """eps (exact), and per channel (mean, var) of the running stats, or None where batch statistics are used."""
        eps = tensor.number(self.eps, self.where, "eps")
        if self.batch_statistics:
            return eps, None
        buffers = self.buffers()
        return eps, [(buffers["running_mean"][c], buffers["running_var"][c]) for c in range(channels)]

    def _affine(self, params, c):
        gamma = params["weight"][c] if self.affine else sp.Integer(1)
        beta = params["bias"][c] if "bias" in params else sp.Integer(0)
        return gamma, beta

    def forward(self, x, params):
        self.output_shape(x.shape)
        eps, running = self._constants(x.shape[1])
        out = np.empty(x.shape, dtype=object)
        for c in range(x.shape[1]):
            mean, var = _statistics(x[:, c]) if running is None else running[c]
            gamma, beta = self._affine(params, c)
            scale = 1 / sp.sqrt(var + eps)
            for n, h, w in np.ndindex(*x[:, c].shape):
                out[n, c, h, w] = gamma * (x[n, c, h, w] - mean) * scale + beta
        return out

    def backward(self, delta, x, out, params):
        eps, running = self._constants(x.shape[1])
        dx = np.empty(x.shape, dtype=object)
        dgamma, dbeta = [], []
        for c in range(x.shape[1]):
            mean, var = _statistics(x[:, c]) if running is None else running[c]
            gamma, _ = self._affine(params, c)
            scale = 1 / sp.sqrt(var + eps)
            xs, ds = x[:, c].reshape(-1), delta[:, c].reshape(-1)
            hats = [(v - mean) * scale for v in xs]
            dgamma.append(tensor.add_all([d * h for d, h in zip(ds, hats)]))
            dbeta.append(tensor.add_all(list(ds)))
            if running is None:
                m = len(xs)
                mean_delta, mean_dh = dbeta[-1] / m, dgamma[-1] / m
                grads = [gamma * scale * (d - mean_delta - h * mean_dh) for d, h in zip(ds, hats)]
            else:
                grads = [gamma * scale * d for d in ds]
            dx[:, c] = tensor.vector(grads).reshape(x[:, c].shape)
        grads = {}
        if self.affine:
            grads["weight"] = tensor.vector(dgamma)
            if self.use_bias:
                grads["bias"] = tensor.vector(dbeta)
        return Gradients(input=dx, params=grads)

    def array_options(self, in_shape):
        """eps, and the running statistics as floats when the normalisation uses them (None: batch statistics)."""
        if self.batch_statistics:
            return {"eps": float(self.eps), "running": None}
        return {"eps": float(self.eps), "running": (tuple(self._numbers("running_mean").tolist()),
                                                    tuple(self._numbers("running_var").tolist()))}

    def _numbers(self, name) -> np.ndarray:
        """A buffer as float64 (the twins need numbers, not symbols)."""
        value = self.buffers()[name]
        if not tensor.is_numeric(value):
            raise OptionError(self.where, f"init.{name}", "the NumPy and torch twins need numbers, got symbols")
        return np.array(value, dtype=np.int64 if name == "num_batches_tracked" else np.float64)

    # ---------------------------------------------------------------- torch twin

    def torch_module(self):
        """torch's BatchNorm2d in float64, in this layer's mode, with its buffers copied in (numbers only)."""
        import torch

        extra = {} if self.use_bias else {"bias": False}
        module = torch.nn.BatchNorm2d(self.num_features, eps=self.eps, momentum=self.momentum, affine=self.affine,
                                      track_running_stats=self.track_running_stats, dtype=torch.float64, **extra)
        module.train(self.training)
        with torch.no_grad():
            for name in self.buffer_shapes():
                getattr(module, name).copy_(torch.from_numpy(self._numbers(name)))
        return module

    @classmethod
    def from_torch(cls, module) -> "BatchNorm2d":
        """The layer of a torch BatchNorm2d (its mode too); parameters and buffers are copied generically."""
        bias = module.bias is not None if module.affine else True
        return cls(module.num_features, eps=module.eps, momentum=module.momentum, affine=module.affine,
                   track_running_stats=module.track_running_stats, bias=bias, training=module.training)

    # ---------------------------------------------------------------- index forms: instance

    def index_instance(self, key, in_shape):
        """The rule of this layer's mode with m = N H W and eps written in."""
        n, _, h, w = in_shape
        eps = latex(tensor.number(self.eps, self.where, "eps"))
        gamma = r"\gamma_{c}" if self.affine else ""
        beta = r" + \beta_{c}" if "bias" in self.parameter_shapes() else ""
        if self.batch_statistics:
            m = n * h * w
            stats = (r"\mu_{c} = \frac{1}{%d} \sum_{n,h,w} X_{n,c,h,w}, \quad \sigma^{2}_{c} = \frac{1}{%d} "
                     r"\sum_{n,h,w} \left(X_{n,c,h,w} - \mu_{c}\right)^{2}") % (m, m)
            mean, var = r"\mu_{c}", r"\sigma^{2}_{c}"
        else:
            stats = r"\mu_{c} = \mathrm{running\_mean}_{c}, \quad \sigma^{2}_{c} = \mathrm{running\_var}_{c}"
            mean, var = r"\mu_{c}", r"\sigma^{2}_{c}"
        scale = r"\frac{%s}{\sqrt{%s + %s}}" % (gamma or "1", var, eps)
        if key == "forward":
            return r"z_{n,c,h,w} = %s \left(X_{n,c,h,w} - %s\right)%s, \quad %s" % (scale, mean, beta, stats)
        if key == "input":
            if not self.batch_statistics:
                return r"\frac{\partial L}{\partial X_{n,c,h,w}} = %s\, \delta_{n,c,h,w}, \quad %s" % (scale, stats)
            m = n * h * w
            return (r"\frac{\partial L}{\partial X_{n,c,h,w}} = %s \left(\delta_{n,c,h,w} - \frac{1}{%d} "
                    r"\sum_{n',h',w'} \delta_{n',c,h',w'} - \hat{X}_{n,c,h,w}\, \frac{1}{%d} \sum_{n',h',w'} "
                    r"\delta_{n',c,h',w'}\, \hat{X}_{n',c,h',w'}\right), \quad \hat{X}_{n,c,h,w} = "
                    r"\frac{X_{n,c,h,w} - \mu_{c}}{\sqrt{\sigma^{2}_{c} + %s}}") % (scale, m, m, eps)
        if key == "weight" and self.affine:
            hat = r"\hat{X}_{n,c,h,w} = \frac{X_{n,c,h,w} - \mu_{c}}{\sqrt{\sigma^{2}_{c} + %s}}" % eps
            return r"%s, \quad %s, \quad %s" % (self.index_form["weight"], hat, stats)
        return ""  # bias: nothing to fill in


def _float_option(where, option, value) -> float:
    """A real Python or NumPy number (not a bool or SymPy object), finite and within float64, as torch's float."""
    if isinstance(value, (bool, np.bool_, sp.Basic)) or not isinstance(value, Real):
        raise OptionError(where, option, f"expected a number, got {shown(value)}")
    tensor.number(value, where, option)
    return value if isinstance(value, (int, float)) else float(value)


def _count(shape) -> int:
    """m = N H W: how many values each channel's statistics see."""
    return int(shape[0]) * int(np.prod(shape[2:], dtype=object))


def _statistics(channel) -> tuple[sp.Expr, sp.Expr]:
    """The mean and the biased variance (divided by m) of one channel's entries (N, H, W)."""
    values = list(np.asarray(channel, dtype=object).reshape(-1))
    mean = tensor.add_all(values) / len(values)
    return mean, tensor.add_all([(v - mean) ** 2 for v in values]) / len(values)


# ---------------------------------------------------------------- index forms as evaluable functions

def _batchnorm_stats_by_index_form(layer, x):
    """mu_c and sigma^2_c as the forward form writes them (or the running stats in eval mode), and eps."""
    n_, c_, h_, w_ = x.shape
    eps = tensor.number(layer.eps)
    if not layer.batch_statistics:
        buffers = layer.buffers()
        return list(buffers["running_mean"]), list(buffers["running_var"]), eps
    m = n_ * h_ * w_
    mus = [sum((x[n, c, h, w] for n, h, w in np.ndindex(n_, h_, w_)), sp.Integer(0)) / m for c in range(c_)]
    variances = [sum(((x[n, c, h, w] - mus[c]) ** 2 for n, h, w in np.ndindex(n_, h_, w_)), sp.Integer(0)) / m
                 for c in range(c_)]
    return mus, variances, eps


def _batchnorm_hat(layer, x):
    mus, variances, eps = _batchnorm_stats_by_index_form(layer, x)
    hat = np.empty(x.shape, dtype=object)
    for n, c, h, w in np.ndindex(*x.shape):
        hat[n, c, h, w] = (x[n, c, h, w] - mus[c]) / sp.sqrt(variances[c] + eps)
    return hat, variances, eps


def _batchnorm_gamma_beta(layer, params, c):
    gamma = params["weight"][c] if layer.affine else 1
    beta = params["bias"][c] if "bias" in params else 0
    return gamma, beta


def _batchnorm_forward_by_index_form(layer, x, params, delta=None):
    hat, _, _ = _batchnorm_hat(layer, x)
    out = np.empty(x.shape, dtype=object)
    for n, c, h, w in np.ndindex(*x.shape):
        gamma, beta = _batchnorm_gamma_beta(layer, params, c)
        out[n, c, h, w] = gamma * hat[n, c, h, w] + beta
    return out


def _batchnorm_input_by_index_form(layer, x, params, delta):
    hat, variances, eps = _batchnorm_hat(layer, x)
    n_, c_, h_, w_ = x.shape
    m, cells = n_ * h_ * w_, list(np.ndindex(n_, h_, w_))
    grad = np.empty(x.shape, dtype=object)
    for n, c, h, w in np.ndindex(*x.shape):
        gamma, _ = _batchnorm_gamma_beta(layer, params, c)
        scale = gamma / sp.sqrt(variances[c] + eps)
        if not layer.batch_statistics:
            grad[n, c, h, w] = scale * delta[n, c, h, w]
            continue
        mean_delta = sum((delta[a, c, b, d] for a, b, d in cells), sp.Integer(0)) / m
        mean_dh = sum((delta[a, c, b, d] * hat[a, c, b, d] for a, b, d in cells), sp.Integer(0)) / m
        grad[n, c, h, w] = scale * (delta[n, c, h, w] - mean_delta - hat[n, c, h, w] * mean_dh)
    return grad


def _batchnorm_weight(layer, x, params, delta):
    hat, _, _ = _batchnorm_hat(layer, x)
    return tensor.vector(sum((delta[:, c] * hat[:, c]).reshape(-1), sp.Integer(0)) for c in range(x.shape[1]))


def _batchnorm_bias(layer, x, params, delta):
    return tensor.vector(sum(delta[:, c].reshape(-1), sp.Integer(0)) for c in range(x.shape[1]))


BatchNorm2d.index_rules = {"forward": _batchnorm_forward_by_index_form, "input": _batchnorm_input_by_index_form,
                           "weight": _batchnorm_weight, "bias": _batchnorm_bias}


# ---------------------------------------------------------------- array twin (NumPy, batch axes in front)
#
# One problem is a whole (N, C, H, W) input: its statistics run over N, H and W together, so
# the batch axes are the ones before N; weight and bias (*batch, C) line up as (*batch, 1, C, 1, 1).

def _batchnorm_channel_param(param):
    """(*batch, C) -> (*batch, 1, C, 1, 1), to broadcast against (*batch, N, C, H, W)."""
    return param[..., None, :, None, None]


def _batchnorm_normalised(x, eps, running):
    """xhat and 1/sqrt(var + eps), from the batch (biased variance) or from the running statistics."""
    if running is None:
        mean = x.mean(axis=(-4, -2, -1), keepdims=True)
        var = ((x - mean) ** 2).mean(axis=(-4, -2, -1), keepdims=True)
    else:
        mean = np.asarray(running[0], dtype=np.float64)[:, None, None]
        var = np.asarray(running[1], dtype=np.float64)[:, None, None]
    scale = 1.0 / np.sqrt(var + eps)
    return (x - mean) * scale, scale


def _batchnorm_forward(x, weight=None, bias=None, *, eps, running):
    """z = gamma xhat + beta per channel; statistics over (N, H, W) of each problem."""
    hat, _ = _batchnorm_normalised(np.asarray(x, dtype=np.float64), eps, running)
    out = hat if weight is None else hat * _batchnorm_channel_param(weight)
    return out if bias is None else out + _batchnorm_channel_param(bias)


def _batchnorm_backward(delta, x, out, weight=None, bias=None, *, want_input=True, eps, running):
    """(dx or None[, dgamma[, dbeta]]): the closed form through the batch statistics, or gamma delta / std."""
    x = np.asarray(x, dtype=np.float64)
    hat, scale = _batchnorm_normalised(x, eps, running)
    delta = np.broadcast_to(delta, np.broadcast_shapes(delta.shape, hat.shape))
    hat = np.broadcast_to(hat, delta.shape)
    axes = (-4, -2, -1)
    dx = None
    if want_input:
        gain = scale if weight is None else scale * _batchnorm_channel_param(weight)
        if running is None:
            dx = gain * (delta - delta.mean(axis=axes, keepdims=True)
                         - hat * (delta * hat).mean(axis=axes, keepdims=True))
        else:
            dx = gain * delta
    if weight is None:
        return (dx,)
    dgamma = (delta * hat).sum(axis=axes)
    return (dx, dgamma) if bias is None else (dx, dgamma, delta.sum(axis=axes))


BatchNorm2d.array_twin = {"forward": _batchnorm_forward, "backward": _batchnorm_backward}
