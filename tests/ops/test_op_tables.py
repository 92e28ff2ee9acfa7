"""The op tables (tests/support/op_tables.py) cover every registered op, and every entry draws valid instances."""

import random

import pytest

from op_tables import LAYER_TABLE, LOSS_TABLE, layers, random_loss
from symgrad.ops import LAYERS, LOSSES


def test_every_registered_layer_has_an_entry():
    assert not set(LAYERS) - set(LAYER_TABLE), "add an entry to tests/support/op_tables.py LAYER_TABLE"


def test_every_registered_loss_has_an_entry():
    assert not set(LOSSES) - set(LOSS_TABLE), "add an entry to tests/support/op_tables.py LOSS_TABLE"


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_a_layer_entry_draws_valid_instances_of_its_op(name):
    drawn = layers(name, 10, tries=5)  # at least one draw in five valid
    assert len(drawn) == 10
    assert all(type(layer) is LAYERS[name] and isinstance(layer.output_shape(shape), tuple) for layer, shape in drawn)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_a_loss_entry_draws_valid_instances_of_its_op(name):
    rng = random.Random(name)
    for _ in range(10):
        loss, shape, target = random_loss(name, rng)
        assert type(loss) is LOSSES[name]
        loss.check_target(shape, target)
