"""`symgrad serve` on the command line: loopback by default, the URL on the first line, one-line
refusals with exit status 2 (no extra installed, a port in use, a missing spec), Ctrl+C stops it (130)."""

import signal
import socket
import sys

import httpx

from serve_support import Server, cli

from symgrad import examples
from symgrad.cli.commands import main


def test_without_the_extra_it_says_what_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "starlette", None)  # import starlette raises ImportError
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err == "symgrad: error: serve: needs Starlette and uvicorn: pip install 'symgrad[serve]'\n"


def test_loopback_by_default_and_the_page_opens_on_spec(tmp_path):
    spec = tmp_path / "mine.toml"
    spec.write_text(examples.text("conv_sum"), encoding="utf-8")
    server = Server(str(spec))
    try:
        assert server.url.startswith("http://127.0.0.1:")
        start = httpx.get(server.url + "/api/start", timeout=30).json()
        assert start == {"name": "mine.toml", "spec": examples.text("conv_sum")}
        with socket.socket() as probe:  # bound to loopback only: the wildcard address is free for others
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
            probe.bind(("0.0.0.0", 0))
    finally:
        server.stop()


def test_a_bundled_example_opens_under_its_name():
    server = Server("conv_sum")
    try:
        assert httpx.get(server.url + "/api/start", timeout=30).json() == {"name": "conv_sum",
                                                                           "spec": examples.text("conv_sum")}
    finally:
        server.stop()


def test_ctrl_c_stops_it_as_any_interrupted_command():
    server = Server()
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(30) == 130
    assert server.process.stderr.read() == "symgrad: interrupted\n"  # no traceback
    server.stop()


def test_a_port_in_use_is_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = cli("serve", "--port", str(port))
    assert done.returncode == 2
    assert done.stderr.decode() == f"symgrad: error: serve: --port: cannot listen on 127.0.0.1:{port}: " \
                                   "Address already in use\n"


def test_refusals_before_listening():
    missing = cli("serve", "no_such_spec.toml")
    assert missing.returncode == 2 and missing.stderr.decode().count("\n") == 1
    assert "no such file, and no bundled example" in missing.stderr.decode()
    for args in (["--port", "70000"], ["--time-limit", "0"], ["-"]):
        done = cli("serve", *args)
        assert done.returncode == 2 and done.stderr.decode().startswith("symgrad: error: serve"), args


def test_another_host_is_said_on_stderr():
    server = Server("--host", "0.0.0.0")
    try:
        assert server.url.startswith("http://0.0.0.0:")
        assert httpx.get(f"http://127.0.0.1:{server.port}/api/status", timeout=30).status_code == 200
    finally:
        server.process.send_signal(signal.SIGINT)
        server.process.wait(30)
        err = server.process.stderr.read()
        server.stop()
    assert err.startswith("symgrad serve: listening on 0.0.0.0: other machines can reach this page\n")
