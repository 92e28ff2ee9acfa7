"""Softmax and LogSoftmax (issue 16 item 1): torch parity in float64 (ties on purpose), torch's implicit dim,
dims out of range refused with torch's message, rules vs sympy.diff, index forms and array twins vs the
engine, and derive end to end.

The layers are symgrad/ops/softmax.py, found by the registry as every op.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sympy as sp
from lazy_torch import torch

import symgrad as sg
from symgrad.core import tensor
from symgrad.core.errors import OptionError
from symgrad.ops.softmax import LogSoftmax, Softmax, implicit_dim
from symgrad.ops.base import undeclared
from symgrad.printing.words import LANGUAGES
from twins import rebuilt

TOL = {"rtol": 1e-12, "atol": 1e-12}
CLASSES = [Softmax, LogSoftmax]
#: (dim, input shape): implicit dims on every rank torch distinguishes, positive and negative dims.
CASES = [(None, ()), (None, (3,)), (None, (2, 3)), (None, (2, 3, 2)), (None, (1, 2, 2, 2)), (0, (3,)),
         (-1, (2, 3)), (0, (2, 3)), (-2, (2, 3, 2)), (2, (2, 3, 2)), (1, (1, 2, 2, 2)), (-1, (1, 2, 1, 3)),
         (0, ()), (-1, ())]
CASE_IDS = [f"dim{d}_{'x'.join(map(str, s)) or '0d'}" for d, s in CASES]


def _exact(array):
    array = np.asarray(array)
    return tensor.to_array(array.tolist()) if array.ndim else np.array(tensor.number(float(array)), dtype=object)


def _floats(array):
    return np.array([float(v) for v in np.asarray(array, dtype=object).reshape(-1)]).reshape(np.shape(array))


def _halves(shape, seed):
    """Small halves: equal entries (ties) along every dim on purpose."""
    return np.random.default_rng(seed).integers(-3, 4, size=shape) / 2


def _engine(layer, x, delta):
    out = layer.forward(_exact(x), {})
    return out, layer.backward(_exact(delta), _exact(x), out, {}).input


# ---------------------------------------------------------------- torch parity (float64)

@pytest.mark.torch
@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("dim,shape", CASES, ids=CASE_IDS)
def test_forward_and_gradient_match_torch(cls, dim, shape):
    layer = cls(dim)
    for seed in range(2):
        x, delta = _halves(shape, seed), _halves(shape, seed + 10)
        if shape:
            x.reshape(-1)[: min(3, x.size)] = 1.0  # a tie along the first line
        out, dx = _engine(layer, x, delta)
        xt = torch.tensor(x, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's implicit-dim deprecation
            tout = layer.torch_module()(xt)
        tout.backward(torch.tensor(delta))
        np.testing.assert_allclose(_floats(out), tout.detach().numpy(), **TOL)
        np.testing.assert_allclose(_floats(dx), xt.grad.numpy(), **TOL)


@pytest.mark.torch
@pytest.mark.parametrize("rank", range(6))
def test_implicit_dim_is_torchs_choice(rank):
    shape = tuple(range(2, 2 + rank))
    x = torch.tensor(_halves(shape, rank) + np.arange(int(np.prod(shape))).reshape(shape) / 7)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        implicit = torch.nn.Softmax()(x)
    assert any("Implicit dimension choice" in str(w.message) for w in caught)
    chosen = [d for d in range(max(rank, 1)) if torch.equal(implicit, torch.softmax(x, d))]
    assert chosen[0] == implicit_dim(rank) == Softmax().axis(shape)
    assert "implicit" in Softmax().shape_formula(shape)


@pytest.mark.torch
@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_torch_module_and_from_torch_round_trip(cls):
    for dim in (None, 0, 1, -1, -3):
        layer = cls(dim)
        module = layer.torch_module()
        assert type(module).__name__ == cls.type_name and module.dim == dim
        back = cls.from_torch(module)
        assert type(back) is cls and back.options() == layer.options() == {"dim": dim}
        assert repr(back) == repr(module)


# ---------------------------------------------------------------- validation, mirrored against torch

SHAPES = [(), (3,), (2, 3), (2, 3, 2), (1, 2, 2, 2)]
DIMS = [None, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5]


@pytest.mark.torch
@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_dims_out_of_range_are_refused_with_torchs_message(cls):
    for shape in SHAPES:
        for dim in DIMS:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    getattr(torch.nn, cls.type_name)(dim)(torch.zeros(shape, dtype=torch.float64))
                torch_error = None
            except IndexError as error:
                torch_error = str(error)
            try:
                assert cls(dim).output_shape(shape) == shape
                ours = None
            except OptionError as error:
                assert error.option == "dim" and error.where == cls.type_name
                ours = error.message
            assert (ours is None) == (torch_error is None), (shape, dim, ours, torch_error)
            assert torch_error is None or torch_error == ours


@pytest.mark.torch
@pytest.mark.parametrize("dim", ["0", 1.0, True, 2**63, -2**63 - 1], ids=repr)
def test_dims_torch_cannot_read_are_refused(dim):
    with pytest.raises((TypeError, ValueError, RuntimeError)):
        torch.nn.Softmax(dim)(torch.zeros(2, 3))
    for cls in CLASSES:
        with pytest.raises(OptionError) as info:
            cls(dim)
        assert info.value.option == "dim"


def test_numpy_integers_are_dims():
    assert Softmax(np.int64(-1)).axis((2, 3)) == 1 and LogSoftmax(np.int32(0)).options() == {"dim": 0}


# ---------------------------------------------------------------- symbolic: rules vs sympy.diff

def _entries(array):
    if isinstance(array, sp.Basic) and not isinstance(array, sp.NDimArray):
        return [array]
    return list(np.array(array.tolist(), dtype=object).reshape(-1))


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("dim,shape", [(-1, (1, 1, 1, 3)), (1, (1, 2, 1, 1)), (None, (1, 2, 1, 2))], ids=str)
def test_rules_equal_sympy_diff_symbolically(cls, dim, shape):
    x = sg.symbolic("x", shape)
    rules = sg.derive(sg.Sequential(cls(dim)), x, sg.MSELoss(reduction="sum"), None, sg.SGD(lr=0.1))
    diff = sg.derive(sg.Sequential(cls(dim)), x, sg.MSELoss(reduction="sum"), None, sg.SGD(lr=0.1), method="diff")
    assert set(x.reshape(-1)) <= rules.loss.free_symbols
    assert sp.simplify(rules.loss - diff.loss) == 0
    for a, b in zip(_entries(rules.gradients["input"]), _entries(diff.gradients["input"])):
        assert a.free_symbols and sp.simplify(a - b) == 0, (a, b)


def test_softmax_of_a_single_entry_is_one_and_passes_no_gradient():
    """A line of one entry (a 0-D input, or dim of size 1): p = 1, log p = 0, dL/dx = 0, as torch."""
    for cls, value in ((Softmax, 1), (LogSoftmax, 0)):
        x = np.array([[sp.Symbol("u", real=True)], [sp.Integer(2)]], dtype=object)
        layer = cls(1)
        out = layer.forward(x, {})
        assert out.tolist() == [[value], [value]]
        assert layer.backward(np.array([[3], [5]], dtype=object), x, out, {}).input.tolist() == [[0], [0]]


# ---------------------------------------------------------------- index forms, instances, array twins

def _equal(got, expected) -> bool:
    got, expected = np.asarray(got, dtype=object), np.asarray(expected, dtype=object)
    return got.shape == expected.shape and all(sp.simplify(a - b) == 0
                                               for a, b in zip(got.reshape(-1), expected.reshape(-1)))


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("dim,shape", [c for c in CASES if np.prod(c[1]) <= 6], ids=str)
def test_index_rules_equal_the_engine(cls, dim, shape):
    assert set(cls.index_rules) == set(cls.index_form) == {"forward", "input"}
    layer = cls(dim)
    x, delta = _exact(_halves(shape, 3)), _exact(_halves(shape, 4))
    out = layer.forward(x, {})
    expected = {"forward": out, "input": layer.backward(delta, x, out, {}).input}
    for key, rule in cls.index_rules.items():
        assert _equal(rule(layer, x, {}, delta), expected[key]), key


def test_a_wrong_index_rule_would_be_caught():
    x = _exact(np.array([[1.0, 0.0], [2.0, -1.0]]))
    assert not _equal(Softmax.index_rules["forward"](Softmax(0), x, {}), Softmax(1).forward(x, {}))


def test_instances_write_the_dim_and_its_size():
    assert Softmax(1).index_instance("forward", (2, 3)) == r"p_{a,i} = \frac{e^{x_{a,i}}}{\sum_{j=1}^{3} e^{x_{a,j}}}"
    assert LogSoftmax().index_instance("forward", (2, 3, 4)) == \
        r"\ell_{i,a,b} = x_{i,a,b} - \log \sum_{j=1}^{2} e^{x_{j,a,b}}"
    assert Softmax(-1).index_instance("input", (2, 3)) == \
        r"\frac{\partial L}{\partial x_{a,i}} = p_{a,i} \left(\delta_{a,i} - \sum_{j=1}^{3} \delta_{a,j}\, p_{a,j}\right)"
    assert LogSoftmax(0).index_instance("input", ()) == r"\frac{\partial L}{\partial x} = \delta - e^{\ell} \sum_{j=1}^{1} \delta"
    assert Softmax.index_form["forward"] == r"p_{i} = \frac{e^{x_{i}}}{\sum_{j} e^{x_{j}}}"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("dim,shape", CASES, ids=CASE_IDS)
def test_array_twin_equals_the_engine_with_batch_axes(cls, dim, shape):
    layer = cls(dim)
    options = layer.array_options(shape)
    xs = np.stack([_halves(shape, 5), _halves(shape, 6) * 40])  # large entries: the max shift keeps exp finite
    deltas = np.stack([_halves(shape, 7), _halves(shape, 8)])
    out = rebuilt(cls.array_twin["forward"])(xs, **options)
    (dx,) = rebuilt(cls.array_twin["backward"])(deltas, xs, out, **options)
    assert out.shape == dx.shape == xs.shape
    for p in range(2):
        e_out, e_dx = _engine(layer, xs[p], deltas[p])
        np.testing.assert_allclose(out[p], _floats(e_out), **TOL)
        np.testing.assert_allclose(dx[p], _floats(e_dx), **TOL)
    assert rebuilt(cls.array_twin["backward"])(deltas, xs, out, want_input=False, **options) == (None,)
    shared = rebuilt(cls.array_twin["backward"])(deltas, xs[0], out[0], **options)[0]
    assert shared.shape == deltas.shape


# ---------------------------------------------------------------- the protocol

@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_piece_is_declared(cls):
    assert undeclared(cls) == []
    layer = cls()
    assert layer.parameter_shapes() == {} and cls.symbol_bases == {} and cls.parameter_letters == {}
    assert not cls.initial_values and not cls.buffers and not cls.modes and not cls.figure
    assert cls.rule_words == "general_plain"
    assert set(cls.words) == set(LANGUAGES)
    keys = {frozenset(cls.words[lang]) for lang in LANGUAGES}
    assert len(keys) == 1 and all(k.startswith("note:") and k[5:] in cls.index_form for k in keys.pop())
    assert "dim 1" in cls.words["en"]["note:forward"] and "`dim=1`" in cls.words["zh"]["note:forward"]


def test_output_letters_read_back_as_symbols():
    from symgrad.core.names import parser_reading

    assert (Softmax.output_letter, LogSoftmax.output_letter) == ("p", "ell")
    assert parser_reading("p") is None and parser_reading("ell") is None
    assert sp.latex(sp.Symbol("ell_11")) == r"\ell_{11}"


# ---------------------------------------------------------------- end to end through derive

X4 = np.array([[[[0.0, 0.0], [2.0, -1.0]], [[0.0, 0.5], [0.0, 1.0]]]])
TARGET = np.array([[[[1.0, 0.0], [0.5, 0.0]], [[0.0, 1.0], [0.5, 1.0]]]])
NETS = [("softmax_channels", lambda: sg.Sequential(Softmax(dim=1))),
        ("softmax_implicit", lambda: sg.Sequential(Softmax())),
        ("logsoftmax_rows", lambda: sg.Sequential(LogSoftmax(-1))),
        ("flatten_softmax", lambda: sg.Sequential(sg.Flatten(), Softmax(1)))]


def _target(net):
    return TARGET.reshape(1, -1) if isinstance(net.layers[0], sg.Flatten) else TARGET


@pytest.mark.parametrize("make", [m for _, m in NETS], ids=[n for n, _ in NETS])
def test_derive_through_a_sequential(make):
    net = make()
    d = sg.derive(net, X4.tolist(), sg.MSELoss(), _target(net).tolist(), sg.SGD(lr=0.1))
    layer = net.layers[-1]
    x = X4.reshape(1, -1) if len(net.layers) == 2 else X4
    out = _floats(layer.forward(_exact(x), {}))
    _, dx = _engine(layer, x, 2 * (out - _target(net)) / TARGET.size)
    np.testing.assert_allclose(np.array(d.output.tolist(), dtype=float), out, **TOL)
    np.testing.assert_allclose(np.array(d.gradients["input"].tolist(), dtype=float).reshape(-1),
                               _floats(dx).reshape(-1), **TOL)


@pytest.mark.torch
@pytest.mark.parametrize("make", [m for _, m in NETS], ids=[n for n, _ in NETS])
def test_derive_equals_torch_end_to_end(make):
    net = make()
    d = sg.derive(net, X4.tolist(), sg.MSELoss(), _target(net).tolist(), sg.SGD(lr=0.1))
    xt = torch.tensor(X4, requires_grad=True)
    modules = [layer.torch_module() for layer in net.layers]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loss = torch.nn.MSELoss()(torch.nn.Sequential(*modules)(xt), torch.from_numpy(_target(net)))
    loss.backward()
    assert float(d.loss) == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(np.array(d.gradients["input"].tolist(), dtype=float), xt.grad.numpy(), **TOL)


# ---------------------------------------------------------------- generated code (docs/numeric.md): both forms

@pytest.mark.parametrize("form", ["scalar", "array"])
@pytest.mark.parametrize("make", [m for _, m in NETS] + [lambda: sg.Sequential(Softmax(2), LogSoftmax(1))],
                         ids=[n for n, _ in NETS] + ["softmax_logsoftmax"])
def test_generated_code_equals_the_engine(make, form):
    from symgrad.numeric.codegen import generate_source

    d = sg.derive(make(), sg.symbolic("x", X4.shape), sg.MSELoss(), None, sg.SGD(lr=0.1))
    namespace = {}
    exec(compile(generate_source(d, form=form), "<generated>", "exec"), namespace)
    values = {k: np.linspace(-2, 2, int(np.prod(s))).reshape(s) for k, s in namespace["ARGUMENTS"].items()}
    got = namespace["evaluate"](**values)
    engine = sg.derive(make(), values["input"].tolist(), sg.MSELoss(), values["target"].tolist())
    assert got["loss"] == pytest.approx(float(engine.loss), rel=1e-12)
    np.testing.assert_allclose(got["gradients"]["input"], np.array(engine.gradients["input"].tolist(), dtype=float),
                               **TOL)


def test_log_softmax_output_prints_as_ell():
    from symgrad.printing.texnames import name_latex

    assert name_latex("ell_11") == r"\ell_{11}" and name_latex("delta_ell_11") == r"\delta^{\ell}_{11}"


def test_greek_letter_names_print_as_latex_without_a_list_of_them():
    """Every Greek letter (BatchNorm's gamma and beta too) prints as SymPy writes it; other letters as they are."""
    from symgrad.printing.texnames import name_latex

    assert name_latex("gamma_1") == r"\gamma_{1}" and name_latex("beta2_3") == r"\beta^{[2]}_{3}"
    assert name_latex("Omega_1_10") == r"\Omega_{1,10}" and name_latex("delta_sigma_11") == r"\delta^{\sigma}_{11}"
    assert name_latex("h_1") == "h_{1}" and name_latex("S3_11") == "S^{[3]}_{11}"


# ---------------------------------------------------------------- derivation pages: en and zh, and real LaTeX

def _page_derivation():
    from symgrad.ops.identity import Identity

    return sg.derive(sg.Sequential(Identity(), *_page_layers()), sg.symbolic("x", (1, 2, 1, 2)), sg.MSELoss(), None,
                     sg.SGD(lr=0.1))


def test_derivation_pages_print_the_rules_notes_and_instances():
    from symgrad.printing.markdown import math, text  # as the Markdown writes them (\, as \thinspace)
    from symgrad.printing.steps import markdown_body

    d = _page_derivation()
    shown = lambda s: s.replace("\\_", "_")  # noqa: E731  prose escapes _
    pages = {language: shown(markdown_body(d, language)) for language in LANGUAGES}
    for layer in d.network.layers[1:]:
        for language, page in pages.items():
            for key in ("forward", "input"):
                assert shown(math(type(layer).index_form[key])) in page, (layer, language, key)
                assert shown(math(layer.index_instance(key, (1, 2, 1, 2)))) in page
                note = layer.words[language].get(f"note:{key}")
                assert note is None or shown(text(note)) in page, (layer, language, key)


def test_derivation_page_compiles_with_pdflatex(tmp_path):
    """The index forms and instances are real LaTeX: the page (en) compiles as a standalone document."""
    import shutil
    import subprocess

    from symgrad.printing import latex
    from symgrad.printing.steps import latex_body

    if shutil.which("latexmk") is None or shutil.which("pdflatex") is None:
        pytest.fail("latexmk and pdflatex are needed (tests/printing/test_latex_compile.py says how to install TeX Live)")
    source = tmp_path / "page.tex"
    source.write_text(latex.document(latex_body(_page_derivation(), "en")), encoding="utf-8")
    result = subprocess.run(["latexmk", "-pdf", "-norc", "-interaction=nonstopmode", "-halt-on-error", source.name],
                            cwd=tmp_path, capture_output=True, stdin=subprocess.DEVNULL, timeout=600)
    log = source.with_suffix(".log").read_text(errors="replace") if source.with_suffix(".log").exists() else "no log"
    assert result.returncode == 0, [line for line in log.splitlines() if line.startswith("!")][:3]


def _page_layers():
    """The layers the pages print, after an Identity (a first layer's input rule is printed only for dL/dx)."""
    return [Softmax(1), LogSoftmax(-1), Softmax()]


# ---------------------------------------------------------------- `symgrad check`: the library's own torch comparison


CHECKED = [lambda: sg.Sequential(sg.Conv2d(1, 2, 2), sg.Flatten(), sg.Linear(8, 3), Softmax(1)),
           lambda: sg.Sequential(sg.Conv2d(1, 2, 2), sg.Flatten(), sg.Linear(8, 3), LogSoftmax()),
           lambda: sg.Sequential(sg.Conv2d(1, 3, 2), Softmax(), sg.Flatten(), sg.Linear(12, 2)),
           lambda: sg.Sequential(sg.Conv2d(1, 2, 2), LogSoftmax(-2), Softmax(-1))]
CHECKED_IDS = ["linear_softmax", "linear_logsoftmax_implicit", "channel_softmax", "rows_then_columns"]


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:Implicit dimension choice")  # torch's twin of dim=None warns, as torch does
@pytest.mark.parametrize("make", CHECKED, ids=CHECKED_IDS)
def test_symgrad_check_agrees_with_torch(make):
    """Networks with parameters, symbolic, evaluated at random small integers, vs torch."""
    from symgrad.verify.numeric import evaluate, random_values
    from symgrad.verify.torch_reference import compare, torch_reference

    d = sg.derive(make(), sg.symbolic("x", (1, 1, 3, 3)), sg.MSELoss(), None, sg.SGD(lr=0.1))
    for seed in range(3):
        numbers = evaluate(d, random_values(d.free_symbols, seed, -2, 2))  # as `symgrad check --seed`
        rows = compare(numbers, torch_reference(d, numbers))
        assert rows and all(row["ok"] for row in rows), [(r["quantity"], r["reason"]) for r in rows if not r["ok"]]


# ---------------------------------------------------------------- second derivatives (symgrad.engine.hessian) vs torch

@pytest.mark.torch
@pytest.mark.parametrize("make", [lambda: Softmax(1), lambda: LogSoftmax(1), lambda: Softmax(-1)],
                         ids=["softmax_channels", "logsoftmax_channels", "softmax_rows"])
def test_hessian_matches_torch(make):
    """d^2 L / dK^2 through the layer (conv -> layer -> MSELoss), against torch.autograd.functional.hessian."""
    weight = np.array([[[[0.5, -1.0], [0.25, 1.5]]], [[[1.0, 0.5], [-0.5, 0.0]]]])
    x = np.array([[[[1.0, -0.5, 0.0], [0.0, 2.0, -1.0], [0.5, 0.5, 1.0]]]])
    target = np.array([[[[1.0, 0.0], [0.5, -1.0]], [[0.0, 0.25], [0.0, 1.0]]]])
    conv = sg.Conv2d(1, 2, 2, bias=False).init(weight=weight.tolist())
    d = sg.derive(sg.Sequential(conv, make()), x.tolist(), sg.MSELoss(), target.tolist())
    ours = np.array(d.hessian("0.weight").evalf().tolist(), dtype=float)
    module = make().torch_module()

    def loss(w):
        out = module(torch.nn.functional.conv2d(torch.from_numpy(x), w))
        return torch.nn.functional.mse_loss(out, torch.from_numpy(target))

    theirs = torch.autograd.functional.hessian(loss, torch.from_numpy(weight)).reshape(8, 8).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
