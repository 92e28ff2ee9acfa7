"""Shared test setup: the helpers' folder on sys.path, Hypothesis profiles, torch marks kept honest.

Test files sit in folders mirroring the package (docs/architecture.md, "Where a test goes");
the helpers they share (lazy_torch, twins, random_nets, answer_key, gallery, npz_headers,
paths) are in tests/support/, importable by name from any folder (`from paths import ROOT`).
Test files have no __init__.py, so their basenames must be unique across the tree.

Hypothesis profiles for the property and fuzz tests (docs/guarantees.md):

- "ci" (default): a fixed number of examples per test, derandomized so every CI run
  checks the same examples, and no example database written to disk.
- "nightly": 20000 examples per test, a fresh random seed each run and the usual
  example database (a failure found once is replayed first next time).
  Run with: HYPOTHESIS_PROFILE=nightly python -m pytest tests/engine/test_properties.py tests/cli/test_fuzz.py
- "dev": a handful of examples, for a quick local run.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))

from hypothesis import HealthCheck, settings

_COMMON = dict(deadline=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
settings.register_profile("ci", max_examples=400, derandomize=True, database=None, **_COMMON)
settings.register_profile("nightly", max_examples=20000, derandomize=False, **_COMMON)
settings.register_profile("dev", max_examples=20, derandomize=False, database=None, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# ------------------------------------------------------------------ tests that need torch
# A test that needs torch (it imports it, calls symgrad.verify / from_torch / `symgrad
# check`, or uses a helper that does) is marked `torch`; `pytest -m "not torch"` runs the
# rest on a machine without torch (docs/guarantees.md, "Without torch"). Two guards keep
# the marks honest on a machine WITH torch, so an unmarked torch test fails in every run:
# - collecting the tests must not import torch (test files use tests/support/lazy_torch.py);
# - while an unmarked test runs (setup, call, teardown), torch is unimportable in the
#   process (its modules are hidden and a finder refuses them) and in Python
#   subprocesses (tests/support/no_torch/sitecustomize.py is put first on PYTHONPATH).
# tests/package/test_without_torch.py runs the unmarked tests where torch is not installed at all.

import pytest

NO_TORCH = Path(__file__).resolve().parent / "support" / "no_torch"
_TORCH = ("torch", "torchvision", "functorch")


def _is_torch(name: str) -> bool:
    return name.split(".", 1)[0] in _TORCH


class _TorchNotMarked:
    """A meta path finder: `import torch` fails, naming the missing mark."""

    def find_spec(self, name, path=None, target=None):
        if _is_torch(name):
            raise ModuleNotFoundError(
                f"import of {name!r} in a test not marked `torch`: mark it @pytest.mark.torch "
                "(tests/conftest.py hides torch from unmarked tests)", name=name)
        return None


_torch_at_start = False


def pytest_configure(config):
    global _torch_at_start
    _torch_at_start = "torch" in sys.modules


def pytest_collection_finish(session):
    if "torch" in sys.modules and not _torch_at_start:
        raise pytest.UsageError("collecting the tests imported torch: import it lazily "
                                "(from lazy_torch import torch) so that `pytest -m \"not torch\"` "
                                "collects without torch")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if item.get_closest_marker("torch") is not None:
        yield
        return
    hidden = {name: module for name, module in sys.modules.items() if _is_torch(name)}
    for name in hidden:
        del sys.modules[name]
    finder = _TorchNotMarked()
    sys.meta_path.insert(0, finder)
    pythonpath = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(NO_TORCH)] + ([pythonpath] if pythonpath else []))
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        for name in [name for name in sys.modules if _is_torch(name)]:
            del sys.modules[name]
        sys.modules.update(hidden)
        if pythonpath is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = pythonpath
