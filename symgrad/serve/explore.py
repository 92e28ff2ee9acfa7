"""What the page's hover shows, as data: for every entry, the entries it is made of.

Read from each op's own index forms (`index_rules`, the evaluable side of its printed rules),
evaluated on marker symbols: one fresh symbol per entry of the layer's input, its parameters and
its delta. A term of dL/dK_{a,b} is then delta_{i,j} * X_{h,w}, and its two markers say which
cells make it, for any op that declares the rule, without a branch on an op's name. The
routes of a pooling layer come from its input rule at the layer's own input numbers (where the
first maximum sends each window's gradient). A layer whose rule cannot run on markers (or is
too large for the page) simply has no links; the rest of the page still works.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..printing.jsonout import nested
from ..printing.shapes import describe

#: A layer is linked when (input + output) entries times its parameter entries stay below this: the
#: markers' sums have that many terms at most, and a seed-sized spec has tens.
MAX_LINK_WORK = 200_000


def tensors_and_links(derivation) -> dict:
    """{"tensors": {key: {label, shape, values}}, "layers": [{... links ...}]} for the page."""
    t = derivation.tensors
    network = derivation.network
    tensors = {"input": _tensor("X", t.input), "grad:input": _tensor(r"\partial L / \partial X", t.input_gradient)}
    layers = []
    owners = network.owners()
    for i, layer in enumerate(network.layers):
        letter = _letter(layer, i)
        out_key, delta_key = f"out:{i}", f"delta:{i}"
        tensors[out_key] = _tensor(letter, t.layers[i].output)
        if t.layers[i].delta is not None:
            tensors[delta_key] = _tensor(r"\delta^{%s}" % letter, t.layers[i].delta)
        params = {}
        for name in layer.parameter_shapes():
            key = f"{owners[i]}.{name}"
            params[name] = key
            if key not in tensors:
                tensors[key] = _tensor(_param_letter(layer, name, key), t.parameters[key].value)
                tensors[f"grad:{key}"] = _tensor(r"\partial L / \partial %s" % tensors[key]["label"],
                                                 t.parameters[key].gradient)
                if t.parameters[key].updated is not None:
                    tensors[f"updated:{key}"] = _tensor(tensors[key]["label"] + r"^{(1)}", t.parameters[key].updated)
        entry = {"index": i, "type": layer.type_name, "label": describe(layer),
                 "input": "input" if i == 0 else f"out:{i - 1}", "output": out_key,
                 "input_grad": "grad:input" if i == 0 else f"delta:{i - 1}",
                 "delta": delta_key if delta_key in tensors else None, "params": params}
        x = t.input if i == 0 else t.layers[i - 1].output
        values = {name: t.parameters[key].value for name, key in params.items()}
        entry.update(_links(layer, x, values, t.layers[i].delta))
        layers.append(entry)
    return {"tensors": tensors, "layers": layers}


def _letter(layer, i: int) -> str:
    letter = layer.output_letter if isinstance(layer.output_letter, str) else "A"
    return "\\" + letter if letter in ("sigma", "delta", "alpha", "beta", "gamma", "mu", "tau", "phi") else letter


def _param_letter(layer, name: str, key: str) -> str:
    letters = layer.parameter_letters if isinstance(layer.parameter_letters, dict) else {}
    letter = letters.get(name, name)
    return letter if key.startswith("0.") else f"{letter}^{{[{key.split('.')[0]}]}}"


def _tensor(label: str, array) -> dict:
    array = np.asarray(array, dtype=object)
    return {"label": label, "shape": list(array.shape), "values": nested(array.reshape(-1)) if array.size else []}


def _markers(prefix: str, shape) -> tuple[np.ndarray, dict]:
    """An object array of fresh symbols and {symbol: flat index}."""
    count = int(np.prod(shape)) if len(shape) else 1
    symbols = [sp.Symbol(f"_{prefix}{k}") for k in range(count)]
    return np.array(symbols, dtype=object).reshape(shape), {s: k for k, s in enumerate(symbols)}


def _links(layer, x, params: dict, delta) -> dict:
    """forward: output entry -> (input entries, parameter entries); grads: parameter -> entry -> [(delta, input)];
    input_links: input entry -> [(delta, parameter entry)]; routes: output entry -> input entries it sends
    its gradient to (at this layer's numbers). Parameter entries are numbered across the layer's parameters
    in `param_order` ([name, size] pairs): bias entries follow the weight's."""
    rules = getattr(layer, "index_rules", None)
    if not isinstance(rules, dict) or delta is None:
        return {}
    x = np.asarray(x, dtype=object)
    delta = np.asarray(delta, dtype=object)
    param_size = sum(int(np.asarray(v).size) for v in params.values())
    if (x.size + delta.size) * max(param_size, 1) > MAX_LINK_WORK:
        return {"links_note": "too large to link entry by entry"}
    xm, xi = _markers("x", x.shape)
    dm, di = _markers("d", delta.shape)
    pm, pi, order = {}, {}, []  # the parameters' entries numbered one after another, in parameter order
    for name, value in params.items():
        pm[name], index = _markers(f"p{name}_", np.asarray(value).shape)
        pi.update({s: k + len(pi) for s, k in index.items()})
        order.append([name, len(index)])
    found: dict = {"param_order": order}
    forward = _attempt(rules.get("forward"), layer, xm, pm)
    if forward is not None:
        found["forward"] = [[_indices(e, xi), _indices(e, pi)] for e in np.asarray(forward, dtype=object).reshape(-1)]
    grads = {}
    for name in params:
        grad = _attempt(rules.get(name), layer, xm, pm, dm)
        if grad is not None:
            grads[name] = [_pairs(e, di, xi) for e in np.asarray(grad, dtype=object).reshape(-1)]
    if grads:
        found["grads"] = grads
    rule = rules.get("input")
    inputs = _attempt(rule, layer, xm, pm, dm)
    if inputs is not None:
        found["input_links"] = [_pairs(e, di, pi) for e in np.asarray(inputs, dtype=object).reshape(-1)]
    if not params:  # a layer without parameters: where each output entry's gradient goes, at its numbers
        routed = _attempt(rule, layer, x, pm, dm)
        if routed is not None:
            routes = [[] for _ in range(delta.size)]
            for k, e in enumerate(np.asarray(routed, dtype=object).reshape(-1)):
                for d in _indices(e, di):
                    routes[d].append(k)
            found["routes"] = routes
    return found


def _attempt(rule, layer, *args):
    """The rule's result, or None when it is missing or cannot run on these arguments (comparisons of
    marker symbols, a rule that needs numbers)."""
    if not callable(rule):
        return None
    try:
        with np.errstate(all="ignore"):
            return rule(layer, *args)
    except Exception:  # noqa: BLE001 - a rule that needs numbers: no links for it, the page stays up
        return None


def _indices(expr, index: dict) -> list[int]:
    if not isinstance(expr, sp.Basic):
        return []
    return sorted(index[s] for s in expr.free_symbols if s in index)


def _pairs(expr, first: dict, second: dict) -> list[list[int]]:
    """The terms of a sum as [first index, second index] (-1 where a term has no second marker)."""
    if not isinstance(expr, sp.Basic):
        return []
    pairs = []
    for term in sp.Add.make_args(sp.expand(expr) if expr.is_Mul else expr):
        a, b = _indices(term, first), _indices(term, second)
        if a:
            pairs.append([a[0], b[0] if b else -1])
    return sorted(pairs)
