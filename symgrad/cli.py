"""The command line: `symgrad derive`, `check`, `shapes`, `handout` and `exercises` (see docs/cli.md).

Errors a user can fix end with one line on stderr and exit status 2; a mismatch
found by `check` exits 1. The CLI uses only the public API.
"""

from __future__ import annotations

import argparse
import os
import sys

from . import __version__
from .errors import SymgradError

EXIT_MISMATCH = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line with exit status 2."""

    def error(self, message):
        raise SymgradError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="symgrad", description="Derive gradient formulas of small CNNs symbolically.")
    parser.add_argument("--version", action="version", version=f"symgrad {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    derive = commands.add_parser("derive", help="print forward values, loss, gradients and the SGD update")
    derive.add_argument("spec", help="spec file (TOML)")
    derive.add_argument("--format", choices=["text", "json", "latex", "markdown"], default="text")
    derive.add_argument("--wrt", nargs="+", metavar="NAME", help="only these gradients (e.g. 0.weight input)")
    derive.add_argument("--out", metavar="FILE", help="write to FILE (atomically) instead of stdout")
    derive.add_argument("--method", choices=["rules", "diff"], default="rules",
                        help="backprop rules (default) or sympy.diff of the whole loss (slow; ground truth)")
    derive.add_argument("--emit-python", metavar="FILE",
                        help="also write the derivation as a NumPy module, batch-capable (docs/numeric.md)")
    derive.add_argument("--emit-form", choices=["auto", "scalar", "array"], default=None,
                        help="that module's form: a line per named entry (scalar), a statement per layer (array), "
                             "or by size (auto, default)")

    check = commands.add_parser("check", help="cross-check against torch autograd; exit 1 on mismatch")
    check.add_argument("spec", help="spec file (TOML)")
    check.add_argument("--seed", type=int, default=0, help="seed for values given to symbols (default 0)")
    check.add_argument("--tolerance", type=_tolerance, default=1e-9, help="relative and absolute tolerance")

    shapes = commands.add_parser("shapes", help="print each layer's output shape, parameter count and shape formula")
    shapes.add_argument("spec", help="spec file (TOML)")
    shapes.add_argument("--format", choices=["text", "json"], default="text")
    _add_handout_commands(commands)
    return parser


def _add_handout_commands(commands) -> None:
    """`handout` and `exercises` (docs/handout.md): Markdown on stdout, or --out FILE.md|.tex|.pdf."""
    handout = commands.add_parser("handout", help="the seed articles' interview questions, solved, with an answer key")
    handout.add_argument("--lang", choices=["en", "zh"], default="en")
    handout.add_argument("--out", metavar="FILE", help="handout.md, .tex or .pdf (latexmk); default: Markdown on stdout")

    exercises = commands.add_parser("exercises", help="fresh practice problems and a separate answer key")
    exercises.add_argument("--count", type=_bounded("--count", 1, 100), default=5, help="1 to 100 (default 5)")
    exercises.add_argument("--seed", type=_bounded("--seed", 0, 2**63 - 1), default=0,
                           help="the same seed gives the same problems (default 0)")
    exercises.add_argument("--lang", choices=["en", "zh"], default="en")
    exercises.add_argument("--out", metavar="FILE",
                           help="sheet.md, .tex or .pdf; the key goes to sheet-answers.md (etc.); "
                                "default: both as Markdown on stdout, the key after a --- line")


def _bounded(option: str, low: int, high: int):
    """An argparse type: an integer in [low, high], else a one-line error naming the option."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer from {low} to {high}, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be an integer from {low} to {high}, got {value}")
        return value

    parse.__name__ = option
    return parse


def _derivation(spec, method="rules"):
    # The spec is read (tomllib keeps Python's 4300-digit guard on its numbers); exact results
    # may still grow past it, e.g. a 4000-digit input squared, and must print.
    sys.set_int_max_str_digits(0)
    return spec.derive(method)


def _tolerance(text: str) -> float:
    """A finite tolerance >= 0 (argparse type): -1 or nan would make `check` meaningless."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (value >= 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def run_derive(args) -> int:
    from . import spec as specs
    from .output import check_target, write_atomic
    from .printing import render

    if args.out:
        check_target(args.out, [args.spec])
    if args.emit_python:
        check_target(args.emit_python, [args.spec], "--emit-python")
        if args.out and os.path.abspath(args.out) == os.path.abspath(args.emit_python):
            raise SymgradError("output: --emit-python: must differ from the --out file")
    if args.emit_form and not args.emit_python:
        raise SymgradError("derive: --emit-form: needs --emit-python FILE")
    spec = specs.load(args.spec)
    derivation = _derivation(spec, args.method)
    text = render(derivation, args.format, wrt=args.wrt, title=spec.title,
                  standalone=bool(args.out) and args.format == "latex")
    if args.emit_python:
        write_atomic(args.emit_python, _python_module(derivation, spec, args), "--emit-python")
    if args.out:
        write_atomic(args.out, text)
    else:
        sys.stdout.write(text)
    return 0


def _python_module(derivation, spec, args) -> str:
    """The generated NumPy module, its docstring naming the spec and the command that wrote it."""
    from .numeric import generate_source

    origin = f"the spec {args.spec}" + (f" ({spec.title})" if spec.title else "")
    form = args.emit_form or "auto"
    command = f"symgrad derive {args.spec} --emit-python {args.emit_python}" + (
        f" --emit-form {form}" if args.emit_form else "")
    return generate_source(derivation, wrt=args.wrt, origin=origin, command=command, form=form)


def run_check(args) -> int:
    from . import spec as specs
    from .verify import compare, evaluate, random_values, torch_reference

    spec = specs.load(args.spec)
    derivation = _derivation(spec)
    try:
        import torch  # noqa: F401
    except ImportError:
        raise SymgradError("check: torch is not installed; install it with: pip install 'symgrad[torch]'") from None
    values = random_values(derivation.free_symbols, args.seed)
    ours = evaluate(derivation, values)
    rows = compare(ours, torch_reference(derivation, ours), rtol=args.tolerance, atol=args.tolerance)
    if values:
        shown = ", ".join(f"{s}={v}" for s, v in values.items())
        print(f"symbols had no values; checked at (seed {args.seed}): {shown}")
    width = max(len(r["quantity"]) for r in rows)
    print(f"{'quantity'.ljust(width)}  {'max |symgrad - torch|':>22}  status")
    for r in rows:
        print(f"{r['quantity'].ljust(width)}  {r['max_abs_error']:>22.3g}  {'ok' if r['ok'] else 'MISMATCH'}")
    bad = [r for r in rows if not r["ok"]]
    print(f"{len(rows) - len(bad)} of {len(rows)} quantities agree with torch autograd (float64)")
    return EXIT_MISMATCH if bad else 0


def run_shapes(args) -> int:
    """Shapes only: no derivation and no torch, so it is instant even for LeNet."""
    from . import shapes
    from . import spec as specs

    spec = specs.load(args.spec)
    rows = shapes.table(spec.network, spec.input.shape)
    text = shapes.to_json(rows) if args.format == "json" else shapes.to_text(rows, spec.input.shape, spec.title)
    sys.stdout.write(text)
    return 0


def run_handout(args) -> int:
    from .handout import files, handout, to_markdown

    if args.out:
        files.check([args.out], args.lang)
    document = handout(args.lang)
    if args.out:
        files.write([(args.out, document)])
    else:
        sys.stdout.write(to_markdown(document))
    return 0


def run_exercises(args) -> int:
    from .handout import files, sheets, to_markdown
    from .handout.exercises import together

    outs = [args.out, files.answers_path(args.out)] if args.out else []
    files.check(outs, args.lang)
    sheet, key = sheets(args.count, args.seed, args.lang)
    if args.out:
        files.write(list(zip(outs, (sheet, key))))
    else:
        sys.stdout.write(to_markdown(together(sheet, key)))
    return 0


COMMANDS = {"derive": run_derive, "check": run_check, "shapes": run_shapes, "handout": run_handout,
            "exercises": run_exercises}


def main(argv=None) -> int:
    try:
        args = build_parser().parse_args(argv)
        digits = sys.get_int_max_str_digits()  # _derivation lifts it; restore it for in-process callers
        try:
            return COMMANDS[args.command](args)
        finally:
            sys.set_int_max_str_digits(digits)
    except SymgradError as error:
        print(f"symgrad: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("symgrad: interrupted", file=sys.stderr)
        return 130
    except (RecursionError, MemoryError) as error:
        print(f"symgrad: error: the derivation is too large ({type(error).__name__})", file=sys.stderr)
        return EXIT_USAGE
    except Exception as error:  # a bug: say so in one line; SYMGRAD_DEBUG=1 shows the traceback
        if os.environ.get("SYMGRAD_DEBUG"):
            raise
        print(f"symgrad: internal error: {type(error).__name__}: {error} "
              "(please report it with the spec file; SYMGRAD_DEBUG=1 shows details)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
