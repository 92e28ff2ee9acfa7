"""Make torch unimportable, for `pytest -m "not torch"` as on a machine without torch.

Put this folder first on PYTHONPATH: Python imports `sitecustomize` at start-up, in the
process and in every Python subprocess that inherits the environment (the CLI tests run
`python -m symgrad`), and from then on `import torch` (or any `torch.*`) raises
ModuleNotFoundError, as it does where torch is not installed. tests/package/test_without_torch.py
runs the symbolic suite this way. (It shadows any other sitecustomize, which
the machines here do not have.)
"""

import importlib.abc
import sys

BLOCKED = ("torch", "torchvision", "functorch")


class _NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".", 1)[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by tests/support/no_torch)", name=name)
        return None


sys.meta_path.insert(0, _NoTorch())
