"""Measure symgrad against its peers in one run and write the report (docs/performance.md).

    python benchmarks/run.py                 # the full benchmark, written to docs/performance.md
    python benchmarks/run.py --quick         # small sizes, printed only (add --out to write)
    python benchmarks/run.py --parts commands  # only the whole commands (its section of the report)

Five measurements, each reported as ratios next to the absolute times:
1. derivation time of symgrad.derive vs the naive SymPy approach (benchmarks/naive.py),
   every case in a fresh process, the naive ones cut off at --limit seconds;
2. numeric loss + gradients of the LeNet first stage: symgrad's generated code vs
   torch autograd vs hand-vectorised NumPy, checked to agree before being timed;
3. start-up: `symgrad derive` on a seed example as a whole process vs `import sympy`;
4. peak memory of the LeNet first stage derivation;
5. whole commands (benchmarks/commands.py): `symgrad derive SPEC --format F` per format vs the
   naive script, whole processes, with where their time goes, and the large examples.
Then the issue's targets, reached or not. The report is written between the markers
below (the engine's parts 1-4, and the commands' own), so notes written by hand around
them survive a re-run, and `--parts` re-measures one of them and keeps the other.
"""

from __future__ import annotations

import os

# NumPy's BLAS single-threaded, set before NumPy is imported: on a small shared machine
# its threads wait on each other (a kernel-sized matmul took 10x longer with 2 threads).
# The array form of the generated code and the hand-written NumPy use BLAS; torch is timed with its default threads and with 1.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # NumPy's BLAS; torch's threads are its own (MKL/OpenMP)

import argparse
import json
import math
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import commands, machine  # noqa: E402
from benchmarks.timing import repeat, seconds  # noqa: E402

BEGIN, END = "<!-- benchmarks/run.py: begin -->", "<!-- benchmarks/run.py: end -->"
SEED = "symgrad/examples/conv_max_pool.toml"


@dataclass
class Config:
    sizes: list[tuple[int, int]]
    limit: float          # naive cases are cut off after this many seconds
    lenet: tuple[int, int, int]  # (input size, output channels, kernel size) of the numeric/memory case
    batches: list[int | None]
    startup_runs: int
    quick: bool


FULL = Config([(3, 2), (6, 3), (10, 3), (14, 3), (28, 5), (32, 5)], 60.0, (32, 6, 5), [None, 256], 10, False)
QUICK = Config([(3, 2), (6, 3)], 20.0, (12, 2, 5), [None, 16], 3, True)


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def run_case(method: str, n: int, k: int, pool: str, limit: float | None, *extra: str) -> dict | None:
    """One derivation in a fresh process (benchmarks/cases.py); None when cut off at `limit` CPU seconds."""
    command = [sys.executable, "-m", "benchmarks.cases", method, str(n), str(k), pool, *extra]
    if limit is not None:
        command += ["--cpu-limit", str(math.ceil(limit))]
    try:  # the wall-clock timeout is only a safety net for a machine that is far too busy
        done = subprocess.run(command, cwd=ROOT, env=_env(), capture_output=True, text=True,
                              timeout=None if limit is None else 10 * limit + 60)
    except subprocess.TimeoutExpired:
        return None
    if limit is not None and done.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        return None
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# 1. derivation time ----------------------------------------------------------------------------------


def derivations(config: Config) -> list[dict]:
    """symgrad and naive CPU (and wall) seconds per (size, pool); symgrad: median of 3 processes when under 5 s."""
    rows = []
    for n, k in config.sizes:
        for pool in ("avg", "max"):
            runs = [run_case("symgrad", n, k, pool, None)]
            if runs[0]["cpu"] < 5:
                runs += [run_case("symgrad", n, k, pool, None) for _ in range(2)]
            explicit = runs if runs[0]["expanded"] else [run_case("symgrad", n, k, pool, None, "--explicit")]
            naive = run_case("naive", n, k, pool, config.limit)
            rows.append({"n": n, "k": k, "pool": pool, "macs": (n - k + 1) ** 2 * k * k,
                         "symgrad": statistics.median(r["cpu"] for r in runs),
                         "symgrad_wall": statistics.median(r["seconds"] for r in runs),
                         "expanded": runs[0]["expanded"], "explicit": statistics.median(r["cpu"] for r in explicit),
                         "naive": naive["cpu"] if naive else None, "naive_wall": naive["seconds"] if naive else None})
            naive_text = "cut off" if naive is None else f"{naive['cpu']:.3g} s"
            print(f"  derive {n}x{n}/{k}x{k} {pool}: symgrad {rows[-1]['symgrad']:.3g} s, naive {naive_text} (CPU)",
                  flush=True)
    return rows


def speedup(row: dict, limit: float) -> tuple[float, bool]:
    """(naive / symgrad CPU time, exact); a cut-off naive case gives only a lower bound."""
    if row["naive"] is None:
        return limit / row["symgrad"], False
    return row["naive"] / row["symgrad"], True


def _ratio(value: float, exact: bool = True) -> str:
    return ("" if exact else "> ") + (f"{value:.3g}x" if value < 1000 else f"{value:,.0f}x")


def derivation_table(rows: list[dict], limit: float) -> list[str]:
    lines = ["| input, kernel | pooling | conv multiply-adds | symgrad CPU (wall) | gradients written out? | "
             "symgrad `expand=True` CPU | naive SymPy CPU (wall) | speedup (naive / symgrad CPU) | "
             "speedup vs `expand=True` |",
             "| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |"]
    for row in rows:
        naive = (f"{seconds(row['naive'])} ({seconds(row['naive_wall'])})" if row["naive"] is not None
                 else f"> {limit:g} s (cut off)")
        explicit = dict(row, symgrad=row["explicit"])
        lines.append(f"| {row['n']}x{row['n']}, {row['k']}x{row['k']} | {row['pool']} 2x2 | {row['macs']:,} | "
                     f"{seconds(row['symgrad'])} ({seconds(row['symgrad_wall'])}) | "
                     f"{'yes' if row['expanded'] else 'no: kept in names'} | {seconds(row['explicit'])} | {naive} | "
                     f"{_ratio(*speedup(row, limit))} | {_ratio(*speedup(explicit, limit))} |")
    return lines


# 2. numeric gradient ---------------------------------------------------------------------------------


def numeric(config: Config) -> dict:
    """Derive the LeNet stage in this process, generate its code, check agreement, time the three ways."""
    from benchmarks import cases, gradients

    n, channels, k = config.lenet
    start = time.process_time()
    d = cases.symgrad_case(n, k, "max", channels, bias=True)
    derive_s = time.process_time() - start
    start = time.process_time()
    f = d.lambdify()  # form="auto": the array form at this size
    lambdify_s = time.process_time() - start
    start = time.process_time()
    scalar = d.lambdify(form="scalar")
    scalar_s = time.process_time() - start
    result = {"derive": derive_s, "lambdify": lambdify_s, "lines": len(f.source.splitlines()),
              "longest": max(map(len, f.source.splitlines())), "batches": [],
              "lambdify_scalar": scalar_s, "lines_scalar": len(scalar.source.splitlines())}
    print(f"  numeric: derive {derive_s:.3g} s, lambdify {lambdify_s:.3g} s (scalar form {scalar_s:.3g} s)", flush=True)
    for batch in config.batches:
        x, w, b = gradients.problems(n, channels, k, batch)
        runs = gradients.runners(f, x, w, b, scalar)
        difference = gradients.compare(runs, batch is not None)
        if difference > 1e-9:
            raise AssertionError(f"the implementations disagree at batch {batch}: relative difference {difference:g}")
        threads = _torch_threads()
        default = f", {threads} threads" if threads > 1 else ", 1 thread"
        timed = {name + (default if name.startswith("torch") else ""): repeat(run, runs=15 if batch is None else 7)
                 for name, run in runs.items()}
        if threads > 1:
            timed.update(_one_thread({name: run for name, run in runs.items() if name.startswith("torch")}, batch))
        result["batches"].append({"batch": batch or 1, "difference": difference, "times": timed})
        print(f"  numeric batch {batch or 1}: " + ", ".join(f"{k} {v['median']:.3g} s" for k, v in timed.items()),
              flush=True)
    last = config.batches[-1]
    x, w, b = gradients.problems(n, channels, k, last)
    result["sections"] = gradients.section_times(f.source, {"input": x, "0.weight": w, "0.bias": b})
    result["sections_batch"] = last or 1
    return result


def _one_thread(runs: dict, batch) -> dict:
    """The torch rows again with one thread: on a small shared machine that is often faster."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return {f"{name}, 1 thread": repeat(run, runs=15 if batch is None else 7) for name, run in runs.items()}
    finally:
        torch.set_num_threads(threads)


def _torch_name(times: dict) -> str:
    """The fastest torch autograd row (of the default and the one-thread runs): the reference of the ratios."""
    return min((name for name in times if name.startswith("torch autograd")), key=lambda n: times[n]["min"])


def numeric_table(result: dict) -> list[str]:
    lines = ["| batch | implementation | min | median | runs | min / min of torch autograd |",
             "| ---: | --- | ---: | ---: | ---: | ---: |"]
    for entry in result["batches"]:
        torch = entry["times"][_torch_name(entry["times"])]["min"]
        for name, t in entry["times"].items():
            lines.append(f"| {entry['batch']} | {name} | {seconds(t['min'])} | {seconds(t['median'])} | {t['runs']} | "
                         f"{t['min'] / torch:.3g} |")
    return lines


def section_table(result: dict) -> list[str]:
    total = sum(t for _, _, t in result["sections"])
    lines = [f"| section of the generated `compute()` | assignments | time at batch {result['sections_batch']} | share |",
             "| --- | ---: | ---: | ---: |"]
    for label, count, t in result["sections"]:
        lines.append(f"| {label} | {count:,} | {seconds(t)} | {100 * t / total:.0f} % |")
    return lines


# 3. start-up -----------------------------------------------------------------------------------------

TORCH_PROBE = """
import contextlib, io, sys
from symgrad.cli.commands import main
with contextlib.redirect_stdout(io.StringIO()):
    main(["derive", %r, "--format", "latex"])
print(sum(1 for m in sys.modules if m == "torch" or m.startswith("torch.")))
"""


def startup(config: Config) -> dict:
    """Median wall time of whole processes, interleaved; whether derive imports torch; its import costs."""
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        'python -c "import sympy"': [sys.executable, "-c", "import sympy"],
        f"symgrad derive {SEED} --format latex": [sys.executable, "-m", "symgrad", "derive", SEED, "--format", "latex"],
    }
    times = {name: [] for name in commands}
    for _ in range(config.startup_runs):
        for name, command in commands.items():
            start = time.perf_counter()
            subprocess.run(command, cwd=ROOT, env=_env(), check=True, stdout=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - start)
    probe = subprocess.run([sys.executable, "-c", TORCH_PROBE % SEED], cwd=ROOT, env=_env(), capture_output=True,
                           text=True, check=True)
    importtime = subprocess.run([sys.executable, "-X", "importtime", "-m", "symgrad", "derive", SEED, "--format",
                                 "latex"], cwd=ROOT, env=_env(), capture_output=True, text=True, check=True).stderr
    return {"median": {k: statistics.median(v) for k, v in times.items()},
            "min": {k: min(v) for k, v in times.items()}, "runs": config.startup_runs,
            "torch_modules": int(probe.stdout.strip().splitlines()[-1]), "imports": top_imports(importtime)}


def top_imports(report: str, count: int = 8) -> list[tuple[str, float]]:
    """The top-level imports of a `python -X importtime` report, by cumulative seconds."""
    found = []
    for line in report.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)$", line)
        if match and not match.group(2).startswith(" "):
            found.append((match.group(2), int(match.group(1)) / 1e6))
    return sorted(found, key=lambda item: -item[1])[:count]


def startup_table(result: dict) -> list[str]:
    base = result["median"]['python -c "import sympy"']
    lines = [f"| process | median of {result['runs']} | min | / `import sympy` |", "| --- | ---: | ---: | ---: |"]
    for name, t in result["median"].items():
        lines.append(f"| `{name}` | {seconds(t)} | {seconds(result['min'][name])} | {t / base:.3g} |")
    return lines


# 4. targets ------------------------------------------------------------------------------------------


def targets(config: Config, rows: list[dict], num: dict, start: dict, memory: dict | None) -> list[tuple]:
    """(target, measured, reached) for every target of the issue that this run measured."""
    by = {(r["n"], r["k"], r["pool"]): r for r in rows}
    out = []
    if (10, 3, "max") in by:
        ratio, exact = speedup(by[10, 3, "max"], config.limit)
        out.append(("derivation >= 100x faster than naive SymPy, 10x10/3x3 max pool", _ratio(ratio, exact),
                    ratio >= 100))
    for pool in ("max", "avg"):
        series = [(r, *speedup(r, config.limit)) for r in rows if r["pool"] == pool]
        verdict, shown = True, []
        for (previous, p, _), (row, s, exact) in zip(series, series[1:]):
            if s <= p:
                verdict = False if exact else (None if verdict else verdict)
        shown = ", ".join(f"{r['n']}/{r['k']}: {_ratio(s, e)}" for r, s, e in series)
        if len(series) > 1:
            out.append((f"the lead grows with size ({pool} pool; naive / symgrad CPU)", shown, verdict))
    if (10, 3, "max") in by and (28, 5, "max") in by:
        ratio = by[28, 5, "max"]["symgrad"] / by[10, 3, "max"]["symgrad"]
        out.append(("28x28/5x5 max pool within 30x the 10x10/3x3 CPU time (25x the multiply-adds)", f"{ratio:.3g}x",
                    ratio <= 30))
    pairs = [(n, k, by[n, k, "max"]["symgrad"] / by[n, k, "avg"]["symgrad"]) for n, k in config.sizes]
    out.append(("max pooling <= 2x the CPU time of average pooling, same size",
                ", ".join(f"{n}/{k}: {r:.2g}x" for n, k, r in pairs), all(r <= 2 for _, _, r in pairs)))
    last = num["batches"][-1]
    torch = last["times"][_torch_name(last["times"])]["min"]
    from benchmarks.gradients import SYMGRAD

    ratio = last["times"][SYMGRAD]["min"] / torch
    out.append((f"numeric gradient at batch {last['batch']} no slower than 2x torch autograd", f"{ratio:.3g}x",
                ratio <= 2))
    ratio = start["median"][f"symgrad derive {SEED} --format latex"] / start["median"]['python -c "import sympy"']
    out.append(("seed example end to end within 2x the `import sympy` process", f"{ratio:.3g}x", ratio <= 2))
    out.append(("torch not imported by derive", f"{start['torch_modules']} torch modules imported",
                start["torch_modules"] == 0))
    if memory is not None:
        out.append(("LeNet first stage derivation under 2 GB peak", f"{memory['peak_mb']:,.0f} MB",
                    memory["peak_mb"] < 2048))
    return out


def _verdict(reached) -> str:
    return {True: "reached", False: "**missed**", None: "not shown (naive cut off)"}[reached]


# report ------------------------------------------------------------------------------------------------


def report(config: Config, rows, num, start, memory, elapsed: float) -> str:
    n, channels, k = config.lenet
    stage = f"{n}x{n} input, Conv2d(1, {channels}, {k}) with bias, MaxPool2d(2), MSELoss (target 1)"
    out = [BEGIN, "", "Generated by `python benchmarks/run.py" + (" --quick" if config.quick else "") +
           f"` in {elapsed / 60:.1f} min; do not edit between the markers.", ""]
    if config.quick:
        out += ["**Quick run: small sizes only, not the benchmark.**", ""]
    out += ["### Machine", "", "| | |", "| --- | --- |"]
    out += [f"| {what} | {value} |" for what, value in machine.describe(ROOT)]
    out += ["", "### Targets", "", "| target | measured | |", "| --- | --- | --- |"]
    out += [f"| {name} | {value} | {_verdict(ok)} |" for name, value, ok in targets(config, rows, num, start, memory)]
    out += ["", "### Derivation time: symgrad vs naive SymPy", "",
            "Conv2d(1, 1, k, bias=False) -> 2x2 pooling -> MSELoss (target 1), input and kernel all symbols. "
            "symgrad: `symgrad.derive` as by default (gradients of kernel and input in the named form, written "
            "out in the inputs too when small: `expand='auto'`); median of 3 fresh processes when under 5 s, else "
            "one. `expand=True` always writes every gradient out in the inputs, as the naive way does (one process). Naive: the whole loss as one SymPy expression (conv as "
            "sums, `sympy.Max` or the mean per window, MSE), then `sympy.diff` by every kernel entry; one fresh "
            f"process, cut off after {config.limit:g} CPU seconds. Imports are not timed. Both are single-threaded "
            "SymPy work, so the ratios use CPU time (`time.process_time`), which other jobs on a shared machine "
            "disturb far less than wall time (in parentheses).", ""]
    out += derivation_table(rows, config.limit)
    out += ["", f"### Numeric loss and gradients: the LeNet first stage ({stage})", "",
            f"Derived fully symbolic in {seconds(num['derive'])} CPU; `lambdify()` (array form, the default at this size) "
            f"took {seconds(num['lambdify'])} CPU and wrote {num['lines']:,} lines (longest {num['longest']} "
            f"characters); `lambdify(form='scalar')` took {seconds(num['lambdify_scalar'])} CPU and wrote "
            f"{num['lines_scalar']:,} lines. Every implementation returns each "
            "problem's loss and its gradients for the kernel, the bias and the input; they agree to a relative "
            + ", ".join(f"{e['difference']:.1g} (batch {e['batch']})" for e in num["batches"]) +
            " before timing. Batch B = B independent problems (docs/numeric.md): symgrad gets the input with a "
            "leading batch axis, torch runs `torch.func.vmap(torch.func.grad(...))` (per-problem gradients, the same "
            "results); the torch minibatch row is one ordinary `backward()` on an N=B minibatch, whose weight "
            "gradient is the sum (fewer results), for scale. Float64 on the CPU; torch runs with its default "
            f"{_torch_threads()} threads and again with 1; NumPy's BLAS (matrix products of the array form and of the "
            "hand-written code) with 1. "
            "Times are wall clock after 2 untimed warm-up calls; the ratios use the **min** of the runs (the "
            "machine is shared: the min is what the code costs, the median adds the other jobs' noise) and divide "
            "by the faster torch autograd row.", ""]
    out += numeric_table(num)
    out += ["", "Where a call of the generated code (array form) spends its time:", ""]
    out += section_table(num)
    out += ["", "### Start-up", "",
            "Whole processes, run interleaved; `symgrad derive` is `python -m symgrad derive` (the same entry "
            "point as the `symgrad` script). Largest top-level imports of that process (`python -X importtime`, "
            "cumulative): " + ", ".join(f"{name} {seconds(t)}" for name, t in start["imports"]) + ".", ""]
    out += startup_table(start)
    if memory is not None:
        out += ["", "### Peak memory", "",
                f"The LeNet first stage derivation ({stage}, fully symbolic) in a fresh process: "
                f"{memory['peak_mb']:,.0f} MB peak resident (ru_maxrss), derivation {seconds(memory['cpu'])} CPU "
                f"({seconds(memory['seconds'])} wall).", ""]
    out += ["", END]
    return "\n".join(out)


def _torch_threads() -> int:
    import torch
    return torch.get_num_threads()


def write(path: Path, block: str, begin: str = BEGIN, end: str = END) -> None:
    """Replace the generated block of `path` between `begin` and `end` (keeping the text around it);
    a new block goes after the engine's, or starts the file."""
    text = path.read_text() if path.exists() else ""
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    elif END in text:
        head, rest = text.split(END, 1)
        text = head + END + "\n\n" + block + rest
    elif text:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    else:
        text = "# Performance\n\nMeasured by `benchmarks/run.py`.\n\n" + block + "\n"
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def _run_snapshot(argv: list[str], args) -> int:
    """Re-run this script from an export of HEAD, so edits in progress in the tree are not measured."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.strip()
    out = (args.out or (None if args.quick else ROOT / "docs" / "performance.md"))
    rest = [a for a in argv if a != "--snapshot"]
    if out is not None and "--out" not in rest:
        rest += ["--out", str(Path(out).resolve())]
    with tempfile.TemporaryDirectory(prefix="symgrad-bench-") as folder:
        archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        env = {**os.environ, machine.COMMIT_VARIABLE: f"{commit} (snapshot of HEAD)"}
        return subprocess.run([sys.executable, str(Path(folder) / "benchmarks" / "run.py"), *rest], cwd=folder,
                              env=env).returncode


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a minute or two")
    parser.add_argument("--out", type=Path, help="the report (default: docs/performance.md, or only printed with "
                                                 "--quick)")
    parser.add_argument("--limit", type=float, help="seconds after which a naive SymPy case is cut off")
    parser.add_argument("--raw", type=Path, help="also write the whole commands' measurements to this JSON file")
    parser.add_argument("--parts", default="engine,commands",
                        help="what to measure: engine (derivation, numeric, start-up, memory), commands, or both")
    parser.add_argument("--snapshot", action="store_true",
                        help="measure the last commit (git archive HEAD in a temporary folder), not the working tree")
    args = parser.parse_args(argv)
    if args.snapshot:
        return _run_snapshot(argv if argv is not None else sys.argv[1:], args)
    config = QUICK if args.quick else FULL
    if args.limit:
        config.limit = args.limit
    out = args.out or (None if args.quick else ROOT / "docs" / "performance.md")
    parts = set(args.parts.split(","))
    if not parts <= {"engine", "commands"}:
        parser.error(f"--parts: engine, commands or both, got {args.parts}")
    commands.compile_sources()  # as an installed package: no process compiles symgrad again
    if "engine" in parts:
        engine(config, out)
    if "commands" in parts:
        whole_commands(commands.QUICK if args.quick else commands.FULL, out, args.raw)
    return 0


def whole_commands(config: commands.Config, out: Path | None, raw: Path | None = None) -> None:
    began = time.perf_counter()
    rows = machine.describe(ROOT)
    print("whole commands", flush=True)
    with tempfile.TemporaryDirectory(prefix="symgrad-specs-") as folder:
        data = commands.measure(config, Path(folder))
    if raw is not None:
        raw.write_text(json.dumps(data, indent=1))
    block = commands.report(data, config, time.perf_counter() - began, rows)
    print(block)
    if out is not None:
        write(out, block, commands.BEGIN, commands.END)
        print(f"written to {out}")


def engine(config: Config, out: Path | None) -> None:
    began = time.perf_counter()
    print("derivation times", flush=True)
    rows = derivations(config)
    print("peak memory", flush=True)
    n, channels, k = config.lenet
    memory = run_case("symgrad", n, k, "max", None, "--channels", str(channels), "--bias")
    print("numeric gradients", flush=True)
    num = numeric(config)
    print("start-up", flush=True)
    start = startup(config)
    block = report(config, rows, num, start, memory, time.perf_counter() - began)
    print(block)
    if out is not None:
        write(out, block)
        print(f"written to {out}")


if __name__ == "__main__":
    sys.exit(main())
