"""The handout's first page: the four rules every question uses, on one page, and the common pitfalls.

The rules are formulas, not results; the pitfalls' numbers (a doubled gradient, the
articles' slips) are passed in from derivations by questions.py. `RULES_SHOWN` are the
derivation pages' general rules this page states, so the worked solutions do not print
them again (page.build's `shown_rules`).
"""

from __future__ import annotations

from .document import Box, Heading, Math, Text

#: (word key, formula, the derivation page's (op type, index-form key) it stands for)
RULES = (
    ("rule_kernel", r"\frac{\partial L}{\partial K_{a,b}} = \sum_{i,j} \delta_{i,j}\, X_{s(i-1)+a-p,\; s(j-1)+b-p}",
     ("Conv2d", "weight")),
    ("rule_input", r"\frac{\partial L}{\partial X_{h,w}} = \sum_{a=1}^{k} \sum_{b=1}^{k} "
                   r"\tilde\delta_{h+a-1,\; w+b-1}\, K_{k+1-a,\; k+1-b}", ("Conv2d", "input")),
    ("rule_max", r"\frac{\partial L}{\partial X_{h,w}} = \sum_{(i,j):\; m_{i,j} = (h,w)} \delta_{i,j}",
     ("MaxPool2d", "input")),
    ("rule_avg", r"\frac{\partial L}{\partial X_{h,w}} = \sum_{(i,j):\; (h,w) \in W_{i,j}} \frac{\delta_{i,j}}{D_{i,j}}",
     ("AvgPool2d", "input")),
)
ENDS = r"\delta^{S} = \frac{\partial L}{\partial S} = \frac{2}{n}\,(S - y), \qquad K^{(1)} = K - \eta\,\frac{\partial L}{\partial K}"

#: the four rules, and the loss's delta and the SGD step that ENDS states (so the solutions do not print them again)
RULES_SHOWN = frozenset(shown for _, _, shown in RULES) | {("MSELoss", "input"), ("SGD", "step")}

#: The pitfalls, in order; those in FILLED have {fields} (their LaTeX braces doubled), the others are used as written.
PITFALLS = ("pitfall_mse", "pitfall_ties", "pitfall_stride", "pitfall_zero_grad", "pitfall_sum", "pitfall_copy",
            "pitfall_grad_comment")
FILLED = frozenset({"pitfall_zero_grad", "pitfall_sum", "pitfall_copy", "pitfall_grad_comment"})


def page(w: dict, numbers: dict) -> list:
    """The summary's blocks: the four rules, the loss and the step around them, then the pitfalls box.

    `numbers` fills the pitfalls' fields (LaTeX of the engine's values: twice, share, theirs, ours_max, ours_avg).
    """
    blocks = [Heading(w["summary_title"], 2), Text(w["summary_intro"])]
    for key, formula, _ in RULES:
        blocks += [Text(w[key]), Math(formula)]
    blocks += [Text(w["rule_ends"]), Math(ENDS)]
    return blocks + [pitfalls(w, numbers)]


def pitfalls(w: dict, numbers: dict) -> Box:
    return Box(w["pitfalls_title"], tuple(w[key].format(**numbers) if key in FILLED else w[key] for key in PITFALLS))
