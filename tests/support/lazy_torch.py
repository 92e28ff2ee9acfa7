"""torch, imported when a test first uses it, not when pytest collects the file.

`from lazy_torch import torch, F` stands for `import torch` / `import torch.nn.functional
as F` at the top of a test file: pytest can then collect every file on a machine without
torch (`pytest -m "not torch"`), and a test that does use torch (it must be marked
`torch`) fails loudly with ModuleNotFoundError there instead of being skipped. The module
is looked up on every access (a sys.modules hit), so tests/conftest.py can make torch
unimportable while an unmarked test runs.
"""

from __future__ import annotations

import importlib


class LazyModule:
    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        if attr.startswith("__") and attr.endswith("__"):  # introspection (pytest, hypothesis) must not import
            raise AttributeError(attr)
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


torch = LazyModule("torch")
nn = LazyModule("torch.nn")
F = LazyModule("torch.nn.functional")
torch_func = LazyModule("torch.func")
