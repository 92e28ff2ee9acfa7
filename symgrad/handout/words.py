"""Every prose word of the handout and the exercise sheets, one table per language.

Inline math is `$...$` and code is in backticks (both renderers read them); `{name}`
fields are filled in from the engine's numbers by questions.py, summary.py and
exercises.py, so no result is ever typed here. Indices start at 1, as in the seed
articles. The Chinese follows the articles' phrasing (x和卷积核K做卷积运算，得到σ ...)
with Chinese punctuation in the prose (，：；（）。？), math and code left as they are.
"""

from __future__ import annotations

from ..core.errors import OptionError
from .words_more import MORE

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "handout_title": "Interview handout: gradients and shapes of small CNNs",
        "handout_intro": "The questions of the seed articles, each with a worked solution; the answer key is at "
                         "the end. Every number is computed by symgrad with PyTorch's semantics (and checked "
                         "against torch autograd in its tests). Indices start at 1.",
        # the summary page
        "summary_title": "The four rules on one page",
        "summary_intro": "$\\delta$ is the gradient of $L$ with respect to a layer's output; one channel, kernel "
                         "$k \\times k$, stride $s$, padding $p$.",
        "rule_kernel": "1. Kernel: $\\partial L/\\partial K$ is the input $X$ correlated with $\\delta$ (each "
                       "$\\delta_{i,j}$ times the window of $X$ it came from).",
        "rule_input": "2. Input: $\\partial L/\\partial X$ is the full convolution of the stride-dilated $\\delta$ "
                      "with the kernel rotated by 180 degrees ($\\tilde\\delta$: $\\delta$ with $s-1$ zeros between "
                      "its entries, padded by $k-1-p$).",
        "rule_max": "3. Max pooling routes each window's $\\delta_{i,j}$ to the window's first maximum $m_{i,j}$ "
                    "(row by row: torch's rule for ties); the other entries get 0, overlapping windows add up.",
        "rule_avg": "4. Average pooling spreads $\\delta_{i,j}/D_{i,j}$ over its window $W_{i,j}$: $D = k_h k_w$ "
                    "(padding counted, `count_include_pad=True`), else the entries inside the input.",
        "rule_ends": "Around them, `nn.MSELoss()` starts the chain ($n$ output entries) and one SGD step ends it:",
        "pitfalls_title": "Common pitfalls",
        "pitfall_mse": "`nn.MSELoss()` takes the mean: $L = \\frac{1}{n}\\sum_i (S_i - y_i)^2$ and "
                       "$\\delta = \\frac{2}{n}(S - y)$; `reduction='sum'` has no $\\frac{1}{n}$. Every network here "
                       "has one output ($n = 1$), where the two agree.",
        "pitfall_ties": "Ties: a max-pooling window with two equal maxima sends all of its $\\delta$ to the first "
                        "(row by row), not half to each; torch's ReLU has derivative 0 at 0.",
        "pitfall_stride": "`nn.MaxPool2d(k)` and `nn.AvgPool2d(k)` have stride $k$ by default (windows that do "
                          "not overlap), unlike `nn.Conv2d` (stride 1).",
        "pitfall_zero_grad": "`loss.backward()` adds into `.grad`: call `optimizer.zero_grad()` before each "
                             "backward. Two backward passes without it give Question 1 "
                             "$\\partial L/\\partial K = {twice}$, twice the gradient, and the step uses that.",
        "pitfall_sum": "`loss = y.sum()` is not an MSE: $\\delta = \\partial L/\\partial y = 1$ for every output "
                       "entry, so $2 \\times 2$ average pooling gives `x.grad` $= {share}$ everywhere.",
        "pitfall_copy": "The pooling article prints $K^{{(1)}} = {theirs}$ under both pooling networks: Question 1's "
                        "step, copied. torch gives ${ours_max}$ (max) and ${ours_avg}$ (average).",
        "pitfall_grad_comment": "The average-pooling article's comment under `print(x.grad)` shows unequal entries "
                                "of both signs, which its code cannot print: `y.sum()` gives ${share}$ in every "
                                "entry, as its own text then says.",
        # questions
        "question": "Question {n}. {title}",
        "worked": "Worked solution",
        "answer_key": "Answer key",
        "answer_item": "{n}. {title}",
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
        "sum_delta": "With `loss = y.sum()`, $\\delta = \\partial L/\\partial y = 1$ for every entry of $y$ "
                     "(the $\\delta$ of the sum above), so each entry of `x.grad` is $1/D = {share}$.",
        "same_start": "Layer 0 (`{layer}`) gives the same $\\sigma$ as in Question {n}: $\\sigma = {sigma}$.",
        "grad_comment_slip": "Note: the article's comment under `print(x.grad)` shows entries of both signs; its code "
                             "gives ${share}$ in every entry (its own explanation says so too).",
        "max_pool_backward_title": "Backward pass of max pooling",
        "max_pool_backward_prompt": "$y$ = `{pool}`$(X)$ for the input $X$ below, and the loss is `y.sum()`. "
                                    "What is $\\partial L / \\partial X$ with PyTorch's semantics?",
        "tie": "Tie: window $({i}, {j})$ holds its maximum ${value}$ at {places}; all of its $\\delta$ goes to "
               "${first}$, the first, row by row.",
        "tie_and": " and ",
        # pooling forward and shapes
        "pool_shapes_title": "Pooling outputs with padding and stride",
        "pool_shapes_prompt": "$A$ is d2l's first example, and $X$ = `torch.arange(16.).reshape(1, 1, 4, 4)`. Give "
                              "the output shape and the values of each pooling below.",
        "pool_part": "({letter}) `{layer}` on {what}",
        "pool_on_a": "$A$ (d2l's `pool2d(A, (2, 2){mode})`: stride 1)",
        "pool_on_x": "$X$",
        "pool_on_two": "two channels, $X$ and $X + 1$ (`torch.cat((X, X + 1), 1)`)",
        "pool_formula": "Output size of each axis: `{formula}`. Each window's {what}:",
        "pool_max": "maximum",
        "pool_avg": "mean",
        "pool_shape_answer": "({letter}) shape `{shape}`",
        "lenet_title": "LeNet: layer shapes",
        "tutorial_net_title": "The PyTorch tutorial network: layer shapes",
        "shapes_prompt": "The network below takes an input of shape `{shape}`. Give the output shape of every "
                         "layer and the number of parameters (weights and biases).",
        "shapes_solution": "Each layer's output size follows from its input: convolution "
                           "$\\lfloor (H + 2p - d(k-1) - 1)/s \\rfloor + 1$, pooling the same with its own "
                           "stride, `Flatten` multiplies $C \\cdot H \\cdot W$, `Linear` gives `out_features`; a "
                           "convolution has $C_\\text{out} C_\\text{in} k^2 + C_\\text{out}$ parameters and a "
                           "linear layer $n_\\text{out} n_\\text{in} + n_\\text{out}$.",
        "param_tensors": "`len(list(net.parameters()))` is {count}: a weight and a bias for each of the {layers} "
                         "layers with parameters (activations and pooling have none).",
        "pool3d_prompt": "The tutorial also pools a 3-D tensor, `torch.randn({shape})`. Give the output shapes of "
                         "{pools}.",
        "pool3d_solution": "torch reads a 3-D input as one sample without the batch axis, $(C, H, W)$: only the "
                           "last two axes are pooled, and the first stays.",
        "pool3d_answer": "`{pool}`: `{shape}`",
        "shape_problem_title": "Output shapes with padding and stride",
        "shape_problem_prompt": "An input of shape `{shape}` goes through the layers below. Give the output shape "
                                "of each layer.",
        "layers_list": "Layers: {layers}.",
        "list_sep": ", ",
        "col_index": "#",
        "col_layer": "layer",
        "col_shape": "output shape",
        "col_params": "parameters",
        "col_formula": "how",
        "phrase_elementwise": "element-wise: same shape as the input",
        "phrase_sum": "sum of all entries = a scalar",
        "total_params": "Total parameters: {total}.",
        # exercises
        "sheet_title": "Practice problems (seed {seed})",
        "sheet_intro": "{count} problems with small integers. PyTorch's semantics throughout; indices start at 1. "
                       "The answers are in a separate answer key.",
        "work_space": "Your working:",
        "key_title": "Answer key: practice problems (seed {seed})",
        "key_intro": "Computed by symgrad with PyTorch's semantics.",
        "problem": "Problem {n}. {title}",
        "answer_problem": "Problem {n}",
    },
    "zh": {
        "handout_title": "面试讲义：小型卷积网络的梯度与形状",
        "handout_intro": "以下是参考文章中的面试题，每题附有详细解答，答案汇总在最后。所有数值都由 symgrad 按 "
                         "PyTorch 的语义计算（并在测试中与 torch autograd 核对）。下标从 1 开始。",
        "summary_title": "一页纸：四条规则",
        "summary_intro": "$\\delta$ 表示 $L$ 对某层输出的梯度；单通道，卷积核 $k \\times k$，步幅 $s$，填充 $p$。",
        "rule_kernel": "1. 卷积核：$\\partial L/\\partial K$ 是输入 $X$ 与 $\\delta$ 的互相关（每个 $\\delta_{i,j}$ "
                       "乘以产生它的那个 $X$ 窗口）。",
        "rule_input": "2. 输入：$\\partial L/\\partial X$ 是步幅膨胀后的 $\\delta$ 与旋转 180 度的卷积核做全卷积"
                      "（$\\tilde\\delta$：在 $\\delta$ 的元素之间插入 $s-1$ 个 0，四周再填充 $k-1-p$ 个 0）。",
        "rule_max": "3. 最大值池化把每个窗口的 $\\delta_{i,j}$ 全部传给窗口中的第一个最大值 $m_{i,j}$"
                    "（按行优先，这是 torch 处理相等值的规则）；其余元素得 0，窗口重叠时梯度累加。",
        "rule_avg": "4. 平均池化把 $\\delta_{i,j}/D_{i,j}$ 均分到窗口 $W_{i,j}$ 的每个元素：$D = k_h k_w$"
                    "（计入填充，`count_include_pad=True`），否则为窗口落在输入内的元素个数。",
        "rule_ends": "链式法则从 `nn.MSELoss()` 开始（输出共 $n$ 个元素），以一步 SGD 结束：",
        "pitfalls_title": "常见错误",
        "pitfall_mse": "`nn.MSELoss()` 取平均：$L = \\frac{1}{n}\\sum_i (S_i - y_i)^2$，"
                       "$\\delta = \\frac{2}{n}(S - y)$；`reduction='sum'` 则没有 $\\frac{1}{n}$。"
                       "这里每个网络都只有一个输出（$n = 1$），两者相同。",
        "pitfall_ties": "相等值：最大值池化窗口中有两个相等的最大值时，$\\delta$ 全部传给第一个（按行优先），"
                        "而不是各分一半；torch 的 ReLU 在 0 处的导数为 0。",
        "pitfall_stride": "`nn.MaxPool2d(k)` 和 `nn.AvgPool2d(k)` 的步幅默认是 $k$（窗口互不重叠），"
                          "而 `nn.Conv2d` 默认步幅为 1。",
        "pitfall_zero_grad": "`loss.backward()` 会把梯度累加到 `.grad` 上：每次反向传播之前都要调用 "
                             "`optimizer.zero_grad()`。不清零而反向传播两次，第 1 题的 "
                             "$\\partial L/\\partial K = {twice}$，是梯度的两倍，更新也用这个值。",
        "pitfall_sum": "`loss = y.sum()` 不是 MSE：对 $y$ 的每个元素 $\\delta = \\partial L/\\partial y = 1$，"
                       "所以 $2 \\times 2$ 平均池化的 `x.grad` 处处为 ${share}$。",
        "pitfall_copy": "池化那篇文章在两个池化网络下都打印了 $K^{{(1)}} = {theirs}$：那是第 1 题的更新结果，"
                        "复制粘贴所致。torch 的结果是 ${ours_max}$（最大值池化）和 ${ours_avg}$（平均池化）。",
        "pitfall_grad_comment": "平均池化那篇文章在 `print(x.grad)` 下面的注释里，元素有正有负、大小不一，"
                                "这不可能是它的代码的输出：`y.sum()` 给出的每个元素都是 ${share}$，"
                                "文章后面的解读也是这样说的。",
        "question": "第 {n} 题：{title}",
        "worked": "详细解答",
        "answer_key": "答案",
        "answer_item": "{n}. {title}",
        "conv_sum_title": "卷积核的梯度（求和）",
        "conv_sum_prompt": "$X$ 和卷积核 $K$ 做卷积运算（`{conv}`：步幅 1，无填充，无偏置），得到 $\\sigma$；对 $\\sigma$ "
                           "的每个元素做求和聚合，得到 $S = \\sum_{{i,j}} \\sigma_{{ij}}$；然后 $S$ 与 GT "
                           "$y = {target}$ 计算 MSE 损失（`nn.MSELoss()`）。求 $\\partial L / \\partial K$，以及学习率 "
                           "$\\eta = {lr}$ 的一步 SGD 之后的卷积核。",
        "conv_max_pool_title": "最大值池化的梯度",
        "conv_max_pool_prompt": "$X$ 和卷积核 $K$ 做卷积运算（`{conv}`），得到 $\\sigma$；对 $\\sigma$ 做最大值池化"
                                "（`{pool}`），得到 $S$；然后 $S$ 与 GT $y = {target}$ 计算 MSE 损失。求 "
                                "$\\partial L / \\partial K$，以及 $\\eta = {lr}$ 的一步 SGD 之后的 $K$。",
        "conv_avg_pool_title": "平均池化的梯度",
        "conv_avg_pool_prompt": "$X$ 和卷积核 $K$ 做卷积运算（`{conv}`），得到 $\\sigma$；对 $\\sigma$ 做平均池化"
                                "（`{pool}`），得到 $S$；然后 $S$ 与 GT $y = {target}$ 计算 MSE 损失。求 "
                                "$\\partial L / \\partial K$，以及 $\\eta = {lr}$ 的一步 SGD 之后的 $K$。",
        "conv_relu_max_pool_title": "经过 ReLU 和最大值池化的梯度",
        "conv_relu_max_pool_prompt": "$X$ 和卷积核 $K$ 做卷积运算（`{conv}`），得到 $\\sigma$；经过 `nn.ReLU()` 和最大值池化"
                                     "（`{pool}`），得到 $S$；然后 $S$ 与 GT $y = {target}$ 计算 MSE 损失。求 "
                                     "$\\partial L / \\partial K$，以及 $\\eta = {lr}$ 的一步 SGD 之后的 $K$（按 PyTorch "
                                     "的规则：$\\mathrm{{ReLU}}'(0) = 0$；窗口中有相等的最大值时，梯度只传给第一个最大值）。",
        "copy_slip": "注意：参考文章在这里打印的也是 $K^{{(1)}} = {theirs}$，那是求和网络（第 {n} 题）的更新结果，"
                     "属于复制粘贴的笔误。PyTorch 的结果是上面的 $K^{{(1)}} = {ours}$。",
        "avg_pool_backward_title": "二维平均池化的反向传播",
        "avg_pool_backward_prompt": "$x$ 是任意形状为 {shape} 的张量（元素记作 $x_{{ij}}$），$y$ = `{pool}`$(x)$，"
                                    "损失为 `y.sum()`。`x.grad`，即 $\\partial L / \\partial x$，是多少？",
        "sum_delta": "损失为 `loss = y.sum()` 时，对 $y$ 的每个元素 $\\delta = \\partial L/\\partial y = 1$"
                     "（即上面求和层的 $\\delta$），所以 `x.grad` 的每个元素都是 $1/D = {share}$。",
        "same_start": "第 0 层（`{layer}`）得到的 $\\sigma$ 与第 {n} 题相同：$\\sigma = {sigma}$。",
        "grad_comment_slip": "注意：文章在 `print(x.grad)` 下面的注释中的元素有正有负；它的代码给出的每个元素都是 "
                             "${share}$（文章自己的解读也是这样说的）。",
        "max_pool_backward_title": "最大值池化的反向传播",
        "max_pool_backward_prompt": "对下面的输入 $X$，$y$ = `{pool}`$(X)$，损失为 `y.sum()`。按 PyTorch 的语义，"
                                    "$\\partial L / \\partial X$ 是多少？",
        "tie": "相等值：窗口 $({i}, {j})$ 的最大值 ${value}$ 出现在 {places}；这个窗口的 $\\delta$ 全部传给按行优先的"
               "第一个 ${first}$。",
        "tie_and": " 和 ",
        "pool_shapes_title": "带填充和步幅的池化输出",
        "pool_shapes_prompt": "$A$ 是 d2l 的第一个例子，$X$ = `torch.arange(16.).reshape(1, 1, 4, 4)`。"
                              "写出下面每个池化层的输出形状和输出值。",
        "pool_part": "（{letter}）`{layer}`，作用于{what}",
        "pool_on_a": " $A$（d2l 自己写的 `pool2d(A, (2, 2){mode})`：步幅 1）",
        "pool_on_x": " $X$",
        "pool_on_two": "两个通道 $X$ 和 $X + 1$（`torch.cat((X, X + 1), 1)`）",
        "pool_formula": "每个方向的输出大小：`{formula}`。各窗口的{what}：",
        "pool_max": "最大值",
        "pool_avg": "平均值",
        "pool_shape_answer": "（{letter}）形状 `{shape}`",
        "lenet_title": "LeNet：各层的输出形状",
        "tutorial_net_title": "PyTorch 官方教程中的网络：各层的输出形状",
        "shapes_prompt": "下面的网络的输入形状为 `{shape}`。写出每一层的输出形状，以及参数（权重和偏置）的个数。",
        "shapes_solution": "每层的输出大小由输入决定：卷积为 $\\lfloor (H + 2p - d(k-1) - 1)/s \\rfloor + 1$，"
                           "池化同理（用池化自己的步幅），`Flatten` 把 $C \\cdot H \\cdot W$ 拉直，`Linear` 输出 "
                           "`out_features` 个；卷积层有 $C_\\text{out} C_\\text{in} k^2 + C_\\text{out}$ 个参数，"
                           "全连接层有 $n_\\text{out} n_\\text{in} + n_\\text{out}$ 个。",
        "param_tensors": "`len(list(net.parameters()))` 为 {count}：{layers} 个有参数的层各有一个权重和一个偏置"
                         "（激活函数和池化层没有参数）。",
        "pool3d_prompt": "教程还对一个三维张量 `torch.randn({shape})` 做池化。写出 {pools} 的输出形状。",
        "pool3d_solution": "torch 把三维输入看作没有批次维的一个样本 $(C, H, W)$：只对最后两维做池化，第一维不变。",
        "pool3d_answer": "`{pool}`：`{shape}`",
        "shape_problem_title": "带填充和步幅的输出形状",
        "shape_problem_prompt": "形状为 `{shape}` 的输入依次经过下面的层。写出每一层的输出形状。",
        "layers_list": "各层：{layers}。",
        "list_sep": "、",
        "col_index": "#",
        "col_layer": "层",
        "col_shape": "输出形状",
        "col_params": "参数个数",
        "col_formula": "计算",
        "phrase_elementwise": "逐元素：形状与输入相同",
        "phrase_sum": "所有元素求和，得到一个标量",
        "total_params": "参数总数：{total}。",
        "sheet_title": "练习题（种子 {seed}）",
        "sheet_intro": "共 {count} 道题，数值都是小整数。全部按 PyTorch 的语义；下标从 1 开始。答案另附。",
        "work_space": "解答：",
        "key_title": "练习题答案（种子 {seed}）",
        "key_intro": "由 symgrad 按 PyTorch 的语义计算。",
        "problem": "第 {n} 题：{title}",
        "answer_problem": "第 {n} 题",
    },
}

for _lang, _more in MORE.items():  # the short questions' words (words_more.py)
    WORDS[_lang].update(_more)

LANGUAGES = tuple(WORDS)


def words(lang: str) -> dict[str, str]:
    """The word table of `lang`, or an OptionError naming the choices."""
    if lang not in WORDS:
        raise OptionError("handout", "--lang", f"must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    return WORDS[lang]
