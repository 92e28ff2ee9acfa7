"""A network kept in named intermediates (LeNet's kind) still gives numbers: the loss and each gradient in brief.

Issue 13 item 6: LeNet's page had "no loss value and no gradient value anywhere". `derive` ends such a
page with the loss and every gradient's first entries, norm, min and max at the values `symgrad check`
draws; these are held here to torch autograd at the same values, rounded as printed.
"""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from symgrad import spec as specs
from symgrad.verify import buffer_symbols, evaluate, random_values, torch_reference

SPEC = """title = "kept in names"
expand = false
[input]
shape = [1, 1, 17, 17]
symbol = "x"
[[layers]]
type = "Conv2d"
in_channels = 1
out_channels = 1
kernel_size = 3
[[layers]]
type = "Sigmoid"
[[layers]]
type = "Flatten"
[[layers]]
type = "Linear"
in_features = 225
out_features = 3
[loss]
type = "CrossEntropyLoss"
target = [1]
[weights]
seed = 0
"""

NUMBER = r"-?\d+(?:\.\d+)?(?: \\cdot 10\^\{-?\d+\})?"


def _value(text: str) -> float:
    mantissa, _, exponent = text.partition(r" \cdot 10^{")
    return float(mantissa) * (10 ** int(exponent.rstrip("}")) if exponent else 1)


@pytest.fixture(scope="module")
def document(tmp_path_factory):
    path = tmp_path_factory.mktemp("sampled") / "kept.toml"
    path.write_text(SPEC, encoding="utf-8")
    out = {}
    for lang in ("en", "zh"):
        run = subprocess.run([sys.executable, "-m", "symgrad", "derive", str(path), "--format", "markdown",
                              "--lang", lang], capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        out[lang] = run.stdout
    return path, out


@pytest.fixture(scope="module")
def torch_numbers(document):
    path, _ = document
    derivation = specs.load(str(path)).derive()
    values = random_values(derivation.free_symbols, 0, positive=buffer_symbols(derivation))
    return torch_reference(derivation, evaluate(derivation, values))


def test_the_section_is_there_in_both_languages_and_the_page_points_to_it(document):
    _, out = document
    assert "## The numbers, in brief" in out["en"] and "## 数值摘要" in out["zh"]
    assert "numbers in brief" in out["en"].split("## The numbers, in brief")[0]  # the placeholders say where
    assert "(1350 entries" not in out["en"]


@pytest.mark.torch
def test_loss_and_gradient_summaries_are_torchs_numbers(document, torch_numbers):
    _, out = document
    section = out["en"].split("## The numbers, in brief")[1]
    loss = re.search(r"L \\approx (%s)" % NUMBER, section)
    assert loss and abs(_value(loss.group(1)) - float(torch_numbers["loss"])) < 1e-4
    rows = {m.group(1): m for m in re.finditer(r"\(`([\w.]+)`\) \| \(([\d, ]+)\) \| \$\\left\[(.*?)\\right\]\$ \| "
                                               r"\$(%s)\$ \| \$(%s)\$ \| \$(%s)\$" % (NUMBER, NUMBER, NUMBER), section)}
    assert set(rows) == set(torch_numbers["gradients"]) == {"0.weight", "0.bias", "3.weight", "3.bias", "input"}
    for name, match in rows.items():
        theirs = np.asarray(torch_numbers["gradients"][name], dtype=float)
        assert tuple(int(n) for n in match.group(2).split(",") if n.strip()) == theirs.shape
        first = [_value(v.strip()) for v in match.group(3).split(",") if v.strip() != r"\dots"]
        np.testing.assert_allclose(first, theirs.reshape(-1)[:len(first)], atol=6e-5)
        for shown, value in zip(match.groups()[3:], (np.linalg.norm(theirs), theirs.min(), theirs.max())):
            assert abs(_value(shown) - value) <= 6e-5 * max(1.0, abs(value))


def test_numbers_that_overflow_are_not_shown_as_a_table_of_nans(tmp_path):
    """A shapes spec's weights are all symbols, drawn as +-3 each: float64 overflows, and the section says so."""
    from symgrad.printing import sampled

    path = tmp_path / "kept.toml"
    path.write_text(SPEC, encoding="utf-8")
    derivation = specs.load(str(path)).derive()
    numbers = {"loss": float("inf"), "gradients": {"0.weight": np.full((1, 1, 3, 3), np.nan)}}
    for lang, phrase in (("en", "float64 overflows"), ("zh", "float64 溢出")):
        texts = [getattr(block, "text", "") for block in sampled.blocks(derivation, numbers, lang)]
        assert any(phrase in text for text in texts) and not any("nan" in text and "$" in text for text in texts)
