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
