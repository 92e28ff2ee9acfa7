"""Buffers end to end, generically: a throwaway buffered layer (no op in symgrad has to exist for it) through
the engine's typed fields, the JSON and text printers, `check` against a torch twin, and generated code.

Tally is ReLU keeping, per channel, the running sum of its input's means (a float buffer `total`) and how
many forward passes it saw (an integer count `seen`, as torch's num_batches_tracked): torch moves such
buffers once per forward, so a layer used twice moves them twice, and backward_passes=n forwards n times.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp
from lazy_torch import torch

import symgrad as sg
from symgrad.core.errors import OptionError
from symgrad.engine.derivation import BufferTensors
from symgrad.ops.base import Layer
from symgrad.printing import FORMATS
from symgrad.printing.common import select
from symgrad.verify import compare, evaluate, random_values, torch_reference


class Tally(sg.ReLU):
    """ReLU with buffers: total += mean of each channel over (N, H, W), seen += 1, per forward pass."""

    buffers = Layer.buffers  # ReLU declares none

    def __init__(self, channels: int = 1):
        super().__init__()
        self.width = channels

    def buffer_shapes(self):
        return {"total": (self.width,), "seen": ()}

    def initial_buffers(self):
        return {"total": np.zeros(self.width), "seen": np.array(0, dtype=np.int64)}

    def updated_buffers(self, x, params, buffers):
        means = [sum(x[:, c].reshape(-1), sp.Integer(0)) / x[:, c].size for c in range(self.width)]
        total = np.array([sp.sympify(t) + m for t, m in zip(np.asarray(buffers["total"]).reshape(-1), means)],
                         dtype=object)
        seen = np.array(sp.sympify(np.asarray(buffers["seen"], dtype=object)[()]) + 1, dtype=object)
        return {"total": total, "seen": seen}

    def torch_module(self):
        width = self.width

        class TorchTally(torch.nn.ReLU):
            def __init__(self):
                super().__init__()
                self.register_buffer("total", torch.zeros(width, dtype=torch.float64))
                self.register_buffer("seen", torch.tensor(0, dtype=torch.long))

            def forward(self, x):
                with torch.no_grad():
                    self.total += x.mean(dim=(0, 2, 3))
                    self.seen += 1
                return super().forward(x)

        return TorchTally()


X = [[[[1, -2], [3, 4]]]]
TARGET = [[[[0, 1], [1, 0]]]]


def _conv():
    return sg.Conv2d(1, 1, 1).init(weight=[[[[2]]]], bias=[1])


def _derive(*layers, **kwargs):
    return sg.derive(sg.Sequential(*layers), X, sg.MSELoss(), target=TARGET, **kwargs)


def test_given_and_updated_buffers_are_typed_fields_by_state_dict_name():
    d = _derive(_conv(), Tally())
    assert list(d.tensors.buffers) == ["1.total", "1.seen"]
    assert isinstance(d.tensors.buffers["1.total"], BufferTensors)
    assert d.buffers == {"1.total": sp.Array([0]), "1.seen": 0}
    # conv output 2x + 1 = [3, -3, 7, 9]: mean 4
    assert d.updated_buffers == {"1.total": sp.Array([4]), "1.seen": 1}
    assert d.tensors.buffers["1.seen"].count and not d.tensors.buffers["1.total"].count
    assert d.tensors.buffers_change()


def test_a_network_without_buffers_has_none():
    d = _derive(_conv(), sg.ReLU())
    assert d.buffers == {} and d.updated_buffers == {} and d.tensors.buffers == {}
    assert not d.tensors.buffers_change()
    assert "buffers" not in json.loads(FORMATS["json"](select(d)))
    assert "running statistics" not in FORMATS["text"](select(d))


@pytest.mark.parametrize("passes", [1, 3])
def test_a_shared_layer_moves_its_buffers_once_per_use_and_per_pass(passes):
    """Tally used twice: the first use sees the conv output (mean 4), the second its ReLU (mean 19/4)."""
    tally = Tally()
    d = _derive(_conv(), tally, tally, backward_passes=passes)
    assert list(d.updated_buffers) == ["1.total", "1.seen"]  # named by the first place, as torch's state_dict
    assert d.updated_buffers["1.total"] == sp.Array([passes * (4 + sp.Rational(19, 4))])
    assert d.updated_buffers["1.seen"] == 2 * passes


def test_given_buffers_are_taken_and_their_symbols_checked():
    d = _derive(_conv(), Tally().init(total=["t"], seen=5))
    assert d.buffers == {"1.total": sp.Array([sp.Symbol("t", real=True)]), "1.seen": 5}
    assert d.updated_buffers["1.total"] == sp.Array([sp.Symbol("t", real=True) + 4])
    assert sp.Symbol("t", real=True) in d.free_symbols
    with pytest.raises(OptionError, match=r"layers\[1\].*init\.total.*collides"):
        _derive(sg.Conv2d(1, 1, 1), Tally().init(total=["k_11"]))


def test_json_gives_the_buffers_after_the_step_with_the_count_an_integer():
    d = _derive(_conv(), Tally(), backward_passes=2)
    document = json.loads(FORMATS["json"](select(d)))
    assert document["buffers"] == {"1.total": [8.0], "1.seen": 2}
    assert isinstance(document["buffers"]["1.seen"], int)


def test_text_shows_the_buffers_that_moved():
    text = FORMATS["text"](select(_derive(_conv(), Tally(), backward_passes=2)))
    assert "running statistics (buffers after the 2 forward passes):" in text
    assert text.index("running statistics") < text.index("loss L =")
    assert "1.seen (scalar):\n      2" in text


def test_kept_in_names_the_buffers_are_evaluated_too():
    """expand=False: the updated buffers are in the names of the layers' inputs; derive gives them numbers."""
    tally = Tally()
    d = sg.derive(sg.Sequential(_conv(), tally, tally), X, sg.MSELoss(), target=TARGET, expand=False)
    assert not d.expanded
    assert float(d.updated_buffers["1.total"][0]) == pytest.approx(4 + 19 / 4)
    assert d.updated_buffers["1.seen"] == 2


@pytest.mark.torch
@pytest.mark.parametrize("expand", [True, False])
@pytest.mark.parametrize("passes", [1, 2])
def test_check_compares_the_buffers_with_torchs_named_buffers(expand, passes):
    tally = Tally()
    d = sg.derive(sg.Sequential(sg.Conv2d(1, 1, 1), tally.init(total=["t"]), tally), X, sg.MSELoss(),
                  target=TARGET, backward_passes=passes, expand=expand)
    values = random_values(d.free_symbols, 0)
    ours = evaluate(d, values)
    assert ours["buffers"]["1.total"][0] == float(values[sp.Symbol("t", real=True)])  # a number for the symbol
    rows = {row["quantity"]: row for row in compare(ours, torch_reference(d, ours))}
    assert {"buffer 1.total", "buffer 1.seen"} <= set(rows)
    assert all(row["ok"] for row in rows.values()), [r for r in rows.values() if not r["ok"]]


@pytest.mark.torch
def test_a_buffer_missing_on_either_side_is_a_mismatch():
    d = _derive(_conv(), Tally())
    ours = evaluate(d, {})
    theirs = torch_reference(d, ours)
    assert theirs["updated_buffers"]["1.seen"] == 1
    mine = {**ours, "updated_buffers": {"1.total": ours["updated_buffers"]["1.total"]}}
    row = next(r for r in compare(mine, theirs) if r["quantity"] == "buffer 1.seen")
    assert not row["ok"] and row["reason"] == "symgrad has no such quantity"
    del theirs["updated_buffers"]["1.total"]
    row = next(r for r in compare(ours, theirs) if r["quantity"] == "buffer 1.total")
    assert not row["ok"] and row["reason"] == "torch has no such quantity"


@pytest.mark.torch
def test_a_count_must_equal_torchs():
    d = _derive(_conv(), Tally())
    ours = evaluate(d, {})
    theirs = torch_reference(d, ours)
    theirs["updated_buffers"]["1.seen"] = np.array(2, dtype=np.int64)
    row = next(r for r in compare(ours, theirs) if r["quantity"] == "buffer 1.seen")
    assert not row["ok"]


def test_generated_code_takes_numeric_buffers_as_constants_and_refuses_symbolic_ones():
    f = _derive(_conv(), Tally()).lambdify()
    assert not {"1.total", "1.seen"} & set(f.arguments)
    with pytest.raises(OptionError, match="1.total: the buffer holds symbols"):
        _derive(_conv(), Tally().init(total=["t"])).lambdify()
