"""Where the tests find the tree: one root for every test folder, whatever its depth."""

from pathlib import Path

SUPPORT = Path(__file__).resolve().parent
TESTS = SUPPORT.parent
ROOT = TESTS.parent
EXAMPLES = ROOT / "symgrad" / "examples"
BAD_SPECS = SUPPORT / "bad_specs"
NO_TORCH = SUPPORT / "no_torch"
