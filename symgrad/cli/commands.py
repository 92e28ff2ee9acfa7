"""The command line: `symgrad derive`, `check`, `shapes`, `handout` and `exercises` (see docs/cli.md).

Errors a user can fix end with one line on stderr and exit status 2; a mismatch
found by `check` exits 1. The CLI uses only the public API.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import re
import sys
import warnings

from ..core.version import __version__
from ..core.errors import SymgradError
from ..core.suggest import did_you_mean

EXIT_MISMATCH = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


STDOUT = "-"  # --out - writes to standard output (SPEC - reads standard input)
_INVALID_CHOICE = re.compile(r"invalid choice: '(.*)' \(choose from (.*)\)")


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line with exit status 2, with a did-you-mean, and keeps
    the option strings it was given (for the did-you-mean of an unknown option) and its commands."""

    def __init__(self, *args, **kwargs):
        self.option_words: list[str] = []  # before argparse's __init__, which adds -h
        self.commands: dict[str, argparse.ArgumentParser] = {}
        super().__init__(*args, **kwargs)

    def add_argument(self, *args, **kwargs):
        action = super().add_argument(*args, **kwargs)
        self.option_words.extend(action.option_strings)
        return action

    def error(self, message):
        choice = _INVALID_CHOICE.search(message)
        if choice:
            options = [c.strip().strip("'") for c in choice.group(2).split(",")]
            hint = did_you_mean(choice.group(1), options)
            if message.startswith("argument command:"):
                message = f"unknown command {choice.group(1)!r}{hint} (commands: {', '.join(options)})"
            else:
                message += hint
        where = self.prog.removeprefix("symgrad").strip()  # "derive", or "" for the top level
        raise SymgradError(f"{where}: {message}" if where else message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="symgrad", description="Derive gradient formulas of small CNNs symbolically.")
    parser.add_argument("--version", action="version", version=f"symgrad {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    parser.commands = commands.choices  # name -> its parser, filled by add_parser below

    derive = commands.add_parser("derive", help="print forward values, loss, gradients and the optimizer update")
    derive.add_argument("spec", nargs="?", help=SPEC_HELP)
    derive.add_argument("--format", choices=["text", "json", "latex", "markdown"], default=None,
                        help="text (default; latex for --out FILE.pdf)")
    derive.add_argument("--lang", choices=["en", "zh"], default="en",
                        help="the prose of text, latex and markdown: English (default) or Chinese")
    derive.add_argument("--exact", action="store_true",
                        help="numbers as exact fractions (63/25) instead of decimals (2.52)")
    derive.add_argument("--full", action="store_true",
                        help="text: every entry and definition in full (by default a large network's text is in brief: "
                             "big tensors summarised as torch prints them)")
    derive.add_argument("--verify", action="store_true",
                        help="latex and markdown: add the agreement table with torch autograd (needs torch)")
    derive.add_argument("--wrt", nargs="+", action="extend", metavar="NAME",
                        help="only these gradients (e.g. 0.weight input); before the spec or after it")
    derive.add_argument("--out", metavar="FILE",
                        help="write to FILE (atomically) instead of stdout; FILE.pdf is compiled (latexmk); - is stdout")
    derive.add_argument("--method", choices=["rules", "diff"], default="rules",
                        help="backprop rules (default) or sympy.diff of the whole loss (slow; ground truth)")
    derive.add_argument("--emit-python", metavar="FILE",
                        help="also write the derivation as a NumPy module, batch-capable (docs/numeric.md)")
    derive.add_argument("--emit-form", choices=["auto", "scalar", "array"], default=None,
                        help="that module's form: a line per named entry (scalar), a statement per layer (array), "
                             "or by size (auto, default)")

    check = commands.add_parser("check", help="cross-check against torch autograd; exit 1 on mismatch")
    check.add_argument("spec", help=SPEC_HELP)
    check.add_argument("--seed", type=int, default=0, help="seed for values given to symbols (default 0)")
    check.add_argument("--tolerance", type=_tolerance, default=1e-9, help="relative and absolute tolerance")

    shapes = commands.add_parser("shapes", help="print each layer's output shape, parameter count and shape formula")
    shapes.add_argument("spec", help=SPEC_HELP)
    shapes.add_argument("--format", choices=["text", "json"], default="text")
    _add_handout_commands(commands)

    examples = commands.add_parser("examples", help="list the bundled example specs, or print one")
    examples.add_argument("name", nargs="?", help="an example's name: print its spec")

    serve = commands.add_parser("serve", help="a page in the browser: edit a spec, see its derivation, practise "
                                              "(pip install 'symgrad[serve]'; docs/serve.md)")
    serve.add_argument("spec", nargs="?", help="the spec the page opens on (a file or a bundled example's name)")
    serve.add_argument("--port", type=_bounded("--port", 0, 65535), default=8000, help="default 8000; 0: a free port")
    serve.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (this machine only)")
    serve.add_argument("--time-limit", type=_bounded("--time-limit", 1, 3600), default=20,
                       help="seconds one derivation may run before it is stopped (default 20)")
    return parser


SPEC_HELP = "spec file (TOML), - for standard input, or a bundled example's name (symgrad examples)"


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
    exercises.add_argument("--kind", action="append", metavar="KIND",
                           help="only problems of this kind, repeatable (the kinds cycle in the order given); "
                                "default: the seven conv and pooling kinds (docs/handout.md lists them all)")
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


@contextlib.contextmanager
def _collections_paused():
    """In a process that ends after the command (ONE_SHOT): no cyclic garbage collection while deriving, and the
    derivation frozen out of later collections. It lives to the end, and each full collection walked its millions
    of expression nodes again (LeNet: text printing 2.2 -> 0.4 s, JSON 8.1 -> 4.1 s, deriving 0.3 s)."""
    if not ONE_SHOT:
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


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
    """One progress bar for the whole command (derive and printing join it); phases timed for benchmarks."""
    from ..core.progress import command
    from .. import spec, printing  # noqa: F401  NumPy, SymPy and the printers load before the phases: start-up

    with command(DERIVE_PHASES):
        return _run_derive(args)


#: Whether this process ends after the command (cli/process.py sets it): then what the command built may be
#: frozen out of the garbage collector's scans (gc.freeze), which an in-process caller would keep as a leak.
ONE_SHOT = False

DERIVE_PHASES = 5  # read, derive, torch block, print, write (a PDF's compile and --emit-python add theirs)


def _run_derive(args) -> int:
    from .. import spec as specs
    from ..core.progress import phase
    from ..core import decimals
    from ..core.output import check_target
    from ..printing import render

    source = specs.locate(args.spec)  # None for standard input; a missing spec fails before any work
    protected = [source] if source else []
    out = None if args.out in (None, STDOUT) else args.out
    pdf = out is not None and out.lower().endswith(".pdf")
    args.format = args.format or ("latex" if pdf else "text")  # a .pdf suffix implies latex
    if out:
        check_target(out, protected)
    if pdf:
        _check_pdf(args)
    if args.emit_python == STDOUT and out is None:
        raise SymgradError("output: --emit-python: - (standard output) needs --out FILE for the derivation")
    if args.emit_python and args.emit_python != STDOUT:
        check_target(args.emit_python, protected, "--emit-python")
        if out and os.path.abspath(out) == os.path.abspath(args.emit_python):
            raise SymgradError("output: --emit-python: must differ from the --out file")
    if args.emit_form and not args.emit_python:
        raise SymgradError("derive: --emit-form: needs --emit-python FILE")
    if args.verify:
        _check_verify(args)
    if args.full and args.format != "text":  # JSON always has every entry; a page writes index forms instead
        raise SymgradError(f"derive: --full: applies to --format text, not {args.format}")
    with phase("read"):
        spec = specs.load(source or args.spec)
    with phase("derive"), _collections_paused():
        derivation = _derivation(spec, args.method)
    standalone = args.out is not None and args.format == "latex"
    with decimals.exact_fractions(args.exact):
        with phase("torch block"):  # latex and markdown end with it
            appendix = _torch_sections(derivation, args) if args.format in ("latex", "markdown") else ""
        with phase(f"print {args.format}"):
            text = render(derivation, args.format, wrt=args.wrt, title=spec.title, standalone=standalone,
                          lang=args.lang, appendix=appendix, preamble=_preamble(args.lang) if standalone else None,
                          full=args.full)
    with phase("compile") if pdf else contextlib.nullcontext():
        document = _compiled(text, args.lang) if pdf else text  # compiled before anything is written
    if args.emit_python:
        with phase("emit python"):
            _write(args.emit_python, _python_module(derivation, spec, args), "--emit-python")
    with phase("write"):
        _write(out or STDOUT, document)
    return 0


def _check_pdf(args) -> None:
    """--out F.pdf: a compiled --format latex document; the other formats are refused, and TeX must be there."""
    from ..handout.compile import require_tex

    if args.format != "latex":
        raise SymgradError(f"output: --out: {args.out} is a PDF, compiled from --format latex only "
                           f"(got --format {args.format}); use --format latex or another suffix")
    require_tex(args.lang)


def _compiled(tex: str, lang: str) -> bytes:
    """The standalone document as PDF bytes (latexmk: pdflatex, XeLaTeX for Chinese), as `handout --out F.pdf`."""
    from ..handout.compile import to_pdf

    return to_pdf(tex, lang)


def _preamble(lang: str) -> str | None:
    """A Chinese document's head: the handout's XeLaTeX preamble (xeCJK, the derivation printer's packages)."""
    if lang != "zh":
        return None
    from ..handout.render import preamble

    return preamble(lang) + "\\begin{document}\n"


def _check_verify(args) -> None:
    """--verify adds a section to a document, and needs torch; refused before any work otherwise."""
    if args.format not in ("latex", "markdown"):
        raise SymgradError(f"derive: --verify: adds a section to --format latex or markdown, not {args.format}")
    try:
        import torch  # noqa: F401
    except ImportError:
        raise SymgradError("derive: --verify: torch is not installed; install it with: "
                           "pip install 'symgrad[torch]'") from None


def _torch_sections(derivation, args) -> str:
    """The document's last sections: the PyTorch block with its printout and, with --verify, the agreement table.

    The numbers are those `symgrad check` uses: the spec's, and for its symbols the values check draws
    (seed 0), so the block runs as written and check's table compares the same problem.
    """
    from ..printing import torchcode
    from ..verify import buffer_symbols, compare, evaluate, random_values, torch_reference

    fits = torchcode.fits(derivation)
    values, numbers = {}, None
    if fits or args.verify or not derivation.expanded:  # kept in names: the page's numbers come from here
        values = random_values(derivation.free_symbols, 0, positive=buffer_symbols(derivation))
        with warnings.catch_warnings():  # an overflow shows as inf/nan, and the section says so
            warnings.simplefilter("ignore", RuntimeWarning)
            numbers = evaluate(derivation, values)
    pairs = [f"{s}={v}" for s, v in values.items()]  # all of them for a block; a large network's first few
    shown = [f"`{pair}`" for pair in (pairs if fits else pairs[:SHOWN_VALUES])] + ([] if fits else ["..."])
    drawn = ", ".join(shown) if values else ""  # one code span each: a line may break between them
    command = f"symgrad check {args.spec}"
    text = torchcode.section(derivation, numbers, args.lang, args.format, args.wrt, drawn, command)
    if args.verify:
        try:
            theirs = torch_reference(derivation, numbers)
        except Exception as error:  # torch refused what symgrad accepted: one line, no C++ frames
            raise TorchFailed(f"derive: --verify: torch raised {type(error).__name__}: {_first_line(error)} "
                              "(symgrad accepted this spec; please report it)") from None
        text += "\n" + torchcode.agreement(compare(numbers, theirs), args.lang, args.format,
                                            "" if fits else drawn)
    return text


def _write(out: str, text: str, option: str = "--out") -> None:
    """To standard output for -, else atomically to the file."""
    from ..core.output import write_atomic

    if out == STDOUT:
        sys.stdout.write(text)
    else:
        write_atomic(out, text, option)


def _python_module(derivation, spec, args) -> str:
    """The generated NumPy module, its docstring naming the spec and the command that wrote it."""
    from ..numeric import generate_source

    origin = f"the spec {args.spec}" + (f" ({spec.title})" if spec.title else "")
    form = args.emit_form or "auto"
    command = f"symgrad derive {args.spec} --emit-python {args.emit_python}" + (
        f" --emit-form {form}" if args.emit_form else "")
    return generate_source(derivation, wrt=args.wrt, origin=origin, command=command, form=form)


def run_check(args) -> int:
    from .. import spec as specs
    from ..core.progress import current
    from ..verify import buffer_symbols, compare, evaluate, random_values, torch_reference

    spec = specs.load(args.spec)
    derivation = _derivation(spec)
    try:
        import torch  # noqa: F401
    except ImportError:
        raise SymgradError("check: torch is not installed; install it with: pip install 'symgrad[torch]'") from None
    values = random_values(derivation.free_symbols, args.seed, positive=buffer_symbols(derivation))
    current().describe("evaluate")
    ours = evaluate(derivation, values)
    current().describe("torch autograd")
    try:
        theirs = torch_reference(derivation, ours)
    except Exception as error:  # torch refused what symgrad accepted: one line, no C++ frames
        raise TorchFailed(f"check: torch raised {type(error).__name__}: {_first_line(error)} "
                          "(symgrad accepted this spec; please report it)") from None
    rows = compare(ours, theirs, rtol=args.tolerance, atol=args.tolerance)
    if values:
        print(f"symbols had no values; checked at (seed {args.seed}): {_shown_values(values)}")
    width = max(len(r["quantity"]) for r in rows)
    print(f"{'quantity'.ljust(width)}  {'max |symgrad - torch|':>22}  status")
    for r in rows:
        status = "ok" if r["ok"] else f"MISMATCH ({r['reason']})"
        print(f"{r['quantity'].ljust(width)}  {r['max_abs_error']:>22.3g}  {status}")
    bad = [r for r in rows if not r["ok"]]
    print(f"{len(rows) - len(bad)} of {len(rows)} quantities agree with torch autograd (float64)")
    return EXIT_MISMATCH if bad else 0


class TorchFailed(SymgradError):
    """torch raised on a spec symgrad accepted: a disagreement in validation, so exit 3."""


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = lines[0] if lines else "(no message)"
    return text if len(text) <= 300 else text[:297] + "..."


SHOWN_VALUES = 8  # a LeNet has thousands of symbols: one readable line, not 8,000 characters


def _shown_values(values: dict) -> str:
    """The first few symbol=value pairs, and how many more there are."""
    pairs = [f"{s}={v}" for s, v in list(values.items())[:SHOWN_VALUES]]
    rest = len(values) - len(pairs)
    return ", ".join(pairs) + (f", ... and {rest:,} more" if rest else "")


def run_shapes(args) -> int:
    """Shapes only: no derivation and no torch, so it is instant even for LeNet."""
    from ..printing import shapes
    from .. import spec as specs

    spec = specs.load(args.spec)
    rows = shapes.table(spec.network, spec.input.shape)
    text = shapes.to_json(rows) if args.format == "json" else shapes.to_text(rows, spec.input.shape, spec.title)
    sys.stdout.write(text)
    return 0


def run_handout(args) -> int:
    from ..handout import files, handout, to_markdown

    if args.out == STDOUT:
        args.out = None  # Markdown on standard output, as without --out
    if args.out:
        files.check([args.out], args.lang)
    document = handout(args.lang)
    if args.out:
        files.write([(args.out, document)])
    else:
        sys.stdout.write(to_markdown(document))
    return 0


def run_examples(args) -> int:
    """The bundled specs: a list of names and titles, or one spec as written."""
    from .. import examples

    if args.name is None:
        names = examples.names()
        width = max(len(n) for n in names)
        for name in names:
            print(f"{name.ljust(width)}  {examples.title(name)}")
        return 0
    found = examples.path(args.name)
    if found is None:
        raise SymgradError(f"examples: no bundled example {args.name!r}{did_you_mean(args.name, examples.names())} "
                           "(symgrad examples lists them)")
    sys.stdout.write(examples.text(found.stem))
    return 0


def run_exercises(args) -> int:
    from ..handout import files, sheets, to_markdown
    from ..handout.exercises import together

    if args.out == STDOUT:
        args.out = None  # sheet and key on standard output, as without --out
    outs = [args.out, files.answers_path(args.out)] if args.out else []
    files.check(outs, args.lang)
    sheet, key = sheets(args.count, args.seed, args.lang, args.kind)
    if args.out:
        files.write(list(zip(outs, (sheet, key))))
    else:
        sys.stdout.write(to_markdown(together(sheet, key)))
    return 0


def run_serve(args) -> int:
    """The local page (symgrad/serve); its packages are the optional `serve` extra, imported only here."""
    from .. import spec as specs

    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise SymgradError("serve: needs Starlette and uvicorn: pip install 'symgrad[serve]'") from None
    source = specs.locate(args.spec) if args.spec else None
    if args.spec == STDOUT:
        raise SymgradError("serve: SPEC: give a file or an example's name (the page is the editor, not stdin)")
    from ..serve.app import run

    try:
        run(source, args.host, args.port, float(args.time_limit))
    except OSError as error:
        raise SymgradError(f"serve: --port: cannot listen on {args.host}:{args.port}: "
                           f"{error.strerror or error}") from None
    return 0


def _one_bar(run):
    """`run` in one progress bar (symgrad/core/progress.py): the derivations and page builds inside join it."""
    def in_one_bar(args) -> int:
        from ..core.progress import command

        with command():
            return run(args)
    return in_one_bar


COMMANDS = {"derive": run_derive, "check": _one_bar(run_check), "shapes": run_shapes,
            "handout": _one_bar(run_handout), "exercises": _one_bar(run_exercises), "examples": run_examples,
            "serve": run_serve}


def parse(argv) -> argparse.Namespace:
    """The arguments; an unknown option gets a did-you-mean from its own command's options."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        known = parser.commands.get(args.command, parser).option_words
        word = unknown[0].split("=", 1)[0]
        hint = did_you_mean(word, known) if word.startswith("-") else ""
        raise SymgradError(f"{args.command}: unrecognized arguments: {' '.join(unknown)}{hint}")
    if args.command == "derive" and args.spec is None:
        if not args.wrt or len(args.wrt) < 2:
            raise SymgradError("derive: the following arguments are required: spec")
        args.spec = args.wrt.pop()  # `--wrt 0.weight SPEC`: --wrt took the spec too
    return args


def main(argv=None) -> int:
    try:
        args = parse(argv)
        digits = sys.get_int_max_str_digits()  # _derivation lifts it; restore it for in-process callers
        try:
            return COMMANDS[args.command](args)
        finally:
            sys.set_int_max_str_digits(digits)
    except TorchFailed as error:
        print(f"symgrad: error: {error}", file=sys.stderr)
        return EXIT_INTERNAL
    except SymgradError as error:
        print(f"symgrad: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("symgrad: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `symgrad examples | head`: the reader has gone; stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
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
