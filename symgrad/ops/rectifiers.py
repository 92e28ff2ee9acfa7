"""LeakyReLU, ELU and GELU: element-wise activations with torch's derivatives, exactly at 0 too.

torch's kernels (measured, torch 2.13, float64) take the left branch at exactly 0:
LeakyReLU'(0) = negative_slope (`x > 0 ? grad : grad * negative_slope`) and ELU'(0) = alpha
(`x <= 0 ? grad * alpha * exp(x) : grad`). SymPy's d/dx of Max/Min gives Heaviside(0) = 1/2
there, so the rules use activation's indicator Positive (1[x > 0]). GELU is smooth: the exact
form uses SymPy's erf; approximate="tanh" is torch's tanh formula with kappa = 0.044715.
The forwards avoid Piecewise: Max(x, 0) + s Min(x, 0) is LeakyReLU for every sign of s.
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
from .activation import Positive
from .base import Gradients, ParameterlessLayer, missing, one_per_output

#: torch's GELU tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + KAPPA x^3))).
KAPPA = "0.044715"


class _Rectifier(ParameterlessLayer):
    """An element-wise activation: same shape out as in, no parameters, dL/dx = delta * f'(x)."""

    output_letter = "a"
    rule_words = "general_plain"
    figure = missing("an element-wise map has no window to picture")
    terms = one_per_output

    def output_shape(self, in_shape):
        return tuple(in_shape)

    def shape_formula(self, in_shape):
        return "element-wise: same shape as the input"

    def forward(self, x, params):
        return tensor.apply(self.function, x)

    def backward(self, delta, x, out, params):
        dx = np.empty(x.shape, dtype=object)
        for idx in np.ndindex(*x.shape):
            d = delta[idx]
            dx[idx] = sp.Integer(0) if d == 0 else d * self.local(x[idx], out[idx])
        return Gradients(input=dx)


def _real(where: str, option: str, value) -> float:
    """A real Python or NumPy number (not a bool or SymPy object), finite and within float64, as torch's float."""
    if isinstance(value, (bool, np.bool_, sp.Basic)) or not isinstance(value, Real):
        raise OptionError(where, option, f"expected a number, got {shown(value)}")
    tensor.number(value, where, option)
    return value if isinstance(value, (int, float)) else float(value)


def _inplace(where: str, inplace, slope: float, name: str, option: str) -> bool:
    """torch's in-place backward refuses a negative slope; symgrad always takes the backward, so refuses it here."""
    inplace = opt.boolean(where, "inplace", inplace)
    if inplace and slope < 0:
        raise OptionError(where, "inplace", f"In-place {name} backward calculation is triggered with a negative "
                                            f"slope which is not supported (torch's message; {option} = "
                                            f"{shown(slope)}): use inplace = false")
    return inplace


def _coefficient(number: sp.Expr) -> str:
    """A number as a factor in an instance: in parentheses when negative (+ (-1/2) min, not + -1/2 min)."""
    return r"\left(%s\right)" % latex(number) if number < 0 else latex(number)


def _leaky_relu_forms(s: str) -> dict[str, str]:
    """LeakyReLU's forward and input forms with the slope written as `s` (a letter or a number)."""
    return {
        "forward": r"a_{i} = \max(x_{i}, 0) + %s \min(x_{i}, 0)" % s,
        "input": r"\frac{\partial L}{\partial x_{i}} = \delta_{i} \left(\mathbb{I}\left[x_{i} > 0\right] + %s\, "
                 r"\mathbb{I}\left[x_{i} \le 0\right]\right)" % s,
    }


def _elu_forms(alpha: str) -> dict[str, str]:
    """ELU's forward and input forms with alpha written as `alpha` (a letter or a number)."""
    return {
        "forward": r"a_{i} = \max(x_{i}, 0) + %s \left(e^{\min(x_{i}, 0)} - 1\right)" % alpha,
        "input": r"\frac{\partial L}{\partial x_{i}} = \delta_{i} \left(\mathbb{I}\left[x_{i} > 0\right] + %s\, "
                 r"e^{x_{i}}\, \mathbb{I}\left[x_{i} \le 0\right]\right)" % alpha,
    }


class LeakyReLU(_Rectifier):
    type_name = "LeakyReLU"
    index_form = _leaky_relu_forms("s")
    words = {
        "en": {"note:input": "$s$ is negative_slope. At exactly $x_{i} = 0$ torch takes the left branch: the "
                             "derivative there is $s$, not 1 and not $(1 + s)/2$."},
        "zh": {"note:input": "$s$ 即 `negative_slope`。在 $x_{i} = 0$ 处 torch 取左侧分支：导数为 $s$，既不是 1，也不是 $(1 + s)/2$。"},
    }

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        w = self.type_name
        self.negative_slope = _real(w, "negative_slope", negative_slope)
        self.inplace = _inplace(w, inplace, self.negative_slope, "leakyReLu", "negative_slope")

    def options(self):
        return {"negative_slope": self.negative_slope, "inplace": self.inplace}

    @property
    def slope(self) -> sp.Expr:
        return tensor.number(self.negative_slope, self.where, "negative_slope")

    def function(self, x):
        exact = x.is_comparable  # as ReLU: no symbolic assumption queries
        return sp.Max(x, 0, evaluate=exact) + self.slope * sp.Min(x, 0, evaluate=exact)

    def local(self, x, y):
        up = Positive(x)
        return up + self.slope * (1 - up)

    def index_instance(self, key, in_shape):
        return _leaky_relu_forms(_coefficient(self.slope))[key]

    def array_options(self, in_shape):
        return {"negative_slope": float(self.negative_slope)}

    def torch_module(self):
        """Out of place, as ReLU's twin: the same values and gradients, and torch refuses an in-place op on a
        leaf input that requires grad (what `symgrad check` feeds the first layer)."""
        import torch

        return torch.nn.LeakyReLU(self.negative_slope)

    @classmethod
    def from_torch(cls, module):
        return cls(negative_slope=module.negative_slope, inplace=module.inplace)


class ELU(_Rectifier):
    type_name = "ELU"
    index_form = _elu_forms(r"\alpha")
    words = {
        "en": {"note:input": "At exactly $x_{i} = 0$ torch takes the left branch: the derivative there is "
                             "$\\alpha e^{0} = \\alpha$ (so ELU is differentiable at 0 only when $\\alpha = 1$)."},
        "zh": {"note:input": "在 $x_{i} = 0$ 处 torch 取左侧分支：导数为 $\\alpha e^{0} = \\alpha$（只有 $\\alpha = 1$ 时 `ELU` 在 "
                             "0 处可导）。"},
    }

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        w = self.type_name
        self.alpha = _real(w, "alpha", alpha)
        self.inplace = _inplace(w, inplace, self.alpha, "elu", "alpha")

    def options(self):
        return {"alpha": self.alpha, "inplace": self.inplace}

    @property
    def exact_alpha(self) -> sp.Expr:
        return tensor.number(self.alpha, self.where, "alpha")

    def function(self, x):
        exact = x.is_comparable
        return sp.Max(x, 0, evaluate=exact) + self.exact_alpha * (sp.exp(sp.Min(x, 0, evaluate=exact)) - 1)

    def local(self, x, y):
        up = Positive(x)
        return up + self.exact_alpha * sp.exp(x) * (1 - up)

    def index_instance(self, key, in_shape):
        return _elu_forms(_coefficient(self.exact_alpha))[key]

    def array_options(self, in_shape):
        return {"alpha": float(self.alpha)}

    def torch_module(self):
        """Out of place, as LeakyReLU's."""
        import torch

        return torch.nn.ELU(self.alpha)

    @classmethod
    def from_torch(cls, module):
        return cls(alpha=module.alpha, inplace=module.inplace)


_GELU_TANH = {
    "forward": r"a_{i} = \frac{x_{i}}{2} \left(1 + \tanh u_{i}\right), \quad u_{i} = \sqrt{2/\pi}\, \left(x_{i} + "
               r"%s\, x_{i}^{3}\right)" % KAPPA,
    "input": r"\frac{\partial L}{\partial x_{i}} = \delta_{i} \left(\frac{1}{2} \left(1 + \tanh u_{i}\right) + "
             r"\frac{x_{i}}{2} \left(1 - \tanh^{2} u_{i}\right) \sqrt{2/\pi}\, \left(1 + 3 \cdot %s\, "
             r"x_{i}^{2}\right)\right)" % KAPPA,
}


class GELU(_Rectifier):
    type_name = "GELU"
    index_form = {
        "forward": r"a_{i} = x_{i}\, \Phi(x_{i}) = \frac{x_{i}}{2} \left(1 + \operatorname{erf} "
                   r"\frac{x_{i}}{\sqrt{2}}\right)",
        "input": r"\frac{\partial L}{\partial x_{i}} = \delta_{i} \left(\frac{1}{2} \left(1 + \operatorname{erf} "
                 r"\frac{x_{i}}{\sqrt{2}}\right) + \frac{x_{i}}{\sqrt{2 \pi}}\, e^{-x_{i}^{2}/2}\right)",
    }
    words = {
        "en": {"note:forward": "$\\Phi$ is the standard normal distribution function. With approximate = "
                               "\"tanh\" torch computes $\\frac{x}{2}(1 + \\tanh(\\sqrt{2/\\pi}\\,(x + 0.044715\\, "
                               "x^{3})))$ instead, and its backward is the derivative of that formula, not of the "
                               "exact GELU."},
        "zh": {"note:forward": "$\\Phi$ 是标准正态分布函数。`approximate=\"tanh\"` 时 torch 改用 "
                               "$\\frac{x}{2}(1 + \\tanh(\\sqrt{2/\\pi}\\,(x + 0.044715\\, x^{3})))$，"
                               "反向传播求的也是这个近似式的导数，而不是精确 `GELU` 的导数。"},
    }

    def __init__(self, approximate="none"):
        super().__init__()
        if not isinstance(approximate, str):
            raise OptionError(self.type_name, "approximate", f"gelu(): argument 'approximate' must be str, not "
                                                             f"{type(approximate).__name__} (got {shown(approximate)})")
        if approximate not in ("none", "tanh"):
            raise OptionError(self.type_name, "approximate", f"approximate argument must be either none or tanh. "
                                                             f"(got {shown(approximate)})")
        self.approximate = approximate

    def options(self):
        return {"approximate": self.approximate}

    def function(self, x):
        if self.approximate == "tanh":
            return x / 2 * (1 + sp.tanh(_gelu_inner(x)))
        return x / 2 * (1 + sp.erf(x / sp.sqrt(2)))

    def local(self, x, y):
        if self.approximate == "tanh":
            t = sp.tanh(_gelu_inner(x))
            return (1 + t) / 2 + x / 2 * (1 - t**2) * sp.sqrt(2 / sp.pi) * (1 + 3 * sp.Rational(KAPPA) * x**2)
        return (1 + sp.erf(x / sp.sqrt(2))) / 2 + x * sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi)

    def index_instance(self, key, in_shape):
        return _GELU_TANH[key] if self.approximate == "tanh" else ""

    def array_options(self, in_shape):
        return {"approximate": self.approximate}

    def torch_module(self):
        import torch

        return torch.nn.GELU(self.approximate)

    @classmethod
    def from_torch(cls, module):
        return cls(approximate=module.approximate)


def _gelu_inner(x):
    """u = sqrt(2/pi) (x + kappa x^3), the argument of tanh in torch's approximation."""
    return sp.sqrt(2 / sp.pi) * (x + sp.Rational(KAPPA) * x**3)


# ---------------------------------------------------------------- index forms as evaluable functions
#
# Written from the TeX, branch by branch (a number decides the branch), not through the layer's methods.

def _branches(x, left, right):
    """right(x) where x > 0, left(x) elsewhere (x = 0 included, as torch's kernels): numbers only."""
    return right(x) if x > 0 else left(x)


def _leaky_relu_forward_rule(layer, x, params, delta=None):
    s = tensor.number(layer.negative_slope)
    return tensor.apply(lambda v: _branches(v, lambda u: s * u, lambda u: u), x)


def _leaky_relu_input_rule(layer, x, params, delta):
    s = tensor.number(layer.negative_slope)
    return delta * tensor.apply(lambda v: _branches(v, lambda u: s, lambda u: 1), x)


def _elu_forward_rule(layer, x, params, delta=None):
    alpha = tensor.number(layer.alpha)
    return tensor.apply(lambda v: _branches(v, lambda u: alpha * (sp.exp(u) - 1), lambda u: u), x)


def _elu_input_rule(layer, x, params, delta):
    alpha = tensor.number(layer.alpha)
    return delta * tensor.apply(lambda v: _branches(v, lambda u: alpha * sp.exp(u), lambda u: 1), x)


def _gelu_forward_rule(layer, x, params, delta=None):
    if layer.approximate == "tanh":
        return tensor.apply(lambda v: v / 2 * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (v + sp.Rational(KAPPA) * v**3))), x)
    return tensor.apply(lambda v: v * (1 + sp.erf(v / sp.sqrt(2))) / 2, x)


def _gelu_input_rule(layer, x, params, delta):
    def local(v):
        if layer.approximate == "tanh":
            u = sp.sqrt(2 / sp.pi) * (v + sp.Rational(KAPPA) * v**3)
            return (1 + sp.tanh(u)) / 2 + v / 2 * (1 - sp.tanh(u)**2) * sp.sqrt(2 / sp.pi) * \
                (1 + 3 * sp.Rational(KAPPA) * v**2)
        return (1 + sp.erf(v / sp.sqrt(2))) / 2 + v / sp.sqrt(2 * sp.pi) * sp.exp(-v**2 / 2)

    return delta * tensor.apply(local, x)


LeakyReLU.index_rules = {"forward": _leaky_relu_forward_rule, "input": _leaky_relu_input_rule}
ELU.index_rules = {"forward": _elu_forward_rule, "input": _elu_input_rule}
GELU.index_rules = {"forward": _gelu_forward_rule, "input": _gelu_input_rule}


# ---------------------------------------------------------------- array twins (NumPy, batch axes in front)

def _leaky_relu_forward(x, *, negative_slope):
    """x where x > 0, else negative_slope * x."""
    return np.where(x > 0, x, x * negative_slope)


def _leaky_relu_backward(delta, x, out, *, want_input=True, negative_slope):
    """delta where x > 0, else delta * negative_slope (x = 0 included, as torch)."""
    dx = np.where(x > 0, delta, delta * negative_slope) if want_input else None
    return (dx,)


def _elu_forward(x, *, alpha):
    """x where x > 0, else alpha (e^x - 1) (expm1, as torch's kernel)."""
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def _elu_backward(delta, x, out, *, want_input=True, alpha):
    """delta where x > 0, else delta * alpha e^x (x = 0 included, as torch)."""
    dx = np.where(x > 0, delta, delta * alpha * np.exp(np.minimum(x, 0.0))) if want_input else None
    return (dx,)


def _gelu_erf(z):
    """erf on a whole array: NumPy has none, so Python's math.erf entry by entry (imported here: only np is global)."""
    import math

    return np.vectorize(math.erf, otypes=[np.float64])(z)


def _gelu_forward(x, *, approximate):
    """x Phi(x), or torch's tanh approximation."""
    if approximate == "tanh":
        inner = np.sqrt(2.0 / np.pi) * (x + 0.044715 * x * x * x)
        return 0.5 * x * (1.0 + np.tanh(inner))
    return 0.5 * x * (1.0 + _gelu_erf(x / np.sqrt(2.0)))


def _gelu_backward(delta, x, out, *, want_input=True, approximate):
    """delta (Phi(x) + x phi(x)), or delta times the derivative of the tanh formula (torch's backward)."""
    if not want_input:
        return (None,)
    if approximate == "tanh":
        beta = np.sqrt(2.0 / np.pi)
        t = np.tanh(beta * (x + 0.044715 * x * x * x))
        local = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * beta * (1.0 + 3.0 * 0.044715 * x * x)
    else:
        local = 0.5 * (1.0 + _gelu_erf(x / np.sqrt(2.0))) + x * np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)
    return (delta * local,)


LeakyReLU.array_twin = {"forward": _leaky_relu_forward, "backward": _leaky_relu_backward}
ELU.array_twin = {"forward": _elu_forward, "backward": _elu_backward}
GELU.array_twin = {"forward": _gelu_forward, "backward": _gelu_backward}
