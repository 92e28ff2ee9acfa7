"""Output files (docs/guarantees.md "Output files"): regular files only, the old file intact.

`--out` onto a device node, a fifo or a socket is refused with exit 2 before any work
(an atomic rename would replace the node itself); write errors such as a full disk or
a file size limit are exit 2 naming the path, and leave the old file and no temporary.
"""

from __future__ import annotations

import errno
import os
import resource
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from symgrad.core import output
from symgrad.cli.commands import main
from symgrad.core.errors import OptionError

from paths import EXAMPLES

MAX_POOL = str(EXAMPLES / "conv_max_pool.toml")


def run(argv, capsys):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def refused(code, out, err, *needles):
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("symgrad: error: output: "), err
    for needle in needles:
        assert needle in err, (needle, err)


def _device_copy(path: Path, of: str) -> Path:
    """A node with the device numbers of /dev/null or /dev/full (needs root, as in CI)."""
    device = os.stat(of).st_rdev
    os.mknod(path, 0o666 | stat.S_IFCHR, device)
    return path


@pytest.mark.parametrize("of", ["/dev/null", "/dev/full"])
@pytest.mark.parametrize("argv", [["derive", MAX_POOL, "--out"], ["derive", MAX_POOL, "--emit-python"],
                                  ["handout", "--out"], ["exercises", "--out"]])
def test_a_device_node_is_refused_and_stays_a_device(of, argv, tmp_path, capsys):
    if os.geteuid() != 0:
        pytest.fail("this test makes device nodes with mknod: run the suite as root, as CI does")
    name = "node.md" if argv[0] in ("handout", "exercises") else "node"
    node = _device_copy(tmp_path / name, of)
    extra = ["--out", tmp_path / "d.txt"] if "--emit-python" in argv else []
    refused(*run([*argv, node, *extra], capsys), str(node), "character device", "regular files only")
    assert stat.S_ISCHR(os.stat(node).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_a_fifo_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    monkeypatch.setattr("symgrad.spec.load", lambda *a: pytest.fail("the spec was read before the refusal"))
    refused(*run(["derive", MAX_POOL, "--out", fifo], capsys), "a fifo")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_socket_is_refused(tmp_path, capsys):
    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        refused(*run(["derive", MAX_POOL, "--out", path], capsys), "a socket")


def test_a_symbolic_link_is_followed_and_stays_a_link(tmp_path, capsys):
    target = tmp_path / "real.json"
    target.write_text("old\n")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    code, out, err = run(["derive", MAX_POOL, "--format", "json", "--out", link], capsys)
    assert code == 0, err
    assert link.is_symlink() and '"loss": 400.0' in target.read_text()


def test_a_full_disk_names_the_path_and_keeps_the_old_file(tmp_path, capsys, monkeypatch):
    out_file = tmp_path / "out.json"
    out_file.write_bytes(b"previous result\n")

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(output.os, "fsync", full)
    refused(*run(["derive", MAX_POOL, "--format", "json", "--out", out_file], capsys),
            str(out_file), "No space left on device")
    assert out_file.read_bytes() == b"previous result\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_a_real_write_error_from_the_kernel(tmp_path):
    """RLIMIT_FSIZE makes write(2) fail with EFBIG: exit 2, the old file intact, no temporary."""
    out_file = tmp_path / "out.md"
    out_file.write_bytes(b"previous result\n")

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))

    done = subprocess.run([sys.executable, "-m", "symgrad", "derive", MAX_POOL, "--format", "markdown",
                           "--out", str(out_file)], preexec_fn=limit, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("symgrad: error: output: --out: cannot write ") and str(out_file) in done.stderr
    assert "File too large" in done.stderr and done.stderr.count("\n") == 1
    assert out_file.read_bytes() == b"previous result\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.md"]


def test_write_atomic_checks_again_at_write_time(tmp_path):
    fifo = tmp_path / "late"
    os.mkfifo(fifo)  # became a fifo after the first check
    with pytest.raises(OptionError, match="a fifo"):
        output.write_atomic(str(fifo), "text")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
