"""The training loop of `steps = n` (n > 1) as a document shows it: the loss and the parameters after each step.

The derivation above it works step 1 out in full; this section is the compact rest, one
line per step with the numbers rounded as torch prints them (4 decimals), the way a reader
follows a loop's printout. Text, LaTeX and Markdown say the same (text.py and page.py call
here); only formatting: the numbers are the engine's (engine/training.py's Step records).
"""

from __future__ import annotations

import math

import numpy as np

from . import summary
from .blocks import Heading, Math, Para
from .common import squeeze
from .fold import fold
from .page import LINE_WIDTH
from .texnames import parameter_symbol

#: A parameter of more entries than this is shown by its first entries and its norm, not as a matrix.
MAX_SHOWN = 16

WORDS = {
    "en": {"heading": "Training loop: {count} steps on the same batch",
           "intro": "Each step sets the gradients to zero (`optimizer.zero_grad()`), runs the forward and backward "
                    "passes at the parameters the step before left, and takes one {optimizer} step, its state "
                    "(step count, moments, momentum buffers) carried from step to step, as `for step in "
                    "range({count})` does in PyTorch. Step $t = 1$ is the one worked out above; $L$ is the loss at "
                    "the parameters before step $t$, and the parameters after it are rounded to 4 decimals:",
           "text": "Training loop ({count} steps on the same batch, zero_grad before each; rounded to 4 decimals):",
           "step": "step {number}: loss = {loss}",
           "norm": "norm",
           "torch_intro": "The same network in PyTorch, in float64: the same weights, input, target and loss, and "
                          "the training loop of {count} steps (`zero_grad()`, forward, backward, `step()` in each). "
                          "It prints each step's numbers derived above."},
    "zh": {"heading": "训练循环：同一批数据上的 {count} 步",
           "intro": "每一步先把梯度清零（`optimizer.zero_grad()`），在上一步留下的参数处做前向和反向传播，再做一步 "
                    "{optimizer}，其状态（步数、矩、动量缓冲）逐步传递，与 PyTorch 中 `for step in range({count})` "
                    "相同。第 $t = 1$ 步即上文完整推导的一步；$L$ 是第 $t$ 步更新前参数处的损失，更新后的参数保留 4 位小数：",
           "text": "训练循环（同一批数据上 {count} 步，每步先 zero_grad；保留 4 位小数）：",
           "step": "第 {number} 步：损失 = {loss}",
           "norm": "范数",
           "torch_intro": "用 PyTorch 搭建同一个网络（float64）：相同的权重、输入、目标值和损失函数，训练循环共 {count} 步"
                          "（每步 `zero_grad()`、前向、反向、`step()`）。运行后打印的就是上文推导出的每一步的数值。"},
}


def rounded(value: float) -> str:
    """One number as plain text, rounded as torch prints it: 4 decimals, or 4 digits and an exponent."""
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e5:
        return str(int(value))
    if 1e-4 <= abs(value) < 1e5:
        return f"{value:.4f}"
    return f"{value:.4e}"


def text_lines(d, names, lang: str, block) -> list[str]:
    """The text printer's lines (`block` is text.py's matrix layout); nothing for one step."""
    if not d.steps:
        return []
    w = WORDS[lang]
    lines = ["", w["text"].format(count=len(d.steps))]
    for step in d.steps:
        lines.append("  " + w["step"].format(number=step.number, loss=rounded(float(step.loss))))
        for name in names:
            values = summary.floats(step.parameters[name].updated)
            if values.size > MAX_SHOWN:  # a whole network's weights: the first entries and the norm
                first = ", ".join(rounded(float(v)) for v in values.reshape(-1)[:summary.FIRST])
                shape = " x ".join(map(str, values.shape))
                norm = rounded(math.hypot(*values.reshape(-1)))
                lines.append(f"    {name} ({shape}): [{first}, ...], {w['norm']} {norm}")
            else:
                lines += [f"    {name}:", block(np.vectorize(rounded, otypes=[object])(values), "        ")]
    return lines


def blocks(d, lang: str, names) -> list:
    """The page's section (LaTeX and Markdown): a heading, what a step does, one equation per step."""
    if not d.steps:
        return []
    w = WORDS[lang]
    count = len(d.steps)
    result = [Heading(w["heading"].format(count=count)),
              Para(w["intro"].format(count=count, optimizer=d.optimizer.type_name))]
    for step in d.steps:
        parts = [r"t = %d:\quad L \approx %s" % (step.number, summary.approx(float(step.loss)))]
        for name in names:
            symbol = "{%s}^{(%d)}" % (parameter_symbol(name, d.network), step.number)
            parts.append(_parameter(symbol, step.parameters[name].updated))
        result.append(Math(fold(r",\quad ".join(parts), LINE_WIDTH)))
    return result


def _parameter(symbol: str, array) -> str:
    """`K^{(t)} \\approx [matrix]`, or for a large parameter its first entries and norm."""
    array = np.asarray(array, dtype=object)
    if array.size <= MAX_SHOWN:
        values = squeeze(summary.floats(array))
        shown = summary.approx(float(values)) if values.ndim == 0 else summary.approx_matrix(array)
        return r"%s \approx %s" % (symbol, shown)
    brief = summary.brief(array)
    return r"%s \approx %s,\ \|%s\| \approx %s" % (symbol, brief["first"], symbol, brief["norm"])
