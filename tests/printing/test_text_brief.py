"""derive's text in brief (printing/brief.py): readable at LeNet's size, everything with --full.

Sizes are asserted in bytes (never times): LeNet's text was 92.6 MB, every definition and
every forward value written out and its gradients twice.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from symgrad import spec as specs
from symgrad.cli.commands import main
from symgrad.printing import render
from symgrad.printing.brief import DEFINITIONS, EDGE, FULL_TEXT, THRESHOLD, Brief, first_definitions, shortened, stem, too_long
from symgrad.printing.plain import plain
from symgrad.printing.text import block

#: "At most a few hundred kB" (issue 14).
DEFAULT_MAX_BYTES = 400_000


@pytest.fixture(scope="module")
def lenet():
    return specs.load("lenet").derive("rules")


def test_lenet_text_is_a_few_hundred_kb_and_full_has_everything(lenet):
    brief = render(lenet, "text")
    full = render(lenet, "text", full=True)
    assert len(brief.encode()) <= DEFAULT_MAX_BYTES
    assert len(full.encode()) >= 50 * len(brief.encode())
    assert "--full prints everything" in brief and "--full" not in full
    definitions = lenet.named.definitions
    assert full.count(" := ") == len(definitions)  # every definition, once
    shown = [line for line in brief.splitlines() if " := " in line]
    assert DEFINITIONS * 10 <= len(shown) <= DEFINITIONS * len({stem(n) for n in definitions})
    for text in (brief, full):
        for name, grad in lenet.tensors.gradients().items():
            shape = " x ".join(map(str, grad.shape))
            assert text.count(f"  dL/d({name}) ({shape}):") == 1
            assert f"  dL/d({name}) =\n" not in text  # its named form is itself: printed once, under gradients


def test_brief_block_is_summarised_as_torch_prints_a_large_tensor():
    array = np.array([sp.Rational(k, 7) for k in range(40 * 50)], dtype=object).reshape(1, 1, 40, 50)
    lines = block(array, "", str, brief=Brief()).splitlines()
    assert len(lines) == 2 * EDGE + 1 and lines[EDGE].replace(" ", "").strip("[]") == "..." * (2 * EDGE + 1)
    first = lines[0].strip("[ ]").split()
    assert first == ["0", "0.1429", "0.2857", "...", "6.7143", "6.8571", "7"]  # 47/7, 48/7, 49/7
    small = np.array([sp.Rational(1, 8)] * THRESHOLD, dtype=object)  # not over the threshold: in full
    assert block(small, "", str, brief=Brief()) == block(small, "", str)


def test_brief_block_of_higher_rank_elides_the_middle_blocks():
    array = np.array([sp.Integer(k) for k in range(8 * 8 * 20)], dtype=object).reshape(1, 8, 8, 20)
    text = block(array, "", str, brief=Brief())
    labels = [line for line in text.splitlines() if line.startswith("[") and "," not in line and "  " not in line]
    assert labels == ["[0]", "[1]", "[2]", "[5]", "[6]", "[7]"]
    assert "\n...\n" in text


def test_a_long_entry_shows_its_first_terms_and_how_many():
    x = sp.symbols("x_1:400")
    expr = sp.Add(*[sp.Rational(k + 1, 3) * s for k, s in enumerate(x)])
    short = shortened(expr, plain)
    assert short.endswith(f"+ ... ({len(expr.args)} terms)") and len(short) < 120
    assert plain(expr).startswith(short.split(" + ...")[0])
    assert shortened(x[0] + x[1], plain) == plain(x[0] + x[1])


def test_first_definitions_counts_what_it_leaves_out():
    names = sp.symbols("sigma_1:9") + sp.symbols("a_1:3")
    shown = first_definitions({n: n for n in names})
    assert shown == [*((n, n) for n in names[:DEFINITIONS]), (None, ("sigma", 8 - DEFINITIONS)),
                     (names[8], names[8]), (names[9], names[9])]


def test_full_is_for_text_only(capsys):
    assert main(["derive", "conv_max_pool", "--format", "json", "--full"]) == 2
    assert "--full" in capsys.readouterr().err


def _symbolic(n, pool):
    import symgrad as sg
    Pool = sg.MaxPool2d if pool == "max" else sg.AvgPool2d
    net = sg.Sequential(sg.Conv2d(1, 1, 3, bias=False), Pool(2))
    return sg.derive(net, sg.symbolic("x", (1, 1, n, n)), sg.MSELoss(), target=1)


@pytest.mark.parametrize("pool", ["avg", "max"])
def test_closed_forms_too_long_to_read_are_written_in_brief(pool):
    d = _symbolic(8, pool)
    assert d.expanded  # written out in the inputs, 0.45 (avg) and 0.71 MB (max) of text in full
    brief, full = render(d, "text"), render(d, "text", full=True)
    assert len(brief.encode()) <= 40_000 and len(full.encode()) >= 10 * len(brief.encode())
    assert "--full prints everything" in brief and "--full" not in full
    from symgrad.printing.common import select
    assert too_long(select(d)) and len(full) > FULL_TEXT  # the bound said so before anything was printed
    for name, grad in d.tensors.gradients().items():  # every closed form whole in full
        assert all(str(v) in full for v in grad.reshape(-1))
    lines = [line for line in brief.splitlines() if line.startswith("      [ ")]
    assert lines and max(len(line) for line in lines) < 1000  # was 7,280 characters a line (8x8 max)


def test_closed_forms_that_read_stay_whole():
    d = _symbolic(6, "avg")  # 0.22 MB in full: within a few hundred kB
    assert render(d, "text") == render(d, "text", full=True)


def test_the_bound_never_exceeds_the_full_text(monkeypatch):
    import symgrad.printing.brief as brief_module
    from symgrad.printing.common import select
    for n, pool in ((4, "max"), (6, "avg"), (6, "max")):
        d = _symbolic(n, pool)
        full = len(render(d, "text", full=True))
        said = []
        for limit in (0, full // 4, full // 3, full // 2, full - 1, full):
            monkeypatch.setattr(brief_module, "FULL_TEXT", limit)
            said.append(too_long(select(d)))
            assert not said[-1] or full > limit  # "certainly longer" is never wrong
        assert said[0] and not said[-1]


def test_a_sum_written_out_in_the_inputs_begins_as_str_writes_it():
    k, x = sp.Symbol("k_11"), sp.symbols("x_1:60")
    delta = sp.Add(*[sp.Rational(1, 128) * k * s for s in x], sp.Rational(-1, 32))
    short = shortened(delta, str, exact=True)
    assert short.endswith(f"+ ... ({len(delta.args)} terms)") and str(delta).startswith(short.split(" + ...")[0])
    nested = shortened(x[0] * delta + x[1] * delta, str, exact=True)  # a term holding a sum: the sum shortened
    assert nested == f"{x[0]}*({short}) + ... (2 terms)"
    assert shortened(sp.Rational(-3, 4) * (delta + x[2]) ** 2, str, exact=True).startswith("-3*(")
    m = sp.Max(*(delta + s for s in x[:3]), evaluate=False)
    assert shortened(2 * m / 9, str, exact=True) == "2*Max(...)/9"  # a long call by its name
