"""Where a command's spec comes from and where its output goes (docs/cli.md "Specs and outputs").

SPEC is a path, `-` (standard input) or a bundled example's name; `--out -` is standard
output; `--wrt` may come before or after the spec; usage errors carry one prefix and a
did-you-mean for a mistyped command, option, choice, layer type or option name.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

import symgrad.examples as bundled
from symgrad.cli.commands import main

from paths import ROOT

EXAMPLES = ROOT / "symgrad" / "examples"
MAX_POOL = EXAMPLES / "conv_max_pool.toml"


def run(argv, capsys, stdin: bytes | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line_error(code, out, err, *needles):
    assert code == 2, (code, err)
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("symgrad: error: ") and "symgrad: error: symgrad" not in err, err
    for needle in needles:
        assert needle in err, (needle, err)


def symgrad_process(*argv, cwd, stdin=None):
    return subprocess.run([sys.executable, "-m", "symgrad", *argv], cwd=cwd, input=stdin,
                          capture_output=True, timeout=120)


# ------------------------------------------------------------------ bundled examples

def test_examples_lists_every_bundled_spec_with_its_title(capsys):
    code, out, err = run(["examples"], capsys)
    assert code == 0 and err == ""
    lines = out.splitlines()
    names = sorted(p.stem for p in EXAMPLES.glob("*.toml"))
    assert [line.split()[0] for line in lines] == names
    assert len(names) >= 12
    for line, name in zip(lines, names):
        assert line.endswith(bundled.title(name)) and bundled.title(name), line


@pytest.mark.parametrize("name", ["conv_max_pool", "conv_max_pool.toml", "lenet_shapes"])
def test_examples_name_prints_the_spec_as_written(name, capsys):
    code, out, err = run(["examples", name], capsys)
    assert code == 0 and err == ""
    assert out == (EXAMPLES / f"{name.removesuffix('.toml')}.toml").read_text(encoding="utf-8")


def test_examples_unknown_name_suggests_the_closest(capsys):
    one_line_error(*run(["examples", "conv_max_pol"], capsys), "'conv_max_pol'", "did you mean conv_max_pool?")


def test_a_bundled_example_by_name_from_an_empty_folder(tmp_path):
    by_name = symgrad_process("derive", "conv_max_pool", "--format", "json", cwd=tmp_path)
    by_path = symgrad_process("derive", str(MAX_POOL), "--format", "json", cwd=tmp_path)
    assert by_name.returncode == 0, by_name.stderr
    assert by_name.stdout == by_path.stdout
    assert json.loads(by_name.stdout)["updated"] == {"0.weight": [[[[1.0, -0.4], [-2.2, 1.4]]]]}
    assert list(tmp_path.iterdir()) == []


@pytest.mark.torch
@pytest.mark.parametrize("command", [["check"], ["shapes"], ["derive", "--format", "markdown"]])
def test_every_spec_command_takes_an_example_name(command, capsys):
    code, out, err = run([*command, "conv_sum"], capsys)
    assert code == 0, err
    assert out


def test_a_file_of_that_name_wins_over_the_example(tmp_path, capsys, monkeypatch):
    text = MAX_POOL.read_text(encoding="utf-8").replace("target = 60", "target = 70")
    (tmp_path / "conv_max_pool").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["derive", "conv_max_pool", "--format", "json"], capsys)
    assert code == 0, err
    assert json.loads(out)["loss"] == (80 - 70) ** 2


def test_a_missing_spec_suggests_an_example(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    one_line_error(*run(["derive", "conv_max_pol"], capsys), "spec: file:", "conv_max_pol",
                   "did you mean conv_max_pool?", "symgrad examples")


# ------------------------------------------------------------------ standard input and output

def test_spec_dash_reads_standard_input(capsys, monkeypatch):
    code, out, err = run(["derive", "-", "--format", "json"], capsys, stdin=MAX_POOL.read_bytes(),
                         monkeypatch=monkeypatch)
    assert code == 0, err
    assert json.loads(out)["gradients"]["0.weight"] == [[[[200.0, 240.0], [320.0, 360.0]]]]


def test_spec_dash_in_a_real_process(tmp_path):
    done = symgrad_process("derive", "-", "--format", "json", cwd=tmp_path, stdin=MAX_POOL.read_bytes())
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["loss"] == 400.0


def test_bad_spec_on_standard_input_is_one_line(capsys, monkeypatch):
    one_line_error(*run(["derive", "-"], capsys, stdin=b"[input]\nvalues = [[1, 2]\n", monkeypatch=monkeypatch),
                   "spec: toml:")


def test_out_dash_writes_standard_output_and_no_file(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["derive", MAX_POOL, "--format", "json", "--out", "-"], capsys)
    assert code == 0 and err == ""
    assert json.loads(out)["loss"] == 400.0
    assert list(tmp_path.iterdir()) == []


def test_out_dash_latex_is_the_standalone_document(tmp_path, capsys):
    code, out, err = run(["derive", MAX_POOL, "--format", "latex", "--out", "-"], capsys)
    assert code == 0, err
    target = tmp_path / "d.tex"
    assert run(["derive", MAX_POOL, "--format", "latex", "--out", target], capsys)[0] == 0
    assert out == target.read_text(encoding="utf-8")
    assert out.startswith(r"\documentclass")


def test_emit_python_dash_goes_to_stdout_beside_an_out_file(tmp_path, capsys):
    code, out, err = run(["derive", MAX_POOL, "--out", tmp_path / "d.txt", "--emit-python", "-"], capsys)
    assert code == 0, err
    assert "import numpy as np" in out and "def evaluate" in out
    assert (tmp_path / "d.txt").read_text(encoding="utf-8").startswith("Conv -> max pool")


def test_emit_python_dash_needs_an_out_file(capsys):
    one_line_error(*run(["derive", MAX_POOL, "--emit-python", "-"], capsys), "--emit-python", "--out FILE")


@pytest.mark.parametrize("command", [["handout"], ["exercises", "--count", "2"]])
def test_handout_and_exercises_out_dash_are_standard_output(command, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plain = run(command, capsys)
    dashed = run([*command, "--out", "-"], capsys)
    assert dashed == plain and plain[0] == 0 and plain[1]
    assert list(tmp_path.iterdir()) == []


def test_a_closed_pipe_ends_quietly(tmp_path):
    """`symgrad examples | head -1`: the reader leaves before symgrad writes; no traceback."""
    child = subprocess.Popen([sys.executable, "-m", "symgrad", "examples", "lenet"], cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()  # long before the child has imported symgrad
    _, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert err == b""


# ------------------------------------------------------------------ --wrt before or after the spec

@pytest.mark.parametrize("argv", [
    ["derive", "--wrt", "0.weight", MAX_POOL, "--format", "json"],
    ["derive", MAX_POOL, "--wrt", "0.weight", "--format", "json"],
    ["derive", "--format", "json", "--wrt", "0.weight", "--", MAX_POOL],
])
def test_wrt_before_or_after_the_spec(argv, capsys):
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert set(json.loads(out)["gradients"]) == {"0.weight"}


def test_several_wrt_names_before_the_spec(capsys):
    code, out, err = run(["derive", "--wrt", "input", "0.weight", MAX_POOL, "--format", "json"], capsys)
    assert code == 0, err
    assert set(json.loads(out)["gradients"]) == {"0.weight", "input"}


def test_wrt_given_twice_adds_up(capsys):
    code, out, err = run(["derive", MAX_POOL, "--wrt", "input", "--wrt", "0.weight", "--format", "json"], capsys)
    assert code == 0, err
    assert set(json.loads(out)["gradients"]) == {"0.weight", "input"}


def test_wrt_without_a_spec(capsys):
    one_line_error(*run(["derive", "--wrt", "0.weight"], capsys), "derive: ", "spec")


# ------------------------------------------------------------------ one prefix, did you mean

@pytest.mark.parametrize("argv,needles", [
    (["deriv", "x"], ["unknown command 'deriv'", "did you mean derive?"]),
    (["derive", MAX_POOL, "--fromat", "json"], ["derive: unrecognized arguments: --fromat", "did you mean --format?"]),
    (["derive", MAX_POOL, "--format", "jsn"], ["derive: argument --format", "did you mean json?"]),
    (["handout", "--lang", "zn"], ["handout: argument --lang", "did you mean zh?"]),
    (["check", MAX_POOL, "--sede", "3"], ["check: unrecognized arguments", "did you mean --seed?"]),
    (["derive"], ["derive: the following arguments are required: spec"]),
    ([], ["the following arguments are required: command"]),
])
def test_usage_errors_have_one_prefix_and_a_suggestion(argv, needles, capsys):
    one_line_error(*run(argv, capsys), *needles)


def _spec_with(tmp_path, old: str, new: str) -> Path:
    text = MAX_POOL.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "spec.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize("old,new,needles", [
    ('type = "MaxPool2d"', 'type = "MaxPool2D"', ["layers[1]: type:", "did you mean MaxPool2d?"]),
    ('type = "Conv2d"', 'type = "conv2d"', ["layers[0]: type:", "did you mean Conv2d?"]),
    ("kernel_size = 2\nbias", "kernel_sise = 2\nbias", ["layers[0] Conv2d: kernel_sise:", "did you mean kernel_size?"]),
    ('type = "MSELoss"', 'type = "MSELos"', ["loss: type:", "did you mean MSELoss?"]),
    ('type = "SGD"', 'type = "SDG"', ["optimizer: type:", "did you mean SGD?"]),
    ("lr = 0.01", "lr = 0.01\nmomentun = 0.9", ["optimizer SGD: momentun:", "did you mean momentum?"]),
    ("[input]", "[inputs]", ["spec: inputs:", "did you mean input?"]),
    ("values = [[1", "value = [[1", ["input: value:", "did you mean values?"]),
    ("target = 60", "targets = 60", ["loss MSELoss: targets:", "did you mean target?"]),
])
def test_spec_typos_get_a_did_you_mean(old, new, needles, tmp_path, capsys):
    one_line_error(*run(["derive", _spec_with(tmp_path, old, new)], capsys), *needles)


def test_no_suggestion_when_nothing_is_close(tmp_path, capsys):
    code, out, err = run(["derive", _spec_with(tmp_path, 'type = "MaxPool2d"', 'type = "Zebra"')], capsys)
    one_line_error(code, out, err, "unknown layer 'Zebra'")
    assert "did you mean" not in err


# ------------------------------------------------------------------ check on many symbols

@pytest.mark.torch
def test_check_shows_a_few_symbol_values_and_counts_the_rest(tmp_path, capsys):
    spec = tmp_path / "many.toml"
    spec.write_text('[input]\nshape = [1, 1, 12, 12]\n[[layers]]\ntype = "Conv2d"\nin_channels = 1\n'
                    'out_channels = 1\nkernel_size = 3\n[[layers]]\ntype = "Sum"\n', encoding="utf-8")
    code, out, err = run(["check", spec], capsys)
    assert code == 0, err
    line = next(line for line in out.splitlines() if line.startswith("symbols had no values"))
    assert len(line) < 200, line
    assert line.endswith(f"... and {144 + 9 + 1 - 8:,} more")  # 12x12 inputs, 3x3 kernel, a bias
    assert line.count("=") == 8
