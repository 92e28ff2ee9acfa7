"""Writing output files atomically: a failed or interrupted run leaves the old file intact."""

from __future__ import annotations

import os
import tempfile

from .errors import OptionError


def check_target(out: str, protected: list[str], option: str = "--out") -> None:
    """Refuse to write over a directory or over an input (the spec file); errors name `option`."""
    if os.path.isdir(out):
        raise OptionError("output", option, f"{out} is a directory")
    for path in protected:
        if os.path.exists(out) and os.path.samefile(out, path):
            raise OptionError("output", option, f"{out} is the spec file; refusing to overwrite it")
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise OptionError("output", option, f"directory {parent} does not exist")


def write_atomic(out: str, text: str) -> None:
    """Write to a temporary file beside `out`, then rename it over `out`."""
    parent = os.path.dirname(os.path.abspath(out))
    handle, temporary = tempfile.mkstemp(prefix=".symgrad-", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(temporary, out)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
