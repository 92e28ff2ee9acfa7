"""The PyTorch block that ends a derivation document, as every seed article ends: code and its printout.

The code builds the spec's network as an `nn.Sequential` of torch's own layers with the
spec's options, copies in the same weights (and buffers), feeds the same input and
target, and takes one optimizer step (`zero_grad` first), printing the loss, the
gradients and the updated parameters; with steps = n > 1, a `for step in range(n)` loop
of zero_grad, forward, backward and step, printing each step's. It runs in float64 (`torch.set_default_dtype`),
the precision symgrad's numbers are compared in.

The printout shown under it is symgrad's own numbers in torch's print format
(`torch_repr`, torch's `_tensor_str` rules for float tensors at the default print
options), so no torch is needed to write the document: torch is never imported here.
tests/printing/test_torch_block.py runs the block with real torch and compares.

`numbers` is what `symgrad.verify.evaluate` returns (float64 arrays, torch's shapes);
the layers above printing compute it (printing may not import verify).
"""

from __future__ import annotations

import math
import re

import numpy as np

from . import latex, markdown, sampled, training
from .blocks import Heading, Para, Table
from .shapes import describe
from .words import words

#: A tensor is written into the code as a literal only up to this many entries (LeNet's 784-pixel input is not).
MAX_ENTRIES = 256
#: torch's default print options: 4 digits, one line of 80 characters.
PRECISION, LINEWIDTH = 4, 80
#: Code lines stay this short, so the block fits a page in \small typewriter.
CODE_WIDTH = 78


def fits(d) -> bool:
    """Whether every tensor the block writes out is small enough to be written as a literal."""
    t = d.tensors
    sizes = [t.input.size, *(p.value.size for p in t.parameters.values()), *(b.value.size for b in t.buffers.values())]
    if t.target is not None:
        sizes.append(t.target.size)
    return max(sizes) <= MAX_ENTRIES


# ---------------------------------------------------------------- the code


def code(d, numbers, wrt=None) -> str:
    """The runnable block: `numbers` gives the input, weights, buffers and target; `wrt` the gradients printed."""
    network, owners = d.network, d.network.owners()
    lines = ["import torch", "from torch import nn", "", "torch.set_default_dtype(torch.float64)", ""]
    if any(layer.type_name == "Sum" for layer in network):
        lines += ["class Sum(nn.Module):  # x.sum(), as in the seed article",
                  "    def forward(self, x):", "        return x.sum()", ""]
    if any(_masked(layer) for layer in network):
        lines += ["class MaskedDropout(nn.Dropout):  # torch's Dropout with the spec's mask (its RNG cannot draw it)",
                  "    def __init__(self, p, mask):", "        super().__init__(p)",
                  '        self.register_buffer("mask", mask)', "",
                  "    def forward(self, x):",
                  "        return x * self.mask / (1 - self.p) if self.p < 1 else x * 0", ""]
    shapes = [tuple(t.shape) for t in [d.tensors.input] + [layer.output for layer in d.tensors.layers[:-1]]]
    shared = sorted({owners[i] for i in range(len(owners)) if owners[i] != i})  # one module used twice
    for i in shared:
        lines.append(f"layer{i} = {_module(network.layers[i], shapes[i])}")
    modules = [f"layer{owners[i]}" if owners[i] in shared else _module(layer, shapes[i])
               for i, layer in enumerate(network)]
    lines += ["net = nn.Sequential("] + [f"    {m}," for m in modules] + [")"]
    lines += [f"net[{i}].eval()" for i, layer in enumerate(network) if getattr(layer, "training", True) is False]
    copies = [f"net[{name.split('.')[0]}].{name.split('.')[1]}.copy_({_tensor(value, 4 + 8 + len(name))})"
              for name, value in numbers["parameters"].items()]
    for name, value in numbers.get("buffers", {}).items():
        index, attr = name.split(".")
        whole = attr == "num_batches_tracked"
        copies.append(f"net[{index}].{attr}.copy_({_tensor(value, 4 + 8 + len(name), whole)})")
    if copies:
        lines += ["with torch.no_grad():"] + [f"    {line}" for line in copies]
    lines.append("")
    optimizer = d.optimizer is not None and bool(numbers["parameters"])  # torch refuses one without parameters
    steps = len(numbers.get("steps", [])) if optimizer else 0  # steps = n > 1: the training loop
    lines.append(_assign("x", numbers["input"], "" if steps else ", requires_grad=True"))
    if d.loss_fn is not None:
        whole = getattr(d.loss_fn, "target_dtype", "float64") == "int64"  # class indices
        lines.append(_assign("y", numbers["target"], "", whole))
        lines.append(f"loss_fn = nn.{_loss_call(d.loss_fn)}")
    if optimizer:
        lines.append(f"optimizer = torch.optim.{d.optimizer.type_name}(net.parameters(), {_sgd_options(d.optimizer)})")
    if steps:
        return "\n".join(lines + _loop(d, numbers, wrt, steps)) + "\n"
    lines += ["", "optimizer.zero_grad()" if optimizer else "net.zero_grad()"]
    forward = "loss = loss_fn(net(x), y)" if d.loss_fn is not None else "loss = net(x)"
    if d.backward_passes > 1:  # gradients accumulate over the passes: no zero_grad between them
        lines += [f"for _ in range({d.backward_passes}):", f"    {forward}", "    loss.backward()"]
    else:
        lines += [forward, "loss.backward()"]
    lines.append('print("loss:", loss.detach())')
    for name in _gradients(numbers, wrt):
        where = "x.grad" if name == "input" else f"{_attribute(name)}.grad"
        lines += [f'print("{where}:")', f"print({where})"]
    for name in _moved(numbers):
        lines += [f'print("{_attribute(name)}:")', f"print({_attribute(name)})"]
    if optimizer:
        lines.append("optimizer.step()")
        for name in _updated(numbers, wrt):
            lines += [f'print("{_attribute(name)}:")', f"print({_attribute(name)}.detach())"]
    return "\n".join(lines) + "\n"


def _loop(d, numbers, wrt, steps: int) -> list[str]:
    """steps = n > 1: `for step in range(n)`, zero_grad, forward, backward, step, printing each step's loss,
    parameter gradients and parameters after it; the buffers once, after the loop (x.grad is not printed:
    zero_grad clears only the parameters' gradients, so torch's x.grad would sum the steps)."""
    forward = "loss = loss_fn(net(x), y)" if d.loss_fn is not None else "loss = net(x)"
    lines = ["", f"for step in range({steps}):", "    optimizer.zero_grad()"]
    if d.backward_passes > 1:  # gradients accumulate over the passes: no zero_grad between them
        lines += [f"    for _ in range({d.backward_passes}):", f"        {forward}", "        loss.backward()"]
    else:
        lines += [f"    {forward}", "    loss.backward()"]
    lines.append('    print(f"step {step + 1} loss:", loss.detach())')
    for name in _gradients(numbers, wrt):
        if name != "input":
            lines += [f'    print("{_attribute(name)}.grad:")', f"    print({_attribute(name)}.grad)"]
    lines.append("    optimizer.step()")
    for name in _updated(numbers, wrt):
        lines += [f'    print("{_attribute(name)}:")', f"    print({_attribute(name)}.detach())"]
    for name in _moved(numbers):  # numbers["updated_buffers"]: after the last step
        lines += [f'print("{_attribute(name)}:")', f"print({_attribute(name)})"]
    return lines


def printout(d, numbers, wrt=None) -> str:
    """What the block prints: symgrad's numbers, formatted as torch prints them."""
    if d.optimizer is not None and numbers["parameters"] and numbers.get("steps"):
        return _loop_printout(numbers, wrt)
    lines = ["loss: " + torch_repr(numbers["loss"])]
    for name in _gradients(numbers, wrt):
        where = "x.grad" if name == "input" else f"{_attribute(name)}.grad"
        lines += [f"{where}:", torch_repr(numbers["gradients"][name])]
    for name in _moved(numbers):
        lines += [f"{_attribute(name)}:", torch_repr(numbers["updated_buffers"][name])]
    if d.optimizer is not None and numbers["parameters"]:
        for name in _updated(numbers, wrt):
            lines += [f"{_attribute(name)}:", torch_repr(numbers["updated"][name])]
    return "\n".join(lines) + "\n"


def _loop_printout(numbers, wrt) -> str:
    """What `_loop`'s code prints."""
    lines = []
    for number, step in enumerate(numbers["steps"], start=1):
        lines.append(f"step {number} loss: " + torch_repr(step["loss"]))
        for name in _gradients(numbers, wrt):
            if name != "input":
                lines += [f"{_attribute(name)}.grad:", torch_repr(step["gradients"][name])]
        for name in _updated(numbers, wrt):
            lines += [f"{_attribute(name)}:", torch_repr(step["updated"][name])]
    for name in _moved(numbers):
        lines += [f"{_attribute(name)}:", torch_repr(numbers["updated_buffers"][name])]
    return "\n".join(lines) + "\n"


def _gradients(numbers, wrt) -> list[str]:
    return [name for name in numbers["gradients"] if wrt is None or name in wrt]


def _updated(numbers, wrt) -> list[str]:
    return [name for name in numbers.get("updated", {}) if wrt is None or name in wrt]


def _moved(numbers) -> list[str]:
    """The float buffers the forward passes changed (a training BatchNorm's running statistics)."""
    given, after = numbers.get("buffers", {}), numbers.get("updated_buffers", {})
    return [name for name in after if not name.endswith("num_batches_tracked")
            and not np.array_equal(np.asarray(given.get(name)), np.asarray(after[name]))]


def _attribute(name: str) -> str:
    """A parameter's name in Sequential terms: 0.weight -> net[0].weight."""
    index, attr = name.split(".")
    return f"net[{index}].{attr}"


#: Options symgrad's layers take that torch's constructors do not: a mode (set with .eval()), Dropout's mask
#: and seed (the block's MaskedDropout holds the mask), and in-place (torch refuses it on the leaf input, and
#: it would overwrite an output a later backward needs; the numbers are the same).
_NOT_TORCH = re.compile(r",? ?\b(inplace|training|mask|seed)=(\[[^=]*\]|[^,)]*)")


def _masked(layer) -> bool:
    return layer.type_name == "Dropout" and layer.training


def _module(layer, in_shape) -> str:
    """torch's constructor for the layer (`Sum` and `MaskedDropout` are the block's own modules)."""
    if layer.type_name == "Sum":
        return "Sum()"
    if _masked(layer):
        mask = np.asarray(layer.mask_for(in_shape), dtype=np.float64)
        return f"MaskedDropout({_number(layer.p)}, {_tensor(mask, 4 + len('MaskedDropout(0.5, '), whole=True)})"
    shown = _NOT_TORCH.sub("", describe(layer)).replace("(, ", "(")
    return f"nn.{shown}"


def _sgd_options(optimizer) -> str:
    """lr and every option of the optimizer (SGD, Adam, ...) that differs from torch's default."""
    defaults = optimizer.defaults()
    shown = [f"lr={_number(optimizer.lr)}"]
    for name, value in optimizer.options().items():
        if name != "lr" and value != defaults.get(name):
            text = f"({', '.join(map(_number, value))})" if isinstance(value, tuple) else _number(value)  # betas
            shown.append(f"{name}={value!r}" if isinstance(value, bool) else f"{name}={text}")
    return ", ".join(shown)


def _loss_call(loss) -> str:
    """The loss's constructor call, its tensor options (weight, pos_weight) as the float64 tensors torch takes."""
    text = describe(loss)
    for name in ("weight", "pos_weight"):
        value = loss.options().get(name)
        if value is not None:
            text = re.sub(rf"\b{name}=" + re.escape(repr(value)),
                          lambda _: f"{name}=torch.tensor({value!r}, dtype=torch.float64)", text)
    return text


def _number(value, whole: bool = False) -> str:
    """A Python literal for a float64 value: 3. for a whole float, the shortest repr otherwise."""
    value = float(value)
    if not math.isfinite(value):
        return f"float({str(value)!r})"
    if whole:
        return str(int(value))
    if value.is_integer() and abs(value) < 1e16:
        return f"{int(value)}."
    return repr(value)


def _assign(name: str, value, extra: str, whole: bool = False) -> str:
    return f"{name} = torch.tensor({_tensor(value, len(name) + 3 + len('torch.tensor('), whole, call=False)}{extra})"


def _tensor(value, indent: int, whole: bool = False, call: bool = True) -> str:
    """`torch.tensor(literal)` (or the literal alone), broken into rows when a line would run long."""
    array = np.asarray(value, dtype=np.float64)
    inner = indent + (len("torch.tensor(") if call else 0)
    literal = _literal(array, whole, inner)
    return f"torch.tensor({literal})" if call else literal


def _literal(array: np.ndarray, whole: bool, indent: int) -> str:
    if array.ndim == 0:
        return _number(array[()], whole)
    flat = _flat(array, whole)
    if indent + len(flat) <= CODE_WIDTH:
        return flat
    if array.ndim == 1:  # a long row: several numbers per line
        cells = [_number(v, whole) for v in array]
        per_line = max(1, (CODE_WIDTH - indent - 1) // (max(len(c) for c in cells) + 2))
        rows = [", ".join(cells[i:i + per_line]) for i in range(0, len(cells), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(rows) + "]"
    parts = [_literal(part, whole, indent + 1) for part in array]
    return "[" + (",\n" + " " * (indent + 1)).join(parts) + "]"


def _flat(array: np.ndarray, whole: bool) -> str:
    if array.ndim == 0:
        return _number(array[()], whole)
    return "[" + ", ".join(_flat(part, whole) for part in array) + "]"


# ---------------------------------------------------------------- torch's print format


def torch_repr(value) -> str:
    """`print(t)` of a float tensor without grad and of the default dtype, as torch formats it
    (torch/_tensor_str.py at the default print options; tensors up to 1,000 entries, not summarized)."""
    array = np.asarray(value, dtype=np.float64)
    if array.size == 0:
        return "tensor([])" if array.ndim == 1 else f"tensor([], size={tuple(array.shape)})"
    formatter = _Formatter(array.reshape(-1))
    return "tensor(" + _tensor_str(array, len("tensor("), formatter) + ")"


class _Formatter:
    """One width and style (integers, fixed or scientific) for every entry, chosen as torch chooses it."""

    def __init__(self, flat: np.ndarray):
        self.int_mode, self.sci_mode, self.max_width = True, False, 1
        values = [float(v) for v in flat if math.isfinite(v) and v != 0]
        if not values:
            return
        low, high = min(abs(v) for v in values), max(abs(v) for v in values)
        self.int_mode = all(v == math.ceil(v) for v in values)
        self.sci_mode = high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4
        for v in values:
            if self.sci_mode:
                width = len(f"{v:.{PRECISION}e}")
            elif self.int_mode:
                width = len(f"{v:.0f}") + 1
            else:
                width = len(f"{v:.{PRECISION}f}")
            self.max_width = max(self.max_width, width)

    def format(self, value: float) -> str:
        if self.sci_mode:
            shown = f"{value:{self.max_width}.{PRECISION}e}"
        elif self.int_mode:
            shown = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            shown = f"{value:.{PRECISION}f}"
        return shown.rjust(self.max_width)


def _tensor_str(array: np.ndarray, indent: int, formatter: _Formatter) -> str:
    if array.ndim == 0:
        return formatter.format(float(array))
    if array.ndim == 1:
        per_line = max(1, math.floor((LINEWIDTH - indent) / (formatter.max_width + 2)))
        data = [formatter.format(float(v)) for v in array]
        lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    slices = [_tensor_str(part, indent + 1, formatter) for part in array]
    return "[" + ("," + "\n" * (array.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


# ---------------------------------------------------------------- the document's section


def section(d, numbers, lang: str, fmt: str, wrt=None, drawn: str = "", command: str = "") -> str:
    """The PyTorch section in `fmt` ("latex" or "markdown"): a lead-in, the code, "it prints:", the printout.

    `drawn`: the values given to the spec's symbols ("x_11=2, ..."), said in a sentence; `command`:
    the `symgrad check` command a network too large for the block is pointed to.
    """
    w = words(lang)
    blocks = [Heading(w["torch"])]
    if not fits(d):
        blocks.append(Para(w["torch_too_big"].format(command=command)))
        shown = sampled.blocks(d, numbers, lang, drawn) if numbers is not None else []
        return _render(shown + blocks, fmt)
    loop = len(numbers.get("steps", [])) if d.optimizer is not None and numbers["parameters"] else 0
    blocks.append(Para(training.WORDS[lang]["torch_intro"].format(count=loop) if loop else w["torch_intro"]))
    if drawn:
        blocks.append(Para(w["torch_drawn"].format(values=drawn)))
    head = _render(blocks, fmt)
    tail = _render([Para(w["torch_prints"])], fmt)
    return head + _code_block(code(d, numbers, wrt), fmt, "python") + tail + _code_block(
        printout(d, numbers, wrt), fmt, "text")


def agreement(rows, lang: str, fmt: str, drawn: str = "") -> str:
    """`symgrad check`'s table (symgrad vs torch autograd, float64) as a section in `fmt`."""
    w = words(lang)
    header = (w["check_quantity"], w["check_error"], w["check_status"])
    cells = tuple((f"`{r['quantity']}`", f"{r['max_abs_error']:.3g}",
                   w["check_ok"] if r["ok"] else w["check_bad"].format(reason=r["reason"])) for r in rows)
    agree = sum(1 for r in rows if r["ok"])
    blocks = [Heading(w["check"]), Para(w["check_intro"])]
    if drawn:
        blocks.append(Para(w["check_drawn"].format(values=drawn)))
    blocks += [Table(header, cells), Para(w["check_summary"].format(agree=agree, total=len(rows)))]
    return _render(blocks, fmt)


def _render(blocks, fmt: str) -> str:
    return latex.render(blocks) if fmt == "latex" else markdown.render(blocks)


def _code_block(source: str, fmt: str, language: str) -> str:
    if fmt == "latex":
        return "{\\small\n\\begin{verbatim}\n" + source + "\\end{verbatim}\n}\n"
    return f"\n```{language}\n{source}```\n\n"
