"""The benchmark compares like with like: its implementations agree, its report logic is right.

No timing is asserted here: benchmarks/run.py measures, these tests only check that
what it times computes the same thing (naive SymPy vs symgrad, symbolically; hand
NumPy vs torch autograd vs symgrad's generated code, numerically, ties included).
"""

import random
import sys

import numpy as np
import pytest
import sympy as sp

from benchmarks import cases, commands, gradients, handnumpy, naive, run, torchref


def _kernel_gradient_both(n, k, pool):
    d = cases.symgrad_case(n, k, pool)
    x = d.tensors.input[0, 0].tolist()
    kernel = d.tensors.parameters["0.weight"].value[0, 0].tolist()
    ours = list(d.tensors.gradient("0.weight").reshape(-1))
    theirs = naive.kernel_gradient(n, k, pool, x=x, kernel=kernel)
    return ours, theirs, sorted(d.free_symbols, key=str)


@pytest.mark.parametrize("n, k", [(3, 2), (6, 3)])
def test_naive_equals_symgrad_avg_pool_symbolically(n, k):
    ours, theirs, _ = _kernel_gradient_both(n, k, "avg")
    assert len(ours) == k * k
    for a, b in zip(ours, theirs):
        assert sp.expand(a - b) == 0


@pytest.mark.parametrize("n, k", [(3, 2), (5, 2)])
def test_naive_equals_symgrad_max_pool_at_tie_free_points(n, k):
    # sympy.diff of Max gives Heaviside terms, symgrad gives torch's first-max routing:
    # equal wherever no window ties, which random rationals make sure of.
    ours, theirs, free = _kernel_gradient_both(n, k, "max")
    rng = random.Random(n)
    for _ in range(3):
        point = {s: sp.Rational(rng.randint(-999, 999), rng.randint(1, 97)) for s in free}
        for a, b in zip(ours, theirs):
            assert a.xreplace(point) == b.xreplace(point)


def test_naive_loss_is_the_symgrad_loss():
    d = cases.symgrad_case(6, 3, "avg")
    x = d.tensors.input[0, 0].tolist()
    kernel = d.tensors.parameters["0.weight"].value[0, 0].tolist()
    assert sp.expand(naive.loss_expression(x, kernel, "avg") - d.loss) == 0


@pytest.fixture(scope="module")
def stage_derivation():
    """A LeNet-like first stage, small: 8x8 input, Conv2d(1, 2, 3) with bias, MaxPool2d(2), MSE."""
    return cases.symgrad_case(8, 3, "max", channels=2, bias=True)


@pytest.fixture(scope="module")
def small_stage(stage_derivation):
    return stage_derivation.lambdify(form="scalar")


@pytest.mark.torch
@pytest.mark.parametrize("batch", [None, 5])
def test_generated_code_torch_and_hand_numpy_agree(stage_derivation, small_stage, batch):
    x, w, b = gradients.problems(8, 2, 3, batch, seed=3)
    runs = gradients.runners(stage_derivation.lambdify(form="array"), x, w, b, scalar=small_stage)
    assert set(runs) >= {gradients.SYMGRAD, gradients.SCALAR, "hand-vectorised NumPy"}
    assert gradients.compare(runs, batch is not None) < 1e-12


@pytest.mark.torch
def test_they_agree_on_ties_too(stage_derivation, small_stage):
    # Integers from {0, 1} make tied max-pool windows common; torch routes to the first maximum.
    rng = np.random.default_rng(7)
    x = rng.integers(0, 2, size=(6, 1, 1, 8, 8)).astype(float)
    w = rng.integers(0, 2, size=(2, 1, 3, 3)).astype(float)
    b = np.zeros(2)
    runs = gradients.runners(stage_derivation.lambdify(form="array"), x, w, b, scalar=small_stage)
    assert gradients.compare(runs, batched=True) < 1e-12


@pytest.mark.torch
def test_compare_notices_a_wrong_gradient(small_stage):
    x, w, b = gradients.problems(8, 2, 3, 4, seed=1)
    runs = gradients.runners(small_stage, x, w, b)
    right = runs["hand-vectorised NumPy"]

    def wrong():
        result = right()
        result["gradients"]["0.weight"] = result["gradients"]["0.weight"] * 1.001
        return result

    runs["hand-vectorised NumPy"] = wrong
    assert gradients.compare(runs, batched=True) > 1e-4


@pytest.mark.torch
def test_minibatch_step_gives_the_summed_gradient():
    import torch

    x, w, b = gradients.problems(8, 2, 3, 4, seed=2)
    per = torchref.per_problem(x, w, b, 1)
    hand = handnumpy.conv_maxpool_mse(x, w, b, 1)
    np.testing.assert_allclose(hand["gradients"]["0.weight"].sum(axis=0), per["gradients"]["0.weight"].sum(axis=0))
    weight = torch.from_numpy(w).requires_grad_()
    out = torch.nn.functional.max_pool2d(torch.nn.functional.conv2d(torch.from_numpy(x[:, 0]), weight,
                                                                    torch.from_numpy(b)), 2)
    (torch.nn.functional.mse_loss(out, torch.ones_like(out)) * 4).backward()
    np.testing.assert_allclose(weight.grad.numpy(), per["gradients"]["0.weight"].sum(axis=0))


def test_section_times_covers_every_section(small_stage):
    x, w, b = gradients.problems(8, 2, 3, 3)
    sections = gradients.section_times(small_stage.source, {"input": x, "0.weight": w, "0.bias": b}, repeats=1)
    labels = [label for label, _, _ in sections]
    assert labels[0] == "arguments" and "gradients" in labels and labels[-1] == "results"
    assert sum(lines for _, lines, _ in sections) >= small_stage.source.count("\n    sigma_")
    assert all(t >= 0 for _, _, t in sections)


def test_section_times_counts_the_array_forms_statements(stage_derivation):
    x, w, b = gradients.problems(8, 2, 3, 3)
    source = stage_derivation.lambdify(form="array").source
    sections = gradients.section_times(source, {"input": x, "0.weight": w, "0.bias": b}, repeats=1)
    counts = dict((label, lines) for label, lines, _ in sections)
    assert counts["forward: layers[0] Conv2d"] == 1 and counts["backward: dL/d(input)"] == 1  # dL_dx, dL_dk, dL_db = ...
    assert counts["backward: dL/d(output of layers[0] Conv2d)"] == 1  # delta_sigma, = ...


def test_a_case_runs_in_its_own_process_and_is_cut_off():
    result = run.run_case("symgrad", 3, 2, "max", None)
    assert result["entries"] == 4 + 9 and result["peak_mb"] > 0
    assert run.run_case("naive", 14, 3, "max", 1) is None


def test_speedup_and_targets_logic():
    rows = [{"n": n, "k": k, "pool": pool, "symgrad": s, "naive": t, "macs": 1}
            for n, k, pool, s, t in [(10, 3, "avg", 0.1, 2.0), (10, 3, "max", 0.1, 20.0),
                                     (28, 5, "avg", 2.0, None), (28, 5, "max", 2.5, None)]]
    assert run.speedup(rows[1], 60) == (200.0, True)
    assert run.speedup(rows[3], 60) == (24.0, False)
    config = run.Config([(10, 3), (28, 5)], 60.0, (8, 2, 3), [None], 1, True)
    numbers = {"batches": [{"batch": 1, "times": {gradients.SYMGRAD: {"min": 3.0},
                                                  "torch autograd, 1 thread": {"min": 1.0},
                                                  "torch autograd, 2 threads": {"min": 2.0}}}]}
    start = {"median": {f"symgrad derive {run.SEED} --format latex": 0.5, 'python -c "import sympy"': 0.4},
             "torch_modules": 0}
    verdicts = {name: ok for name, _, ok in run.targets(config, rows, numbers, start, {"peak_mb": 3000})}
    assert verdicts["derivation >= 100x faster than naive SymPy, 10x10/3x3 max pool"] is True
    assert verdicts["the lead grows with size (max pool; naive / symgrad CPU)"] is None      # 24x is only a lower bound
    assert verdicts["28x28/5x5 max pool within 30x the 10x10/3x3 CPU time (25x the multiply-adds)"] is True
    assert verdicts["max pooling <= 2x the CPU time of average pooling, same size"] is True
    assert verdicts["numeric gradient at batch 1 no slower than 2x torch autograd"] is False  # 3x the faster torch
    assert verdicts["seed example end to end within 2x the `import sympy` process"] is True
    assert verdicts["LeNet first stage derivation under 2 GB peak"] is False


def test_write_keeps_the_text_around_the_generated_block(tmp_path):
    path = tmp_path / "performance.md"
    run.write(path, f"{run.BEGIN}\nold table\n{run.END}")
    text = path.read_text().replace(run.END, run.END + "\n\n## Notes by hand\n")
    path.write_text(text)
    run.write(path, f"{run.BEGIN}\nnew table\n{run.END}")
    text = path.read_text()
    assert "new table" in text and "old table" not in text and "## Notes by hand" in text


def test_top_imports_reads_only_top_level_lines():
    report = ("import time: self [us] | cumulative | imported package\n"
              "import time:       100 |       2500 |   sympy.core\n"
              "import time:       300 |     400000 | sympy\n"
              "import time:        20 |       1500 | symgrad.cli.commands\n")
    assert run.top_imports(report) == [("sympy", 0.4), ("symgrad.cli.commands", 0.0015)]


# ------------------------------------------------------------------ whole commands (benchmarks/commands.py)


def test_the_command_spec_is_the_derivation_tables_case(tmp_path):
    from symgrad import spec as specs

    for pool in ("avg", "max"):
        path = tmp_path / f"{pool}.toml"
        path.write_text(commands.spec_text(4, 2, pool))
        ours = specs.load(str(path)).derive()
        theirs = cases.symgrad_case(4, 2, pool)
        assert sp.expand(ours.loss - theirs.loss) == 0
        assert [repr(layer) for layer in ours.network] == [repr(layer) for layer in theirs.network]


def _tiny():
    return commands.Config([(3, 2)], [], runs=1, short_runs=1, limit=60.0, profile=None, quick=True, formats=("json",),
                           example_formats=("json",))


def test_measure_and_report_write_the_whole_command_section(tmp_path):
    config = _tiny()
    data = commands.measure(config, tmp_path)
    assert [(r["n"], r["pool"]) for r in data["rows"]] == [(3, "avg"), (3, "max")]
    for row in data["rows"]:
        assert row["naive"]["cpu"] > 0 and row["naive"]["engine"] > 0
        found = row["formats"]["json"]
        assert found["bytes"] > 0 and found["runs"] == 1
        split = commands.phase_split(found)
        assert set(commands.PHASES) <= set(split) and split["derive"] > 0
        assert abs(sum(split.values()) - found["cpu"]) < 1e-6 or sum(split.values()) >= found["cpu"]
    assert data["seed"]["json"]["bytes"] > 0
    block = commands.report(data, config, 1.0, [("CPU", "test")])
    assert block.startswith(commands.BEGIN) and block.endswith(commands.END)
    for heading in ("### Targets (whole commands)", "| input, kernel | pooling | naive script | json |",
                    "### Large examples", "faster than naive at every size", "the lead grows with size (json"):
        assert heading in block
    path = tmp_path / "performance.md"
    run.write(path, f"{run.BEGIN}\nengine\n{run.END}\n\n## Notes by hand\n")
    run.write(path, block, commands.BEGIN, commands.END)
    run.write(path, block.replace("| CPU | test |", "| CPU | again |"), commands.BEGIN, commands.END)
    text = path.read_text()
    assert text.index(run.END) < text.index(commands.BEGIN) and "engine" in text and "## Notes by hand" in text
    assert text.count(commands.BEGIN) == 1 and "| CPU | again |" in text and "| CPU | test |" not in text


def test_a_cut_off_command_is_none_not_an_error():
    found = commands.process([sys.executable, "-c", "while True: pass"], limit=1)
    assert found is None


def test_profile_print_names_modules_and_printers(tmp_path):
    path = tmp_path / "max.toml"
    path.write_text(commands.spec_text(3, 2, "max"))
    found = commands.profile(str(path), "text", 60.0)
    assert found["total"] > 0 and found["modules"] and all(t >= 0 for _, t in found["modules"])
    assert all(name.startswith("symgrad/") for name, _ in found["symgrad"])


def _row(n, pool, naive, **formats):
    return {"n": n, "k": 3, "pool": pool, "naive": {"cpu": naive, "engine": naive},
            "formats": {fmt: {"cpu": t, "bytes": 1, "phases": {}} for fmt, t in formats.items()}}


def test_whole_command_targets_logic():
    config = commands.Config([(6, 3), (10, 3)], ["lenet"], formats=("json", "text"))
    rows = [_row(6, "avg", 2.0, json=1.0, text=1.0), _row(6, "max", 4.0, json=1.0, text=1.0),
            _row(10, "avg", 3.0, json=1.0, text=4.0), _row(10, "max", 40.0, json=1.5, text=2.0)]
    data = {"rows": rows, "seed": {"text": {"cpu": 0.5}, "json": {"cpu": 0.5}}, "profile_case": None,
            "examples": [{"name": "lenet", "format": "text", "result": {"cpu": 10.0, "bytes": 900_000}},
                         {"name": "lenet", "format": "json", "result": None}]}
    found = commands.targets(data, config)

    def verdict(prefix):
        (shown, ok), = [(shown, ok) for name, shown, ok in found if name.startswith(prefix)]
        return shown, ok

    assert verdict("`derive --format json` >= 20x faster than naive, 10x10/3x3 max") == ("26.7x", True)
    assert verdict("faster than naive at every size from 6x6") == ("slower or equal: 10x10 avg text 0.75x", False)
    assert verdict("the lead grows with size (json")[1] is True  # avg 2x -> 3x, max 4x -> 26.7x
    assert verdict("the lead grows with size (text")[1] is False  # avg 2x -> 0.75x
    assert verdict("lenet --format text within 30x")[1] is True  # 20x
    assert verdict("lenet text output at most a few hundred kB") == ("900 kB", False)
    assert verdict("lenet --format json within 30x") == ("cut off", False)


def test_a_cut_off_naive_gives_lower_bounds_that_can_still_show_the_lead_growing():
    config = commands.Config([(6, 3), (10, 3), (14, 3)], [], formats=("json",))
    rows = [_row(6, "max", 4.0, json=1.0), _row(10, "max", 40.0, json=2.0), _row(14, "max", 90.0, json=1.0),
            _row(6, "avg", 2.0, json=1.0), _row(10, "avg", 6.0, json=1.0), _row(14, "avg", 5.0, json=1.0)]
    rows[2]["naive"]["cut"] = rows[5]["naive"]["cut"] = True  # > 90x: more than 20x, growth shown; > 5x: open
    data = {"rows": rows, "seed": {}, "examples": [], "profile_case": None}
    (shown, ok), = [(shown, ok) for name, shown, ok in commands.targets(data, config)
                    if name.startswith("the lead grows with size (json")]
    assert shown == "avg 2x -> 6x -> > 5x; max 4x -> 20x -> > 90x" and ok is None
    assert commands._grows([(4.0, False), (20.0, False), (90.0, True)]) is True
    assert commands._grows([(4.0, False), (3.0, True)]) is None
    assert commands._grows([(4.0, False), (3.0, False), (90.0, True)]) is False
    assert "> 90 s (cut off)" in "\n".join(commands.command_table(data, config))



def test_a_short_process_is_drawn_more_often(monkeypatch):
    times = iter([0.5, 0.4, 0.6, 0.3, 0.7, 5.0, 4.0, 6.0, 30.0])
    monkeypatch.setattr(commands, "process", lambda *a, **k: {"cpu": next(times)})
    config = commands.Config([(3, 2)], [], runs=3, short_runs=5)
    short, long_, single = (commands.best(["x"], config) for _ in range(3))
    assert (short["cpu"], short["runs"]) == (0.3, 5)  # under SHORT s: five draws, the least kept
    assert (long_["cpu"], long_["runs"]) == (4.0, 3)
    assert single["runs"] == 1  # over SINGLE s: once
