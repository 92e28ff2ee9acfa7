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
        if _same_file(out, path):
            raise OptionError("output", option, f"{out} is the spec file; refusing to overwrite it")
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise OptionError("output", option, f"directory {parent} does not exist")


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # either does not exist (yet): not the same file
        return False


def write_atomic(out: str, text: str | bytes, option: str = "--out") -> None:
    """Write to a temporary file beside `out`, then rename it over `out` (text as UTF-8, bytes as given).

    The file gets the usual permissions (0666 less the umask), not mkstemp's private 0600.
    """
    parent = os.path.dirname(os.path.abspath(out))
    temporary = None
    try:
        handle, temporary = tempfile.mkstemp(prefix=".symgrad-", suffix=".tmp", dir=parent)
        with os.fdopen(handle, "wb") as stream:
            stream.write(text.encode("utf-8") if isinstance(text, str) else text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, out)
    except OSError as error:
        raise OptionError("output", option, f"cannot write {out}: {error.strerror or error}") from None
    finally:
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)
