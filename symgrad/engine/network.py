"""Sequential: layers in torch's order, with torch's parameter names (0.weight, ...)."""

from __future__ import annotations

import numpy as np

from ..core import tensor
from ..core.errors import OptionError
from ..ops import Layer
from .backprop import layer_params


class Sequential:
    """Layers in torch's order. A layer object given twice is one module used twice, as in torch's
    `nn.Sequential(c, c)`: its parameters are shared, named once by the first place it appears
    (`named_parameters()` skips repeats), and their gradient is the sum over every use."""

    def __init__(self, *layers: Layer):
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                hint = " (symgrad.from_torch converts torch modules)" if type(layer).__module__.startswith("torch") \
                    else ""
                raise OptionError(f"layers[{i}]", "type", f"expected a symgrad layer, got "
                                                          f"{type(layer).__name__}{hint}")
        self.layers = list(layers)

    def __iter__(self):
        return iter(self.layers)

    def __len__(self):
        return len(self.layers)

    def label(self, i: int) -> str:
        """How messages name a layer: its index in the network and its torch class."""
        return f"layers[{i}] {self.layers[i].type_name}"

    def owners(self) -> list[int]:
        """For each place, the first place its layer object appears (the place itself unless repeated)."""
        first: dict[int, int] = {}
        return [first.setdefault(id(layer), i) for i, layer in enumerate(self.layers)]

    def owner(self, i: int) -> int:
        return self.owners()[i]

    def parameter_key(self, i: int, name: str) -> str:
        """The name of parameter `name` of the layer at place i: "0.weight" for every use of layer 0."""
        return f"{self.owner(i)}.{name}"

    def uses(self, params: dict) -> dict:
        """{place.name: array} for every place of every layer, from the parameters by their names (`parameters`)."""
        owners = self.owners()
        return {f"{i}.{name}": params[f"{owners[i]}.{name}"]
                for i, layer in enumerate(self.layers) for name in layer.parameter_shapes()}

    def merge(self, grads: dict) -> dict:
        """Per-place gradients (as backprop gives them, keyed like `uses`) summed into one per parameter, the
        first place's name, in order; other keys ("input") kept as they are."""
        owners, merged = self.owners(), {}
        for key, grad in grads.items():
            place, _, name = key.partition(".")
            if place.isdigit():
                key = f"{owners[int(place)]}.{name}"
                grad = grad if key not in merged else np.asarray(merged[key] + grad, dtype=object)
            merged[key] = grad
        return merged

    def shared(self) -> bool:
        """Whether some layer object appears more than once."""
        return self.owners() != list(range(len(self.layers)))

    def parameter_names(self) -> list[str]:
        owners = self.owners()
        return [f"{i}.{name}" for i, layer in enumerate(self.layers) if owners[i] == i
                for name in layer.parameter_shapes()]

    def shapes(self, in_shape: tuple[int, ...]) -> list[tuple[int, ...]]:
        """Output shape of every layer, raising an OptionError that names the layer."""
        shapes = []
        for i, layer in enumerate(self.layers):
            try:
                in_shape = layer.output_shape(tuple(in_shape))
                tensor.check_size(layer.where, "output", in_shape)
            except OptionError as error:
                raise error.relabel(self.label(i)) from None
            shapes.append(in_shape)
        return shapes

    def generated_parameters(self) -> dict[str, str]:
        """{parameter name: symbol base} for the parameters that get symbols (no values given)."""
        owners = self.owners()
        parametric = [i for i, layer in enumerate(self.layers) if layer.parameter_shapes() and owners[i] == i]
        return {f"{i}.{name}": self.layers[i].symbol_bases[name] + (str(i) if len(parametric) > 1 else "")
                for i in parametric for name in self.layers[i].parameter_shapes()
                if name not in self.layers[i].initial}

    def parameters(self) -> dict[str, np.ndarray]:
        """Every parameter as an object array, once per layer object: given values, or symbols k_11, b_1, ..."""
        generated, owners = self.generated_parameters(), self.owners()
        values = {}
        for i, layer in enumerate(self.layers):
            if owners[i] != i:
                continue
            for name, shape in layer.parameter_shapes().items():
                tensor.check_size(self.label(i), name, shape)
                if name in layer.initial:
                    values[f"{i}.{name}"] = _given(layer.initial[name], shape, self.label(i), f"init.{name}")
                else:
                    keep = (shape[0] > 1, shape[1] > 1, True, True) if len(shape) == 4 else (True,) * len(shape)
                    values[f"{i}.{name}"] = tensor.symbols(generated[f"{i}.{name}"], shape, keep)
        return values

    def buffers(self) -> dict[str, np.ndarray]:
        """Every buffer (running statistics) as an object array, once per layer object, by torch's state_dict
        name ("1.running_mean"): given with `init`, else the layer's defaults."""
        owners, values = self.owners(), {}
        for i, layer in enumerate(self.layers):
            if owners[i] == i and layer.buffers:
                for name, value in layer.buffers().items():
                    values[f"{i}.{name}"] = _buffer(value, self.label(i), f"init.{name}")
        return values

    def counted_buffers(self) -> set[str]:
        """The buffers torch holds as integers (a count, num_batches_tracked): by their defaults' dtype."""
        owners = self.owners()
        return {f"{i}.{name}" for i, layer in enumerate(self.layers) if owners[i] == i and layer.buffers
                for name, value in layer.initial_buffers().items() if np.asarray(value).dtype.kind in "iu"}

    def updated_buffers(self, inputs, uses: dict, buffers: dict, passes: int = 1) -> dict[str, np.ndarray]:
        """The buffers after `passes` forward passes, as torch moves them: each use of a layer moves its
        layer object's buffers once, in order, from the input it sees there (`inputs[i]`, place i's input;
        `uses` keyed like `uses()`)."""
        owners, state = self.owners(), dict(buffers)
        for _ in range(passes):
            for i, layer in enumerate(self.layers):
                names = layer.buffer_shapes() if layer.buffers else {}
                if not names:
                    continue
                given = {name: state[f"{owners[i]}.{name}"] for name in names}
                moved = layer.updated_buffers(inputs[i], layer_params(uses, i, layer), given)
                state.update({f"{owners[i]}.{name}": _buffer(value, self.label(i), name)
                              for name, value in moved.items()})
        return state


def _buffer(value, where, option) -> np.ndarray:
    """A buffer's value as an object array of checked entries (a 0-d one too: num_batches_tracked)."""
    if np.ndim(value) == 0:
        array = np.empty((), dtype=object)
        array[()] = tensor.entry(value.item() if isinstance(value, np.ndarray) and value.dtype != object
                                 else np.asarray(value, dtype=object)[()], where, option)
        return array
    return tensor.to_array(value, where, option)


def _given(values, shape, where, option) -> np.ndarray:
    """User-given parameter values; a 2-D kernel is accepted when the weight has one channel in and out."""
    array = tensor.to_array(values, where, option)
    if array.shape != tuple(shape) and array.size == int(np.prod(shape)) and array.ndim == 2 and len(shape) == 4 \
            and shape[:2] == (1, 1):
        array = array.reshape(shape)
    if array.shape != tuple(shape):
        raise OptionError(where, option, f"expected shape {list(shape)}, got {list(array.shape)}")
    return array
