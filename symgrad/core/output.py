"""Writing output files safely: regular files only, atomically, the old file intact on failure.

An `--out` that names a device, a fifo or a socket is refused before any work: the atomic
rename would replace the node itself (as root, `--out /dev/null` would replace the
system's /dev/null). A symbolic link is followed, so the file it points to is replaced
and the link stays a link.
"""

from __future__ import annotations

import os
import stat
import tempfile

from .errors import OptionError

_KINDS = {stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device", stat.S_IFIFO: "a fifo",
          stat.S_IFSOCK: "a socket"}


def check_target(out: str, protected: list[str], option: str = "--out") -> None:
    """Refuse a directory, anything but a regular file, an input (the spec), a missing folder."""
    if os.path.isdir(out):
        raise OptionError("output", option, f"{out} is a directory")
    try:
        mode = os.stat(out).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as error:
        raise OptionError("output", option, f"cannot write {out}: {error.strerror or error}") from None
    if mode is not None and not stat.S_ISREG(mode):
        kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
        raise OptionError("output", option, f"{out} is {kind}; symgrad writes regular files only "
                                            "(use - for standard output)")
    for path in protected:
        if _same_file(out, path):
            raise OptionError("output", option, f"{out} is the spec file; refusing to overwrite it")
    parent = os.path.dirname(_target(out))
    if not os.path.isdir(parent):
        raise OptionError("output", option, f"directory {parent} does not exist")


def _target(out: str) -> str:
    """The path that is replaced: a link's target, so the link survives."""
    return os.path.realpath(out) if os.path.islink(out) else os.path.abspath(out)


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # either does not exist (yet): not the same file
        return False


def write_atomic(out: str, text: str | bytes, option: str = "--out") -> None:
    """Write to a temporary file beside `out`, flush it to disk, then rename it over `out`.

    Text is written as UTF-8, bytes as given. A full disk (ENOSPC), a file size limit or
    any other write error is an OptionError naming `out`; the old file stays as it was.
    The file gets the usual permissions (0666 less the umask), not mkstemp's private 0600.
    """
    check_target(out, [], option)  # it may have become a device since the first check
    target = _target(out)
    temporary = None
    try:
        handle, temporary = tempfile.mkstemp(prefix=".symgrad-", suffix=".tmp", dir=os.path.dirname(target))
        with os.fdopen(handle, "wb") as stream:
            stream.write(text.encode("utf-8") if isinstance(text, str) else text)
            stream.flush()
            os.fsync(stream.fileno())  # ENOSPC on delayed allocation shows here, before the rename
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, target)
        temporary = None
    except OSError as error:
        raise OptionError("output", option, f"cannot write {out}: {error.strerror or error}") from None
    finally:
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)
