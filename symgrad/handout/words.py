"""Every prose word of the handout and the exercise sheets, one table per language.

Inline math is `$...$` and code is in backticks (both renderers read them); `{name}`
fields are filled in from the engine's numbers by questions.py and exercises.py, so
no result is ever typed here. Indices start at 1, as in the seed articles. The
Chinese follows the articles' phrasing (x和卷积核K做卷积运算,得到σ ...).
"""

from __future__ import annotations

from ..core.errors import OptionError

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "handout_title": "Interview handout: gradients and shapes of small CNNs",
        "handout_intro": "The questions of the seed articles, each with a worked solution; the answer key is at "
                         "the end. Every number is computed by symgrad with PyTorch's semantics (and checked "
                         "against torch autograd in its tests). Indices start at 1.",
        "question": "Question {n}. {title}",
        "worked": "Worked solution",
        "answer_key": "Answer key",
        "answer_item": "{n}. {title}",
        # conv + sum / max pool / avg pool
        "conv_sum_title": "Gradient of a convolution kernel (sum)",
        "conv_sum_prompt": "The input $X$ is convolved with the kernel $K$ (`{conv}`: stride 1, no padding, no "
                           "bias) to give $\\sigma$. The entries of $\\sigma$ are summed, "
                           "$S = \\sum_{{i,j}} \\sigma_{{ij}}$, and the loss is `nn.MSELoss()` between $S$ and the "
                           "target $y = {target}$. Compute $\\partial L / \\partial K$ and the kernel after one SGD "
                           "step with learning rate $\\eta = {lr}$.",
        "conv_max_pool_title": "Gradient through max pooling",
        "conv_max_pool_prompt": "The same kind of network with max pooling: $X$ is convolved with $K$ (`{conv}`) to "
                                "give $\\sigma$, $\\sigma$ is max-pooled (`{pool}`) to give $S$, and "
                                "$L$ = `nn.MSELoss()`$(S, y)$ with $y = {target}$. Compute "
                                "$\\partial L / \\partial K$ and $K$ after one SGD step with $\\eta = {lr}$.",
        "conv_avg_pool_title": "Gradient through average pooling",
        "conv_avg_pool_prompt": "Now $\\sigma$ is average-pooled: $X$ is convolved with $K$ (`{conv}`) to give "
                                "$\\sigma$, $\\sigma$ is average-pooled (`{pool}`) to give $S$, and "
                                "$L$ = `nn.MSELoss()`$(S, y)$ with $y = {target}$. Compute "
                                "$\\partial L / \\partial K$ and $K$ after one SGD step with $\\eta = {lr}$.",
        "conv_relu_max_pool_title": "Gradient through ReLU and max pooling",
        "conv_relu_max_pool_prompt": "$X$ is convolved with $K$ (`{conv}`) to give $\\sigma$, then `nn.ReLU()` and "
                                     "max pooling (`{pool}`) give $S$, and $L$ = `nn.MSELoss()`$(S, y)$ with "
                                     "$y = {target}$. Compute $\\partial L / \\partial K$ and $K$ after one SGD step "
                                     "with $\\eta = {lr}$ (PyTorch's rules: $\\mathrm{{ReLU}}'(0) = 0$, and a tied "
                                     "window sends its gradient to its first maximum).",
        "copy_slip": "Note: the seed article prints $K^{{(1)}} = {theirs}$ for this network too; that is the update "
                     "of the network with a sum (Question {n}), printed again by mistake. PyTorch gives the value "
                     "above, $K^{{(1)}} = {ours}$.",
        # pooling backward
        "avg_pool_backward_title": "Backward pass of 2D average pooling",
        "avg_pool_backward_prompt": "$x$ is any tensor of shape {shape} (its entries are the symbols $x_{{ij}}$), "
                                    "$y$ = `{pool}`$(x)$ and the loss is `y.sum()`. What is `x.grad`, "
                                    "$\\partial L / \\partial x$?",
        "max_pool_backward_title": "Backward pass of max pooling",
        "max_pool_backward_prompt": "$y$ = `{pool}`$(X)$ for the input $X$ below, and the loss is `y.sum()`. "
                                    "What is $\\partial L / \\partial X$ with PyTorch's semantics?",
        # shapes
        "pool_shapes_title": "Pooling output shapes with padding and stride",
        "pool_shapes_prompt": "$X$ = `torch.arange(16.).reshape(1, 1, 4, 4)`. Give the output shape and the "
                              "values of each pooling below.",
        "pool_part": "({letter}) `{layer}` on {what}",
        "pool_on_x": "$X$",
        "pool_on_two": "two channels, $X$ and $X + 1$ (`torch.cat((X, X + 1), 1)`)",
        "pool_formula": "Output size of each axis: `{formula}`. The windows' maxima:",
        "pool_shape_answer": "({letter}) shape `{shape}`",
        "lenet_title": "LeNet: layer shapes",
        "tutorial_net_title": "The PyTorch tutorial network: layer shapes",
        "shapes_prompt": "The network below takes an input of shape `{shape}`. Give the output shape of every "
                         "layer and the number of parameters (weights and biases).",
        "shapes_solution": "Each layer's output size follows from its input: convolution "
                           "$\\lfloor (H + 2p - d(k-1) - 1)/s \\rfloor + 1$, pooling the same with its own "
                           "stride, `Flatten` multiplies $C \\cdot H \\cdot W$, `Linear` gives `out_features`; a "
                           "convolution has $C_\\text{{out}} C_\\text{{in}} k^2 + C_\\text{{out}}$ parameters and a "
                           "linear layer $n_\\text{{out}} n_\\text{{in}} + n_\\text{{out}}$.",
        "shape_problem_title": "Output shapes with padding and stride",
        "shape_problem_prompt": "An input of shape `{shape}` goes through the layers below. Give the output shape "
                                "of each layer.",
        "layers_list": "Layers: {layers}.",
        "col_index": "#",
        "col_layer": "layer",
        "col_shape": "output shape",
        "col_params": "parameters",
        "col_formula": "how",
        "total_params": "Total parameters: {total}.",
        # exercises
        "sheet_title": "Practice problems (seed {seed})",
        "sheet_intro": "{count} problems with small integers. PyTorch's semantics throughout; indices start at 1. "
                       "The answers are in a separate answer key.",
        "key_title": "Answer key: practice problems (seed {seed})",
        "key_intro": "Computed by symgrad with PyTorch's semantics.",
        "problem": "Problem {n}. {title}",
        "answer_problem": "Problem {n}",
    },
    "zh": {
        "handout_title": "面试讲义: 小型卷积网络的梯度与形状",
        "handout_intro": "以下是参考文章中的面试题, 每题附有详细解答, 答案汇总在最后。所有数值都由 symgrad 按 "
                         "PyTorch 的语义计算 (并在测试中与 torch autograd 核对)。下标从 1 开始。",
        "question": "第 {n} 题. {title}",
        "worked": "详细解答",
        "answer_key": "答案",
        "answer_item": "{n}. {title}",
        "conv_sum_title": "卷积核的梯度 (求和)",
        "conv_sum_prompt": "$X$ 和卷积核 $K$ 做卷积运算 (`{conv}`: 步幅 1, 无填充, 无偏置), 得到 $\\sigma$; 对 $\\sigma$ "
                           "的每个元素做求和聚合, 得到 $S = \\sum_{{i,j}} \\sigma_{{ij}}$; 然后 $S$ 与 GT "
                           "$y = {target}$ 计算 MSE 损失 (`nn.MSELoss()`)。求 $\\partial L / \\partial K$, 以及学习率 "
                           "$\\eta = {lr}$ 的一步 SGD 之后的卷积核。",
        "conv_max_pool_title": "最大值池化的梯度",
        "conv_max_pool_prompt": "$X$ 和卷积核 $K$ 做卷积运算 (`{conv}`), 得到 $\\sigma$; 对 $\\sigma$ 做最大值池化 "
                                "(`{pool}`), 得到 $S$; 然后 $S$ 与 GT $y = {target}$ 计算 MSE 损失。求 "
                                "$\\partial L / \\partial K$, 以及 $\\eta = {lr}$ 的一步 SGD 之后的 $K$。",
        "conv_avg_pool_title": "平均池化的梯度",
        "conv_avg_pool_prompt": "$X$ 和卷积核 $K$ 做卷积运算 (`{conv}`), 得到 $\\sigma$; 对 $\\sigma$ 做平均池化 "
                                "(`{pool}`), 得到 $S$; 然后 $S$ 与 GT $y = {target}$ 计算 MSE 损失。求 "
                                "$\\partial L / \\partial K$, 以及 $\\eta = {lr}$ 的一步 SGD 之后的 $K$。",
        "conv_relu_max_pool_title": "经过 ReLU 和最大值池化的梯度",
        "conv_relu_max_pool_prompt": "$X$ 和卷积核 $K$ 做卷积运算 (`{conv}`), 得到 $\\sigma$; 经过 `nn.ReLU()` 和最大值池化 "
                                     "(`{pool}`), 得到 $S$; 然后 $S$ 与 GT $y = {target}$ 计算 MSE 损失。求 "
                                     "$\\partial L / \\partial K$, 以及 $\\eta = {lr}$ 的一步 SGD 之后的 $K$ (按 PyTorch "
                                     "的规则: $\\mathrm{{ReLU}}'(0) = 0$; 窗口中有并列最大值时, 梯度只传给第一个最大值)。",
        "copy_slip": "注意: 参考文章在这里打印的也是 $K^{{(1)}} = {theirs}$, 那是求和网络 (第 {n} 题) 的更新结果, "
                     "属于复制粘贴的笔误。PyTorch 的结果是上面的 $K^{{(1)}} = {ours}$。",
        "avg_pool_backward_title": "普通的2D Average pooling是怎么进行backward的呢?",
        "avg_pool_backward_prompt": "$x$ 是任意形状为 {shape} 的张量 (元素记作 $x_{{ij}}$), $y$ = `{pool}`$(x)$, "
                                    "损失为 `y.sum()`。`x.grad`, 即 $\\partial L / \\partial x$, 是多少?",
        "max_pool_backward_title": "最大值池化的反向传播",
        "max_pool_backward_prompt": "对下面的输入 $X$, $y$ = `{pool}`$(X)$, 损失为 `y.sum()`。按 PyTorch 的语义, "
                                    "$\\partial L / \\partial X$ 是多少?",
        "pool_shapes_title": "带填充和步幅的池化输出形状",
        "pool_shapes_prompt": "$X$ = `torch.arange(16.).reshape(1, 1, 4, 4)`。写出下面每个池化层的输出形状和输出值。",
        "pool_part": "({letter}) `{layer}`, 作用于{what}",
        "pool_on_x": " $X$",
        "pool_on_two": "两个通道 $X$ 和 $X + 1$ (`torch.cat((X, X + 1), 1)`)",
        "pool_formula": "每个方向的输出大小: `{formula}`。各窗口的最大值:",
        "pool_shape_answer": "({letter}) 形状 `{shape}`",
        "lenet_title": "LeNet: 各层的输出形状",
        "tutorial_net_title": "PyTorch 官方教程中的网络: 各层的输出形状",
        "shapes_prompt": "下面的网络的输入形状为 `{shape}`。写出每一层的输出形状, 以及参数 (权重和偏置) 的个数。",
        "shapes_solution": "每层的输出大小由输入决定: 卷积为 $\\lfloor (H + 2p - d(k-1) - 1)/s \\rfloor + 1$, "
                           "池化同理 (用池化自己的步幅), `Flatten` 把 $C \\cdot H \\cdot W$ 拉直, `Linear` 输出 "
                           "`out_features` 个; 卷积层有 $C_\\text{{out}} C_\\text{{in}} k^2 + C_\\text{{out}}$ 个参数, "
                           "全连接层有 $n_\\text{{out}} n_\\text{{in}} + n_\\text{{out}}$ 个。",
        "shape_problem_title": "带填充和步幅的输出形状",
        "shape_problem_prompt": "形状为 `{shape}` 的输入依次经过下面的层。写出每一层的输出形状。",
        "layers_list": "各层: {layers}。",
        "col_index": "#",
        "col_layer": "层",
        "col_shape": "输出形状",
        "col_params": "参数个数",
        "col_formula": "计算",
        "total_params": "参数总数: {total}。",
        "sheet_title": "练习题 (种子 {seed})",
        "sheet_intro": "共 {count} 道题, 数值都是小整数。全部按 PyTorch 的语义; 下标从 1 开始。答案另附。",
        "key_title": "练习题答案 (种子 {seed})",
        "key_intro": "由 symgrad 按 PyTorch 的语义计算。",
        "problem": "第 {n} 题. {title}",
        "answer_problem": "第 {n} 题",
    },
}

LANGUAGES = tuple(WORDS)


def words(lang: str) -> dict[str, str]:
    """The word table of `lang`, or an OptionError naming the choices."""
    if lang not in WORDS:
        raise OptionError("handout", "--lang", f"must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    return WORDS[lang]
