"""Spec files (TOML): read, validate and turn into the objects `derive` takes.

Every refusal is an OptionError naming the place ("layers[1] MaxPool2d") and the
option, so the CLI can print one line and exit 2. Strings in a spec are only ever
symbol names, checked against an identifier pattern; nothing is evaluated.
"""

from __future__ import annotations

import inspect
import os
import tomllib
from dataclasses import dataclass
from math import prod

import numpy as np

from .core import limits, tensor, values
from .engine import weights
from .core.errors import OptionError
from .engine.network import Sequential
from .ops import LAYERS, LOSSES, Loss
from .ops import options as opt
from .engine.optimizers import OPTIMIZERS, Optimizer
from .engine.training import check_steps
from .core.suggest import did_you_mean

TOP_LEVEL = ("title", "input", "layers", "loss", "optimizer", "backward_passes", "steps", "weights", "expand")


@dataclass
class Spec:
    title: str | None
    input: np.ndarray
    network: Sequential
    loss: Loss | None
    target: object
    optimizer: Optimizer | None
    input_option: str = "values"  # how the spec gave its input: "values" or "symbol" (with shape)
    backward_passes: int = 1  # gradients of this many backward passes are summed (torch without zero_grad)
    steps: int = 1  # optimizer steps on the same batch, zero_grad before each (engine/training.py)
    expand: object = "auto"  # write fields out explicitly: "auto" (when small), true or false
    #: Why `derive` would refuse this spec past a limit, found from the shapes when it was read (then its
    #: symbolic input was not built: `input` repeats one placeholder symbol, enough for `shapes`).
    refused: OptionError | None = None

    def derive(self, method: str = "rules", progress: bool | None = None):
        """The derivation of this spec; input errors name the option the spec actually used."""
        from .derive import derive_checked

        try:
            if self.refused is not None:
                raise self.refused
            return derive_checked(self.network, self.input, self.loss, self.target, self.optimizer, method=method,
                                  backward_passes=self.backward_passes, expand=self.expand, progress=progress,
                                  steps=self.steps, where="spec")
        except OptionError as error:
            if error.where == "input" and error.option == "values" and self.input_option != "values":
                raise OptionError("input", self.input_option, error.message) from None
            raise


STDIN = "-"


def locate(source) -> str | None:
    """The file a SPEC argument names: the path itself, else a bundled example of that name.

    A file that exists always wins over an example; None for "-" (standard input).
    """
    if str(source) == STDIN:
        return None
    if os.path.exists(source):
        return os.fspath(source)
    from . import examples

    found = examples.path(str(source))
    if found is None:
        hint = did_you_mean(str(source), examples.names())
        raise OptionError("spec", "file", f"cannot read {source}: no such file, and no bundled example of that "
                                          f"name{hint} (symgrad examples lists them)")
    return str(found)


def load(source) -> Spec:
    """Read and validate a spec: a path, "-" for standard input, or a bundled example's name.

    A [weights] file is read relative to the spec's folder (the working folder for stdin).
    """
    path = locate(source)
    if path is None:
        import sys

        return parse(sys.stdin.buffer.read(limits.MAX_SPEC_BYTES + 1), os.getcwd())
    try:
        with open(path, "rb") as handle:
            limits.check_spec_bytes(os.fstat(handle.fileno()).st_size)  # refused unread
            raw = handle.read(limits.MAX_SPEC_BYTES + 1)  # (a pipe may still be longer: parse refuses it)
    except OSError as error:
        raise OptionError("spec", "file", f"cannot read {path}: {error.strerror or error}") from None
    return parse(raw, os.path.dirname(os.path.abspath(path)))


def parse(raw: bytes | str, base_dir: str | None = None) -> Spec:
    limits.check_spec_bytes(len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass")))
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise OptionError("spec", "file", f"not UTF-8 text (byte {error.start})") from None
    limits.check_spec_text(raw)  # before tomllib: keys, nesting, tables and arrays that make it slow or deep
    try:
        data = tomllib.loads(raw, parse_float=values.toml_float)  # keeps 1e-400 and 1e400 refusable (values.py)
    except tomllib.TOMLDecodeError as error:
        raise OptionError("spec", "toml", f"not valid TOML: {error}") from None
    except ValueError as error:  # int() of a number with more than 4300 digits (Python's limit)
        raise OptionError("spec", "toml", f"cannot read a number: {str(error).split(';')[0]}") from None
    except RecursionError:
        raise OptionError("spec", "toml", "nested too deeply to read") from None
    return from_dict(data, base_dir)


def from_dict(data: dict, base_dir: str | None = None) -> Spec:
    _known_keys("spec", data, TOP_LEVEL)
    title = data.get("title")
    if title is not None and not isinstance(title, str):
        raise OptionError("spec", "title", "must be a string")
    network = _network(data.get("layers"))
    if "weights" in data:
        weights.apply(network, data["weights"], base_dir)
    expand = data.get("expand", "auto")
    if not (isinstance(expand, bool) or expand == "auto"):
        raise OptionError("spec", "expand", f"must be true, false or \"auto\", got {_shown(expand)}")
    loss, target = _loss(data.get("loss"))
    optimizer = _optimizer(data.get("optimizer"))
    backward_passes = limits.check_backward_passes(
        "spec", opt.integer("spec", "backward_passes", data.get("backward_passes", 1), 1))
    steps = check_steps("spec", data.get("steps", 1), optimizer)  # before the input: no symbols built for it
    section = data.get("input")
    input_option = "symbol" if isinstance(section, dict) and "shape" in section else "values"
    array, refused = _input(section, network, loss, target)
    return Spec(title=title, input=array, network=network, loss=loss, target=target, optimizer=optimizer,
                input_option=input_option, backward_passes=backward_passes, steps=steps, expand=expand,
                refused=refused)


def _known_keys(where: str, table: dict, allowed) -> None:
    for key in table:
        if key not in allowed:
            raise OptionError(where, key, f"unknown option{did_you_mean(key, allowed)} (allowed: {', '.join(allowed)})")


def _table(where: str, value) -> dict:
    if not isinstance(value, dict):
        raise OptionError(where, "table", f"expected a table, got {type(value).__name__}")
    return value


def _input(section, network=None, loss=None, target=None) -> tuple[np.ndarray, OptionError | None]:
    """The input, and the limit a derivation of it would pass (found from the shapes, see Spec.refused)."""
    if section is None:
        raise OptionError("input", "values", "missing: give [input] values, or shape and symbol")
    section = _table("input", section)
    _known_keys("input", section, ("values", "shape", "symbol"))
    if "values" in section:
        if "shape" in section:
            raise OptionError("input", "shape", "give either values or shape, not both")
        if "symbol" in section:
            raise OptionError("input", "symbol", "applies to shape only; name symbols inside values instead")
        from .derive import as_input

        return as_input(section["values"]), None
    else:
        shape = section.get("shape")
        if not isinstance(shape, list) or not 2 <= len(shape) <= 4:
            raise OptionError("input", "shape", "expected a list of 2 to 4 positive integers, e.g. [1, 1, 3, 3]")
        for n in shape:
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise OptionError("input", "shape", f"sizes must be positive integers, got {n!r}")
        shape = [1] * (4 - len(shape)) + shape
        tensor.check_size("input", "shape", shape)
        limits.check_symbolic_input(shape)
        base = _name("input", "symbol", section.get("symbol", "x"))
        refused = _refused(network, tuple(shape), loss, target)
        if refused is not None:  # up to 100,000 symbols (a second) not made for a derivation that cannot run
            return np.full(tuple(shape), tensor.symbol(base), dtype=object), refused
        return tensor.image_symbols(base, tuple(shape)), None


def _refused(network, shape, loss, target) -> OptionError | None:
    """The limit (symgrad/core/limits.py) a derivation of `network` on a symbolic input of `shape` would pass."""
    if network is None:
        return None
    try:
        shapes = network.shapes(shape)
    except OptionError:
        return None  # the derivation says so itself, in its turn
    try:
        limits.check_derivation(network, shape, shapes, loss, target, input_symbols=prod(shape))
    except OptionError as error:
        return error
    return None


def _name(where, option, value) -> str:
    tensor.symbol(value, where, option)
    return value


def _options(where: str, cls, table: dict, reserved: tuple[str, ...]) -> dict:
    """The table's options, checked against the torch constructor's parameter names."""
    signature = inspect.signature(cls.__init__)
    accepted = [p.name for p in signature.parameters.values()
                if p.name != "self" and p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    options = {k: v for k, v in table.items() if k not in reserved}
    for key in options:
        if key not in accepted:
            allowed = ", ".join(accepted) if accepted else "no options"
            hint = did_you_mean(key, [*accepted, *reserved])
            raise OptionError(where, key, f"unknown option{hint} ({cls.type_name} takes {allowed})")
    missing = [p.name for p in signature.parameters.values()
               if p.name in accepted and p.default is inspect.Parameter.empty and p.name not in options]
    if missing:
        raise OptionError(where, missing[0], "missing required option")
    return options


def _network(layers) -> Sequential:
    if layers is None:
        raise OptionError("layers", "type", "missing: give at least one [[layers]] table")
    if not isinstance(layers, list) or not layers:
        raise OptionError("layers", "type", "expected a non-empty array of [[layers]] tables")
    limits.check_layers(len(layers))
    built = []
    for i, table in enumerate(layers):
        where = f"layers[{i}]"
        table = _table(where, table)
        kind = table.get("type")
        if not isinstance(kind, str) or kind not in LAYERS:
            known = ", ".join(sorted(LAYERS))
            hint = did_you_mean(kind, sorted(LAYERS))
            raise OptionError(where, "type", f"unknown layer {_shown(kind)}{hint} (known: {known})")
        where = f"layers[{i}] {kind}"
        options = _options(where, LAYERS[kind], table, ("type", "init"))
        limits.check_channels(where, options)
        try:
            layer = LAYERS[kind](**options)
            init = table.get("init", {})
            layer.init(**_table(f"{where} init", init))
        except OptionError as error:
            raise error.relabel(where) from None
        built.append(layer)
    return Sequential(*built)


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _loss(section):
    if section is None:
        return None, None
    section = _table("loss", section)
    kind = section.get("type")
    if not isinstance(kind, str) or kind not in LOSSES:
        raise OptionError("loss", "type", f"unknown loss {_shown(kind)}{did_you_mean(kind, sorted(LOSSES))} "
                                          f"(known: {', '.join(sorted(LOSSES))})")
    where = f"loss {kind}"
    options = _options(where, LOSSES[kind], section, ("type", "target"))
    try:
        loss = LOSSES[kind](**options)
    except OptionError as error:
        raise error.relabel(where) from None
    target = section.get("target")
    if target is not None:
        if isinstance(target, list):
            target = tensor.to_array(target, where, "target")
        else:
            target = tensor.entry(target, where, "target")
    return loss, target


def _optimizer(section):
    if section is None:
        return None
    section = _table("optimizer", section)
    kind = section.get("type")
    if not isinstance(kind, str) or kind not in OPTIMIZERS:
        raise OptionError("optimizer", "type", f"unknown optimizer {_shown(kind)}{did_you_mean(kind, OPTIMIZERS)} "
                                               f"(known: {', '.join(OPTIMIZERS)})")
    where = f"optimizer {kind}"
    options = _options(where, OPTIMIZERS[kind], section, ("type",))
    try:
        return OPTIMIZERS[kind](**options)
    except OptionError as error:
        raise error.relabel(where) from None
