"""Every bound symgrad puts on a command's work, in one place, each checked before that work starts.

A spec is read in three steps, and each has its limits: the raw text (size, and a
pre-scan for what makes Python's TOML reader slow or deep: long dotted keys, deep
nesting, thousands of tables, hundreds of thousands of array values), the tables
(layers, channels), and the derivation, whose size is computed from the shapes alone
(`Sequential.shapes`) before any expression is built: entries per tensor and in all,
symbolic entries, and the products the forward pass writes. Weights files are
bounded by their headers before any array is read; written-out expressions by their
nesting depth before they are built. Each refusal is an OptionError naming the place
and the limit, so the CLI prints one line and exits 2.

The values are chosen so that every bundled example derives (the largest, the fully
symbolic `tutorial_net_shapes`, has 82,218 symbolic entries, 101,356 entries in all and
291,244 products) and a derivation at a limit still finishes in minutes, with a
progress bar (docs/guarantees.md, "Limits", gives the measurements).
"""

from __future__ import annotations

import re
from math import prod

from .errors import OptionError

MAX_SPEC_BYTES = 1 << 20
"""A spec file of at most 1 MiB. Python's TOML reader takes about 1.4 s per MB of numbers; a
spec is written by hand, and a network's numbers beyond that belong in a [weights] file."""

MAX_KEY_PARTS = 8
"""At most 8 parts in a dotted key (`init.weight` has 2). tomllib's cost grows with the square
of the parts: a 30,000-part key took 30 s and 3.6 GB."""

MAX_NESTING = 128
"""Arrays and inline tables nested at most 128 deep (a tensor needs 4, `layers = [{init = {weight =
[[[[...]]]]}}]` 7). tomllib reads nesting by recursion and failed at 400 levels; a tensor nested
too deep for its place is refused there, naming it."""

MAX_TABLES = 4_096
"""At most 4,096 tables: headers (`[input]`, `[[layers]]`, ...) and inline tables (`init = {...}`,
`layers = [{...}, ...]`), counted before tomllib reads them (1,000 layers with an inline `init`
each need 2,002). 100,000 layer tables ran past 300 s at 2.2 GB."""

MAX_ARRAY_VALUES = 250_000
"""At most 250,000 values in all the spec's arrays: each becomes a tensor entry (MAX_ENTRIES), so
more is refused before tomllib spends seconds reading it."""

MAX_LAYERS = 1_000
"""At most 1,000 layers. A derivation keeps each layer's tensors and walks them in both passes."""

MAX_BACKWARD_PASSES = 10_000
"""At most 10,000 accumulated backward passes (`backward_passes`): symgrad multiplies by the
count, but `symgrad check` runs torch's backward that many times (10^11 ran for ever)."""

MAX_STEPS = 100
"""At most 100 optimizer steps (`steps`): each step derives the whole network again (a whole
LeNet derivation per step), and the pages print the numbers of every step."""

MAX_CHANNELS = 4_096
"""The channel counts a layer declares (`channels()`: in_channels and out_channels of Conv2d and
ConvTranspose2d) at most 4,096 (LeNet has 16)."""

MAX_TENSOR_ENTRIES = 1_000_000
"""At most 1,000,000 entries in any one tensor, for every command (`shapes` too): the input, a
parameter, a layer's output, a weights-file array."""

MAX_ENTRIES = 250_000
"""At most 250,000 entries in all in one derivation: input, parameters, target and every layer's
output (each output also gets a delta of the same size). A 10^6-entry input ran past 300 s at
2.15 GB; 80,000 entries take about 30 to 110 s."""

MAX_SYMBOLS = 100_000
"""At most 100,000 symbolic entries (input, parameters without values, target without values).
Symbols are what makes expressions grow: a 40,000-symbol input with a 1x1 kernel takes 110 s and
570 MB, and the fully symbolic LeNet (62,500 symbols) 90 s."""

MAX_TERMS = 1_000_000
"""At most 1,000,000 products written by the forward pass: for each layer, its output entries
times the entries each one reads, as each layer declares it (`terms`: in_channels/groups * kernel
area for Conv2d, in_features for Linear, the window within the input for pooling, 1 otherwise); the
backward pass writes about twice as many. LeNet writes 429,732; 1,000,000 take minutes."""

MAX_DEPTH = 64
"""Written-out (expanded) expressions nest at most 100 levels deep. SymPy and Python's compiler
walk expressions by recursion: 210 nested Tanh layers ended in RecursionError after 13 to 32 s.
Deeper networks are kept in named intermediates (expand = "auto" or false)."""

MAX_DIFF_WORK = 20_000
"""method = "diff" (`sympy.diff` of the whole loss, once per entry, the ground truth for small
cases) at most where (entries differentiated: input and parameters) x (products of the forward
pass and the loss) is 20,000: a 6x6 symbolic input through a 3x3 conv and a 2x2 max pool (8,740)
takes about a minute, rules (the default) 0.1 s; the largest in the tests is 8,802."""

MAX_WEIGHTS_FILE_BYTES = 64 << 20
"""A [weights] .npz file of at most 64 MiB: a network within MAX_ENTRIES has at most 2 MB of
float64 parameters, and one array at MAX_TENSOR_ENTRIES 8 MB."""

MAX_WEIGHTS_ARRAYS = 2 * MAX_LAYERS
"""At most 2,000 arrays in a weights file (a weight and a bias per layer)."""

EXACT_NODES = 40
EXACT_LEVELS = 8
"""Not refusals: in a derivation whose inputs are all numbers, an exact value is kept as a closed
form while it has at most 40 nodes nested at most 8 deep (tanh(2/5), exp(1)/(E + exp(2))); a
longer one, which only grows layer by layer and which every printer would evaluate again at each
use, is evaluated once to 30 significant digits (symgrad.derive)."""

#: Every limit by name, for docs and tests.
LIMITS = {name: value for name, value in globals().items() if name.startswith("MAX_")}


def _limit(value: int) -> str:
    return f"{value:,}"


# ---------------------------------------------------------------- the spec's text

def check_spec_bytes(size: int, where: str = "spec", option: str = "file") -> None:
    """`size` bytes of spec; a size of MAX_SPEC_BYTES + 1 means "at least that" (a stream read no further)."""
    if size > MAX_SPEC_BYTES:
        shown = f"{size:,} bytes, " if size > MAX_SPEC_BYTES + 1 else ""
        raise OptionError(where, option, f"{shown}more than the limit of {_limit(MAX_SPEC_BYTES)} bytes "
                                         f"(MAX_SPEC_BYTES; a network's numbers belong in a [weights] file)")


_SPACE = re.compile(r"[ \t\r]+")
_STRINGS = {
    '"""': re.compile(r'"""(?:[^"\\]|\\[\s\S]|"(?!""))*"""(?:""?)?'),
    "'''": re.compile(r"'''(?:[^']|'(?!''))*'''(?:''?)?"),
    '"': re.compile(r'"(?:[^"\\\n]|\\.)*"?'),
    "'": re.compile(r"'[^'\n]*'?"),
}
_KEY_RUN = re.compile(r"""[^\s"'#\[\]{}=.,]+""")
_VALUE_RUN = re.compile(r"""[^\s"'#\[\]{},]+""")
_ARRAY_RUN = re.compile(r"""[^"'#\[\]{}]+""")  # numbers, commas, spaces and newlines inside an array
_ARRAY_VALUE = re.compile(r"[^\s,]+")


def _string_at(text: str, pos: int) -> int:
    """The end of the string starting at `pos` (unterminated: the end of its line, or of the text)."""
    for quote, pattern in _STRINGS.items():
        if text.startswith(quote, pos):
            found = pattern.match(text, pos)
            return found.end() if found else len(text)
    return pos + 1


def check_spec_text(text: str) -> None:
    """A pre-scan of the raw TOML, before tomllib sees it: dotted keys of at most MAX_KEY_PARTS parts,
    nesting at most MAX_NESTING deep, at most MAX_TABLES tables and MAX_ARRAY_VALUES array values.

    One pass that knows TOML's strings, comments, keys and brackets, nothing more: whatever it
    lets through, tomllib still reads (and refuses) as before.
    """
    stack: list[str] = []  # open "[" (array) and "{" (inline table)
    key = True  # reading a key: at a line's start, in a table header, after "{" or "," in an inline table
    header = False
    parts = tables = values = 0
    pos, end = 0, len(text)
    while pos < end:
        space = _SPACE.match(text, pos)
        if space:
            pos = space.end()
            continue
        char = text[pos]
        if char == "\n":
            pos += 1
            if not stack:
                key, header, parts = True, False, 0
            continue
        if char == "#":
            newline = text.find("\n", pos)
            pos = end if newline < 0 else newline
            continue
        if char in "\"'":
            pos = _string_at(text, pos)
            if key:
                parts = max(parts, 1)
            elif stack and stack[-1] == "[":
                values += 1
            continue
        if key:
            if char == "[" and not stack and parts == 0 and not header:
                header = True
                tables += 1
                if tables > MAX_TABLES:
                    _too_many_tables()
                pos += 2 if text.startswith("[[", pos) else 1
                continue
            if char == ".":
                parts += 1
                if parts > MAX_KEY_PARTS:
                    line = text.count("\n", 0, pos) + 1
                    raise OptionError("spec", "toml", f"line {line}: a dotted key of more than {MAX_KEY_PARTS} "
                                                      f"parts (MAX_KEY_PARTS)")
                pos += 1
                continue
            if char == "=" or (char == "]" and header):
                key = header = False
                parts = 0
                pos += 1
                continue
            if char == "}" and stack and stack[-1] == "{":  # an empty inline table
                stack.pop()
                key = False
                pos += 1
                continue
            run = _KEY_RUN.match(text, pos)
            pos = run.end() if run else pos + 1
            parts = max(parts, 1)
            continue
        if char in "[{":
            stack.append(char)
            if len(stack) > MAX_NESTING:
                line = text.count("\n", 0, pos) + 1
                raise OptionError("spec", "toml", f"line {line}: arrays and inline tables nested more than "
                                                  f"{MAX_NESTING} deep (MAX_NESTING)")
            if char == "{":
                key, parts = True, 0
                tables += 1
                if tables > MAX_TABLES:
                    _too_many_tables()
            pos += 1
            continue
        if char in "]}":
            if stack:
                stack.pop()
            pos += 1
            continue
        if char == ",":
            if stack and stack[-1] == "{":
                key, parts = True, 0
            pos += 1
            continue
        if stack and stack[-1] == "[":
            run = _ARRAY_RUN.match(text, pos)
            values += sum(1 for _ in _ARRAY_VALUE.finditer(text, pos, run.end()))
            pos = run.end()
        else:
            run = _VALUE_RUN.match(text, pos)
            pos = run.end() if run else pos + 1
        if values > MAX_ARRAY_VALUES:
            raise OptionError("spec", "toml", f"more than {_limit(MAX_ARRAY_VALUES)} values in arrays "
                                              f"(MAX_ARRAY_VALUES; larger tensors: a [weights] file, or symbols)")
    if values > MAX_ARRAY_VALUES:
        raise OptionError("spec", "toml", f"more than {_limit(MAX_ARRAY_VALUES)} values in arrays "
                                          f"(MAX_ARRAY_VALUES; larger tensors: a [weights] file, or symbols)")


def _too_many_tables():
    raise OptionError("spec", "toml", f"more than {_limit(MAX_TABLES)} tables (MAX_TABLES; at most "
                                      f"{_limit(MAX_LAYERS)} layers)")


# ---------------------------------------------------------------- layers and the derivation

def check_layers(count: int) -> None:
    if count > MAX_LAYERS:
        raise OptionError("spec", "layers", f"{count:,} layers, more than the limit of {_limit(MAX_LAYERS)} "
                                            f"(MAX_LAYERS)")


def check_backward_passes(where: str, passes: int) -> int:
    """`passes` when within MAX_BACKWARD_PASSES (check runs torch's backward that often)."""
    if passes > MAX_BACKWARD_PASSES:
        raise OptionError(where, "backward_passes", f"{shown_count(passes)} passes, more than the limit of "
                                                    f"{_limit(MAX_BACKWARD_PASSES)} (MAX_BACKWARD_PASSES)")
    return passes


def check_steps(where: str, steps: int) -> int:
    """`steps` when within MAX_STEPS (every step is a whole derivation)."""
    if steps > MAX_STEPS:
        raise OptionError(where, "steps", f"{shown_count(steps)} steps, more than the limit of "
                                          f"{_limit(MAX_STEPS)} (MAX_STEPS)")
    return steps


def shown_count(n: int) -> str:
    """n with thousands separators, or "over 10^100" (str() of 4,300+ digits raises)."""
    return f"{n:,}" if n < 10**100 else "over 10^100"


def check_channels(where: str, options: dict) -> None:
    """A spec's in_channels and out_channels, read from its options before the layer is built (the
    built layer's own `channels()` are checked again with the derivation)."""
    check_channel_counts(where, {option: options.get(option) for option in ("in_channels", "out_channels")})


def check_channel_counts(where: str, counts: dict) -> None:
    """{option: channel count}, each within MAX_CHANNELS (a layer's `channels()`)."""
    for option, value in counts.items():
        if isinstance(value, int) and not isinstance(value, bool) and value > MAX_CHANNELS:
            raise OptionError(where, option, f"{value:,} channels, more than the limit of {_limit(MAX_CHANNELS)} "
                                             f"(MAX_CHANNELS)")


def check_symbolic_input(shape) -> None:
    """A symbolic input (`[input] shape`): its symbols are made when the spec is read."""
    entries = prod(int(n) for n in shape)
    if entries > MAX_SYMBOLS:
        raise OptionError("input", "shape", f"{entries:,} symbols, more than the limit of {_limit(MAX_SYMBOLS)} "
                                            f"symbolic entries (MAX_SYMBOLS; give values instead)")


def layer_terms(layer, in_shape, out_shape) -> int:
    """Products the forward pass of `layer` writes: output entries times the entries each one reads, as the
    layer declares them (`terms`: Conv2d and Linear a weight row per output, pooling the part of its window
    within the input, an element-wise layer one input per output)."""
    return layer.terms(tuple(in_shape), tuple(out_shape))


def _symbolic(values) -> int:
    """How many entries of `values` (an array, a list, a number or a name) are not numbers."""
    import numpy as np

    if values is None:
        return 0
    flat = np.asarray(values, dtype=object).reshape(-1)
    return sum(1 for v in flat if not getattr(v, "is_number", isinstance(v, (int, float))))


def check_derivation(network, x, shapes, loss=None, target=None, input_symbols: int | None = None) -> None:
    """Entries in all, symbolic entries, channels and products of a derivation, from its shapes only.

    `x` is the input (4-D object array; or its shape, with `input_symbols`), `shapes` the layers'
    output shapes (`network.shapes`); the parameters and a symbolic target are not built yet.
    Each refusal names the first tensor that takes the derivation past a limit.
    """
    in_shape = tuple(x) if isinstance(x, tuple) else tuple(x.shape)
    out_shape = tuple(shapes[-1]) if shapes else in_shape
    target_entries = prod(out_shape) if loss is not None else 0
    target_symbols = target_entries if loss is not None and target is None else _symbolic(target)
    symbols = _symbolic(x) if input_symbols is None else input_symbols
    if symbols > MAX_SYMBOLS:
        _too_many_symbols("input", "values", symbols)
    entries = prod(in_shape)
    if entries > MAX_ENTRIES:
        _too_many_entries("input", "values", entries)
    terms = 0
    shape = in_shape
    counted = set()  # a layer object used twice shares its parameters (as torch)
    for i, (layer, out) in enumerate(zip(network, shapes)):
        label = network.label(i)
        if layer.channels:
            check_channel_counts(label, layer.channels())
        for name, parameter_shape in layer.parameter_shapes().items() if id(layer) not in counted else ():
            size = prod(parameter_shape)
            entries += size
            if name not in layer.initial:
                symbols += size
                if symbols > MAX_SYMBOLS:
                    _too_many_symbols(label, name, symbols, f" (no init.{name} given)")
            if entries > MAX_ENTRIES:
                _too_many_entries(label, name, entries)
        counted.add(id(layer))
        entries += prod(out)
        if entries > MAX_ENTRIES:
            _too_many_entries(label, "output", entries)
        terms += layer_terms(layer, shape, out)
        if terms > MAX_TERMS:
            raise OptionError(label, "output", f"the forward pass would write {terms:,} products up to here, more "
                                               f"than the limit of {_limit(MAX_TERMS)} (MAX_TERMS)")
        shape = tuple(out)
    where = loss.where if loss is not None else "loss"
    if symbols + target_symbols > MAX_SYMBOLS:
        _too_many_symbols(where, "target", symbols + target_symbols, "" if target is not None else " (no target given)")
    if entries + target_entries > MAX_ENTRIES:
        _too_many_entries(where, "target", entries + target_entries)


def check_parameters(network) -> None:
    """Every parameter within MAX_TENSOR_ENTRIES, and all of them within MAX_ENTRIES (a [weights]
    table draws or reads numbers for each before the derivation is checked)."""
    total, counted = 0, set()
    for i, layer in enumerate(network):
        if id(layer) in counted:
            continue
        counted.add(id(layer))
        for name, shape in layer.parameter_shapes().items():
            entries = prod(shape)
            if entries > MAX_TENSOR_ENTRIES:
                raise OptionError(network.label(i), name, f"{entries:,} entries is more than symgrad handles in "
                                                          f"one tensor (the limit is {_limit(MAX_TENSOR_ENTRIES)}, "
                                                          f"MAX_TENSOR_ENTRIES)")
            total += entries
            if total > MAX_ENTRIES:
                raise OptionError(network.label(i), name, f"the parameters would hold {total:,} entries up to "
                                                          f"here, more than the limit of {_limit(MAX_ENTRIES)} "
                                                          f"entries in all (MAX_ENTRIES)")


def _too_many_entries(where, option, entries):
    raise OptionError(where, option, f"the derivation would hold {entries:,} entries up to here (input, "
                                     f"parameters, target and layer outputs), more than the limit of "
                                     f"{_limit(MAX_ENTRIES)} (MAX_ENTRIES)")


def _too_many_symbols(where, option, symbols, why=""):
    raise OptionError(where, option, f"{symbols:,} symbolic entries up to here{why}, more than the limit of "
                                     f"{_limit(MAX_SYMBOLS)} (MAX_SYMBOLS; give numbers: init values or [weights])")


def check_diff(network, x, params, shapes, loss) -> None:
    """method="diff": bounded by MAX_DIFF_WORK, from the shapes."""
    entries = prod(x.shape) + sum(int(p.size) for p in params.values())
    terms, shape = 0, tuple(x.shape)
    for layer, out in zip(network, shapes):
        terms += layer_terms(layer, shape, out)
        shape = tuple(out)
    terms += prod(shape) if loss is not None else 0
    work = entries * terms
    if work > MAX_DIFF_WORK:
        raise OptionError("derive", "method", f"diff would differentiate a loss of about {terms:,} products "
                                              f"{entries:,} times ({work:,}), more than the limit of "
                                              f"{_limit(MAX_DIFF_WORK)} (MAX_DIFF_WORK; rules, the default, "
                                              f"gives the same gradients)")


# ---------------------------------------------------------------- written-out expressions

def expansion_depths(named, samples: int = 3) -> list[int]:
    """The nesting depth of each layer's output and delta written out in the inputs, estimated.

    Each name counts as the depth of its own expansion (found from a few entries of its
    tensor), so the estimate costs a walk over a few definitions per tensor, never an
    expansion. A sum inside a sum (a product inside a product) counts as SymPy builds it:
    flattened, one level. Forward layers first, then the deltas from the last layer back.
    """
    known: dict = {}  # name -> (depth of its expansion, its head: Add, Mul or another class)
    layers = []
    for _, array in [*named.activations, *reversed(named.deltas)]:
        names = array.reshape(-1)
        picks = sorted({round(i * (names.size - 1) / max(samples - 1, 1)) for i in range(samples)}) if names.size else []
        found = [_depth(named.definitions[names[i]], known) for i in picks]
        deepest = max(found, default=(0, None), key=lambda pair: pair[0])
        known.update(dict.fromkeys(names, deepest))
        layers.append(deepest[0])
    return layers


def _head(node, known):
    if node.is_Symbol and node in known:
        return known[node][1]
    return node.func if (node.is_Add or node.is_Mul) else type(node)


def _depth(expr, known: dict) -> tuple[int, object]:
    """(levels of `expr`'s tree, its head), a name counting as the depth of its expansion (iterative)."""
    deepest, stack = 0, [(expr, 1, None)]
    while stack:
        node, level, parent = stack.pop()
        name = known.get(node) if node.is_Symbol else None
        if name is not None:
            depth, head = name
            merged = parent is not None and head is parent  # Add in Add, Mul in Mul: flattened
            deepest = max(deepest, level + depth - 1 - merged)
            continue
        deepest = max(deepest, level)
        head = node.func if (node.is_Add or node.is_Mul) else None
        stack.extend((arg, level + 1, head) for arg in node.args)
    return deepest, _head(expr, known)


def check_expansion(network, named, option: str = "expand") -> None:
    """Refuse to write out expressions nested deeper than MAX_DEPTH, naming the first layer that does."""
    depths = expansion_depths(named)
    forward = len(named.activations)
    for i, depth in enumerate(depths):
        if depth > MAX_DEPTH:
            layer = i if i < forward else len(network) - 1 - (i - forward)
            pass_ = "output" if i < forward else "gradient"
            raise OptionError(network.label(layer), option,
                              f"written out, this layer's {pass_} nests {depth:,} levels deep, more than the limit "
                              f"of {MAX_DEPTH} (MAX_DEPTH; keep it in named intermediates: expand = false)")


def too_deep(named) -> bool:
    return max(expansion_depths(named), default=0) > MAX_DEPTH


# ---------------------------------------------------------------- weights files

def check_weights_array(path: str, name: str, shape, itemsize: int) -> None:
    entries = prod(int(n) for n in shape)
    if entries > MAX_TENSOR_ENTRIES:
        raise OptionError("weights", "file", f"{path}: array {name!r}: its header claims shape {list(shape)} "
                                             f"({entries:,} entries, {entries * itemsize:,} bytes), more than the "
                                             f"limit of {_limit(MAX_TENSOR_ENTRIES)} entries per tensor "
                                             f"(MAX_TENSOR_ENTRIES)")


def short_and_exact(expr) -> bool:
    """At most EXACT_NODES nodes, nested at most EXACT_LEVELS deep, and no Float (an expression with a Float in
    it is no longer exact): the one test of whether a number stays exact (named values, values between steps)."""
    count, stack = 0, [(expr, 1)]
    while stack:
        node, level = stack.pop()
        count += 1
        if count > EXACT_NODES or level > EXACT_LEVELS or node.is_Float:
            return False
        stack.extend((arg, level + 1) for arg in node.args)
    return True
