"""The helpers every generated module carries (pasted verbatim, so it needs only NumPy).

Kept as a real module so they are read, linted and tested once; `codegen` copies
the code below the docstring into each generated module.
"""

import numpy as np


def _first_argmax(k, *window):
    """1.0 where window[k] receives the gradient of torch's max pooling, else 0.0.

    torch scans the window in row-major order from -inf and moves on when
    `value > best or isnan(value)`: the first maximum wins ties.
    """
    window = np.broadcast_arrays(*[np.asarray(value, dtype=np.float64) for value in window])
    best = np.full(window[0].shape, -np.inf)
    index = np.zeros(window[0].shape, dtype=np.int64)
    for j, value in enumerate(window):
        take = (value > best) | np.isnan(value)
        best = np.where(take, value, best)
        index = np.where(take, j, index)
    return (index == k).astype(np.float64)


def _pack(batch, shape, entries):
    """Row-major entries (arrays of the batch shape, or constants) -> one array of batch + shape."""
    columns = [np.broadcast_to(np.asarray(entry, dtype=np.float64), batch) for entry in entries]
    packed = np.stack(columns, axis=-1).reshape(tuple(batch) + tuple(shape))
    return float(packed) if packed.shape == () else packed


def _check_arguments(expected, given):
    """Float64 arrays by name, and the batch shape all leading (batch) axes broadcast to."""
    missing = [name for name in expected if name not in given]
    unknown = [name for name in given if name not in expected]
    if missing or unknown:
        raise TypeError(f"expected arrays named {', '.join(expected) or '(none)'}; missing: "
                        f"{', '.join(missing) or 'none'}; unknown: {', '.join(unknown) or 'none'}")
    arrays, batches = {}, []
    for name, shape in expected.items():
        value = np.asarray(given[name], dtype=np.float64)
        cut = value.ndim - len(shape)
        if cut < 0 or value.shape[cut:] != tuple(shape):
            raise ValueError(f"{name}: expected shape {tuple(shape)} or (batch, *{tuple(shape)}), "
                             f"got {value.shape}")
        arrays[name] = value
        batches.append(value.shape[:cut])
    try:
        batch = np.broadcast_shapes(*batches)
    except ValueError:
        shown = ", ".join(f"{name} {axes}" for name, axes in zip(expected, batches))
        raise ValueError(f"the leading (batch) axes do not broadcast: {shown}") from None
    return arrays, batch


def _batched(batch, shape, value):
    """`value` broadcast to batch + shape (shared results repeated); a float for one loss."""
    value = np.asarray(value, dtype=np.float64)
    packed = np.array(np.broadcast_to(value, tuple(batch) + tuple(shape)))
    return float(packed) if packed.shape == () else packed


def _assemble(arrays, batch, constant, picks):
    """A tensor that mixes numbers and symbols: the constant, each symbol's entries read from its
    argument; picks = {argument: (number of problem axes, flat positions to, flat positions at)}."""
    entries = np.array(np.broadcast_to(constant.reshape(-1), tuple(batch) + (constant.size,)))
    for name, (ndim, to, at) in picks.items():
        source = arrays[name]
        entries[..., to] = source.reshape(source.shape[:source.ndim - ndim] + (-1,))[..., at]
    return entries.reshape(tuple(batch) + constant.shape)


def _float64_array(shape, chunks):
    """A large constant, stored in the module as base64 of little-endian float64 bytes."""
    import base64

    return np.frombuffer(base64.b64decode("".join(chunks)), dtype="<f8").reshape(shape).copy()
