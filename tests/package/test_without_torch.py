"""`pytest -m "not torch"` works where torch is not installed (docs/guarantees.md, "Without torch").

Torch is made unimportable in a child pytest by tests/support/no_torch/sitecustomize.py (first on
PYTHONPATH, so also in the child's own subprocesses). The child collects the whole tree
and runs the unmarked tests of a few files that mix marked and unmarked tests; a
torch-marked test, when selected there, fails loudly rather than being skipped. The
guard of tests/conftest.py, which hides torch from every unmarked test of every run, is
checked on a small file of its own.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from paths import NO_TORCH, ROOT, TESTS

# Files that mix torch-marked and unmarked tests, chosen to be quick (about 30 s together
# on 2 cores): the CLI, the API's hostile inputs, torch-style validation, shapes, parity.
SUBSET = ["cli/test_cli.py", "engine/test_api_hostile.py", "ops/test_validation.py", "printing/test_shapes.py",
          "ops/test_torch_parity.py", "verify/test_from_torch.py", "engine/test_hessian.py",
          "engine/test_backward_passes.py"]


def _env(without_torch: bool) -> dict:
    env = dict(os.environ)
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and Path(p).resolve() != NO_TORCH]
    if without_torch:
        parts.insert(0, str(NO_TORCH))
    env["PYTHONPATH"] = os.pathsep.join(parts)
    env.pop("PYTEST_ADDOPTS", None)
    return env


def _pytest(args, cwd=ROOT, without_torch=True, timeout=600):
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=cwd,
                          env=_env(without_torch), capture_output=True, text=True, timeout=timeout)


def _counts(summary: str) -> dict:
    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|errors?|deselected|skipped|selected)",
                                                  summary)}


def test_the_blocker_makes_torch_unimportable():
    run = subprocess.run([sys.executable, "-c", "import torch"], env=_env(True), capture_output=True, text=True)
    assert run.returncode != 0 and "No module named 'torch' (blocked by tests/support/no_torch)" in run.stderr


def test_every_test_file_is_collected_without_torch():
    run = _pytest(["--collect-only", "-m", "not torch", "tests"])
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    last = run.stdout.strip().splitlines()[-1]
    found = re.search(r"(\d+)/(\d+) tests collected \((\d+) deselected\)", last)
    assert found and "error" not in last, last
    selected, total, deselected = map(int, found.groups())
    assert selected > 900 and deselected > 300 and selected + deselected == total, last


def test_unmarked_tests_pass_without_torch():
    run = _pytest(["-m", "not torch", "-x", *[f"tests/{name}" for name in SUBSET]])
    last = run.stdout.strip().splitlines()[-1]
    counts = _counts(last)
    assert run.returncode == 0 and counts.get("failed", 0) == 0 and counts.get("passed", 0) > 150, \
        run.stdout[-4000:] + run.stderr[-2000:]
    assert counts.get("deselected", 0) > 100, last  # the marked tests were there, and left out


def test_a_selected_torch_test_fails_loudly_without_torch():
    run = _pytest(["-m", "torch", "tests/verify/test_from_torch.py::test_weights_as_symbols"])
    assert run.returncode == 1 and "1 failed" in run.stdout and "blocked by tests/support/no_torch" in run.stdout, run.stdout


def test_an_unmarked_test_that_imports_torch_fails_where_torch_is_installed(tmp_path):
    # The conftest.py guard, in a folder of its own: torch is installed in the child.
    shutil.copy(TESTS / "conftest.py", tmp_path / "conftest.py")
    shutil.copytree(NO_TORCH, tmp_path / "support" / "no_torch")
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    torch: needs torch\naddopts = --strict-markers\n")
    (tmp_path / "test_guard.py").write_text(
        "import subprocess, sys\n"
        "import pytest\n\n"
        "@pytest.mark.torch\n"
        "def test_marked():\n"
        "    import torch\n"
        "    assert torch.ones(1).item() == 1\n\n"
        "def test_unmarked_in_process():\n"
        "    import torch.nn\n\n"
        "def test_unmarked_in_a_subprocess():\n"
        "    subprocess.run([sys.executable, '-c', 'import torch'], check=True)\n\n"
        "@pytest.mark.torch\n"
        "def test_marked_again_after_the_unmarked_ones():\n"
        "    import torch.nn.functional as F\n"
        "    assert F.relu(__import__('torch').ones(1)).item() == 1\n\n"
        "def test_unmarked_without_torch():\n"
        "    assert True\n")
    run = _pytest(["-rf", "test_guard.py"], cwd=tmp_path, without_torch=False, timeout=300)
    assert "2 failed, 3 passed" in run.stdout, run.stdout + run.stderr
    assert "FAILED test_guard.py::test_unmarked_in_process" in run.stdout
    assert "FAILED test_guard.py::test_unmarked_in_a_subprocess" in run.stdout
    assert "in a test not marked `torch`" in run.stdout
