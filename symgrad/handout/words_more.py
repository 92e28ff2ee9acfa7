"""The words of the short questions (layer_kinds.py, train_kinds.py), en and zh; words.py merges them in.

As in words.py: inline math between `$`, code in backticks, `{name}` fields filled from the
engine's numbers (LaTeX braces doubled), Chinese punctuation in the Chinese prose.
"""

from __future__ import annotations

MORE: dict[str, dict[str, str]] = {
    "en": {
        # BatchNorm2d
        "batchnorm_title": "Batch-norm backward on a small batch",
        "batchnorm_prompt": "`{layer}` in training mode normalises a batch of {m} samples of one channel (shape "
                            "`{shape}`) with its own mean and biased variance; $\\epsilon = {eps}$ here, so "
                            "that the square root is exact (torch's default is $10^{{-5}}$). Given $\\gamma$, "
                            "$\\beta$ and the gradient $\\delta$ arriving at the output $z = \\gamma \\hat{{x}} + "
                            "\\beta$, compute $\\hat{{x}}$, $\\partial L/\\partial x$, $\\partial L/\\partial \\gamma$ "
                            "and $\\partial L/\\partial \\beta$.",
        "batchnorm_forward": "The batch statistics (divided by $m = {m}$, not $m - 1$):",
        "batchnorm_root": "so $\\sqrt{{\\sigma^{{2}} + \\epsilon}} = \\sqrt{{{var} + {eps}}} = {root}$, and the "
                          "normalised batch is",
        "batchnorm_rule": "$\\mu$ and $\\sigma^{{2}}$ depend on every $x_i$, so the gradient has three terms: "
                          "$\\partial L/\\partial x_i = \\frac{{\\gamma}}{{\\sqrt{{\\sigma^{{2}} + \\epsilon}}}}"
                          "(\\delta_i - \\bar{{\\delta}} - \\hat{{x}}_i\\, \\overline{{\\delta \\hat{{x}}}})$, with the "
                          "means $\\bar{{\\delta}}$ and $\\overline{{\\delta \\hat{{x}}}}$ over the batch:",
        # ConvTranspose2d
        "conv_transpose_title": "Transposed convolution: output shape and kernel gradient",
        "conv_transpose_prompt": "$\\sigma$ = `{layer}`$(X)$ for the input $X$ (shape `{shape}`) and kernel $K$ "
                                 "below, and $\\delta = \\partial L/\\partial \\sigma$ is given. (a) The output "
                                 "shape, from $H_\\text{{out}} = (H-1)s - 2p + d(k-1) + \\mathit{{op}} + 1$ "
                                 "($\\mathit{{op}}$ = `output_padding`). (b) $\\sigma$. (c) "
                                 "$\\partial L/\\partial K$. (d) The output shape of `{big}` on `{big_shape}`.",
        "conv_transpose_shape": "(a) Each axis ($d = 1$):",
        "conv_transpose_scatter": "(b) Each $X_{{ij}}$ adds $X_{{ij}} K$ to the output at rows $s(i-1) - p + a$ "
                                  "and columns $s(j-1) - p + b$ (what falls outside is dropped), so $\\sigma$ "
                                  "(shape `{out}`) is:",
        "conv_transpose_rule": "(c) $K_{{ab}}$ meets $X_{{ij}}$ exactly at those outputs, so $\\partial L/\\partial "
                               "K_{{ab}} = \\sum_{{i,j}} X_{{ij}}\\, \\delta_{{s(i-1)-p+a,\\; s(j-1)-p+b}}$:",
        "conv_transpose_big": "(d) Per axis, `{formula}`: the output is `{big_out}`.",
        "conv_transpose_answer": "(a) `{out}`; (d) `{big_out}`.",
        # Dropout
        "dropout_title": "Dropout's scaling",
        "dropout_prompt": "`{layer}` in training mode (`model.train()`) drops the entries where the mask $m$ "
                          "is 0 (torch draws it at random; here it is given). For the input $x$ and the "
                          "gradient $\\delta$ arriving at the output $u$, compute $u$ and $\\partial L/\\partial "
                          "x$. What changes in `model.eval()`?",
        "dropout_rule": "The kept entries are scaled by $c = 1/(1-p)$, so that the expected output is the input; "
                        "the mask is a constant, so the gradient goes through the same mask and scale:",
        "dropout_eval": "In eval mode dropout is the identity: $u = x$ and $\\partial L/\\partial x = \\delta$ "
                        "(no mask, no scaling).",
        "dropout_eval_answer": "Eval mode: $u = x$, $\\partial L/\\partial x = \\delta$.",
        # CrossEntropyLoss with label_smoothing
        "cross_entropy_title": "Cross-entropy with label smoothing",
        "cross_entropy_prompt": "`{loss}` (the mean over the batch) on the logits $z$ below ($N = {N}$ samples, "
                                "$C = {C}$ classes; $\\ln$ is the natural logarithm) with class targets "
                                "`torch.tensor([{targets}])` (columns {columns}: torch counts classes from 0). "
                                "Compute the softmax $p$ and $\\partial L/\\partial z$.",
        "cross_entropy_softmax": "The softmax of each row ($e^{{\\ln a}} = a$):",
        "cross_entropy_smoothed": "Label smoothing mixes the one-hot target with the uniform one: $q = (1-\\epsilon)\\, "
                                  "\\text{{onehot}} + \\epsilon/C$, with $\\epsilon = {eps}$:",
        "cross_entropy_rule": "The gradient is softmax minus the smoothed one-hot, divided by $N$ for the mean: "
                              "$\\partial L/\\partial z_{{nc}} = (p_{{nc}} - q_{{nc}})/N$:",
        # Adam
        "adam_title": "One Adam step by hand",
        "adam_prompt": "`{optimizer}` (betas $(0.9, 0.999)$; $\\epsilon = {eps}$, large on purpose so that its "
                       "place shows; torch's default is $10^{{-8}}$) takes its first step ($t = 1$, moments "
                       "$m = v = 0$ before it) for the parameter $w$ with gradient $g$. Compute $m$, $v$, the "
                       "bias-corrected $\\hat{{m}}$ and $\\hat{{v}}$, and $w$ after the step.",
        "adam_moments": "The moments, from $m = v = 0$:",
        "adam_correction": "Bias correction divides by $1 - \\beta^{{t}}$; at $t = 1$ it gives back $\\hat{{m}} = g$ "
                           "and $\\hat{{v}} = g^{{2}}$:",
        "adam_update": "So {roots}. torch adds $\\epsilon$ after the square root: $w^{{(1)}} = w - \\eta\\, "
                       "\\hat{{m}}/(\\sqrt{{\\hat{{v}}}} + \\epsilon)$. With the default $\\epsilon = 10^{{-8}}$ the "
                       "first step is almost exactly $\\eta$ per entry whatever the size of $g$; $\\epsilon = 1$ shortens it most "
                       "where $|g|$ is small:",
    },
    "zh": {
        "batchnorm_title": "小批量上的批归一化反向传播",
        "batchnorm_prompt": "训练模式下的 `{layer}` 用一个通道上 {m} 个样本（形状 `{shape}`）自己的均值和有偏方差做归一化；"
                            "这里取 $\\epsilon = {eps}$，使平方根恰好是整数（torch 的默认值为 $10^{{-5}}$）。已知 "
                            "$\\gamma$、$\\beta$ 和传到输出 $z = \\gamma \\hat{{x}} + \\beta$ 的梯度 $\\delta$，求 "
                            "$\\hat{{x}}$、$\\partial L/\\partial x$、$\\partial L/\\partial \\gamma$ 和 "
                            "$\\partial L/\\partial \\beta$。",
        "batchnorm_forward": "批统计量（除以 $m = {m}$，不是 $m - 1$）：",
        "batchnorm_root": "所以 $\\sqrt{{\\sigma^{{2}} + \\epsilon}} = \\sqrt{{{var} + {eps}}} = {root}$，归一化后的批为",
        "batchnorm_rule": "$\\mu$ 和 $\\sigma^{{2}}$ 依赖每个 $x_i$，所以梯度有三项："
                          "$\\partial L/\\partial x_i = \\frac{{\\gamma}}{{\\sqrt{{\\sigma^{{2}} + \\epsilon}}}}"
                          "(\\delta_i - \\bar{{\\delta}} - \\hat{{x}}_i\\, \\overline{{\\delta \\hat{{x}}}})$，其中 "
                          "$\\bar{{\\delta}}$ 和 $\\overline{{\\delta \\hat{{x}}}}$ 是批上的平均值：",
        "conv_transpose_title": "转置卷积：输出形状与卷积核的梯度",
        "conv_transpose_prompt": "对下面的输入 $X$（形状 `{shape}`）和卷积核 $K$，$\\sigma$ = `{layer}`$(X)$，"
                                 "已知 $\\delta = \\partial L/\\partial \\sigma$。（a）由 $H_\\text{{out}} = (H-1)s - 2p + "
                                 "d(k-1) + \\mathit{{op}} + 1$（$\\mathit{{op}}$ 即 `output_padding`）求输出形状；"
                                 "（b）求 $\\sigma$；（c）求 $\\partial L/\\partial K$；（d）求 `{big}` 作用于 "
                                 "`{big_shape}` 的输出形状。",
        "conv_transpose_shape": "（a）每个方向（$d = 1$）：",
        "conv_transpose_scatter": "（b）每个 $X_{{ij}}$ 把 $X_{{ij}} K$ 加到输出的第 $s(i-1) - p + a$ 行、第 "
                                  "$s(j-1) - p + b$ 列（落在输出之外的部分丢弃），所以 $\\sigma$ 的形状为 `{out}`：",
        "conv_transpose_rule": "（c）$K_{{ab}}$ 恰好在这些位置与 $X_{{ij}}$ 相乘，所以 $\\partial L/\\partial "
                               "K_{{ab}} = \\sum_{{i,j}} X_{{ij}}\\, \\delta_{{s(i-1)-p+a,\\; s(j-1)-p+b}}$：",
        "conv_transpose_big": "（d）每个方向 `{formula}`：输出为 `{big_out}`。",
        "conv_transpose_answer": "（a）`{out}`；（d）`{big_out}`。",
        "dropout_title": "Dropout 的缩放",
        "dropout_prompt": "训练模式（`model.train()`）下的 `{layer}` 丢弃掩码 $m$ 为 0 的元素（torch 随机生成掩码，"
                          "这里直接给出）。对输入 $x$ 和传到输出 $u$ 的梯度 $\\delta$，求 $u$ 和 "
                          "$\\partial L/\\partial x$。在 `model.eval()` 下有什么不同？",
        "dropout_rule": "保留的元素乘以 $c = 1/(1-p)$，使输出的期望等于输入；掩码是常数，梯度经过同样的掩码和缩放：",
        "dropout_eval": "评估模式下 Dropout 是恒等映射：$u = x$，$\\partial L/\\partial x = \\delta$（没有掩码，也不缩放）。",
        "dropout_eval_answer": "评估模式：$u = x$，$\\partial L/\\partial x = \\delta$。",
        "cross_entropy_title": "带标签平滑的交叉熵",
        "cross_entropy_prompt": "对下面的 logits $z$（$N = {N}$ 个样本，$C = {C}$ 个类别；$\\ln$ 为自然对数），"
                                "类别目标为 `torch.tensor([{targets}])`（即第 {columns} 列：torch 的类别从 0 开始编号），"
                                "损失为 `{loss}`（对批取平均）。求 softmax $p$ 和 $\\partial L/\\partial z$。",
        "cross_entropy_softmax": "每一行的 softmax（$e^{{\\ln a}} = a$）：",
        "cross_entropy_smoothed": "标签平滑把 one-hot 目标与均匀分布混合：$q = (1-\\epsilon)\\, "
                                  "\\text{{onehot}} + \\epsilon/C$，$\\epsilon = {eps}$：",
        "cross_entropy_rule": "梯度是 softmax 减去平滑后的 one-hot，取平均时再除以 $N$："
                              "$\\partial L/\\partial z_{{nc}} = (p_{{nc}} - q_{{nc}})/N$：",
        "adam_title": "手算一步 Adam",
        "adam_prompt": "`{optimizer}`（betas 为 $(0.9, 0.999)$；$\\epsilon = {eps}$，故意取大，好看清它的位置；"
                       "torch 的默认值为 $10^{{-8}}$）对参数 $w$ 和梯度 $g$ 做第一步（$t = 1$，之前 $m = v = 0$）。"
                       "求 $m$、$v$、偏差修正后的 $\\hat{{m}}$ 和 $\\hat{{v}}$，以及这一步之后的 $w$。",
        "adam_moments": "从 $m = v = 0$ 开始的一阶矩和二阶矩：",
        "adam_correction": "偏差修正除以 $1 - \\beta^{{t}}$；在 $t = 1$ 时恰好还原为 $\\hat{{m}} = g$、"
                           "$\\hat{{v}} = g^{{2}}$：",
        "adam_update": "所以 {roots}。torch 把 $\\epsilon$ 加在平方根之后：$w^{{(1)}} = w - \\eta\\, "
                       "\\hat{{m}}/(\\sqrt{{\\hat{{v}}}} + \\epsilon)$。取默认的 $\\epsilon = 10^{{-8}}$ 时，无论 $g$ "
                       "多大，第一步每个元素都几乎恰好移动 $\\eta$；$\\epsilon = 1$ 在 $|g|$ 小的地方把这一步缩短得最多：",
    },
}
