"""Every prose word of a derivation, in one table per language.

Printers look words up here and nowhere else, so a translation is one entry per key.
Inline math is written `$...$` (LaTeX and Markdown/KaTeX both read it); `{name}`
fields are filled in by the printer. The Chinese follows the seed articles' phrasing
(x和卷积核K做卷积运算,得到σ ...). What belongs to one op (its notes, its figure's
caption) is in that op's `words` (symgrad/ops/), in the same languages.
"""

from __future__ import annotations

import re

from ..core.errors import OptionError

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "lang": "en",  # which language an op's own `words` are taken in
        "times": " x ",  # between a shape's sizes: 1 x 1 x 3 x 3
        "before_note": ": ",  # between a tensor's symbol and its note in parentheses: $X$: (64 entries ...)
        "check_drawn": "The spec leaves symbols without values; the table compares at the values `symgrad check` "
                       "draws (seed 0): {values}.",
        "loss_heading": "Loss: {loss}",
        "table_input": "`input`",
        "torch": "PyTorch check",
        "sampled": "The numbers, in brief",
        "sampled_intro": "The network is derived in named intermediates over symbols, so the sections above give "
                         "formulas; here are its numbers: the loss and each gradient, rounded to 4 decimals as torch "
                         "prints them (the same float64 numbers `symgrad check` compares with torch autograd).",
        "sampled_drawn": "The symbols take the values `symgrad check` draws (seed 0): {values}.",
        "sampled_quantity": "gradient",
        "sampled_shape": "shape",
        "sampled_first": "first entries",
        "sampled_norm": "norm",
        "sampled_min": "min",
        "sampled_overflow": "At these values float64 overflows (the numbers come out as inf and nan), so none are shown; "
                            "give the parameters numbers (`[weights] seed`) to see them.",
        "sampled_max": "max",
        "torch_intro": "The same network in PyTorch, in float64: the same weights, input, target and loss, and one "
                       "optimizer step after `zero_grad()`. It prints the numbers derived above.",
        "torch_drawn": "The spec leaves symbols without values; the block uses the values `symgrad check` draws (seed "
                       "0): {values}.",
        "torch_prints": "It prints (symgrad's numbers, in torch's print format):",
        "torch_too_big": "The network's tensors are too large to write into a code block; `{command}` builds the same "
                         "network in PyTorch and compares every number.",
        "check": "Agreement with PyTorch",
        "check_intro": "What `symgrad check` prints, run while this document was written: symgrad's numbers against "
                       "torch autograd's, in float64.",
        "check_quantity": "quantity",
        "check_error": "max $\\lvert \\text{symgrad} - \\text{torch} \\rvert$",
        "check_status": "status",
        "check_ok": "ok",
        "check_bad": "MISMATCH ({reason})",
        "check_summary": "{agree} of {total} quantities agree with torch autograd (float64).",
        "text_network": "network",
        "text_loss": "loss",
        "text_input": "input",
        "text_parameter": "parameter",
        "text_forward": "forward",
        "text_target": "target",
        "text_loss_value": "loss L",
        "text_scalar": "scalar",
        "text_named": "backward with named intermediates (delta_A = dL/dA):",
        "text_kept": "backward: kept in named intermediates (a large network); the numbers below are evaluated\nfrom "
                     "them. The formulas: --format latex or markdown (index forms), --emit-python (code).",
        "text_gradients": "gradients",
        "text_brief": "(in brief: a tensor of over 1000 entries summarised as torch prints it, an entry longer than a line\n"
                      "by its first terms, each named tensor by its first definitions; --full prints everything)",
        "text_more_definitions": "... {count} more {name} definitions (--full prints every one)",
        "text_buffers": "running statistics (buffers after {passes}):",
        "text_step": "after one {optimizer} step:",
        "rule_again": "General rule: that of {type} above ({part}).",
        "rule_again_instance": "General rule: that of {type} above ({part}); with this layer's numbers:",
        "rule_forward": "forward pass",
        "rule_input": "$\\delta$ to its input",
        "rule_param": "gradient of ${symbol}$",
        "general_short": "General rule:",
        "general_undilated": "General rule (any size, stride $s$, padding $p$; indices from 1):",
        "forward_names": "Every entry in closed form, with each $\\delta$ written in (in the forward pass's names):",
        "argmax_legend": "where $m$ is the position (row by row, from 1) of the window's first maximum:",
        "composed": "(In closed form: the named form above, with each $\\delta$ written in from its closed form above.)",
        "summary": "${left}$: {count} entries of shape {shape}; the first ${first}$ (row by row), "
                   "$\\lVert {left} \\rVert = {norm}$, min ${min}$, max ${max}$ (rounded to 4 decimals, as torch prints).",
        "symbols": "${left}$: the symbols ${first}, \\dots, {last}$ (shape {shape}).",
        "argmax_legend_many": "where each window's $m$ is the position (row by row, from 1) of its first maximum:",
        "title": "symgrad derivation",
        "setup": "Setup",
        "setup_intro": "The input $X$, the parameters and the target, as the spec gives them.",
        "layers": "Layers and shapes",
        "layers_intro": "Each layer with its options, its output shape (N, C, H, W) and how that shape follows "
                        "from its input.",
        "col_index": "#",
        "col_layer": "layer",
        "col_shape": "output shape",
        "col_params": "parameters",
        "col_formula": "shape formula",
        "forward": "Forward pass",
        "layer": "Layer {index}: {layer}",
        "general": "General rule (any size, stride $s$, padding $p$, dilation $d$; indices from 1):",
        "general_plain": "General rule (indices from 1):",
        "instance": "With this layer's numbers:",
        "entries": "Entry by entry:",
        "numbers": "With the numbers substituted:",
        "first_entry": "(Each entry is long; the first one:)",
        "worked": "Entry by entry, with the numbers written in:",
        "too_big": "({count} entries of shape {shape}; index form above)",
        "too_big_sampled": "({count} entries of shape {shape}; index form above; `symgrad derive` ends the document "
                           "with its numbers in brief)",
        "shape_only": "({count} entries of shape {shape})",
        "many_terms": "(entries of up to {terms} terms; index form above)",
        "too_long": "(the closed form is too long to print; the named form above is exact)",
        "loss": "Loss",
        "buffers": "Running statistics",
        "buffers_intro": "A forward pass in training mode moves the layers' buffers (named as in torch's "
                         "state_dict); their values after {passes}:",
        "one_pass": "the forward pass",
        "passes": "the {count} forward passes",
        "backward": "Backward pass",
        "chain_intro": "The chain rule, one factor per layer, read from the loss back to the input; "
                       "$\\delta$ is the gradient of $L$ with respect to a layer's output:",
        "delta_loss": "The first factor, from the loss:",
        "delta_layer": "Layer {index} ({type}) passes $\\delta$ back to its input:",
        "param_grad": "Gradient of the parameter {name}:",
        "input_grad": "Gradient of the network input:",
        "names_form": "In the named intermediates:",
        "closed_form": "Every entry in closed form:",
        "values": "Values:",
        "step": "Optimizer step",
        "step_intro": "One SGD step with learning rate $\\eta = {lr}$:",
    },
    "zh": {
        "lang": "zh",
        "times": "×",  # 1×1×3×3, as Chinese texts write a shape
        "before_note": "",  # $X$（共 64 个元素……）: the full-width parenthesis needs no colon
        "check_drawn": "规格文件中有些符号没有给出数值；比较时用 `symgrad check` 抽取的数值（种子 0）：{values}。",
        "loss_heading": "损失函数：{loss}",
        "table_input": "输入",
        "torch": "PyTorch 验证",
        "sampled": "数值摘要",
        "sampled_intro": "网络以具名中间量对符号求导，所以上文给出的是公式；这里给出它的数值：损失和每个梯度，"
                         "像 torch 打印那样保留 4 位小数（与 `symgrad check` 同 torch autograd 比较的 float64 数值相同）。",
        "sampled_drawn": "符号取 `symgrad check` 抽取的数值（种子 0）：{values}。",
        "sampled_quantity": "梯度",
        "sampled_shape": "形状",
        "sampled_first": "前几个元素",
        "sampled_norm": "范数",
        "sampled_min": "最小值",
        "sampled_overflow": "在这些数值下 float64 溢出（结果为 inf 和 nan），因此不列出；给参数赋上数值（`[weights] seed`）即可看到。",
        "sampled_max": "最大值",
        "torch_intro": "用 PyTorch 搭建同一个网络（float64）：相同的权重、输入、目标值和损失函数，`zero_grad()` 之后做一步优化。运行后打印的数值就是上文推导出的数值。",
        "torch_drawn": "规格文件中有些符号没有给出数值；代码用 `symgrad check` 抽取的数值（种子 0）：{values}。",
        "torch_prints": "运行结果（symgrad 算出的数值，按 torch 的打印格式）：",
        "torch_too_big": "网络的张量太大，不便写进代码块；`{command}` 会用 PyTorch 搭建同一个网络，并逐一比较所有数值。",
        "check": "与 PyTorch 的比较",
        "check_intro": "`symgrad check` 的比较结果（生成本文档时运行）：symgrad 的数值与 torch autograd 的数值，均为 float64。",
        "check_quantity": "量",
        "check_error": "最大误差 $\\lvert \\text{symgrad} - \\text{torch} \\rvert$",
        "check_status": "结果",
        "check_ok": "一致",
        "check_bad": "不一致",
        "check_summary": "共 {total} 个量，其中 {agree} 个与 torch autograd 一致（float64）。",
        "text_network": "网络",
        "text_loss": "损失函数",
        "text_input": "输入",
        "text_parameter": "参数",
        "text_forward": "前向传播",
        "text_target": "目标值",
        "text_loss_value": "损失 L",
        "text_scalar": "标量",
        "text_named": "反向传播（用中间量表示，delta_A = dL/dA）：",
        "text_kept": "反向传播：网络较大，用中间量表示；下面的数值由中间量算出。\n公式见 --format latex 或 markdown（下标公式）和 --emit-python（代码）。",
        "text_gradients": "梯度",
        "text_brief": "（简略显示：超过 1000 个元素的张量按 torch 的方式摘要，过长的条目只列前几项，\n"
                      "每个中间量只列前几个定义；--full 显示全部）",
        "text_more_definitions": "……另有 {count} 个 {name} 的定义（--full 全部列出）",
        "text_buffers": "运行统计量（{passes}之后的缓冲区）：",
        "text_step": "一步 {optimizer} 更新之后：",
        "rule_again": "一般公式：同上文 {type} 的公式（{part}）。",
        "rule_again_instance": "一般公式：同上文 {type} 的公式（{part}）；代入本层的参数：",
        "rule_forward": "前向传播",
        "rule_input": "把 $\\delta$ 传回输入",
        "rule_param": "${symbol}$ 的梯度",
        "general_short": "一般公式：",
        "general_undilated": "一般公式（任意尺寸、步幅 $s$、填充 $p$；下标从 1 开始）：",
        "forward_names": "每个元素的闭式（代入各个 $\\delta$，用前向传播的中间量表示）：",
        "argmax_legend": "其中 $m$ 是窗口中第一个最大值的位置（按行优先，从 1 开始）：",
        "composed": "（闭式：即上面用中间量表示的形式，再代入上文各个 $\\delta$ 的闭式。）",
        "summary": "${left}$：共 {count} 个元素，形状 {shape}；前几个元素为 ${first}$（按行优先），"
                   "$\\lVert {left} \\rVert = {norm}$，最小值 ${min}$，最大值 ${max}$（与 torch 一样保留 4 位小数）。",
        "symbols": "${left}$：符号 ${first}, \\dots, {last}$（形状 {shape}）。",
        "argmax_legend_many": "其中每个窗口的 $m$ 是该窗口中第一个最大值的位置（按行优先，从 1 开始）：",
        "title": "symgrad 推导",
        "setup": "设定",
        "setup_intro": "输入 $X$、模型参数和目标值（GT），按规格文件给出。",
        "layers": "网络结构与形状",
        "layers_intro": "每一层的参数设置、输出形状（N, C, H, W），以及形状的计算公式。",
        "col_index": "#",
        "col_layer": "层",
        "col_shape": "输出形状",
        "col_params": "参数个数",
        "col_formula": "形状公式",
        "forward": "前向传播",
        "layer": "第 {index} 层：{layer}",
        "general": "一般公式（任意尺寸、步幅 $s$、填充 $p$、膨胀 $d$；下标从 1 开始）：",
        "general_plain": "一般公式（下标从 1 开始）：",
        "instance": "代入本层的参数：",
        "entries": "逐个元素写出：",
        "numbers": "代入数值：",
        "first_entry": "（每个元素都很长，这里写出第一个：）",
        "worked": "逐个元素代入数值计算：",
        "too_big": "（共 {count} 个元素，形状 {shape}；见上面的下标公式）",
        "too_big_sampled": "（共 {count} 个元素，形状 {shape}；见上面的下标公式；`symgrad derive` 在文末给出数值摘要）",
        "shape_only": "（共 {count} 个元素，形状 {shape}）",
        "many_terms": "（每个元素最多有 {terms} 项；见上面的下标公式）",
        "too_long": "（闭式太长，不再展开；上面用中间量写出的形式是精确的）",
        "loss": "损失函数",
        "buffers": "运行统计量",
        "buffers_intro": "训练模式下的前向传播会更新各层的缓冲区（名称同 torch 的 `state_dict`）；{passes}之后的值：",
        "one_pass": "前向传播",
        "passes": "{count} 次前向传播",
        "backward": "反向传播",
        "chain_intro": "链式法则：从损失函数逐层往回传，每层一个因子；$\\delta$ 表示 $L$ 对该层输出的梯度：",
        "delta_loss": "第一个因子，来自损失函数：",
        "delta_layer": "第 {index} 层（{type}）把 $\\delta$ 传回它的输入：",
        "param_grad": "参数 {name} 的梯度：",
        "input_grad": "网络输入的梯度：",
        "names_form": "用中间量表示：",
        "closed_form": "每个元素的闭式：",
        "values": "数值：",
        "step": "梯度更新",
        "step_intro": "学习率 $\\eta = {lr}$ 的一步 SGD：",
    },
}

LANGUAGES = tuple(WORDS)

#: The prose in the ops' shape formulas (`Layer.shape_formula`, English as `symgrad shapes` prints it), translated
#: for the layer table of a derivation: (pattern, replacement) pairs, applied in order.
FORMULA_PHRASES: dict[str, list[tuple[str, str]]] = {
    "en": [],
    "zh": [
        (r"^element-wise: same shape as the input$", "逐元素：形状与输入相同"),
        (r"^per channel: same shape as the input$", "逐通道：形状与输入相同"),
        (r"^the identity: same shape as the input$", "恒等映射：形状与输入相同"),
        (r"^sum of all entries = a scalar$", "所有元素之和 = 标量"),
        (r"^along dimension (\d+) \(torch's implicit dim\): same shape as the input$",
         r"沿第 \1 维（torch 隐式选择的 dim）：形状与输入相同"),
        (r"^along dimension (\d+) \((dim=-?\d+)\): same shape as the input$", r"沿第 \1 维（\2）：形状与输入相同"),
        (r", minus the last window \(it would start in the padding\) = ", "，去掉最后一个窗口（它会从填充区开始）= "),
        (r" \(nothing to merge\)", "（无需合并）"),
        (r" \(None keeps the input's\)", "（None 表示保持输入的大小）"),
        (r" \(output_size\)", "（output_size）"),
        (r"; W: ", "；W: "),
    ],
}


def formula(text: str, lang: str) -> str:
    """An op's shape formula with its prose in `lang` (the arithmetic stays as it is)."""
    for pattern, replacement in FORMULA_PHRASES[lang]:
        text = re.sub(pattern, replacement, text)
    return text


def words(lang: str) -> dict[str, str]:
    """The word table of `lang`, or an OptionError naming the choices."""
    if lang not in WORDS:
        raise OptionError("derive", "lang", f"must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    return WORDS[lang]
