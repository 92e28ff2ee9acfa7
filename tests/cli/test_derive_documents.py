"""`symgrad derive`'s documents (issue 13): --lang for every format, --out F.pdf (a real PDF or exit 2),
--exact, --verify, the PyTorch block at the end of every LaTeX and Markdown derivation, and Chinese that
reads as Chinese (full-width punctuation, no English words outside math, code and layer calls).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess

import pytest

from symgrad import examples
from symgrad.cli.commands import main
from symgrad.ops import LAYERS, LOSSES
from symgrad.engine.optimizers import OPTIMIZERS
from symgrad.printing.shapes import describe
from symgrad.printing.words import WORDS

MAX_POOL = "conv_max_pool"


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------- --lang


def test_lang_for_every_format():
    texts = {(fmt, lang): run(["derive", MAX_POOL, "--format", fmt, "--lang", lang])
             for fmt in ("text", "json", "latex", "markdown") for lang in ("en", "zh")}
    assert all(code == 0 and not err for code, _, err in texts.values())
    en, zh = texts["text", "en"][1], texts["text", "zh"][1]
    assert "network: " in en and "forward:" in en and "gradients:" in en
    assert "网络：" in zh and "前向传播：" in zh and "梯度：" in zh and "输入（1×1×3×3）：" in zh
    assert "network" not in zh and "forward" not in zh
    assert json.loads(texts["json", "zh"][1]) == json.loads(texts["json", "en"][1])  # JSON has no words
    assert r"\subsection*{前向传播}" in texts["latex", "zh"][1] and r"\subsection*{Forward pass}" in texts["latex", "en"][1]
    assert "## 前向传播" in texts["markdown", "zh"][1] and "## Forward pass" in texts["markdown", "en"][1]
    assert "## PyTorch 验证" in texts["markdown", "zh"][1] and "## PyTorch check" in texts["markdown", "en"][1]


def test_an_unknown_lang_is_one_line_exit_2():
    code, out, err = run(["derive", MAX_POOL, "--lang", "fr"])
    assert code == 2 and not out and err.count("\n") == 1 and "--lang" in err


# ---------------------------------------------------------------- --out F.pdf


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_out_pdf_is_a_compiled_pdf_with_or_without_format(tmp_path, lang):
    out = tmp_path / "x.pdf"
    code, stdout, err = run(["derive", MAX_POOL, "--out", out, "--lang", lang])  # .pdf implies latex
    assert (code, stdout, err) == (0, "", "")
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:]
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert ("PyTorch check" if lang == "en" else "PyTorch 验证") in text
    assert ("Forward pass" if lang == "en" else "前向传播") in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.pdf"]


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_out_pdf_of_another_format_is_refused_and_nothing_written(tmp_path, fmt):
    out = tmp_path / "x.pdf"
    code, stdout, err = run(["derive", MAX_POOL, "--format", fmt, "--out", out])
    assert code == 2 and not stdout and err.count("\n") == 1
    assert "x.pdf is a PDF" in err and f"--format {fmt}" in err
    assert list(tmp_path.iterdir()) == []


def test_a_latex_error_writes_nothing(tmp_path, monkeypatch):
    from symgrad.core.errors import OptionError
    from symgrad.handout import compile as tex

    def fails(source, lang, option="--out"):
        raise OptionError("output", option, "LaTeX failed (document.tex:1: oops); see /tmp/x.log")

    monkeypatch.setattr(tex, "to_pdf", fails)
    module = tmp_path / "d.py"
    code, _, err = run(["derive", MAX_POOL, "--out", tmp_path / "x.pdf", "--emit-python", module])
    assert code == 2 and "LaTeX failed" in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []  # neither the PDF nor the module


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_out_tex_is_a_standalone_document_that_compiles(tmp_path, lang):
    out = tmp_path / "d.tex"  # symbols: the block's sentence lists the values check draws
    assert run(["derive", "conv_symbolic", "--format", "latex", "--lang", lang, "--out", out])[0] == 0
    source = out.read_text(encoding="utf-8")
    assert source.startswith(r"\documentclass") and source.rstrip().endswith(r"\end{document}")
    assert ("xeCJK" in source) == (lang == "zh")
    engine = "-xelatex" if lang == "zh" else "-pdf"
    result = subprocess.run(["latexmk", engine, "-interaction=nonstopmode", "-halt-on-error", "d.tex"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:]
    log = (tmp_path / "d.log").read_text(encoding="utf-8", errors="replace")
    assert "Missing character" not in log  # every Chinese character had a font
    overfull = [float(v) for v in re.findall(r"Overfull \\hbox \((\d+\.\d+)pt too wide\)", log)]
    assert all(v <= 5 for v in overfull), overfull


# ---------------------------------------------------------------- --exact


def test_exact_prints_fractions_instead_of_decimals():
    _, decimals, _ = run(["derive", MAX_POOL, "--format", "markdown"])
    _, fractions, _ = run(["derive", MAX_POOL, "--format", "markdown", "--exact"])
    assert r"-0.4" in decimals and r"\frac{1}{100}" not in decimals
    assert r"\frac{1}{100}" in fractions and r"- \frac{2}{5}" in fractions and "-0.4 " not in fractions
    _, text, _ = run(["derive", MAX_POOL, "--exact"])
    assert "-2/5" in text and "-0.4" not in text


# ---------------------------------------------------------------- the PyTorch block


def _fences(markdown: str) -> tuple[str, str]:
    """The document's last python block and the printout block after it."""
    code = re.findall(r"```python\n(.*?)```", markdown, re.S)[-1]
    printout = re.findall(r"```text\n(.*?)```", markdown, re.S)[-1]
    return code, printout


@pytest.mark.torch
@pytest.mark.parametrize("name", [MAX_POOL, "conv_symbolic", "avg_pool_backward"])
def test_the_documents_pytorch_block_prints_what_the_document_shows(name, tmp_path):
    code, markdown, _ = run(["derive", name, "--format", "markdown"])
    assert code == 0
    source, printout = _fences(markdown)
    script = tmp_path / "block.py"
    script.write_text(source, encoding="utf-8")
    ran = subprocess.run(["python", str(script)], capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == printout
    if name == "conv_symbolic":  # symbols: the values check draws, said in a sentence
        assert "the values `symgrad check` draws" in markdown
    _, latex, _ = run(["derive", name, "--format", "latex"])
    assert "\\begin{verbatim}\n" + source in latex and printout in latex


def test_the_block_follows_wrt_and_large_networks_get_a_sentence():
    _, markdown, _ = run(["derive", MAX_POOL, "--format", "markdown", "--wrt", "input"])
    source, printout = _fences(markdown)
    assert "print(x.grad)" in source and "weight.grad" not in source and "weight.grad" not in printout


# ---------------------------------------------------------------- --verify


@pytest.mark.torch
@pytest.mark.parametrize("fmt", ["markdown", "latex"])
def test_verify_adds_the_agreement_table(fmt):
    code, text, err = run(["derive", MAX_POOL, "--format", fmt, "--verify"])
    assert code == 0 and not err
    assert "Agreement with PyTorch" in text and "5 of 5 quantities agree with torch autograd" in text
    for quantity in ("output", "loss", "dL/d0.weight", "dL/dinput", "updated 0.weight"):
        assert f"`{quantity}`" in text or rf"\texttt{{{quantity}}}" in text
    _, zh, _ = run(["derive", MAX_POOL, "--format", fmt, "--verify", "--lang", "zh"])
    assert "与 PyTorch 的比较" in zh and "共 5 个量，其中 5 个与 torch autograd 一致" in zh


def test_verify_without_torch_is_one_line_exit_2():
    # unmarked: torch cannot be imported here (tests/conftest.py)
    code, out, err = run(["derive", MAX_POOL, "--format", "markdown", "--verify"])
    assert code == 2 and not out and err.count("\n") == 1 and "torch is not installed" in err


def test_verify_of_text_or_json_is_refused():
    for fmt in ("text", "json"):
        code, out, err = run(["derive", MAX_POOL, "--format", fmt, "--verify"])
        assert code == 2 and not out and "--verify" in err and err.count("\n") == 1


# ---------------------------------------------------------------- Chinese that reads as Chinese

CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
_MATH_OR_CODE = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`", re.S)


def _zh_strings():
    yield from ((f"printing/words.py {key}", text) for key, text in WORDS["zh"].items())
    for name, op in {**LAYERS, **LOSSES}.items():
        for key, text in (op.words or {}).get("zh", {}).items():
            yield f"{name} {key}", text


def test_every_zh_string_has_full_width_punctuation_next_to_chinese():
    bad = []
    for where, text in _zh_strings():
        prose = _MATH_OR_CODE.sub("\0", text)
        if re.search(rf"[{CJK}]\s*[,:;()]|[,:;()]\s*[{CJK}]", prose):
            bad.append(f"{where}: {text}")
    assert not bad, "\n".join(bad)


#: Words a Chinese reader expects in Latin letters: names of tools and formats.
LATIN = {"PyTorch", "torch", "autograd", "symgrad", "SGD", "GT", "float64", "N", "C", "H", "W"}
SLOW = {"lenet", "tutorial_net"}  # minutes each; lenet_first_stage covers a network kept in names


def english_words(markdown: str, network) -> set[str]:
    """Latin words in the prose: outside math, code, the title and the layers' own calls."""
    for op in network:
        markdown = markdown.replace(describe(op), " ")
    markdown = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    markdown = re.sub(r"^# .*$", " ", markdown, flags=re.M)  # the spec's own title
    prose = re.sub(r"\d+(?: x \d+)+", " ", _MATH_OR_CODE.sub(" ", markdown))  # a shape: 3 x 3
    return set(re.findall(r"[A-Za-z][A-Za-z0-9_]*", prose)) - LATIN - set(LAYERS) - set(LOSSES) - set(OPTIMIZERS)


@pytest.mark.parametrize("name", [n for n in examples.names() if not n.endswith("_shapes") and n not in SLOW])
def test_the_zh_derivation_of_every_example_has_no_english_prose(name):
    from symgrad import spec as specs

    spec = specs.load(name)
    code, markdown, _ = run(["derive", name, "--format", "markdown", "--lang", "zh"])
    assert code == 0
    ops = [*spec.network, *([spec.loss] if spec.loss is not None else [])]
    assert english_words(markdown, ops) == set()
