"""The derivation as a teacher writes it on the board, step by step: what its page says.

`build(d)` lays a finished Derivation out as format-free blocks (blocks.py): the setup,
the layer table, the forward pass (formulas in the entries, then numbers), the loss,
the backward recursion layer by layer (each op's general index form, the instance
with this spec's numbers, the entries in named intermediates, the values) and the
optimizer step. It only reads: numbers come from `d.tensors` and `d.deltas`, named
forms from `d.named`, general formulas from each op's `index_form` declaration.
Rendering the blocks is latex.py's and markdown.py's; steps.py joins the two.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..core import tensor
from ..core.progress import each
from .shapes import describe
from .shapes import table as shape_table
from .blocks import Grid, Heading, Math, Para, Table
from .common import squeeze
from . import summary
from .factored import Factored
from .fold import fold
from .measure import Occurrences
from .factored import front as factored_front
from .texnames import SMALL, index_text, matrix, name_latex, parameter_symbol, tex, width
from .words import formula, words
from .worked import Arithmetic

#: Element-level forward formulas are written out only when each entry reads at a glance.
MAX_FORMULA_INPUTS = 64
#: Worked lines (the arithmetic with the numbers in) are written for tensors of at most this many entries.
MAX_WORKED = 9
#: The chain rule of a deeper network is written with its middle factors elided.
MAX_FACTORS = 6
#: An entry that sums more terms than this is not written out (its index form is).
MAX_TERMS = 40
#: A matrix whose widest row shows more characters than this is written by its first entry.
MAX_WIDTH = 110
#: A displayed line of about this many characters (texnames.width) fills the text width (11pt, 2 cm margins:
#: 88 runs 15 pt over); wider lines are folded into rows (fold.py).
LINE_WIDTH = 84
#: How much narrower a closed form may print with its common factors written in front (their parentheses).
FACTOR_SLACK = 12
#: A matrix (which cannot be folded) wider than this is written otherwise (its first entry, rounded, in brief).
MATRIX_WIDTH = 88


def build(d, lang: str = "en", title: str | None = None, wrt=None, shown_rules: set | None = None,
          compact: bool = False) -> list:
    """Every block of the derivation, in reading order; `wrt` keeps only those gradients.

    `shown_rules` is shared by the pages of one document (a handout): each general rule,
    (op type, index-form key), is printed once in it; a later use refers back to it.
    Printed rules are added to the set. Without it, each rule is printed once on this page.
    `compact` (a handout's worked solutions, about a page each): no back-reference to a rule
    already printed, no "with this layer's numbers" instance where worked lines follow (they
    show it entry by entry), no one-number "Values" line repeating the worked line's result.
    """
    w = words(lang)
    page = _Page(d, w, list(d.gradients) if wrt is None else list(wrt), set() if shown_rules is None else shown_rules)
    page.compact = compact
    blocks = [Heading(title, 1)] if title else []
    for part in each((page.setup, page.layers, page.forward, page.buffers, page.backward, page.step), "print document"):
        blocks += part()
    if compact:
        blocks = _compact(blocks, w)
    # a line wider than the text is folded into aligned rows (fold.py): never shrunk, never past the margin
    return [Math(fold(b.latex, LINE_WIDTH)) if isinstance(b, Math) else b for b in blocks]


class _Page:
    """One derivation being laid out: the derivation, the words, and what to show."""

    def __init__(self, d, w, wrt, shown_rules: set):
        self.d, self.w, self.wrt = d, w, wrt
        self.shown_rules = shown_rules  # (op type, key) of the general rules already printed in the document
        self.compact = False  # a handout's worked solution: see build
        self.t = d.tensors
        self.network = d.network
        self.names = [name for name, _ in d.named.activations] if d.named else \
            [layer.output_letter for layer in d.network]
        self.arithmetic = Arithmetic()  # the numbers behind the names, for worked lines
        self.factored = Factored(d.named) if d.named else None  # closed forms in the forward names
        self.legend_shown = False  # the letters of the max windows (m = argmax ...), said once
        self.closed_deltas: set = set()  # the delta names whose closed forms (in the forward names) are printed
        self.occurrences = Occurrences()  # a lower bound on an entry's width (measure.py): too wide, not built
        if d.named:
            for (_, names), (_, value) in zip(d.named.activations, d.forward):
                self.arithmetic.remember(names, value)
            for (_, names), (_, value) in zip(d.named.deltas, d.deltas):
                self.arithmetic.remember(names, value)

    # ------------------------------------------------------------------ helpers

    def equation(self, left: str, *rights) -> list:
        """left = right_1 = right_2 ..., skipping rights that are None or repeat the previous one."""
        shown, last = [], None
        for right in rights:
            if right is not None and right != last:
                shown.append(right)
                last = right
        return [Math(" = ".join([left, *shown]))] if shown else []

    def tensor(self, left: str, array, label: str | None = None, size_note: str = "too_big") -> list:
        """`left = bmatrix` after an optional label paragraph; a note instead when it would not read well.

        Too many entries: the shape and a pointer to the index form. Entries too long for a
        line: the first entry alone. Longer still: a note that the named form above is exact.
        """
        head = [Para(label)] if label else []
        numbers = tensor.is_numeric(array)
        if np.size(array) > SMALL:  # numbers in brief, as torch prints a big tensor; symbols by their shape
            note = f"${left}$" + self.w["before_note"] + self.too_big(array, size_note)
            return head + [self.brief(left, array)] if numbers else [Para(note)]
        terms = max((len(sp.Add.make_args(v)) for v in np.asarray(array, dtype=object).reshape(-1)), default=0)
        if terms > MAX_TERMS and not numbers:  # e.g. a bias gradient summing 900 deltas: the index form says it
            return [Para(f"${left}$" + self.w["before_note"] + self.w["many_terms"].format(terms=terms))]
        shown = matrix(array) if self.occurrences.widest(array) <= MATRIX_WIDTH else None  # else certainly wider
        if shown is not None and width(shown) <= MATRIX_WIDTH:
            return head + [Math(f"{left} = {shown}")]
        if numbers:  # exact but long (log(e^{-0.07} + ...), 16-digit decimals): rounded, as torch prints them
            rounded = f"{left} \\approx {summary.approx_matrix(array)}"
            return head + [Math(rounded) if width(rounded) <= MATRIX_WIDTH else self.brief(left, array)]
        array = squeeze(np.asarray(array, dtype=object))
        flat = array.reshape(-1)
        if flat.size and all(isinstance(v, sp.Symbol) for v in flat):  # b_1 ... b_6: no "b_1 = b_1"
            return head + [Para(self.w["symbols"].format(left=left, first=tex(flat[0]), last=tex(flat[-1]),
                                                         shape=self.w["times"].join(map(str, array.shape))))]
        first = "" if not array.size else tex(flat[0]) if self.occurrences(flat[0]) <= 2 * MAX_WIDTH else None
        if first is None or width(first) > 2 * MAX_WIDTH:
            return head + [Para(self.w["too_long"])]
        index = index_text(1 for _ in array.shape)
        entry = r"\left(%s\right)_{%s}" % (left, index) if "frac" in left else f"{left}_{{{index}}}"
        return head + [Para(self.w["first_entry"]), Math(f"{entry} = {first}")]

    def brief(self, left: str, array) -> Para:
        """A numeric tensor in brief (summary.py): its shape, first entries, norm, min and max."""
        array = np.asarray(array, dtype=object)
        shape = self.w["times"].join(map(str, array.shape))  # 1 x 1 x 3 x 3; 1×1×3×3 in Chinese
        return Para(self.w["summary"].format(left=left, count=array.size, shape=shape, **summary.brief(array)))

    def worked(self, lefts, exprs, results) -> list:
        """Each entry as formula = the formula with the engine's numbers in = result (see worked.py)."""
        lines = self.arithmetic.lines(lefts, exprs, results, MAX_WORKED, MAX_WIDTH)
        if not lines:
            return []
        aligned = [line.replace(" = ", " &= ", 1) for line in lines]  # the lines line up at their first "="
        return [Para(self.w["worked"]), Math(r"\begin{aligned}" + r" \\ ".join(aligned) + r"\end{aligned}")]

    def too_big(self, array, key: str = "too_big") -> str:
        array = np.asarray(array, dtype=object)
        return self.w[key].format(count=array.size, shape=self.w["times"].join(str(n) for n in array.shape))

    def param(self, name: str) -> str:
        return parameter_symbol(name, self.network)

    def layer_input(self, i: int) -> np.ndarray:
        """What layer i reads: the input, or the output of the layer before."""
        return self.t.input if i == 0 else self.t.layers[i - 1].output

    def delta_values(self, i: int) -> np.ndarray | None:
        """dL/d(output of layer i), the engine's values; None when too many to print (not converted)."""
        if self.t.layers[i].output.size > SMALL:
            return None
        value = self.d.deltas[i][1]
        return np.array(value.tolist() if hasattr(value, "tolist") else value, dtype=object).reshape(
            np.shape(self.t.layers[i].output))

    def rule(self, op, key: str, in_shape=None) -> list:
        """The op's general index form (once per document) and, when it declares one, the instance
        with this layer's numbers."""
        shown = op.index_instance(key, in_shape)
        seen = (op.type_name, key)
        if seen in self.shown_rules and self.compact:  # printed before: no back-reference, the instance alone
            return [Para(self.w["instance"]), Math(shown)] if shown else []
        if seen in self.shown_rules:  # printed before: one line back to it, then this layer's numbers
            part = self.part(op, key)
            if shown:
                return [Para(self.w["rule_again_instance"].format(type=op.type_name, part=part)), Math(shown)]
            return [Para(self.w["rule_again"].format(type=op.type_name, part=part))]
        self.shown_rules.add(seen)
        lead = ("lead-in", op.rule_words)  # what s, p, d mean is said once; later rules have a short lead-in
        blocks = [Para(self.w["general_short"] if lead in self.shown_rules else self.w[op.rule_words]),
                  Math(op.index_form[key])]
        self.shown_rules.add(lead)
        note = op.words[self.w["lang"]].get(f"note:{key}")
        if note:
            blocks.append(Para(note))
        if shown:
            blocks += [Para(self.w["instance"]), Math(shown)]
        return blocks

    def part(self, op, key: str) -> str:
        """Which rule of an op a back-reference means: its forward pass, its delta, a parameter's gradient."""
        if key in ("forward", "input"):
            return self.w[f"rule_{key}"]
        return self.w["rule_param"].format(symbol=op.parameter_letters.get(key, key))

    # ------------------------------------------------------------------ sections

    def setup(self) -> list:
        w = self.w
        blocks = [Heading(w["setup"]), Para(w["setup_intro"])]
        blocks += self.tensor("X", self.t.input, size_note="shape_only")
        for name, parameter in self.t.parameters.items():
            blocks += self.tensor(self.param(name), parameter.value, size_note="shape_only")
        if self.t.target is not None:
            blocks += self.tensor("y", self.t.target, size_note="shape_only")
        return blocks

    def layers(self) -> list:
        w = self.w
        rows = shape_table(self.network, self.t.input.shape)
        header = (w["col_index"], w["col_layer"], w["col_shape"], w["col_params"], w["col_formula"])
        cells = tuple((str(r.index), f"`{r.layer}`", str(tuple(r.output_shape)), str(r.parameters),
                       f"`{formula(r.formula, w['lang'])}`")
                      for r in rows)
        cells = (("", w["table_input"], str(tuple(self.t.input.shape)), "", ""),) + cells
        return [Heading(w["layers"]), Para(w["layers_intro"]), Table(header, cells)]

    def forward(self) -> list:
        d, w = self.d, self.w
        blocks = [Heading(w["forward"])]
        for i, layer in enumerate(self.network):
            x = self.layer_input(i)
            blocks.append(Heading(w["layer"].format(index=i, layer=describe(layer)), 3))
            blocks += self.rule(layer, "forward", x.shape)
            out = self.t.layers[i].output
            letter = name_latex(self.names[i])
            formulas = self.formulas(i, layer, x.shape, out.size)
            if formulas is None:
                blocks += self.tensor(letter, out)
                continue
            named = d.named.activations[i][1] if d.named else None
            worked = self.worked(named, formulas, out) if named is not None else []
            blocks += worked or self.tensor(letter, formulas, w["entries"])  # worked lines show the formulas too
            if tensor.is_numeric(out) and not _same(formulas, out):
                blocks += self.tensor(letter, out, w["numbers"])
        if d.loss_fn is not None:
            blocks += [Heading(w["loss_heading"].format(loss=describe(d.loss_fn)), 3)]
            blocks += self.rule(d.loss_fn, "forward", self.t.output.shape)
            blocks += self.loss_value()
        return blocks

    def buffers(self) -> list:
        """The buffers after the forward passes, when these moved them (training mode); else nothing."""
        if not self.t.buffers_change():
            return []
        w, passes = self.w, self.d.backward_passes
        shown = w["one_pass"] if passes == 1 else w["passes"].format(count=passes)
        blocks = [Heading(w["buffers"]), Para(w["buffers_intro"].format(passes=shown))]
        for name, buffer in self.t.buffers.items():
            if not _same(buffer.value, buffer.updated):
                blocks += self.tensor(r"\text{%s}" % name.replace("_", r"\_"), buffer.updated)
        return blocks

    def loss_value(self) -> list:
        """L = its formula in the last layer's names = the numbers written in = its value (what fits)."""
        d = self.d
        worked = self.arithmetic.lines(sp.Symbol("L"), d.named.loss, d.loss, 1, MAX_WIDTH) if d.named else []
        loss = sp.sympify(d.loss)
        # an exact value that is no plain number (log(e^{-0.07} + ...)) gets its decimal too, as torch prints it
        rounded = r"L \approx " + summary.approx(float(loss)) if loss.is_number and not loss.is_Rational \
            and not loss.is_Float else None
        if worked:
            return [Math(worked[0])] + ([Math(rounded)] if rounded else [])
        named = d.named.loss if d.named and len(sp.Add.make_args(d.named.loss)) <= MAX_TERMS else None
        shown = self.equation("L", None if named is None else tex(named), self.closed(d.loss))
        return shown + ([Math(rounded)] if rounded else [])

    def formulas(self, i, layer, in_shape, out_size):
        """The layer's output entries as formulas of its (named) input and symbolic parameters, if small."""
        if out_size > SMALL or int(np.prod(in_shape)) > MAX_FORMULA_INPUTS:
            return None
        if i == 0:
            x = self.t.input if not tensor.is_numeric(self.t.input) else tensor.image_symbols("x", in_shape)
        elif self.d.named:
            x = self.d.named.activations[i - 1][1]
        else:
            x = tensor.image_symbols(self.names[i - 1], in_shape)
        params = {}
        owners = self.network.owners()  # a layer used twice shows the parameters of its first place
        several = sum(1 for j, other in enumerate(self.network) if other.parameter_shapes() and owners[j] == j) > 1
        for name, shape in layer.parameter_shapes().items():
            given = self.t.parameters[f"{owners[i]}.{name}"].value
            # the symbols a spec without values would get (as Sequential.parameters names them): k_11, w7_1,2
            base = layer.symbol_bases[name] + (str(owners[i]) if several else "")
            keep = (shape[0] > 1, shape[1] > 1, True, True) if len(shape) == 4 else None
            params[name] = given if not tensor.is_numeric(given) else tensor.symbols(base, shape, keep)
            self.arithmetic.remember(params[name], given)
        if i == 0:
            self.arithmetic.remember(x, self.t.input)
        return layer.forward(x, params)  # the forward expressions only: no derivative is taken here

    def closed(self, value) -> str | None:
        if len(sp.Add.make_args(value)) > MAX_TERMS or self.occurrences(value) > MAX_WIDTH:
            return None  # more terms than a line holds, or certainly wider (measure.py): not built to be dropped
        shown = tex(value)
        return shown if width(shown) <= MAX_WIDTH else None

    def backward(self) -> list:
        d, w = self.d, self.w
        blocks = [Heading(w["backward"]), Para(w["chain_intro"]), Math(self.chain())]
        last = len(self.network) - 1
        if d.loss_fn is not None:
            blocks += [Heading(w["loss_heading"].format(loss=describe(d.loss_fn)), 3), Para(w["delta_loss"])]
            blocks += self.rule(d.loss_fn, "input", self.t.output.shape)
            blocks += self.delta(last)
        for i in reversed(range(len(self.network))):
            layer = self.network.layers[i]
            blocks.append(Heading(w["layer"].format(index=i, layer=describe(layer)), 3))
            x = self.layer_input(i)
            for name in layer.parameter_shapes():
                if f"{i}.{name}" in self.wrt:
                    blocks += self.gradient(i, layer, name, x.shape)
                    blocks += self.picture(i, layer, x) if name == "weight" else []  # the taps of dL/dK_11
            if i > 0 or "input" in self.wrt:
                blocks += [Para(w["delta_layer"].format(index=i, type=layer.type_name))]
                blocks += self.rule(layer, "input", x.shape)
                blocks += self.delta(i - 1) if i > 0 else self.input_gradient()
            if "weight" not in layer.parameter_shapes():
                blocks += self.picture(i, layer, x)  # e.g. the routing of max pooling
        return blocks

    def chain(self) -> str:
        """dL/dtheta as a product of one factor per layer, for the first parameter (or the input)."""
        target = next((n for n in self.wrt if n != "input"), "input")
        first = int(target.split(".")[0]) if target != "input" else -1
        letters = [name_latex(n) for n in self.names]
        top = self.param(target)
        factors = [r"\frac{\partial L}{\partial %s}" % letters[-1]]
        start = max(first, 0)
        for j in range(len(letters) - 1, start, -1):
            factors.append(r"\frac{\partial %s}{\partial %s}" % (letters[j], letters[j - 1]))
        factors.append(r"\frac{\partial %s}{\partial %s}" % (letters[start], top))
        if len(factors) > MAX_FACTORS:  # a deep network: the ends of the chain, the middle elided
            factors = factors[:2] + [r"\cdots"] + factors[-2:]
        return r"\frac{\partial L}{\partial %s} = %s" % (top, r"\,".join(factors))

    def delta(self, i: int) -> list:
        """delta at layer i's output: entries in names (the op's rule applied) and the engine's values."""
        d = self.d
        if not d.deltas:
            return []  # method="diff" differentiates the whole loss: there are no per-layer deltas
        letter = r"\delta^{%s}" % name_latex(self.names[i])
        values = self.delta_values(i)
        if values is None:
            value = self.d.deltas[i][1]  # the engine's numbers, in brief; symbols by their shape
            value = np.array(value.tolist() if hasattr(value, "tolist") else value, dtype=object)
            if tensor.is_numeric(value):
                return [self.brief(letter, value.reshape(np.shape(self.t.layers[i].output)))]
            return [Para(f"${letter}$" + self.w["before_note"] + self.too_big(self.t.layers[i].output))]
        blocks = []
        if d.named:
            named = dict(d.named.deltas)[self.names[i]]
            definitions = tensor.apply(lambda s: d.named.definitions[s], named)
            copies = all(isinstance(v, sp.Symbol) for v in definitions.reshape(-1))
            if self.compact and copies and tensor.is_numeric(values) and self.fits(definitions):
                return [Math(f"{letter} = {matrix(definitions)} = {matrix(values)}")]  # delta passed on as is (Sum)
            if not _same(definitions, values):
                worked = self.worked(named, definitions, values)
                blocks += worked or self.tensor(letter, definitions, self.w["names_form"])
        label = self.w["values"] if tensor.is_numeric(values) else \
            self.w["closed_form"] if d.expanded else self.w["names_form"]
        if d.named and d.expanded and not tensor.is_numeric(values) and not self.fits(values):
            named = dict(d.named.deltas)[self.names[i]]
            definitions = tensor.apply(lambda s: d.named.definitions[s], named)
            if blocks and not any(self.factored.has_deltas(v) for v in definitions.reshape(-1)):
                return blocks  # already in the forward names (2 (S_11 - 60)): that is its closed form
            shown = self.in_forward_names(letter, named, definitions)
            if shown:
                return blocks + shown
        return blocks + self.tensor(letter, values, label)

    def gradient(self, i, layer, name, in_shape) -> list:
        full = f"{i}.{name}"
        symbol = self.param(full)
        blocks = [Para(self.w["param_grad"].format(name=f"${symbol}$ (`{full}`)"))]
        blocks += self.rule(layer, name, in_shape)
        return blocks + self.result(full, symbol)

    def input_gradient(self) -> list:
        return [Para(self.w["input_grad"])] + self.result("input", "X")

    def result(self, full: str, symbol: str) -> list:
        """dL/dtheta: in names (small tensors), then its values or closed form."""
        d, w = self.d, self.w
        left = r"\frac{\partial L}{\partial %s}" % symbol
        values = self.t.gradient(full)
        if values.size > SMALL:
            if tensor.is_numeric(values):
                return [self.brief(left, values)]
            key = "too_big" if d.expanded else "too_big_sampled"  # kept in names: numbers come in brief at the end
            return [Para(f"${left}$" + self.w["before_note"] + self.too_big(values, key))]
        blocks = []
        entries = squeeze(np.asarray(values, dtype=object))
        entry = r"\partial L / \partial %s_{%s}" if self.compact else r"\frac{\partial L}{\partial %s_{%s}}"  # a line high
        lefts = [sp.Symbol(entry % (symbol, index_text(k + 1 for k in idx))) for idx in np.ndindex(*entries.shape)]
        if d.named and full in d.named.gradients and not _same(d.named.gradients[full], values):
            worked = self.worked(lefts, squeeze(d.named.gradients[full]), entries)
            blocks += worked or self.tensor(left, d.named.gradients[full], w["names_form"])
        if blocks and not d.expanded and not tensor.is_numeric(values):
            return blocks  # kept in names (a large network): the names above are the result
        label = w["values"] if tensor.is_numeric(values) else w["closed_form"] if d.expanded else w["names_form"]
        if d.named and d.expanded and full in d.named.gradients and not tensor.is_numeric(values) \
                and not self.fits(values):
            named = squeeze(d.named.gradients[full])
            shown = self.in_forward_names(left, lefts, named)
            if shown:
                return blocks + shown
            used = {s for v in named.reshape(-1) for s in sp.sympify(v).free_symbols if self.factored.has_deltas(s)}
            if blocks and used and used <= self.closed_deltas:  # the named form above, with closed forms printed above
                return blocks + [Para(w["composed"])]
        closed = self.tensor(left, values, label)
        if blocks and closed[:1] == blocks[-1:]:  # both too long: one note says it (10x10 avg printed it twice)
            closed = closed[1:]
        return blocks + closed

    def fits(self, array) -> bool:
        """Whether `array` prints whole as one matrix (what `tensor` would show without a note)."""
        if np.size(array) > SMALL:
            return False
        terms = max((len(sp.Add.make_args(v)) for v in np.asarray(array, dtype=object).reshape(-1)), default=0)
        return terms <= MAX_TERMS and self.occurrences.widest(array) <= MATRIX_WIDTH \
            and width(matrix(array)) <= MATRIX_WIDTH

    def _first_too_long(self, left, named) -> bool:
        """Whether the first entry's closed form alone rules out both layouts below, so the others need not be
        factored (dL/dK at 6x6 avg: 9 factor_terms for nothing). Its rows: over 2 fails the one-line-per-entry
        layout; wider than a line by more than the parentheses its common factors may cost fails the one-matrix
        layout, whose first row holds those factors and its rest. Never where writing the deltas in may route
        through a max-pooling window: that names letters that later entries and legends depend on."""
        first = sp.sympify(np.asarray(named, dtype=object).reshape(-1)[0])
        if self.factored.may_route(named):
            return False
        entry = self.factored.entry(first)
        if entry == 0:
            return False
        return len(_broken(left, entry)) > 2 and width(tex(entry)) > LINE_WIDTH + FACTOR_SLACK

    def in_forward_names(self, left: str, lefts, named) -> list:
        """The closed form of a named tensor in the forward pass's names (factored.py): its deltas written
        in, as one matrix or one line per entry; [] when that is not shorter (no deltas, or too wide)."""
        if not any(self.factored.has_deltas(v) for v in np.asarray(named, dtype=object).reshape(-1)):
            return []
        if self._first_too_long(np.asarray(lefts).reshape(-1)[0], named):
            return []
        entries = self.factored.entries(named)
        factors, rest = self.factored.common(entries)
        shown = matrix(rest) if self.occurrences.widest(rest) <= LINE_WIDTH else None  # else certainly wider
        front = factored_front(factors) + r"\," if factors else ""
        if shown is not None and _spaced_width(f"{left} = {front}{shown}") <= LINE_WIDTH:
            lines = [Math(f"{left} = {front}{shown}")]
        else:
            broken = [_broken(l, e) for l, e in zip(np.asarray(lefts).reshape(-1), entries.reshape(-1))]
            rows = [row for entry in broken for row in entry]
            if max(map(len, broken)) > 2 or any(width(row) > MAX_WIDTH for row in rows):
                return []  # longer than the named form and the closed forms it uses: those say it
            lines = [Math(r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}")]
        self.closed_deltas |= {v for v in np.asarray(lefts).reshape(-1) if isinstance(v, sp.Symbol)}
        blocks = [Para(self.w["forward_names"])] + lines
        legend = self.factored.legend()
        if legend and not self.legend_shown:
            self.legend_shown = True
            lead = self.w["argmax_legend" if len(legend) == 1 else "argmax_legend_many"]
            aligned = r"\begin{aligned}%s\end{aligned}" % r" \\ ".join(line.replace(" = ", " &= ", 1) for line in legend)
            blocks += [Para(lead), Math(legend[0] if len(legend) == 1 else aligned)]
        return blocks

    def picture(self, i, layer, x) -> list:
        """A grid figure where one helps: the taps of dL/dK_11 (conv), the routing of max pooling, the shares
        of average pooling (with their padding ring and window outlines)."""
        if x.ndim != 4 or x.shape[2] * x.shape[3] > SMALL:
            return []
        figure = layer.figure(x.shape, x) if layer.figure else None
        if figure is None:
            return []
        # an op gives the cells to highlight, or those with its padding ring and windows (pooling)
        frame = figure if "marks" in figure else {"marks": figure}
        marks = frame["marks"]
        cells = x[0, 0]
        if not tensor.is_numeric(cells) and i > 0 and self.d.named:
            cells = self.d.named.activations[i - 1][1].reshape(x.shape)[0, 0]  # names, not long expressions
        labels = tuple(tuple(tex(v) for v in row) for row in cells)
        caption = layer.words[self.w["lang"]]["figure"]
        if "{weight}" in caption:  # replaced, not formatted: the caption's LaTeX is full of braces
            caption = caption.replace("{weight}", self.param(f"{i}.weight"))
        return [Grid(labels, marks, caption, tuple(frame.get("pad", (0, 0))), frame.get("fill", ""),
                     tuple(frame.get("windows", ())))]

    def step(self) -> list:
        d, w = self.d, self.w
        if d.optimizer is None:
            return []
        kind = d.optimizer.type_name
        lr = tensor.number(d.optimizer.lr, kind, "lr")  # the exact rational the step used
        intro = w["step_intro"].format(lr=tex(lr)) if kind == "SGD" else \
            d.optimizer.words[w["lang"]]["intro"].replace("{optimizer}", kind)  # Adam, ...: its own words
        blocks = [Heading(w["step"]), Para(intro), Math(d.optimizer.index_form["step"])]
        blocks += [Math(_options(d.optimizer))] if kind != "SGD" else []  # its values, once
        plain = kind == "SGD" and not any(d.optimizer.options()[k]
                                          for k in ("momentum", "weight_decay", "nesterov", "maximize"))
        for name in self.wrt:
            parameter = self.t.parameters.get(name)
            if parameter is None or parameter.updated is None:
                continue
            symbol = self.param(name)
            left = r"%s \leftarrow %s - %s\,\frac{\partial L}{\partial %s}" % (symbol, symbol, tex(lr), symbol) \
                if plain else r"%s \leftarrow \operatorname{SGD}\left(%s\right)" % (symbol, _options(d.optimizer)) \
                if kind == "SGD" else r"%s \leftarrow \operatorname{%s}\left(%s, \frac{\partial L}{\partial %s}"\
                r"\right)" % (symbol, kind, symbol, symbol)
            new, grad = matrix(parameter.updated), parameter.gradient
            if kind != "SGD" and tensor.is_numeric(parameter.updated) and not all(
                    sp.sympify(e).is_Rational for e in np.asarray(parameter.updated, dtype=object).reshape(-1)):
                blocks += [Math(r"%s \approx %s" % (left, summary.approx_matrix(parameter.updated)))]  # sqrt(11)...
                continue
            middle = None
            if plain and tensor.is_numeric(grad) and new is not None:
                g = matrix(grad)  # a bmatrix after a thin space; a scalar (one entry) after a dot, (-4) in parentheses
                g = r"\left(%s\right)" % g if g.startswith("-") else g
                g = (r"\," if g.startswith(r"\begin") else r" \cdot ") + g
                middle = f"{matrix(parameter.value)} - {tex(lr)}{g}"
            for rights in ((middle, new), (new,)):
                shown = self.equation(left, *rights)
                if new is not None and all(width(m.latex) <= MAX_WIDTH for m in shown):
                    blocks += shown
                    break
            else:
                blocks += [Math(left)]
                if tensor.is_numeric(parameter.updated) or self.fits(parameter.updated):
                    blocks += self.tensor("{%s}^{(1)}" % symbol, parameter.updated)
        return blocks


def _compact(blocks: list, w: dict) -> list:
    """build's `compact`: the instance dropped where worked lines, the entries (or the loss's worked line)
    follow it, a matrix in names and its values on one line when they fit, and a one-number value dropped
    where the one worked line before it ends in that number (a matrix of values right under its worked
    lines keeps its equation, without the "Values:" label)."""
    kept = []
    for k, block in enumerate(blocks):
        after = blocks[k + 2] if k + 2 < len(blocks) else None
        if isinstance(block, Para) and block.text == w["instance"] and k + 1 < len(blocks) \
                and isinstance(blocks[k + 1], Math) and (
                isinstance(after, Math) or isinstance(after, Para) and after.text in (w["worked"], w["entries"])):
            blocks[k + 1] = None  # the instance's equation goes with its lead-in
            continue
        if isinstance(block, Para) and block.text == w["values"] and k + 1 < len(blocks) and len(kept) > 1 \
                and isinstance(kept[-2], Para) and kept[-2].text == w["names_form"] and isinstance(kept[-1], Math):
            left = kept[-1].latex.split(" = ", 1)[0] if " = " in kept[-1].latex else ""
            value = blocks[k + 1].latex if isinstance(blocks[k + 1], Math) else ""
            if left and value.startswith(f"{left} = ") and width(f"{kept[-1].latex} = {value}") <= MATRIX_WIDTH:
                kept[-1] = Math(f"{kept[-1].latex} = {value[len(left) + 3:]}")  # names = values, side by side
                blocks[k + 1] = None
                continue
        if isinstance(block, Para) and block.text in (w["values"], w["numbers"]) and k + 1 < len(blocks) \
                and isinstance(blocks[k + 1], Math) and kept and isinstance(kept[-1], Math):
            worked, value = kept[-1].latex, blocks[k + 1].latex
            rhs = value.split(" = ", 1)[1] if " = " in value else None
            if rhs and r" \\ " not in worked and worked.endswith(f"= {rhs}" + r"\end{aligned}") \
                    and len(kept) > 1 and isinstance(kept[-2], Para) and kept[-2].text == w["worked"]:
                blocks[k + 1] = None
                continue
            if len(kept) > 1 and isinstance(kept[-2], Para) and kept[-2].text == w["worked"]:
                continue  # the matrix right under the worked lines needs no label
        if block is not None:
            kept.append(block)
    return kept


def _spaced_width(latex: str) -> int:
    """texnames.width, with the space TeX puts around each relation (1[m = 1] in every entry) counted:
    three characters per = in the widest row."""
    return max(width(row) + 3 * row.count("=") for row in latex.split(r"\\"))


def _broken(left, expr) -> list[str]:
    """`left &= expr` as aligned rows: one when it fits the line, else the sum's terms over several
    (each continued with `&\\quad + ...`), so that no row is shrunk or runs off the page."""
    line = f"{tex(left)} &= {tex(expr)}"
    if width(line) <= LINE_WIDTH or not sp.expand(expr, deep=False).is_Add:
        return [line]
    terms = [tex(t) for t in sp.Add.make_args(sp.expand(expr, deep=False))]
    rows, current = [], f"{tex(left)} &= {terms[0]}"
    for term in terms[1:]:
        piece = f" - {term[1:]}" if term.startswith("-") else f" + {term}"
        if width(current + piece) > LINE_WIDTH:
            rows.append(current)
            current = r"&\quad" + piece
        else:
            current += piece
    return rows + [current]


def _same(a, b) -> bool:
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    return a.shape == b.shape and all(x == y for x, y in zip(a.reshape(-1), b.reshape(-1)))


def _options(optimizer) -> str:
    """The SGD options that change the step, as `name = value` in LaTeX; another optimizer's values of its
    rule's symbols (eta, beta_1, epsilon, ...) and its options that are on."""
    if optimizer.type_name != "SGD":
        return ",\\ ".join(f"{symbol} = {tex(value)}" if value is not True else symbol
                            for symbol, value in optimizer.rule_values())
    shown = {k: v for k, v in optimizer.options().items() if v and k != "lr"}
    return ",\\ ".join(r"\text{%s} = %s" % (k.replace("_", r"\_"), tex(tensor.number(v, "SGD", k))
                                           if not isinstance(v, bool) else r"\text{%s}" % v) for k, v in shown.items())
