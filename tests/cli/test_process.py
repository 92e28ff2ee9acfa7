"""The `symgrad` command as a whole process (symgrad/cli/process.py): one BLAS thread by default, a quick
exit that loses no output, and a package import that leaves NumPy for later."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from symgrad.cli import process
from symgrad.cli.commands import main

from paths import EXAMPLES, ROOT

MAX_POOL = str(EXAMPLES / "conv_max_pool.toml")


@pytest.fixture(autouse=True)
def in_process_again(monkeypatch):
    """process.run() marks this process as one that ends after the command (commands.ONE_SHOT) and freezes
    what it derives out of the garbage collector: both undone after each test here, which goes on."""
    import gc

    monkeypatch.setattr("symgrad.cli.commands.ONE_SHOT", False)
    yield
    gc.unfreeze()


def _symgrad(*args, env=None):
    return subprocess.run([sys.executable, "-m", "symgrad", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=300)


def test_importing_the_package_leaves_numpy_unloaded_until_a_name_is_used():
    code = ("import sys, symgrad\n"
            "assert 'numpy' not in sys.modules, 'numpy loaded with the package'\n"
            "import symgrad.derive\n"  # the submodule first: symgrad.derive must stay the function
            "assert callable(symgrad.derive) and symgrad.derive.__name__ == 'derive'\n"
            "assert symgrad.from_torch.__name__ == 'from_torch'\n"
            "from symgrad import Conv2d, SGD, symbolic, Sequential\n"
            "assert 'numpy' in sys.modules\n"
            "assert {'derive', 'Conv2d', 'SGD', 'MSELoss'} <= set(symgrad.__all__)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr


def test_a_large_output_arrives_whole_through_a_pipe(tmp_path, capsys):
    """os._exit skips the interpreter's flushing: run() flushes first. 10x10 max pool text in full is about 1 MB."""
    spec = tmp_path / "s.toml"
    spec.write_text('[input]\nshape = [1, 1, 10, 10]\nsymbol = "x"\n\n[[layers]]\ntype = "Conv2d"\nin_channels = 1\n'
                    'out_channels = 1\nkernel_size = 3\nbias = false\n\n[[layers]]\ntype = "MaxPool2d"\n'
                    'kernel_size = 2\n\n[loss]\ntype = "MSELoss"\ntarget = 1\n')
    assert main(["derive", str(spec), "--format", "text", "--full"]) == 0
    expected = capsys.readouterr().out
    assert len(expected) > 500_000
    result = _symgrad("derive", str(spec), "--format", "text", "--full")
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected


def test_json_on_stdout_and_into_a_file_are_complete(tmp_path):
    result = _symgrad("derive", MAX_POOL, "--format", "json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["gradients"]["0.weight"] == [[[[200.0, 240.0], [320.0, 360.0]]]]
    out = tmp_path / "o.json"
    result = _symgrad("derive", MAX_POOL, "--format", "json", "--out", str(out))
    assert result.returncode == 0 and result.stdout == ""
    assert json.loads(out.read_text())["loss"] == 400.0


def test_bad_input_still_exits_2_with_one_line(tmp_path):
    spec = tmp_path / "bad.toml"
    spec.write_text('[input]\nshape = [1, 1, 3, 3]\n\n[[layers]]\ntype = "MaxPool2d"\nkernel_size = 0\n')
    result = _symgrad("derive", str(spec))
    assert result.returncode == 2
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("given", [None, "3"])
def test_run_sets_one_blas_thread_unless_the_user_chose(monkeypatch, capsys, given):
    for variable in process.BLAS_THREADS:  # set first, so that monkeypatch restores the test's own environment
        monkeypatch.setenv(variable, "unset")
        monkeypatch.delenv(variable)
    if given:
        monkeypatch.setenv("OPENBLAS_NUM_THREADS", given)
    exits = []
    monkeypatch.setattr(os, "_exit", exits.append)
    monkeypatch.setattr(sys, "argv", ["symgrad", "derive", MAX_POOL, "--format", "json"])
    process.run()
    assert exits == [0]
    assert json.loads(capsys.readouterr().out)["loss"] == 400.0
    assert os.environ["OPENBLAS_NUM_THREADS"] == (given or "1")
    assert os.environ["OMP_NUM_THREADS"] == "1"


def test_serve_ends_the_ordinary_way(monkeypatch):
    """serve runs servers and worker processes: no os._exit under them."""
    monkeypatch.setattr(os, "_exit", lambda code: pytest.fail("os._exit after serve"))
    monkeypatch.setattr(sys, "argv", ["symgrad", "serve", "--port", "not-a-port"])
    with pytest.raises(SystemExit) as ended:
        process.run()
    assert ended.value.code == 2


def test_only_a_one_shot_process_freezes_the_derivation(monkeypatch, capsys):
    """gc.freeze keeps what it froze for good: right before os._exit, a leak in a caller that goes on."""
    import gc

    frozen = gc.get_freeze_count()
    assert main(["derive", MAX_POOL, "--format", "json"]) == 0
    assert gc.get_freeze_count() == frozen and gc.isenabled()
    monkeypatch.setattr(os, "_exit", lambda code: None)
    monkeypatch.setattr(sys, "argv", ["symgrad", "derive", MAX_POOL, "--format", "json"])
    process.run()
    assert gc.get_freeze_count() > frozen and gc.isenabled()
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["loss"] == 400.0
