"""The engine: networks, backprop by each op's rule, named intermediates, derivations."""
