"""`symgrad.verify.compare` agrees on a quantity only when both sides have it: a key one side lacks is a mismatch.

Plain dictionaries stand for the two sides (no torch needed): every quantity either side names gets a
row, and a row for a quantity only one side has is never `ok`.
"""

import numpy as np
import pytest

from symgrad.verify import compare


def _side(**extra):
    side = {"output": np.ones((1, 2)), "loss": 0.5, "gradients": {"input": np.ones(2), "0.weight": np.ones(3)},
            "updated": {"0.weight": np.zeros(3)}, "updated_buffers": {"0.running_mean": np.zeros(2)}}
    for kind, value in extra.items():
        side[kind] = value
    return side


def _rows(ours, theirs):
    return {row["quantity"]: row for row in compare(ours, theirs)}


def test_equal_sides_agree_on_every_quantity():
    rows = _rows(_side(), _side())
    assert set(rows) == {"output", "loss", "dL/dinput", "dL/d0.weight", "updated 0.weight", "buffer 0.running_mean"}
    assert all(row["ok"] for row in rows.values())


@pytest.mark.parametrize("kind,name,quantity", [
    ("gradients", "0.weight", "dL/d0.weight"), ("gradients", "input", "dL/dinput"),
    ("updated", "0.weight", "updated 0.weight"), ("updated_buffers", "0.running_mean", "buffer 0.running_mean")])
@pytest.mark.parametrize("lacking", ["symgrad", "torch"])
def test_a_quantity_one_side_lacks_is_a_mismatch(kind, name, quantity, lacking):
    short = _side()
    del short[kind][name]
    ours, theirs = (short, _side()) if lacking == "symgrad" else (_side(), short)
    rows = _rows(ours, theirs)
    assert not rows[quantity]["ok"] and rows[quantity]["reason"] == f"{lacking} has no such quantity", rows[quantity]
    assert [q for q, row in rows.items() if not row["ok"]] == [quantity]


@pytest.mark.parametrize("key", ["output", "loss"])
def test_torch_lacking_the_output_or_the_loss_is_a_mismatch(key):
    theirs = _side()
    del theirs[key]
    row = _rows(_side(), theirs)[key]
    assert not row["ok"] and row["reason"] == "torch has no such quantity"


def test_a_whole_kind_torch_lacks_is_a_mismatch_per_quantity():
    theirs = _side()
    del theirs["updated"], theirs["updated_buffers"]
    rows = _rows(_side(), theirs)
    assert not rows["updated 0.weight"]["ok"] and not rows["buffer 0.running_mean"]["ok"]
