"""Numbers for a whole network's parameters: seeded random ones, or a .npz file.

A network like LeNet has 61,706 parameters: nobody writes them into a spec. The
spec's `[weights]` table either draws them (`seed = 0`) from the distribution of
torch's default initialisation, as each layer declares it (`initial_values`; for
Conv2d and Linear U(-1/sqrt(fan_in), 1/sqrt(fan_in)), kaiming_uniform with a = sqrt(5)),
with NumPy's generator, so the numbers are reproducible without torch (they are not
the numbers torch.manual_seed would give); or reads them from `file = "weights.npz"`,
keyed by torch's parameter names ("0.weight", ...), as `np.savez(f, **{k: v.detach().numpy()
for k, v in model.state_dict().items()})` writes them; buffers (running statistics) may
be in it too, by their state_dict names ("1.running_mean"), else they keep the layer's
defaults. Files are read with allow_pickle=False: no code in a weights file ever runs.
Parameters a layer gives with `init` keep those values.
"""

from __future__ import annotations

import os
import zipfile

import numpy as np

from ..core import limits
from ..core.errors import OptionError
from ..ops import options as opt

WHERE = "weights"


def apply(network, table, base_dir: str | None = None) -> None:
    """Give every parameter without `init` values the numbers `table` asks for (in place)."""
    if not isinstance(table, dict):
        raise OptionError(WHERE, "table", f"expected a table, got {type(table).__name__}")
    for key in table:
        if key not in ("seed", "file"):
            raise OptionError(WHERE, key, "unknown option (allowed: seed, file)")
    if ("seed" in table) == ("file" in table):
        raise OptionError(WHERE, "seed", "give exactly one of seed (random numbers) or file (a .npz)")
    limits.check_parameters(network)  # before any number is drawn or read
    wanted = _wanted(network)
    if "seed" in table:
        values = seeded(network, opt.integer(WHERE, "seed", table["seed"], 0), wanted)
    else:
        path = table["file"]
        if not isinstance(path, str) or not path:
            raise OptionError(WHERE, "file", "expected a file name, e.g. \"weights.npz\"")
        values = from_file(os.path.join(base_dir or ".", path), wanted, _buffers(network))
    for name, array in values.items():
        index, attr = name.split(".")
        network.layers[int(index)].init(**{attr: array})


def _wanted(network) -> dict[str, tuple[int, ...]]:
    """{parameter name: shape} of the parameters that have no `init` values."""
    return {f"{i}.{name}": tuple(shape) for i, layer in enumerate(network)
            for name, shape in layer.parameter_shapes().items() if name not in layer.initial}


def _buffers(network) -> dict[str, tuple[int, ...]]:
    """{buffer name: shape} of the buffers without `init` values: a file may give them (state_dict names)."""
    return {f"{i}.{name}": tuple(shape) for i, layer in enumerate(network) if layer.buffers
            for name, shape in layer.buffer_shapes().items() if name not in layer.given_buffers}


def seeded(network, seed: int, wanted=None) -> dict[str, np.ndarray]:
    """Float64 arrays from each layer's default-init distribution (its `initial_values`), drawn layer by layer."""
    wanted = _wanted(network) if wanted is None else wanted
    rng = np.random.default_rng(seed)
    values = {}
    for i, layer in enumerate(network):
        if not layer.initial_values:
            continue
        for name, drawn in layer.initial_values(rng).items():  # drawn even when init overrides it: stable numbers
            if f"{i}.{name}" in wanted:
                values[f"{i}.{name}"] = drawn
    return values


def from_file(path: str, wanted, buffers=None) -> dict[str, np.ndarray]:
    """The arrays of a .npz file, checked against the parameters' names and shapes; `buffers` ({name: shape})
    may be in it too (running statistics, as torch's state_dict holds them), or take the layer's defaults.

    Every member's header is read first (limits.py: the file's size, the number of arrays,
    each array's claimed size, name, dtype and shape), so a file that claims gigabytes is
    refused, naming the array, before any data is read.
    """
    try:
        known = {**wanted, **(buffers or {})}
        _check_headers(path, wanted, known)
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise OptionError(WHERE, "file", f"{path} holds a single array, not a .npz keyed by parameter names")
        with archive:
            arrays = {key: archive[key] for key in archive.files}
    except FileNotFoundError:
        raise OptionError(WHERE, "file", f"cannot read {path}: no such file") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise OptionError(WHERE, "file", f"cannot read {path} as a .npz of arrays: {message}") from None
    missing = [name for name in wanted if name not in arrays]
    if missing:
        raise OptionError(WHERE, "file", f"no array for parameter {missing[0]!r}")
    for name, array in arrays.items():
        if array.dtype.kind not in "iuf":
            raise OptionError(WHERE, "file", f"{name}: expected real numbers, got dtype {array.dtype}")
        if tuple(array.shape) != known[name]:
            raise OptionError(WHERE, "file", f"{name}: expected shape {list(known[name])}, got {list(array.shape)}")
        if not np.all(np.isfinite(array)):
            raise OptionError(WHERE, "file", f"{name}: values must be finite")
    counts = {name for name in buffers or {} if name in arrays and arrays[name].dtype.kind in "iu"}
    return {name: arrays[name].astype(np.int64) if name in counts else _as_float64(name, arrays[name])
            for name in known if name in arrays}  # a buffer stored as integers (num_batches_tracked) stays one


def _as_float64(name: str, array: np.ndarray) -> np.ndarray:
    """The array in float64, refusing what a float64 cannot hold (a long double beyond its range,
    or so small it would read as 0), as the spec reader refuses 1e400 and 1e-400."""
    with np.errstate(over="ignore", under="ignore"):
        converted = array.astype(np.float64)
    if not np.all(np.isfinite(converted)):
        raise OptionError(WHERE, "file", f"{name}: values beyond float64's range")
    if np.any((converted == 0) & (array != 0)):
        raise OptionError(WHERE, "file", f"{name}: values too small for a float64 (they would read as 0)")
    return converted


def _check_headers(path: str, wanted, known) -> None:
    """The file's size, its member count and every member's .npy header, before any array is read."""
    size = os.stat(path).st_size  # FileNotFoundError: the caller's message
    if size > limits.MAX_WEIGHTS_FILE_BYTES:
        raise OptionError(WHERE, "file", f"{path}: {size:,} bytes, more than the limit of "
                                         f"{limits.MAX_WEIGHTS_FILE_BYTES:,} (MAX_WEIGHTS_FILE_BYTES)")
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as handle:
            if handle.read(6) == b"\x93NUMPY":
                raise OptionError(WHERE, "file", f"{path} holds a single array, not a .npz keyed by parameter names")
        return  # not a zip: np.load says what it is
    with open(path, "rb") as handle:
        end = zipfile._EndRecData(handle) if hasattr(zipfile, "_EndRecData") else None
    count = end[zipfile._ECD_ENTRIES_TOTAL] if end else 0
    if count > limits.MAX_WEIGHTS_ARRAYS:
        raise OptionError(WHERE, "file", f"{path}: {count:,} arrays, more than the limit of "
                                         f"{limits.MAX_WEIGHTS_ARRAYS:,} (MAX_WEIGHTS_ARRAYS)")
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            if name not in known:
                raise OptionError(WHERE, "file", f"unknown parameter {name!r} (the network's parameters without "
                                                 f"init: {', '.join(wanted) or 'none'})")
            with archive.open(info) as member:
                shape, dtype = _header(member)
            limits.check_weights_array(path, name, shape, dtype.itemsize)
            if dtype.kind not in "iuf" and not dtype.hasobject:  # objects: np.load refuses them, unpickled
                raise OptionError(WHERE, "file", f"{name}: expected real numbers, got dtype {dtype}")
            if tuple(shape) != known[name]:
                raise OptionError(WHERE, "file", f"{name}: expected shape {list(known[name])}, got {list(shape)}")


def _header(member) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) from a .npy header (format 1.0, 2.0 or 3.0), without reading the data."""
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(member)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(member)
    else:
        raise ValueError(f"unsupported .npy format version {version[0]}.{version[1]}")
    return tuple(shape), dtype
