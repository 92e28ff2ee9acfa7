"""Whole commands: `symgrad derive SPEC --format F` as a user runs it, against the naive script's whole process.

A user waits for a command, not for `symgrad.derive`: start-up, reading the spec,
deriving, printing and writing the output all count. Every run here is a fresh process;
its time is the process's own CPU time (user + system, from os.wait4's rusage), which
the other jobs on a shared machine disturb far less than wall time; each case is the
**min** of RUNS processes (one when a process takes over SINGLE seconds). The naive
script (benchmarks/cases.py naive: import SymPy, the whole loss as one expression,
`sympy.diff` per kernel entry) is timed the same way, in the same run.
Each symgrad process also reports its phases (SYMGRAD_PHASES, symgrad/core/progress.py),
so the report says where a command's time goes; `profile` adds cProfile's top functions
of the printing phase.
"""

from __future__ import annotations

import compileall
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.timing import seconds

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ("text", "json", "latex", "markdown")
SEED = "symgrad/examples/conv_max_pool.toml"
EXAMPLE_BOUND = 30  # a large example within this many times the seed example's whole process
SINGLE = 20.0  # a process over this many CPU seconds is run once, not RUNS times
SHORT = 2.0  # a process under this many CPU seconds is run `short_runs` times: start-up noise is most of it
PHASES = ("start-up", "read", "derive", "torch block", "print", "write")


@dataclass
class Config:
    sizes: list[tuple[int, int]]  # (input size, kernel size)
    examples: list[str]  # bundled examples timed in text and json
    runs: int = 3
    short_runs: int = 5  # for a process under SHORT s (cheap to repeat; the min needs more draws there)
    limit: float = 300.0  # CPU seconds after which a symgrad process is cut off
    naive_limit: float = 90.0  # and a naive one (then its ratio is a lower bound)
    profile: tuple[int, int, str] | None = (10, 3, "max")  # the case profiled per format
    quick: bool = False
    formats: tuple[str, ...] = FORMATS
    example_formats: tuple[str, ...] = ("text", "json")
    extra: dict = field(default_factory=dict)


FULL = Config([(6, 3), (8, 3), (10, 3), (14, 3)], ["lenet", "tutorial_net"])
QUICK = Config([(3, 2), (4, 2)], ["conv_symbolic"], runs=1, short_runs=1, limit=60.0, profile=(4, 2, "max"), quick=True)


def spec_text(n: int, k: int, pool: str) -> str:
    """The spec of benchmarks/cases.py's case: Conv2d(1, 1, k, bias=False) -> 2x2 pool -> MSELoss (target 1)."""
    kind = "MaxPool2d" if pool == "max" else "AvgPool2d"
    return (f'title = "{n}x{n} input, {k}x{k} kernel, {pool} pool, fully symbolic"\n\n'
            f'[input]\nshape = [1, 1, {n}, {n}]\nsymbol = "x"\n\n'
            f'[[layers]]\ntype = "Conv2d"\nin_channels = 1\nout_channels = 1\nkernel_size = {k}\nbias = false\n\n'
            f'[[layers]]\ntype = "{kind}"\nkernel_size = 2\n\n[loss]\ntype = "MSELoss"\ntarget = 1\n')


def _env(phases: str | None = None) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env.pop("SYMGRAD_PROGRESS", None)  # stderr is a file here: no bar
    if phases:
        env["SYMGRAD_PHASES"] = phases
    else:
        env.pop("SYMGRAD_PHASES", None)
    return env


def process(command: list[str], limit: float | None, phases: bool = False) -> dict | None:
    """One fresh process: CPU (user + system) and wall seconds, peak RSS, bytes on stdout, its phases.

    None when it was cut off at `limit` CPU seconds (RLIMIT_CPU) or, as a safety net on a far
    too busy machine, at 10x that in wall time.
    """
    with tempfile.TemporaryDirectory(prefix="symgrad-cmd-") as folder:
        out_path, err_path, phase_path = (Path(folder) / name for name in ("out", "err", "phases.json"))

        def limited():
            if limit is not None:
                resource.setrlimit(resource.RLIMIT_CPU, (int(limit) + 1, int(limit) + 6))

        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            start = time.perf_counter()
            child = subprocess.Popen(command, cwd=ROOT, env=_env(str(phase_path) if phases else None), stdout=out,
                                     stderr=err, preexec_fn=limited)
            timer = threading.Timer(10 * limit + 60, child.kill) if limit is not None else None
            if timer:
                timer.start()
            _, status, usage = os.wait4(child.pid, 0)
            wall = time.perf_counter() - start
            if timer:
                timer.cancel()
            child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode < 0 and limit is not None:
            return None
        if child.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({child.returncode}):\n{err_path.read_text()[-2000:]}")
        result = {"cpu": usage.ru_utime + usage.ru_stime, "wall": wall, "peak_mb": usage.ru_maxrss / 1024,
                  "bytes": out_path.stat().st_size, "stdout": out_path.read_text()[-4000:]}
        if phases and phase_path.exists():
            result["phases"] = json.loads(phase_path.read_text())["cpu"]
        return result


def best(command: list[str], config: Config, phases: bool = False, limit: float | None = None) -> dict | None:
    """The run with the least CPU time of `config.runs` processes (`config.short_runs` when the first is under
    SHORT s: at 6x6 and 8x8 one start-up burst of another job was a fifth of a ratio; one when over SINGLE s)."""
    limit = config.limit if limit is None else limit
    runs = [process(command, limit, phases)]
    if runs[0] is None:
        return None
    if runs[0]["cpu"] <= SINGLE:
        count = config.short_runs if runs[0]["cpu"] < SHORT else config.runs
        runs += [process(command, limit, phases) for _ in range(count - 1)]
    chosen = dict(min(runs, key=lambda r: r["cpu"]))
    chosen["runs"] = len(runs)
    return chosen


def symgrad_command(spec: str, fmt: str) -> list[str]:
    return [sys.executable, "-m", "symgrad", "derive", spec, "--format", fmt]


def naive_command(n: int, k: int, pool: str) -> list[str]:
    return [sys.executable, "-m", "benchmarks.cases", "naive", str(n), str(k), pool]


def compile_sources() -> None:
    """Byte-compile symgrad and the benchmarks as `pip install` does for an installed package.

    Measured from a source tree, and on a machine that sets PYTHONDONTWRITEBYTECODE (this one
    does), every symgrad process compiled its ~150 modules again (about 0.1 s CPU), while the
    naive script's SymPy comes compiled from site-packages.
    """
    for package in ("symgrad", "benchmarks"):
        compileall.compile_dir(str(ROOT / package), quiet=1)


def measure(config: Config, folder: Path) -> dict:
    """Every size x pool x format, the naive script per size x pool, the examples and the profiles."""
    rows = []
    for n, k in config.sizes:
        for pool in ("avg", "max"):
            spec = folder / f"conv{n}_k{k}_{pool}.toml"
            spec.write_text(spec_text(n, k, pool))
            naive = best(naive_command(n, k, pool), config, limit=config.naive_limit)
            if naive is None:  # cut off: its time is at least the limit
                naive = {"cpu": config.naive_limit, "engine": None, "cut": True, "runs": 1}
            else:
                naive["engine"] = json.loads(naive.pop("stdout").strip().splitlines()[-1])["cpu"]
            row = {"n": n, "k": k, "pool": pool, "naive": naive, "formats": {}}
            for fmt in config.formats:
                found = best(symgrad_command(str(spec), fmt), config, phases=True)
                if found is not None:
                    found.pop("stdout")
                row["formats"][fmt] = found
            rows.append(row)
            print(f"  whole command {n}x{n}/{k}x{k} {pool}: naive {_cpu(naive)}, " + ", ".join(
                f"{fmt} {_cpu(row['formats'][fmt])}" for fmt in config.formats), flush=True)
    seed = {fmt: _dropped(best(symgrad_command(SEED, fmt), config, phases=True)) for fmt in config.example_formats}
    examples = []
    for name in config.examples:
        for fmt in config.example_formats:
            found = _dropped(best(symgrad_command(name, fmt), config, phases=True))
            examples.append({"name": name, "format": fmt, "result": found})
            print(f"  example {name} {fmt}: {_cpu(found)}"
                  + (f", {found['bytes'] / 1e6:.3g} MB, {found['peak_mb']:.0f} MB peak" if found else ""), flush=True)
    profiles = {}
    if config.profile:
        n, k, pool = config.profile
        spec = folder / f"conv{n}_k{k}_{pool}.toml"
        spec.write_text(spec_text(n, k, pool))
        for fmt in config.formats:
            profiles[fmt] = profile(str(spec), fmt, config.limit)
    return {"rows": rows, "seed": seed, "examples": examples, "profiles": profiles,
            "profile_case": list(config.profile) if config.profile else None}


def _dropped(result: dict | None) -> dict | None:
    if result is not None:
        result.pop("stdout", None)
    return result


def _cpu(result: dict | None) -> str:
    return "cut off" if result is None else f"{result['cpu']:.3g} s"


def profile(spec: str, fmt: str, limit: float) -> dict | None:
    """cProfile of the printing phase of one command (benchmarks/profile_print.py): its top functions."""
    found = process([sys.executable, "-m", "benchmarks.profile_print", spec, fmt], 4 * limit)
    return None if found is None else json.loads(found["stdout"].strip().splitlines()[-1])


# report ----------------------------------------------------------------------------------------------------


def ratio(row: dict, fmt: str) -> float | None:
    """naive / symgrad whole-process CPU (a lower bound when naive was cut off: `bound`); None when symgrad was."""
    ours = row["formats"].get(fmt)
    if ours is None or row["naive"] is None:
        return None
    return row["naive"]["cpu"] / ours["cpu"]


def bound(row: dict) -> bool:
    """Whether the naive time is only a lower bound (cut off)."""
    return bool(row["naive"] and row["naive"].get("cut"))


def _x(value: float | None, lower: bool = False) -> str:
    if value is None:
        return "n/a"
    return ("> " if lower else "") + (f"{value:.3g}x" if value < 1000 else f"{value:,.0f}x")


def _grows(series: list[tuple[float | None, bool]]) -> bool | None:
    """Strictly growing? False on an exact step down; None when a cut-off (a lower bound) leaves it open."""
    verdict = True
    for (a, a_bound), (b, b_bound) in zip(series, series[1:]):
        if a is None or b is None or a_bound:
            verdict = None if verdict else verdict
        elif b <= a:
            verdict = (None if verdict else verdict) if b_bound else False
    return verdict


def _size(count: int) -> str:
    for unit, scale in (("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count} B"


def phase_split(result: dict) -> dict:
    """The whole process's CPU split into PHASES (print: every "print <format>"), the command's other
    work (its imports, option checks) and the interpreter's exit (freeing what the command built)."""
    found = dict.fromkeys(PHASES, 0.0)
    recorded = dict(result.get("phases", {}))
    end = recorded.pop("end", None)
    for name, t in recorded.items():
        key = "print" if name.startswith("print") else name
        found[key] = found.get(key, 0.0) + t
    inside = sum(found.values())
    found["other"] = max((end if end is not None else result["cpu"]) - inside, 0.0)
    found["exit"] = max(result["cpu"] - end, 0.0) if end is not None else 0.0
    return found


def targets(data: dict, config: Config) -> list[tuple[str, str, bool | None]]:
    """(target, measured, reached) for the issue's whole-command targets that this run measured."""
    rows = data["rows"]
    out = []
    by = {(r["n"], r["k"], r["pool"]): r for r in rows}
    if (10, 3, "max") in by and "json" in config.formats:
        row = by[10, 3, "max"]
        value = ratio(row, "json")
        reached = None if value is None else (value >= 20 or (None if bound(row) else False))
        out.append(("`derive --format json` >= 20x faster than naive, 10x10/3x3 max pool (whole processes)",
                    _x(value, bound(row)), reached))
    large = [r for r in rows if r["n"] >= 6] or rows
    cases = [(r, fmt, ratio(r, fmt)) for r in large for fmt in config.formats]
    slow = [f"{r['n']}x{r['n']} {r['pool']} {fmt} {_x(v)}" for r, fmt, v in cases
            if v is not None and v <= 1 and not bound(r)]
    lowest = min((c for c in cases if c[2] is not None), key=lambda c: c[2], default=None)
    smallest = min(r["n"] for r in large) if large else 0
    shown = "slower or equal: " + ", ".join(slow) if slow else (
        f"lowest: {lowest[0]['n']}x{lowest[0]['n']} {lowest[0]['pool']} {lowest[1]} "
        f"{_x(lowest[2], bound(lowest[0]))}" if lowest else "")
    out.append((f"faster than naive at every size from {smallest}x{smallest}, avg and max, every format", shown,
                not slow and all(v is not None for _, _, v in cases)))
    for fmt in config.formats:
        verdict, parts = True, []
        for pool in ("avg", "max"):
            series = [(ratio(r, fmt), bound(r)) for r in rows if r["pool"] == pool]
            parts.append(f"{pool} " + " -> ".join(_x(v, b) for v, b in series))
            grows = _grows(series)
            verdict = False if grows is False or verdict is False else (None if grows is None else verdict)
        out.append((f"the lead grows with size ({fmt}; {', '.join(f'{r}' for r in _sizes(rows))})",
                    "; ".join(parts), verdict))
    for entry in data["examples"]:
        seed, found = data["seed"].get(entry["format"]), entry["result"]
        if seed is None or found is None:
            out.append((f"{entry['name']} --format {entry['format']} within {EXAMPLE_BOUND}x the seed example",
                        "cut off", False))
            continue
        value = found["cpu"] / seed["cpu"]
        out.append((f"{entry['name']} --format {entry['format']} within {EXAMPLE_BOUND}x the seed example's whole "
                    f"process ({seconds(seed['cpu'])})", f"{_x(value)} ({seconds(found['cpu'])}, "
                    f"{_size(found['bytes'])})", value <= EXAMPLE_BOUND))
        if entry["format"] == "text":
            out.append((f"{entry['name']} text output at most a few hundred kB (500 kB)", _size(found["bytes"]),
                        found["bytes"] <= 500_000))
    return out


def _sizes(rows: list[dict]) -> list[str]:
    return list(dict.fromkeys(f"{r['n']}x{r['n']}" for r in rows))


def command_table(data: dict, config: Config) -> list[str]:
    lines = ["| input, kernel | pooling | naive script | " + " | ".join(config.formats) + " |",
             "| --- | --- | ---: | " + " | ".join("---:" for _ in config.formats) + " |"]
    for row in data["rows"]:
        naive = row["naive"]
        cells = []
        for fmt in config.formats:
            found = row["formats"][fmt]
            cells.append("cut off" if found is None else
                         f"{seconds(found['cpu'])}, {_size(found['bytes'])}: **{_x(ratio(row, fmt), bound(row))}**")
        shown = f"> {seconds(naive['cpu'])} (cut off)" if bound(row) else \
            f"{seconds(naive['cpu'])} (diff {seconds(naive['engine'])})"
        lines.append(f"| {row['n']}x{row['n']}, {row['k']}x{row['k']} | {row['pool']} 2x2 | {shown} | "
                     + " | ".join(cells) + " |")
    return lines


def phase_table(data: dict, config: Config) -> list[str]:
    """Per format at the profiled case: the whole process's CPU by phase."""
    if not data["profile_case"]:
        return []
    n, k, pool = data["profile_case"]
    row = next((r for r in data["rows"] if (r["n"], r["k"], r["pool"]) == (n, k, pool)), None)
    if row is None:
        return []
    names = [*PHASES, "other", "exit"]
    lines = ["| format | whole process | " + " | ".join(names) + " |",
             "| --- | ---: | " + " | ".join("---:" for _ in names) + " |"]
    for fmt in config.formats:
        found = row["formats"][fmt]
        if found is None:
            continue
        split = phase_split(found)
        lines.append(f"| {fmt} | {seconds(found['cpu'])} | " + " | ".join(
            f"{seconds(split[name])} ({100 * split[name] / found['cpu']:.0f} %)" for name in names) + " |")
    return lines


def profile_table(data: dict, config: Config) -> list[str]:
    """Per format: the printing phase under cProfile, by module (own time) and by symgrad function (cumulative)."""
    lines = ["| format | printing under cProfile | modules by own time (share) | symgrad functions by cumulative "
             "time (share) |", "| --- | ---: | --- | --- |"]
    for fmt in config.formats:
        found = data["profiles"].get(fmt)
        if not found or not found["total"]:
            continue
        shares = [["; ".join(f"`{name}` {100 * t / found['total']:.0f} %" for name, t in found[key])]
                  for key in ("modules", "symgrad")]
        lines.append(f"| {fmt} | {seconds(found['total'])} | {shares[0][0]} | {shares[1][0]} |")
    return lines


def example_table(data: dict) -> list[str]:
    lines = ["| command | whole process CPU (wall) | peak RSS | output | derive | print | / seed example |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for fmt, seed in data["seed"].items():
        if seed is not None:
            split = phase_split(seed)
            lines.append(f"| `symgrad derive {Path(SEED).stem} --format {fmt}` (seed) | {seconds(seed['cpu'])} "
                         f"({seconds(seed['wall'])}) | {seed['peak_mb']:.0f} MB | {_size(seed['bytes'])} | "
                         f"{seconds(split['derive'])} | {seconds(split['print'])} | 1 |")
    for entry in data["examples"]:
        found, seed = entry["result"], data["seed"].get(entry["format"])
        name = f"`symgrad derive {entry['name']} --format {entry['format']}`"
        if found is None:
            lines.append(f"| {name} | cut off | | | | | |")
            continue
        split = phase_split(found)
        lines.append(f"| {name} | {seconds(found['cpu'])} ({seconds(found['wall'])}) | {found['peak_mb']:.0f} MB | "
                     f"{_size(found['bytes'])} | {seconds(split['derive'])} | {seconds(split['print'])} | "
                     f"{_x(found['cpu'] / seed['cpu']) if seed else 'n/a'} |")
    return lines


BEGIN, END = "<!-- benchmarks/run.py commands: begin -->", "<!-- benchmarks/run.py commands: end -->"


def report(data: dict, config: Config, elapsed: float, machine_rows: list[tuple[str, str]]) -> str:
    """The whole-command section of docs/performance.md, between its own markers."""
    out = [BEGIN, "", "## Whole commands", "",
           "Generated by `python benchmarks/run.py" + (" --quick" if config.quick else "") +
           f"` (its commands part) in {elapsed / 60:.1f} min; do not edit between the markers.", ""]
    if config.quick:
        out += ["**Quick run: small sizes only, not the benchmark.**", ""]
    out += ["| | |", "| --- | --- |"] + [f"| {what} | {value} |" for what, value in machine_rows]
    out += ["", "### Targets (whole commands)", "", "| target | measured | |", "| --- | --- | --- |"]
    out += [f"| {name} | {value} | {_verdict(ok)} |" for name, value, ok in targets(data, config)]
    out += ["", "### `symgrad derive SPEC --format F` vs the naive script, whole processes", "",
            "The spec is the derivation table's case (Conv2d(1, 1, k, bias=False) -> 2x2 pooling -> MSELoss, "
            "target 1, input and kernel all symbols, no optimizer), run as `python -m symgrad derive SPEC --format "
            "F` with its output to a file: start-up, reading the spec, deriving, printing and writing all count. "
            "The naive script is `python -m benchmarks.cases naive N K POOL`: start-up (import SymPy), the whole "
            "loss as one SymPy expression and `sympy.diff` by every kernel entry (in parentheses: that diff alone); "
            "it prints nothing, so the comparison favours it. Times are the whole process's CPU time (user + "
            "system, `os.wait4`), the **min of "
            f"{config.runs}** fresh processes ({config.short_runs} when one takes under {SHORT:g} s, one when over "
            f"{SINGLE:g} s), both in this run; the "
            f"machine is shared (2 cores, several jobs), so CPU time, not wall time, and the min. Processes over "
            f"{config.limit:g} CPU s are cut off (naive ones over {config.naive_limit:g} s: their ratios are then lower "
            f"bounds, marked >). Each cell: symgrad's time, the output's size, **naive / symgrad**.",
            ""]
    out += command_table(data, config)
    if data["profile_case"]:
        n, k, pool = data["profile_case"]
        out += ["", f"### Where the time goes ({n}x{n}/{k}x{k} {pool} pool)", "",
                "Phases of the whole process (CPU, from the run above; `SYMGRAD_PHASES` makes `derive` write them: "
                "symgrad/core/progress.py): start-up is the interpreter and imports before the command, the torch "
                "block (latex and markdown) evaluates the derivation at drawn values for the PyTorch section, other is "
                "the rest of the command (its imports, option checks), exit the interpreter's exit (freeing what the "
                "command built). CPU time is counted in 4 ms ticks here.", ""]
        out += phase_table(data, config)
        out += ["", "Inside the printing phase (one more process per format, cProfile on only while printing, wall "
                    "seconds under the profiler, which slows SymPy's small calls several times: the shares are what "
                    "counts): the modules with the most own time, and symgrad's functions with the most cumulative "
                    "time below the printer's entry point.", ""]
        out += profile_table(data, config)
    out += ["", "### Large examples", "",
            f"The bundled networks, text and JSON, whole processes as above, against the seed example "
            f"(`{Path(SEED).stem}`, the same format); target: within {EXAMPLE_BOUND}x its time.", ""]
    out += example_table(data)
    return "\n".join(out + ["", END])


def _verdict(reached) -> str:
    return {True: "reached", False: "**missed**", None: "not shown (cut off)"}[reached]
