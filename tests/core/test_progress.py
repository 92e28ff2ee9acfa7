"""The progress bar: on stderr only, only when asked for or when stderr is a terminal, never in stdout."""

import json

import pytest

import symgrad as sg
from symgrad.core import progress
from symgrad.cli.commands import main

from paths import ROOT

SPEC = ROOT / "symgrad" / "examples" / "conv_symbolic.toml"


def _derive(**options):
    net = sg.Sequential(sg.Conv2d(1, 2, 2), sg.ReLU(), sg.MaxPool2d(2), sg.Flatten(), sg.Linear(2, 1))
    return sg.derive(net, sg.symbolic("x", (1, 1, 3, 3)), sg.MSELoss(), **options)


@pytest.fixture
def no_delay(monkeypatch):
    """Show the bar at once (a real run shows it only after a second)."""
    monkeypatch.setattr(progress, "DELAY", 0)
    monkeypatch.delenv("SYMGRAD_PROGRESS", raising=False)


def test_forced_bar_goes_to_stderr_and_names_the_steps(no_delay, capsys):
    _derive(progress=True)
    out, err = capsys.readouterr()
    assert out == ""
    assert "symgrad" in err and "step" in err


def test_no_bar_when_stderr_is_not_a_terminal(no_delay, capsys):
    _derive()  # capsys' stderr is not a TTY
    assert capsys.readouterr() == ("", "")


def test_no_bar_when_turned_off(no_delay, capsys, monkeypatch):
    monkeypatch.setattr(progress.sys.stderr, "isatty", lambda: True, raising=False)
    _derive(progress=False)
    assert capsys.readouterr() == ("", "")


def test_terminal_gets_a_bar_only_after_the_delay(capsys, monkeypatch):
    monkeypatch.delenv("SYMGRAD_PROGRESS", raising=False)
    monkeypatch.setattr(progress.sys.stderr, "isatty", lambda: True, raising=False)
    assert progress.wanted(None)
    _derive()  # a fast run: tqdm's delay (1 s) never passes
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("setting, shown", [("1", True), ("on", True), ("0", False), ("off", False)])
def test_environment_variable_forces_or_silences(setting, shown, monkeypatch):
    monkeypatch.setenv("SYMGRAD_PROGRESS", setting)
    monkeypatch.setattr(progress.sys.stderr, "isatty", lambda: not shown, raising=False)
    assert progress.wanted(None) is shown
    assert progress.wanted(not shown) is (not shown)  # the API's choice wins


def test_json_on_stdout_stays_clean_with_a_forced_bar(no_delay, capsys, monkeypatch):
    monkeypatch.setenv("SYMGRAD_PROGRESS", "1")
    assert main(["derive", str(SPEC), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    document = json.loads(out)  # nothing but the JSON document
    assert set(document) >= {"output", "loss", "gradients"}
    assert "symgrad" in err


@pytest.mark.torch
def test_check_prints_its_table_and_the_bar_only_on_stderr(no_delay, capsys, monkeypatch):
    monkeypatch.setenv("SYMGRAD_PROGRESS", "1")
    assert main(["check", str(SPEC)]) == 0
    out, err = capsys.readouterr()
    assert "agree with torch autograd" in out and "step" not in out
    assert "symgrad" in err


# ------------------------------------------------------------------ one bar per command, printing included


class FakeTerminal:
    """A stderr that says it is a terminal and keeps what is written to it (in `log` too, beside stdout's)."""

    def __init__(self, log=None):
        self.written = []
        self.log = [] if log is None else log

    def isatty(self):
        return True

    def write(self, text):
        self.written.append(text)
        self.log.append(("err", text))
        return len(text)

    def flush(self):
        pass

    def frames(self) -> list[str]:
        """The bar's redraws (tqdm starts each with a carriage return), blank ones dropped."""
        return [f.strip() for f in "".join(self.written).split("\r") if f.strip()]


def _counts(frame: str) -> tuple[int, int] | None:
    import re

    found = re.search(r"\| *(\d+)/(\d+) ", frame)
    return (int(found.group(1)), int(found.group(2))) if found else None


@pytest.fixture
def terminal(no_delay, capsys, monkeypatch):
    """The bar's stream (pytest's capture sets sys.stderr again when a test starts, so not that)."""
    stream = FakeTerminal()
    monkeypatch.setattr(progress, "stream", lambda: stream)
    monkeypatch.setattr(progress, "TICK", 3600)  # no redraws from the ticker: only the steps' own
    monkeypatch.setattr(progress, "MININTERVAL", 0)  # and every step's (tqdm skips those within 0.1 s)
    return stream


@pytest.mark.parametrize("fmt, printing", [("json", "print gradients"), ("text", "print gradients"),
                                           ("latex", "print document"), ("markdown", "print document")])
def test_a_command_has_one_bar_that_printing_advances_too(terminal, capsys, fmt, printing):
    assert main(["derive", str(SPEC), "--format", fmt]) == 0
    out, _ = capsys.readouterr()
    if fmt == "json":
        json.loads(out)  # stdout holds the document only
    frames = terminal.frames()
    assert frames and all(f.startswith("symgrad:") for f in frames)
    assert "symgrad:" not in out and "step/s" not in out  # the bar never goes to stdout
    counts = [c for c in map(_counts, frames) if c]
    done = [n for n, _ in counts]
    assert done == sorted(done), "one bar: its count never starts again"
    assert counts[-1][0] == counts[-1][1] - 1, "all done but the write (the bar is cleared before it)"
    texts = "\n".join(frames)
    # the derivation's steps, then the printer's, in that order, in the one bar
    assert texts.index("read") < texts.index("backward") < texts.index(printing)
    first_print = next(i for i, f in enumerate(frames) if printing in f)
    assert _counts(frames[first_print])[0] > _counts(frames[0])[0]  # printing starts past the derivation's steps


def test_no_bar_for_a_command_when_stderr_is_not_a_terminal(no_delay, capsys, monkeypatch):
    stream = FakeTerminal()
    stream.isatty = lambda: False
    monkeypatch.setattr(progress, "stream", lambda: stream)
    assert main(["derive", str(SPEC), "--format", "text"]) == 0
    assert stream.written == []


def test_a_derive_inside_a_command_joins_its_bar(terminal):
    with progress.command(2) as bar:
        with progress.phase("read"):
            pass
        _derive()  # progress=None: joins
        with progress.phase("write"):
            pass
        assert bar.shown
    frames = terminal.frames()
    totals = {total for _, total in filter(None, map(_counts, frames))}
    assert max(totals) > 2  # the derivation's steps were added to the command's two
    assert _counts(frames[-1])[0] == _counts(frames[-1])[1]
    assert "read" in frames[0] or "read" in "".join(frames)


def test_each_outside_a_command_only_yields(terminal):
    assert list(progress.each(iter([1, 2, 3]), "print gradients")) == [1, 2, 3]
    assert terminal.written == []


def test_each_steps_once_per_item(terminal):
    with progress.command(0):
        assert list(progress.each(["a", "b", "c"], "print gradients")) == ["a", "b", "c"]
    counts = [c for c in map(_counts, terminal.frames()) if c]
    assert counts[-1] == (3, 3)


def test_a_joined_run_closed_early_skips_its_unused_steps(terminal):
    with progress.command(1):
        with progress.Progress(5) as joined:
            joined.step("forward")
        with progress.phase("write"):
            pass
    assert _counts(terminal.frames()[-1]) == (6, 6)


def test_phases_are_written_for_benchmarks_only_when_asked(tmp_path, monkeypatch, capsys):
    path = tmp_path / "phases.json"
    monkeypatch.delenv(progress.PHASES_VARIABLE, raising=False)
    assert main(["derive", str(SPEC), "--format", "json"]) == 0
    assert not path.exists()
    monkeypatch.setenv(progress.PHASES_VARIABLE, str(path))
    assert main(["derive", str(SPEC), "--format", "latex"]) == 0
    recorded = json.loads(path.read_text())["cpu"]
    assert {"start-up", "read", "derive", "torch block", "print latex", "write", "end"} <= set(recorded)
    assert all(t >= 0 for t in recorded.values())
    assert recorded["end"] >= recorded["start-up"] + recorded["derive"]


class FakeStdout:
    """stdout on the same terminal: what is written goes to the shared log."""

    def __init__(self, log):
        self.log = log

    def write(self, text):
        self.log.append(("out", text))
        return len(text)

    def flush(self):
        pass


@pytest.mark.parametrize("argv", [["derive", str(SPEC), "--format", "text"], ["exercises", "--count", "1"]])
def test_the_bar_is_cleared_before_the_output_begins(terminal, monkeypatch, argv):
    log = terminal.log
    monkeypatch.setattr(progress.sys, "stdout", FakeStdout(log))
    assert main(argv) == 0
    kinds = [kind for kind, _ in log]
    assert "err" in kinds and "out" in kinds
    first_out = kinds.index("out")
    assert "err" not in kinds[first_out:], "no redraw lands inside the output"
    assert log[first_out - 1][1].strip() == "", "the bar's line was cleared just before"
    bar = "".join(text for kind, text in log if kind == "err")
    assert ("forward" if argv[0] == "exercises" else "print gradients") in bar  # a problem's derivation joins it

