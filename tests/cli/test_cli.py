"""The command line contract (docs/cli.md, /work/shared/contract.md): every command and option.

Most tests call `symgrad.cli.commands.main(argv)` in-process (fast); subprocesses are used
where the process matters: `python -m symgrad`, --version, hash-seed determinism,
and that deriving never imports torch.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import symgrad
from symgrad.cli.commands import main

from paths import BAD_SPECS, ROOT

EXAMPLES = ROOT / "symgrad" / "examples"
MAX_POOL = str(EXAMPLES / "conv_max_pool.toml")
BAD_SPEC = str(BAD_SPECS / "maxpool_padding_beyond_half.toml")


def run(argv, capsys):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def derive_json(capsys, spec=MAX_POOL, *extra):
    code, out, err = run(["derive", spec, "--format", "json", *extra], capsys)
    assert code == 0, err
    assert err == ""
    return json.loads(out)


def assert_usage_error(code, out, err, *needles):
    """Exit 2, nothing on stdout, exactly one stderr line "symgrad: error: ..." containing every needle."""
    assert code == 2, f"exit status {code}: {err!r}"
    assert out == ""
    assert "Traceback" not in err
    assert err.endswith("\n") and err.count("\n") == 1, f"stderr must be one line: {err!r}"
    assert err.startswith("symgrad: error: "), err
    for needle in needles:
        assert needle in err, f"{needle!r} not in {err!r}"


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.fixture
def spec_copy(tmp_path):
    """A private copy of the max-pool example."""
    path = tmp_path / "spec.toml"
    shutil.copyfile(MAX_POOL, path)
    return path


# ---------------------------------------------------------------- derive --format

def test_text_format_shows_the_numbers(capsys):
    code, out, err = run(["derive", MAX_POOL, "--format", "text"], capsys)
    assert code == 0 and err == ""
    assert out.startswith("Conv -> max pool -> MSE")
    for number in ("200", "240", "320", "360", "120", "-0.4", "-2.2", "1.4"):
        assert number in out, number
    assert "loss L = 400" in out
    assert "dL/d(0.weight)" in out and "dL/d(input)" in out


def test_text_is_the_default_format(capsys):
    assert run(["derive", MAX_POOL], capsys) == run(["derive", MAX_POOL, "--format", "text"], capsys)


def test_json_format(capsys):
    code, out, err = run(["derive", MAX_POOL, "--format", "json"], capsys)
    assert code == 0 and err == ""
    assert out.endswith("\n") and out.count("\n") == 1  # one JSON object on one line
    document = json.loads(out)
    assert {"output", "loss", "gradients", "updated"} <= set(document)
    assert document["output"] == [[[[80.0]]]]
    assert document["loss"] == 400.0
    assert document["gradients"]["0.weight"] == [[[[200.0, 240.0], [320.0, 360.0]]]]
    assert document["gradients"]["input"] == [[[[0, 0, 0], [0, 120, 80], [0, 40, 200]]]]
    assert document["updated"] == {"0.weight": [[[[1.0, -0.4], [-2.2, 1.4]]]]}


def test_json_without_an_optimizer_has_no_updated(capsys):
    document = derive_json(capsys, str(EXAMPLES / "pool_d2l_k3.toml"))
    assert "updated" not in document
    assert document["output"] == [[[[10.0]]]]


def test_json_symbolic_entries_are_strings(capsys):
    document = derive_json(capsys, str(EXAMPLES / "conv_symbolic.toml"))
    assert isinstance(document["loss"], str) and "Max(" in document["loss"]
    assert all(isinstance(v, str) for row in document["updated"]["0.weight"][0][0] for v in row)


def test_latex_fragment(capsys):
    code, out, err = run(["derive", MAX_POOL, "--format", "latex"], capsys)
    assert code == 0 and err == ""
    assert r"\begin{bmatrix}" in out and r"\end{bmatrix}" in out
    assert r"\documentclass" not in out and r"\begin{document}" not in out
    assert r"200 & 240 \\ 320 & 360" in out
    assert out.count(r"\begin{equation*}") == out.count(r"\end{equation*}") > 0


def test_latex_out_is_a_standalone_document(tmp_path, capsys):
    out_file = tmp_path / "derivation.tex"
    code, out, err = run(["derive", MAX_POOL, "--format", "latex", "--out", out_file], capsys)
    assert code == 0 and out == "" and err == ""
    document = out_file.read_text(encoding="utf-8")
    assert document.startswith(r"\documentclass")
    assert r"\begin{document}" in document and document.endswith("\\end{document}\n")
    assert r"\begin{bmatrix}" in document and r"200 & 240 \\ 320 & 360" in document
    assert r"\section*{Conv -> max pool -> MSE" in document
    assert files_in(tmp_path) == ["derivation.tex"]  # no temporary file left beside it


def test_latex_title_is_escaped(tmp_path, capsys):
    spec = tmp_path / "title.toml"
    text = (EXAMPLES / "conv_sum.toml").read_text(encoding="utf-8").split("\n", 1)[1]
    spec.write_text('title = "50% & $x_1$ {a} #2 ~^ \\\\input{/etc/passwd}"\n' + text, encoding="utf-8")
    out_file = tmp_path / "title.tex"
    code, out, err = run(["derive", spec, "--format", "latex", "--out", out_file], capsys)
    assert code == 0, err
    section = next(line for line in out_file.read_text(encoding="utf-8").splitlines() if "section*" in line)
    assert section == (r"\section*{50\% \& \$x\_1\$ \{a\} \#2 \textasciitilde{}\textasciicircum{} "
                       r"\textbackslash{}input\{/etc/passwd\}}")


@pytest.mark.parametrize("lr,wrong", [("1.4142135623730951", r"\sqrt"), ("0.30000000000000004", r"\frac{3}{10}")])
def test_latex_shows_the_learning_rate_that_was_used(lr, wrong, tmp_path, capsys):
    """The SGD line must show the lr the step used (exact), not a 'nicer' number SymPy guesses for it."""
    spec = tmp_path / "lr.toml"
    spec.write_text((EXAMPLES / "conv_sum.toml").read_text(encoding="utf-8").replace("lr = 0.01", f"lr = {lr}"),
                    encoding="utf-8")
    code, out, err = run(["derive", spec, "--format", "latex"], capsys)
    assert code == 0, err
    step = next(line for line in out.splitlines() if r"\leftarrow" in line)
    assert wrong not in step, step


def test_markdown_format(capsys):
    code, out, err = run(["derive", MAX_POOL, "--format", "markdown"], capsys)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "# Conv -> max pool -> MSE (深度学习面试题31: 最大值池化)"
    fences = [i for i, line in enumerate(lines) if line == "$$"]
    assert fences and len(fences) % 2 == 0
    blocks = ["\n".join(lines[a + 1:b]) for a, b in zip(fences[::2], fences[1::2])]
    assert any(r"\begin{bmatrix}" in block and "200 & 240" in block for block in blocks)
    assert r"\documentclass" not in out


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_out_file_holds_what_stdout_shows(fmt, tmp_path, capsys):
    _, shown, _ = run(["derive", MAX_POOL, "--format", fmt], capsys)
    out_file = tmp_path / f"out.{fmt}"
    code, out, err = run(["derive", MAX_POOL, "--format", fmt, "--out", out_file], capsys)
    assert code == 0 and out == "" and err == ""
    assert out_file.read_bytes() == shown.encode("utf-8")


def test_out_replaces_an_existing_file(tmp_path, capsys):
    out_file = tmp_path / "out.json"
    out_file.write_text("old\n")
    code, _, err = run(["derive", MAX_POOL, "--format", "json", "--out", out_file], capsys)
    assert code == 0, err
    assert json.loads(out_file.read_text())["loss"] == 400.0
    assert files_in(tmp_path) == ["out.json"]


# ---------------------------------------------------------------- derive --wrt

def test_wrt_keeps_only_the_named_gradients(capsys):
    weight_only = derive_json(capsys, MAX_POOL, "--wrt", "0.weight")
    assert list(weight_only["gradients"]) == ["0.weight"]
    assert list(weight_only["updated"]) == ["0.weight"]
    assert weight_only["gradients"]["0.weight"] == [[[[200.0, 240.0], [320.0, 360.0]]]]

    input_only = derive_json(capsys, MAX_POOL, "--wrt", "input")
    assert list(input_only["gradients"]) == ["input"]
    assert input_only["updated"] == {}

    both = derive_json(capsys, MAX_POOL, "--wrt", "input", "0.weight")
    assert set(both["gradients"]) == {"input", "0.weight"}
    assert both["gradients"] == derive_json(capsys, MAX_POOL)["gradients"]


def test_wrt_in_text_and_latex(capsys):
    _, text, _ = run(["derive", MAX_POOL, "--wrt", "input"], capsys)
    assert "dL/d(input)" in text and "dL/d(0.weight)" not in text
    _, latex, _ = run(["derive", MAX_POOL, "--format", "latex", "--wrt", "input"], capsys)
    assert r"\frac{\partial L}{\partial X}" in latex
    assert r"\frac{\partial L}{\partial K^{[0]}} =" not in latex


@pytest.mark.parametrize("name", ["weight", "1.weight", "0.bias", "x", "__import__('os')"])
def test_unknown_wrt_name_is_a_usage_error(name, tmp_path, capsys):
    out_file = tmp_path / "out.json"
    code, out, err = run(["derive", MAX_POOL, "--format", "json", "--wrt", "input", name, "--out", out_file], capsys)
    assert_usage_error(code, out, err, "--wrt", repr(name))
    assert files_in(tmp_path) == []


# ---------------------------------------------------------------- derive --method

@pytest.mark.parametrize("name", ["conv_sum", "conv_avg_pool", "conv_max_pool", "pool_d2l_rect"])
def test_method_diff_gives_the_same_numbers(name, capsys):
    """Tie-free examples: sympy.diff of the whole loss equals the backprop rules."""
    spec = str(EXAMPLES / f"{name}.toml")
    rules = derive_json(capsys, spec, "--method", "rules")
    diff = derive_json(capsys, spec, "--method", "diff")
    for key in ("output", "loss", "gradients", "updated", "parameters"):
        assert diff.get(key) == rules.get(key), key
    assert rules == derive_json(capsys, spec)  # rules is the default


def test_method_diff_on_a_symbolic_spec(capsys):
    rules = derive_json(capsys, str(EXAMPLES / "avg_pool_backward.toml"), "--method", "rules")
    diff = derive_json(capsys, str(EXAMPLES / "avg_pool_backward.toml"), "--method", "diff")
    assert diff["gradients"] == rules["gradients"]
    assert diff["output"] == rules["output"]


def test_method_diff_prints_in_every_format(capsys):
    for fmt in ("text", "latex", "markdown"):
        code, out, err = run(["derive", EXAMPLES / "conv_sum.toml", "--format", fmt, "--method", "diff"], capsys)
        assert code == 0 and err == "" and "112" in out


# ---------------------------------------------------------------- derive --out safety

def test_out_equal_to_the_spec_is_refused(spec_copy, capsys):
    before = spec_copy.read_bytes()
    spellings = [spec_copy, spec_copy.parent / "." / spec_copy.name,
                 spec_copy.parent / ".." / spec_copy.parent.name / spec_copy.name]
    link = spec_copy.parent / "link.toml"
    link.symlink_to(spec_copy)
    spellings.append(link)
    for spelling in spellings:
        for fmt in ("json", "latex"):
            code, out, err = run(["derive", spec_copy, "--format", fmt, "--out", spelling], capsys)
            assert_usage_error(code, out, err, "--out")
            assert spec_copy.read_bytes() == before
    assert files_in(spec_copy.parent) == ["link.toml", "spec.toml"]


def test_out_that_is_the_spec_through_cwd_is_refused(spec_copy, capsys, monkeypatch):
    monkeypatch.chdir(spec_copy.parent)
    before = spec_copy.read_bytes()
    code, out, err = run(["derive", "spec.toml", "--out", str(spec_copy)], capsys)
    assert_usage_error(code, out, err, "--out")
    assert spec_copy.read_bytes() == before


def test_out_a_directory_is_refused(tmp_path, capsys):
    target = tmp_path / "results"
    target.mkdir()
    code, out, err = run(["derive", MAX_POOL, "--format", "json", "--out", target], capsys)
    assert_usage_error(code, out, err, "--out")
    assert files_in(target) == [] and files_in(tmp_path) == ["results"]


def test_out_in_a_missing_directory_is_refused(tmp_path, capsys):
    code, out, err = run(["derive", MAX_POOL, "--out", tmp_path / "no" / "such" / "out.txt"], capsys)
    assert_usage_error(code, out, err, "--out")
    assert files_in(tmp_path) == []


def test_existing_out_file_is_left_intact_when_the_spec_is_bad(tmp_path, capsys):
    out_file = tmp_path / "out.tex"
    out_file.write_bytes(b"previous result\n")
    for fmt in ("text", "json", "latex", "markdown"):
        code, out, err = run(["derive", BAD_SPEC, "--format", fmt, "--out", out_file], capsys)
        assert_usage_error(code, out, err, "layers[1] MaxPool2d", "padding")
        assert out_file.read_bytes() == b"previous result\n"
    code, out, err = run(["derive", MAX_POOL, "--wrt", "nope", "--out", out_file], capsys)
    assert_usage_error(code, out, err, "--wrt")
    assert out_file.read_bytes() == b"previous result\n"
    assert files_in(tmp_path) == ["out.tex"]


def test_existing_out_file_is_left_intact_when_the_spec_is_missing(tmp_path, capsys):
    out_file = tmp_path / "out.json"
    out_file.write_bytes(b"previous result\n")
    code, out, err = run(["derive", tmp_path / "missing.toml", "--format", "json", "--out", out_file], capsys)
    assert_usage_error(code, out, err, "missing.toml")
    assert out_file.read_bytes() == b"previous result\n"
    assert files_in(tmp_path) == ["out.json"]


def test_out_that_cannot_be_written_is_a_usage_error(tmp_path, capsys):
    """A file name the file system refuses (too long) must be exit 2 naming --out, not an internal error."""
    out_file = tmp_path / ("x" * 300 + ".json")
    code, out, err = run(["derive", MAX_POOL, "--format", "json", "--out", out_file], capsys)
    assert_usage_error(code, out, err, "--out")
    assert files_in(tmp_path) == []


# ---------------------------------------------------------------- check

def _table_rows(out: str) -> list[list[str]]:
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("quantity"))
    assert "max |symgrad - torch|" in lines[header] and lines[header].endswith("status")
    return [line.split() for line in lines[header + 1:-1]]


@pytest.mark.torch
def test_check_a_good_spec(capsys):
    code, out, err = run(["check", MAX_POOL], capsys)
    assert code == 0 and err == ""
    rows = _table_rows(out)
    assert [row[0] for row in rows] == ["output", "loss", "dL/d0.weight", "dL/dinput", "updated"]
    assert all(row[-1] == "ok" for row in rows)
    assert out.splitlines()[-1] == "5 of 5 quantities agree with torch autograd (float64)"


def _perturbed_reference(monkeypatch, amount):
    """torch's reference answer with `amount` added to its output: an honest, detectable mismatch."""
    import symgrad.verify

    real = symgrad.verify.torch_reference

    def perturbed(derivation, numbers):
        result = real(derivation, numbers)
        result["output"] = result["output"] + amount
        return result

    monkeypatch.setattr(symgrad.verify, "torch_reference", perturbed)


@pytest.mark.torch
def test_check_exits_1_on_a_mismatch(monkeypatch, capsys):
    _perturbed_reference(monkeypatch, 0.5)
    code, out, err = run(["check", MAX_POOL], capsys)
    assert code == 1, out + err
    rows = {row[0]: row for row in _table_rows(out)}
    assert rows["output"][2:] == ["MISMATCH", "(beyond", "the", "tolerance)"] and float(rows["output"][1]) == 0.5
    assert rows["loss"][-1] == "ok"
    assert out.splitlines()[-1] == "4 of 5 quantities agree with torch autograd (float64)"


@pytest.mark.torch
def test_check_tolerance(monkeypatch, capsys):
    _perturbed_reference(monkeypatch, 1e-6)
    assert run(["check", MAX_POOL], capsys)[0] == 1  # default 1e-9
    code, out, _ = run(["check", MAX_POOL, "--tolerance", "1e-3"], capsys)
    assert code == 0 and "MISMATCH" not in out


@pytest.mark.parametrize("tolerance", ["-1", "nan", "abc"])
def test_check_refuses_a_meaningless_tolerance(tolerance, capsys):
    """A negative or NaN tolerance would report agreeing numbers as a mismatch (exit 1): it is bad input."""
    code, out, err = run(["check", MAX_POOL, f"--tolerance={tolerance}"], capsys)
    assert_usage_error(code, out, err, "--tolerance")


@pytest.mark.torch
def test_check_seed_gives_symbols_values(capsys):
    shown = set()
    for seed in (0, 1, 7):
        code, out, err = run(["check", EXAMPLES / "conv_symbolic.toml", "--seed", seed], capsys)
        assert code == 0 and err == "", out
        first = out.splitlines()[0]
        assert first.startswith(f"symbols had no values; checked at (seed {seed}): k_11=")
        shown.add(first.split(": ", 1)[1])
        assert all(row[-1] == "ok" for row in _table_rows(out))
    assert len(shown) == 3  # different seeds, different values


@pytest.mark.torch
def test_check_seed_is_reproducible(capsys):
    first = run(["check", EXAMPLES / "conv_symbolic.toml", "--seed", 3], capsys)
    again = run(["check", EXAMPLES / "conv_symbolic.toml", "--seed", 3], capsys)
    assert first == again and first[0] == 0


def test_check_without_torch_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    code, out, err = run(["check", MAX_POOL], capsys)
    assert_usage_error(code, out, err, "torch is not installed")


def test_check_a_bad_spec(capsys):
    assert_usage_error(*run(["check", BAD_SPEC], capsys), "layers[1] MaxPool2d", "padding")


# ---------------------------------------------------------------- usage errors

@pytest.mark.parametrize("argv,needle", [
    (["frobnicate", MAX_POOL], "frobnicate"),
    ([], "command"),
    (["derive"], "spec"),
    (["check"], "spec"),
    (["derive", MAX_POOL, "--format", "html"], "--format"),
    (["derive", MAX_POOL, "--method", "numeric"], "--method"),
    (["derive", MAX_POOL, "--wrt"], "--wrt"),
    (["derive", MAX_POOL, "--bogus"], "--bogus"),
    (["check", MAX_POOL, "--seed", "x"], "--seed"),
    (["check", MAX_POOL, "--format", "json"], "--format"),
])
def test_usage_errors(argv, needle, capsys):
    assert_usage_error(*run(argv, capsys), needle)


@pytest.mark.parametrize("command", ["derive", "check"])
def test_missing_spec_file(command, tmp_path, capsys):
    missing = tmp_path / "nowhere.toml"
    assert_usage_error(*run([command, missing], capsys), "nowhere.toml")


def test_spec_that_is_a_directory(tmp_path, capsys):
    assert_usage_error(*run(["derive", tmp_path], capsys), "spec")


def test_unknown_command_in_a_real_process():
    result = subprocess.run([sys.executable, "-m", "symgrad", "frobnicate"], capture_output=True, text=True,
                            timeout=60)
    assert_usage_error(result.returncode, result.stdout, result.stderr, "frobnicate")


def test_missing_spec_in_a_real_process(tmp_path):
    result = subprocess.run([sys.executable, "-m", "symgrad", "derive", str(tmp_path / "nowhere.toml")],
                            capture_output=True, text=True, timeout=60)
    assert_usage_error(result.returncode, result.stdout, result.stderr, "nowhere.toml")


def test_version():
    result = subprocess.run([sys.executable, "-m", "symgrad", "--version"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout == f"symgrad {symgrad.__version__}\n"
    script = shutil.which("symgrad")
    if script:  # the console script, when installed, says the same
        again = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
        assert again.returncode == 0 and again.stdout == result.stdout


def test_help_lists_the_options():
    result = subprocess.run([sys.executable, "-m", "symgrad", "derive", "--help"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0
    for option in ("--format", "--wrt", "--out", "--method"):
        assert option in result.stdout


# ---------------------------------------------------------------- process-level properties

DETERMINISM_SCRIPT = textwrap.dedent("""
    import contextlib, io, json, sys
    from symgrad.cli.commands import main
    results = {}
    for spec in sys.argv[1:]:
        for fmt in ("json", "latex", "markdown", "text"):
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                code = main(["derive", spec, "--format", fmt])
            results[spec + " " + fmt] = [code, buffer.getvalue()]
    print(json.dumps(results))
""")


def _with_hash_seed(seed: str) -> dict:
    return {**os.environ, "PYTHONHASHSEED": seed}


def test_output_is_byte_identical_across_hash_seeds(tmp_path):
    specs = [str(EXAMPLES / f"{name}.toml") for name in ("conv_symbolic", "conv_max_pool", "avg_pool_backward",
                                                         "pool_d2l_two_channels")]
    runs = []
    for seed in ("1", "4242"):
        result = subprocess.run([sys.executable, "-c", DETERMINISM_SCRIPT, *specs], capture_output=True,
                                text=True, timeout=120, env=_with_hash_seed(seed))
        assert result.returncode == 0, result.stderr
        runs.append(json.loads(result.stdout))
    assert set(runs[0]) == set(runs[1])
    for key in runs[0]:
        assert runs[0][key][0] == 0, key
        assert runs[0][key][1] == runs[1][key][1], f"{key} differs between PYTHONHASHSEED=1 and 4242"


def test_python_dash_m_output_is_byte_identical_across_hash_seeds(tmp_path):
    outputs = []
    for seed in ("0", "987654"):
        out_file = tmp_path / f"out{seed}.tex"
        result = subprocess.run([sys.executable, "-m", "symgrad", "derive", str(EXAMPLES / "conv_symbolic.toml"),
                                 "--format", "latex", "--out", str(out_file)], capture_output=True, timeout=120,
                                env=_with_hash_seed(seed))
        assert result.returncode == 0, result.stderr
        outputs.append(out_file.read_bytes())
    assert outputs[0] == outputs[1]


NO_TORCH_SCRIPT = textwrap.dedent("""
    import contextlib, io, sys

    attempts = []

    class Refuse:
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                attempts.append(name)
            return None

    sys.meta_path.insert(0, Refuse())
    from symgrad.cli.commands import main

    examples, out_dir = sys.argv[1], sys.argv[2]
    runs = []
    for name in ("conv_max_pool", "conv_symbolic", "avg_pool_backward", "pool_d2l_two_channels"):
        spec = f"{examples}/{name}.toml"
        for fmt in ("text", "json", "latex", "markdown"):
            runs.append(["derive", spec, "--format", fmt])
        runs.append(["derive", spec, "--format", "latex", "--out", f"{out_dir}/{name}.tex"])
    runs.append(["derive", f"{examples}/conv_max_pool.toml", "--method", "diff"])
    runs.append(["derive", f"{examples}/conv_max_pool.toml", "--wrt", "input"])
    for argv in runs:
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(argv) == 0, argv
    assert "torch" not in sys.modules, sorted(m for m in sys.modules if m.startswith("torch"))
    assert attempts == [], attempts
    print("no torch")
""")


def test_deriving_and_printing_never_import_torch(tmp_path):
    result = subprocess.run([sys.executable, "-c", NO_TORCH_SCRIPT, str(EXAMPLES), str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "no torch\n"


def test_json_gives_numbers_beyond_float_range_as_exact_strings(tmp_path, capsys):
    """Strict JSON has no Infinity: a loss of 1e600 is printed as its exact value in a string."""
    spec = tmp_path / "big.toml"
    spec.write_text('[input]\nvalues = [[1e300, 1]]\n[[layers]]\ntype = "Sum"\n'
                    '[loss]\ntype = "MSELoss"\ntarget = 0\n')
    assert main(["derive", str(spec), "--format", "json"]) == 0
    text = capsys.readouterr().out
    document = json.loads(text, parse_constant=lambda name: pytest.fail(f"non-standard JSON constant {name}"))
    assert isinstance(document["loss"], str) and document["loss"].startswith("1" + "0" * 10)
    assert document["output"] == 1e300


def test_exact_results_longer_than_4300_digits_still_print(tmp_path, capsys):
    """Every number must fit a float64 (10**300 does), but 14 1x1 convs by 10**300 make 10**4500, and MSELoss
    squares it: ~9000 digits, which Python's str() guard must not stop."""
    spec = tmp_path / "huge.toml"
    conv = '[[layers]]\ntype = "Conv2d"\nin_channels = 1\nout_channels = 1\nkernel_size = 1\nbias = false\n' \
           'init.weight = [[%s]]\n' % (10**300)
    spec.write_text('[input]\nvalues = [[%s]]\n%s[loss]\ntype = "MSELoss"\ntarget = 0\n' % (10**300, conv * 14))
    assert main(["derive", str(spec), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["loss"] == "1" + "0" * 9000  # (10**(300 * 15))**2
