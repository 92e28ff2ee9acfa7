"""Hypothesis profiles for the property and fuzz tests (docs/guarantees.md).

- "ci" (default): a fixed number of examples per test, derandomized so every CI run
  checks the same examples, and no example database written to disk.
- "nightly": 20000 examples per test, a fresh random seed each run and the usual
  example database (a failure found once is replayed first next time).
  Run with: HYPOTHESIS_PROFILE=nightly python -m pytest tests/test_properties.py tests/test_fuzz.py
- "dev": a handful of examples, for a quick local run.
"""

import os

from hypothesis import HealthCheck, settings

_COMMON = dict(deadline=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
settings.register_profile("ci", max_examples=400, derandomize=True, database=None, **_COMMON)
settings.register_profile("nightly", max_examples=20000, derandomize=False, **_COMMON)
settings.register_profile("dev", max_examples=20, derandomize=False, database=None, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
