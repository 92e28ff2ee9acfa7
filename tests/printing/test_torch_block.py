"""The PyTorch block that ends a derivation document (symgrad/printing/torchcode.py): it runs, and it prints
what the document says it prints.

torchcode writes the block and its printout without torch (symgrad's float64 numbers in torch's print
format); these tests run the block with real torch (float64, as the block sets) and compare the two texts,
for torch's formatter on its own (integers, fixed, scientific, wrapped rows), every bundled example that
fits a block, and every registered layer drawn from the op tables.
"""

from __future__ import annotations

import contextlib
import io
import random
import re

import numpy as np
import pytest

import symgrad
from op_tables import layers
from printouts import assert_same_printout
from symgrad import examples
from symgrad import spec as specs
from symgrad.ops import LAYERS, MaxPool2d, MSELoss
from symgrad.printing import torchcode
from symgrad.verify import buffer_symbols, evaluate, random_values

def _torch():  # imported when a test runs: collecting this file must not import torch
    import torch

    return torch


def run_block(source: str) -> str:
    """The block's stdout; torch's default dtype is put back for the other tests."""
    torch = _torch()
    default = torch.get_default_dtype()
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(source, "<block>", "exec"), {"__name__": "__block__"})
    finally:
        torch.set_default_dtype(default)
    return out.getvalue()


def numbers_of(d):
    return evaluate(d, random_values(d.free_symbols, 0, positive=buffer_symbols(d)))


TENSORS = [
    np.array(400.0), np.array(-0.25), np.array(0.0), np.array([1.0, -2.0, 30.0]), np.array([[0.5, 2.25], [-1.0, 3.0]]),
    np.array([[[[200.0, 240.0], [320.0, 360.0]]]]), np.array([[[[2.52, 1.36], [0.04, 3.88]]]]),
    np.array([1e-5, 2.0, 3.5]), np.array([1.0, 5000.0]), np.array([3e9, 1.0]), np.zeros((2, 3)),
    np.array([[0.0, -0.0625, 0.1875]]), np.linspace(-3, 7, 40), np.arange(60.0).reshape(3, 20) / 7,
    np.array([1 / 3, 2 / 3, -1.0]), np.array([[[1.0, 2.0]], [[3.0, 4.0]]]), np.array([123456.789, 0.5]),
]


@pytest.mark.torch
@pytest.mark.parametrize("index", range(len(TENSORS)))
def test_torch_repr_is_torchs_print(index):
    assert torchcode.torch_repr(TENSORS[index]) == _printed(TENSORS[index])


def _printed(value) -> str:
    """torch's print of `value` as a float64 tensor with float64 the default dtype (no dtype= suffix)."""
    torch = _torch()
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        return repr(torch.tensor(value))
    finally:
        torch.set_default_dtype(default)


@pytest.mark.torch
def test_torch_repr_matches_on_random_tensors():
    rng = np.random.default_rng(0)
    for _ in range(200):
        shape = tuple(rng.integers(1, 5, size=rng.integers(0, 5)))
        kind = rng.integers(0, 3)
        value = rng.integers(-50, 50, size=shape).astype(float) if kind == 0 else \
            rng.normal(size=shape) * 10.0 ** rng.integers(-6, 9) if kind == 1 else rng.normal(size=shape)
        assert torchcode.torch_repr(value) == _printed(value), value


FITTING = [name for name in examples.names() if not name.endswith("_shapes")
           and name not in ("lenet", "tutorial_net", "lenet_first_stage")]


@pytest.mark.torch
@pytest.mark.parametrize("name", FITTING)
def test_every_bundled_example_block_prints_what_the_document_shows(name):
    d = specs.load(name).derive("rules")
    assert torchcode.fits(d)
    numbers = numbers_of(d)
    source = torchcode.code(d, numbers)
    assert "optimizer.zero_grad()" in source or "net.zero_grad()" in source
    assert run_block(source) == torchcode.printout(d, numbers)


def test_large_networks_get_a_sentence_not_a_block():
    side = 17  # 289 input entries: more than a literal in the code may hold
    x = np.arange(side * side).reshape(1, 1, side, side).tolist()
    d = symgrad.derive(symgrad.Sequential(MaxPool2d(2)), x, MSELoss(), 0)
    assert not torchcode.fits(d) and torchcode.fits(symgrad.derive(symgrad.Sequential(MaxPool2d(2)), [[1, 2], [3, 4]],
                                                                   MSELoss(), 0))
    for lang in ("en", "zh"):
        text = torchcode.section(d, None, lang, "markdown", command="symgrad check net.toml")
        assert "```" not in text and "`symgrad check net.toml`" in text


def _one_layer(layer, shape, rng):
    x = np.array([[rng.randint(-3, 3) for _ in range(int(np.prod(shape)))]], dtype=object).reshape(shape)
    optimizer = symgrad.SGD(lr=0.1, momentum=rng.choice([0, 0.9]), weight_decay=rng.choice([0, 0.01]))
    return symgrad.derive(symgrad.Sequential(layer), x.tolist(), MSELoss(reduction=rng.choice(["mean", "sum"])),
                          None, optimizer if layer.parameter_shapes() else None)


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_every_registered_layer_builds_the_same_network_in_torch(name):
    rng = random.Random(name)
    for layer, shape in layers(name, 2):
        d = _one_layer(layer, shape, rng)
        numbers = numbers_of(d)
        source = torchcode.code(d, numbers)
        assert_same_printout(run_block(source), torchcode.printout(d, numbers), (name, layer, source))




@pytest.mark.torch
def test_a_shared_layer_and_accumulated_passes_run_as_in_torch():
    """A layer used twice is one torch module used twice (its parameters shared); backward_passes=2 runs two
    passes without zero_grad between them, so the printed gradients are the accumulated ones."""
    conv = symgrad.OPS["Conv2d"](1, 1, 2, bias=False)
    x = np.arange(16).reshape(4, 4).tolist()
    for passes in (1, 2):
        d = symgrad.derive(symgrad.Sequential(conv, conv), x, MSELoss(reduction="sum"), 0, symgrad.SGD(lr=0.01),
                           backward_passes=passes)
        numbers = numbers_of(d)
        source = torchcode.code(d, numbers)
        assert "layer0 = nn.Conv2d(1, 1, 2, bias=False)" in source and source.count("    layer0,") == 2
        assert ("for _ in range(2):" in source) == (passes == 2)
        assert run_block(source) == torchcode.printout(d, numbers)


def test_the_printout_comparison_forgives_float_noise_only():
    """tests/support/printouts.py: torch's rounding passes, a wrong number or a changed layout does not."""
    shown = "x.grad:\ntensor([[ 0.6000,  0.0000],\n        [ 0.0000, -1.8931]])\n"
    noisy = "x.grad:\ntensor([[ 6.0000e-01,  0.0000e+00],\n        [-2.7756e-17, -1.8930e+00]])\n"
    assert_same_printout(noisy, shown)
    assert_same_printout(shown.replace("-1.8931", "-1.8930"), shown)
    for wrong in (shown.replace("0.6000", "0.7000"), shown.replace("[ 0.0000, -1.8931]", "[ 0.0000,\n -1.8931]"),
                  shown.replace("x.grad:", "y.grad:"), noisy.replace("6.0000e-01", "7.0000e-01")):
        with pytest.raises(AssertionError):
            assert_same_printout(wrong, shown)
