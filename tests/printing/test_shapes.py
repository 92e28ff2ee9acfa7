"""`symgrad shapes`: the layer tables of LeNet and the PyTorch tutorial Net, checked against
torch layer by layer (output shapes and sum(p.numel())), the formulas, and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from lazy_torch import torch

import symgrad as sg
from symgrad.printing import shapes
from symgrad import spec as specs
from symgrad.cli.commands import main
from symgrad.ops import LAYERS, Layer

from paths import ROOT

LENET = ROOT / "symgrad" / "examples" / "lenet_shapes.toml"
TUTORIAL = ROOT / "symgrad" / "examples" / "tutorial_net_shapes.toml"


def _rows(path):
    spec = specs.load(path)
    return spec, shapes.table(spec.network, spec.input.shape)


def _torch_rows(network, in_shape):
    """(output shape, parameter count) per layer, from torch itself."""
    h = torch.zeros(in_shape)
    rows = []
    for layer in network:
        module = layer.torch_module()
        h = module(h)
        rows.append((list(h.shape), sum(p.numel() for p in module.parameters())))
    return rows


@pytest.mark.torch
@pytest.mark.parametrize("path,sizes,total", [
    (TUTORIAL, [30, 30, 15, 13, 13, 6, 576, 120, 120, 84, 84, 10], 81194),
    (LENET, [28, 28, 14, 10, 10, 5, 400, 120, 120, 84, 84, 10], 61706),
], ids=["tutorial_net", "lenet"])
def test_table_matches_torch_layer_by_layer(path, sizes, total):
    spec, rows = _rows(path)
    assert [r.output_shape[-1] for r in rows] == sizes
    assert [(r.output_shape, r.parameters) for r in rows] == _torch_rows(spec.network, spec.input.shape)
    assert sum(r.parameters for r in rows) == total
    model = torch.nn.Sequential(*[layer.torch_module() for layer in spec.network])
    assert sum(p.numel() for p in model.parameters()) == total


def test_tutorial_net_formulas():
    _, rows = _rows(TUTORIAL)
    assert rows[0].layer == "Conv2d(1, 6, 3)"
    assert rows[0].formula == "floor((32 + 2*0 - 1*(3-1) - 1)/1) + 1 = 30"
    assert rows[1].formula == "element-wise: same shape as the input"
    assert rows[2].layer == "MaxPool2d(2)" and rows[2].formula == "floor((30 + 2*0 - 1*(2-1) - 1)/2) + 1 = 15"
    assert rows[5].formula == "floor((13 + 2*0 - 1*(2-1) - 1)/2) + 1 = 6"
    assert rows[6].layer == "Flatten()" and rows[6].formula == "16*6*6 = 576"
    assert rows[7].layer == "Linear(576, 120)" and rows[7].formula == "out_features = 120"
    assert [r.parameters for r in rows if r.parameters] == [60, 880, 69240, 10164, 850]


def test_lenet_formulas():
    _, rows = _rows(LENET)
    assert rows[0].layer == "Conv2d(1, 6, 5, padding=2)"
    assert rows[0].formula == "floor((28 + 2*2 - 1*(5-1) - 1)/1) + 1 = 28"
    assert rows[2].layer == "AvgPool2d(2)" and rows[2].formula == "floor((28 + 2*0 - 2)/2) + 1 = 14"
    assert rows[3].formula == "floor((14 + 2*0 - 1*(5-1) - 1)/1) + 1 = 10"
    assert rows[6].formula == "16*5*5 = 400"
    assert [r.parameters for r in rows if r.parameters] == [156, 2416, 48120, 10164, 850]


@pytest.mark.torch
@pytest.mark.parametrize("layer,in_shape,formula", [
    (sg.Conv2d(1, 1, 3, stride=2, padding=1, dilation=2), (1, 1, 9, 9), "floor((9 + 2*1 - 2*(3-1) - 1)/2) + 1 = 4"),
    (sg.Conv2d(1, 1, (3, 2), padding="same"), (1, 1, 5, 4),
     "H: floor((5 + 2*1 - 1*(3-1) - 1)/1) + 1 = 5; W: floor((4 + 0 + 1 - 1*(2-1) - 1)/1) + 1 = 4"),
    (sg.MaxPool2d(2, stride=2, padding=1, ceil_mode=True), (1, 1, 5, 5),
     "ceil((5 + 2*1 - 1*(2-1) - 1)/2) + 1 = 4, minus the last window (it would start in the padding) = 3"),
    (sg.MaxPool2d(3, stride=2, ceil_mode=True), (1, 1, 6, 6), "ceil((6 + 2*0 - 1*(3-1) - 1)/2) + 1 = 3"),
    (sg.AvgPool2d(3, stride=2, padding=1, ceil_mode=True), (1, 1, 6, 6), "ceil((6 + 2*1 - 3)/2) + 1 = 4"),
    (sg.Flatten(start_dim=2), (2, 3, 4, 5), "4*5 = 20"),
    (sg.Flatten(start_dim=1, end_dim=1), (2, 3, 4, 5), "3 (nothing to merge)"),
    (sg.Linear(5, 7), (2, 3, 4, 5), "out_features = 7"),
    (sg.Sum(), (1, 1, 2, 2), "sum of all entries = a scalar"),
])
@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_formula_agrees_with_the_shape_and_torch(layer, in_shape, formula):
    assert layer.shape_formula(in_shape) == formula
    out = layer.output_shape(in_shape)
    torch_out = tuple(layer.torch_module()(torch.zeros(in_shape)).shape)
    assert out == torch_out
    if len(out) == 4 and out[2] == out[3]:
        assert formula.endswith(f"= {out[-1]}")


@pytest.mark.parametrize("name,cls", sorted(LAYERS.items()))
def test_every_layer_declares_its_shape_formula(name, cls):
    assert cls.shape_formula is not Layer.shape_formula, f"{name} lacks shape_formula"


def test_describe_shows_only_what_differs_from_torch_defaults():
    assert shapes.describe(sg.MaxPool2d(2, stride=1, ceil_mode=True)) == "MaxPool2d(2, stride=1, ceil_mode=True)"
    assert shapes.describe(sg.Conv2d(2, 4, (3, 2), groups=2, bias=False)) == \
        "Conv2d(2, 4, (3, 2), groups=2, bias=False)"
    assert shapes.describe(sg.Conv2d(1, 1, 3, padding="same")) == "Conv2d(1, 1, 3, padding=1)"  # the same padding
    assert shapes.describe(sg.Conv2d(1, 1, 2, padding="same")) == "Conv2d(1, 1, 2, padding='same')"  # asymmetric
    assert shapes.describe(sg.Linear(3, 2, bias=False)) == "Linear(3, 2, bias=False)"
    assert shapes.describe(sg.Flatten(0)) == "Flatten(start_dim=0)"


# --- the command line ------------------------------------------------------------

def _run(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_text_table(capsys):
    code, out, err = _run(["shapes", str(LENET)], capsys)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("LeNet") and lines[2] == "input: [1, 1, 28, 28]"
    assert lines[3].split() == ["#", "layer", "output", "shape", "params", "shape", "formula"]
    assert len(lines) == 3 + 1 + 12 + 1
    assert "[1, 16, 5, 5]" in lines[4 + 5] and lines[4 + 6].split()[-1] == "400"
    assert lines[-1] == "total parameters: 61706"


def test_cli_json_rows(capsys):
    code, out, err = _run(["shapes", str(TUTORIAL), "--format", "json"], capsys)
    assert code == 0 and err == ""
    rows = json.loads(out)
    assert isinstance(rows, list) and len(rows) == 12
    assert set(rows[0]) == {"index", "layer", "type", "output_shape", "parameters", "formula"}
    assert rows[0] == {"index": 0, "layer": "Conv2d(1, 6, 3)", "type": "Conv2d", "output_shape": [1, 6, 30, 30],
                       "parameters": 60, "formula": "floor((32 + 2*0 - 1*(3-1) - 1)/1) + 1 = 30"}
    assert [r["index"] for r in rows] == list(range(12))
    assert sum(r["parameters"] for r in rows) == 81194


def test_cli_needs_neither_torch_nor_a_derivation():
    """torch blocked and derive() poisoned: the table still comes out, quickly."""
    code = (
        "import sys, time; sys.modules['torch'] = None\n"
        "import symgrad.derive, symgrad.engine.derivation\n"
        "def boom(*a, **k): raise AssertionError('shapes must not derive')\n"
        "symgrad.derive.derive = symgrad.engine.derivation.derive = symgrad.engine.derivation.named_backprop = boom\n"
        "from symgrad.cli.commands import main\n"
        "start = time.process_time()\n"
        f"rc = main(['shapes', {str(LENET)!r}, '--format', 'json'])\n"
        "assert time.process_time() - start < 5\n"
        "sys.exit(rc)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 12


def test_cli_through_python_dash_m():
    result = subprocess.run([sys.executable, "-m", "symgrad", "shapes", str(TUTORIAL)], capture_output=True,
                            text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0 and result.stderr == ""
    assert "total parameters: 81194" in result.stdout


@pytest.mark.parametrize("edit,fragment", [
    (("in_features = 400", "in_features = 401"),
     "symgrad: error: layers[7] Linear: in_features: expected an input whose last dim is 401, got shape [1, 400]"),
    (('type = "Flatten"', 'type = "Flaten"'), "symgrad: error: layers[6]: type: unknown layer 'Flaten'"),
    (("kernel_size = 2\nstride = 2", "kernel_size = 2\nstride = 0"),
     "symgrad: error: layers[2] AvgPool2d: stride: must be >= 1"),
    (("shape = [1, 1, 28, 28]", "shape = [1, 2, 28, 28]"),
     "symgrad: error: layers[0] Conv2d: in_channels: expected input with 1 channels, got 2 channels"),
    (("[input]", "[input\n"), "symgrad: error: spec: toml: not valid TOML"),
])
def test_bad_spec_is_one_line_and_exit_2(tmp_path, capsys, edit, fragment):
    text = LENET.read_text(encoding="utf-8")
    assert edit[0] in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    code, out, err = _run(["shapes", str(path)], capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith(fragment), err


def test_missing_file_and_bad_format_exit_2(tmp_path, capsys):
    code, out, err = _run(["shapes", str(tmp_path / "none.toml")], capsys)
    assert code == 2 and out == "" and "cannot read" in err and len(err.strip().splitlines()) == 1
    code, out, err = _run(["shapes", str(LENET), "--format", "latex"], capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
