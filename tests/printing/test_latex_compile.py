"""Real TeX Live compiles what symgrad writes: every seed derivation, the handout (en and
zh) and an exercise sheet with its key. A LaTeX error fails the test with the log's error.

Never skipped: without TeX these tests fail and say how to install it (CI installs it
from Debian's packages in .ci/run, the same command as README's test command).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from gallery import build
from symgrad.cli.commands import main
from symgrad.handout import files
from symgrad.handout.compile import INSTALL_ZH

from paths import ROOT

EXAMPLES = ROOT / "symgrad" / "examples"
DERIVED = build.DERIVED  # the seed articles' derivations, as the gallery lists them
INSTALL = f"{INSTALL_ZH} (see .ci/run)"  # the hint symgrad itself prints: one list


def require_tex():
    missing = [tool for tool in ("latexmk", "pdflatex", "xelatex") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found; these tests compile real LaTeX. Install TeX Live with: {INSTALL}")


def latexmk(source: Path, engine: str = "-pdf") -> bytes:
    """Compile with latexmk; fail with the log's first errors."""
    result = subprocess.run(["latexmk", engine, "-norc", "-interaction=nonstopmode", "-halt-on-error",
                             "-file-line-error", source.name], cwd=source.parent, capture_output=True,
                            stdin=subprocess.DEVNULL, timeout=600)  # bytes: TeX's output need not be UTF-8
    log = source.with_suffix(".log")
    errors = [line for line in log.read_text(errors="replace").splitlines() if re.match(r"^(!|.*:\d+: )", line)] \
        if log.exists() else ["no log"]
    assert result.returncode == 0, f"LaTeX failed on {source.name}: {errors[:3]}"
    pdf = source.with_suffix(".pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    return pdf


def run(argv, capsys):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("name", DERIVED)
def test_seed_derivation_compiles_with_pdflatex(tmp_path, capsys, name):
    require_tex()
    code, _, err = run(["derive", EXAMPLES / f"{name}.toml", "--format", "latex", "--out", tmp_path / f"{name}.tex"],
                       capsys)
    assert code == 0, err
    latexmk(tmp_path / f"{name}.tex")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_handout_pdf(tmp_path, capsys, lang):
    require_tex()
    out = tmp_path / "handout.pdf"
    code, stdout, err = run(["handout", "--lang", lang, "--out", out], capsys)
    assert (code, stdout, err) == (0, "", "")
    assert out.read_bytes().startswith(b"%PDF")
    assert [p.name for p in tmp_path.iterdir()] == ["handout.pdf"]  # nothing else left beside it


@pytest.mark.parametrize("lang, runs", [("en", 2), ("zh", 1)])
def test_exercise_sheet_and_key_pdfs(tmp_path, capsys, lang, runs):
    """Both PDFs compile; in English twice, to show the same seed gives the same bytes (SOURCE_DATE_EPOCH)."""
    require_tex()
    pdfs = []
    for folder in "ab"[:runs]:
        (tmp_path / folder).mkdir()
        code, _, err = run(["exercises", "--count", 7, "--seed", 3, "--lang", lang, "--out",
                            tmp_path / folder / "sheet.pdf"], capsys)
        assert (code, err) == (0, "")
        pdfs.append([(tmp_path / folder / name).read_bytes() for name in ("sheet.pdf", "sheet-answers.pdf")])
    assert all(pdf.startswith(b"%PDF") for pdf in pdfs[0])
    assert all(other == pdfs[0] for other in pdfs)


def test_latex_error_is_one_line_naming_the_log(tmp_path, capsys, monkeypatch):
    require_tex()
    monkeypatch.setattr(files, "to_latex", lambda doc: "\\documentclass{article}\\begin{document}\\nosuchmacro"
                                                       "\\end{document}\n")
    out = tmp_path / "handout.pdf"
    code, stdout, err = run(["handout", "--out", out], capsys)
    assert code == 2 and stdout == ""
    assert err.count("\n") == 1 and "Undefined control sequence" in err
    log = Path(re.search(r"see (\S+\.log)", err).group(1))
    assert log.exists() and "nosuchmacro" in log.read_text(errors="replace")
    shutil.rmtree(log.parent)
    assert list(tmp_path.iterdir()) == []


def test_readme_test_command_is_what_ci_runs():
    """README's second command (install TeX, the test extras, run pytest) is .ci/run's, step by step."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = re.findall(r"```bash\n(.*?)\n```", readme, re.DOTALL)[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    steps = [step.strip() for step in command.replace("\\\n", " ").split("&&")]
    ci_lines = [" ".join(line.split()) for line in ci.replace("\\\n", " ").splitlines()]
    for step in steps:
        step = step.removeprefix("(").removesuffix(")")  # a subshell in the README: CI's line, unbracketed
        step = " ".join(step.split()).replace("python -m", "python3 -m").replace("pip install", "python3 -m pip install")
        assert any(step in line for line in ci_lines), f".ci/run lacks README's step: {step}"
    assert "texlive-xetex texlive-lang-chinese" in command and "latexmk" in command


def test_a_failing_key_leaves_no_sheet_either(tmp_path, capsys, monkeypatch):
    """Both PDFs are compiled before either is written: a broken answer key leaves no lone sheet."""
    require_tex()
    real = files.to_latex
    calls = []

    def second_breaks(doc):
        calls.append(doc)
        return real(doc) if len(calls) == 1 else "\\documentclass{article}\\begin{document}\\nosuchmacro\\end{document}\n"

    monkeypatch.setattr(files, "to_latex", second_breaks)
    code, _, err = run(["exercises", "--count", 1, "--out", tmp_path / "sheet.pdf"], capsys)
    assert code == 2 and "LaTeX failed" in err and len(calls) == 2
    shutil.rmtree(Path(re.search(r"see (\S+\.log)", err).group(1)).parent)
    assert list(tmp_path.iterdir()) == []
