"""Where a command's printing goes: `python -m benchmarks.profile_print SPEC FORMAT`.

Runs `symgrad derive SPEC --format FORMAT` in this process as the CLI does, with cProfile
on only while it prints (the torch block, for latex and markdown, and `render`), and prints
one JSON line: the printing's seconds under the profiler (wall), the modules with the most own
time (which library the time is spent in) and symgrad's functions with the most cumulative
time (which printer spends it). cProfile slows SymPy's many small calls down, so only the
shares mean much.
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import json
import os
import pstats
import sys

TOP = 6


def _name(key) -> str:
    """`sympy/printing/str.py:_print_Add` for a pstats key (file, line, function)."""
    path, _, function = key
    parts = path.replace(os.sep, "/").split("/")
    for root in ("symgrad", "sympy", "numpy"):
        if root in parts:
            parts = parts[len(parts) - 1 - parts[::-1].index(root):]
            break
    else:
        parts = parts[-1:]
    return f"{'/'.join(parts)}:{function}" if path != "~" else function


def main(argv=None) -> None:
    spec, fmt = (argv or sys.argv[1:])[:2]
    import symgrad.printing as printing
    from symgrad.cli import commands

    profiler = cProfile.Profile()  # perf_counter: process_time is a system call here, and would dominate

    def profiled(call):
        def run(*args, **kwargs):
            profiler.enable()
            try:
                return call(*args, **kwargs)
            finally:
                profiler.disable()
        return run

    printing.render = profiled(printing.render)
    commands._torch_sections = profiled(commands._torch_sections)
    with contextlib.redirect_stdout(io.StringIO()):
        status = commands.main(["derive", spec, "--format", fmt])
    if status != 0:
        raise SystemExit(status)
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    modules: dict[str, float] = {}
    for key, (_, _, own, _, _) in stats.stats.items():  # (cc, nc, tottime, cumtime, callers)
        module = _name(key).split(":")[0]
        modules[module] = modules.get(module, 0.0) + own
    ours = [(_name(key), value[3]) for key, value in stats.stats.items()
            if _name(key).startswith("symgrad/") and not _name(key).startswith("symgrad/cli/")]
    print(json.dumps({"total": total, "modules": sorted(modules.items(), key=lambda m: -m[1])[:TOP],
                      "symgrad": _outermost(sorted(ours, key=lambda f: -f[1]), total)}))


#: The printers' entry points and Python's comprehension frames: they hold (nearly) all of the time and say nothing.
ENTRY = (":render", ":to_latex", ":to_markdown", ":to_json", ":to_text", ":build", ":_torch_sections", ":run",
         ":<listcomp>", ":<dictcomp>", ":<genexpr>", ":<lambda>", ":each")


def _outermost(functions: list, total: float) -> list:
    """symgrad's functions by cumulative time below the entry points (which printer step spends it)."""
    return [f for f in functions if f[1] < 0.95 * total and not f[0].endswith(ENTRY)][:TOP // 2]


if __name__ == "__main__":
    main()
