"""Build docs/gallery: every seed example's derivation as Markdown, and first pages as PNG.

    python docs/gallery/build.py            # Markdown pages, the index, and the PNGs
    python docs/gallery/build.py --markdown # Markdown pages and the index only

The Markdown pages are exactly what `symgrad derive SPEC --format markdown` prints
(for the two shape-table specs, what `symgrad shapes SPEC` prints), so the gallery is
the printer's output; tests/seeds/test_gallery.py fails when a committed page differs from
what the printer writes now. The PNGs are the first page of each standalone LaTeX
document (`derive --format latex --out`, compiled with `latexmk -pdf`) and of the
handout in both languages, rendered with `pdftoppm -png -r 80`; they need TeX Live and
poppler-utils, and are not compared by the tests.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import tempfile
from pathlib import Path

GALLERY = Path(__file__).resolve().parent
ROOT = GALLERY.parent.parent
EXAMPLES = ROOT / "symgrad" / "examples"
sys.path.insert(0, str(ROOT))

from symgrad import spec as specs  # noqa: E402
from symgrad.cli.commands import main  # noqa: E402

HANDOUTS = ("en", "zh")


# The seed articles' examples and the small examples built on them (dropout, three Adam steps): their
# derivations, and the two shape-table specs (LeNet and the
# tutorial Net, whose full derivations are far too long to read). Other examples (whole networks
# with thousands of entries) are not part of the gallery.
DERIVED = ("avg_pool_backward", "conv_avg_pool", "conv_max_pool", "conv_sum", "conv_symbolic", "pool_d2l_k3",
           "pool_d2l_pad1_stride2", "pool_d2l_rect", "pool_d2l_two_channels", "conv_dropout", "conv_adam_steps")
SHAPE_TABLES = ("lenet_shapes", "tutorial_net_shapes")


def _stdout(argv: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    if code != 0:
        raise SystemExit(f"symgrad {' '.join(argv)} exited {code}")
    return out.getvalue()


def title(name: str) -> str:
    return specs.load(EXAMPLES / f"{name}.toml").title or name


def markdown_pages() -> dict[str, str]:
    """{file name: content} of every Markdown page, the index included."""
    pages = {f"{name}.md": _stdout(["derive", str(EXAMPLES / f"{name}.toml"), "--format", "markdown"])
             for name in DERIVED}
    for name in SHAPE_TABLES:
        table = _stdout(["shapes", str(EXAMPLES / f"{name}.toml")])
        pages[f"{name}.md"] = (f"# {title(name)}\n\n`symgrad shapes {name}`:\n\n"
                               f"```\n{table}```\n")
    pages["README.md"] = index()
    return pages


def index() -> str:
    lines = ["# Gallery", "",
             "Every seed example bundled with symgrad (`symgrad examples`), derived by symgrad. Each page is what "
             "`symgrad derive NAME --format markdown` prints; the picture is the first page of "
             "`symgrad derive NAME --format latex --out NAME.tex` compiled with `latexmk -pdf`. "
             "Regenerate with `python docs/gallery/build.py`; the tests fail when a page is stale.", "",
             "| example | derivation | first page of the PDF |", "| --- | --- | --- |"]
    for name in DERIVED:
        lines.append(f"| {title(name)} | [{name}.md]({name}.md) | [![{name}]({name}.png)]({name}.png) |")
    lines += ["", "Shape tables (`symgrad shapes`): "
              + ", ".join(f"[{title(name)}]({name}.md)" for name in SHAPE_TABLES) + ".", "",
              "The interview handout (`symgrad handout --lang en|zh --out handout.pdf`, see "
              "[../handout.md](../handout.md)), first pages:", ""]
    lines += [" ".join(f"[![handout {lang}](handout-{lang}.png)](handout-{lang}.png)" for lang in HANDOUTS), ""]
    return "\n".join(lines)


def write_markdown() -> None:
    for name, text in markdown_pages().items():
        (GALLERY / name).write_text(text, encoding="utf-8")


def first_page_png(pdf: Path, stem: str) -> None:
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-singlefile", "-f", "1", "-l", "1", str(pdf),
                    str(GALLERY / stem)], check=True)


def write_pngs() -> None:
    with tempfile.TemporaryDirectory(prefix="symgrad-gallery-") as work:
        work = Path(work)
        for name in DERIVED:
            tex = work / f"{name}.tex"
            _stdout(["derive", str(EXAMPLES / f"{name}.toml"), "--format", "latex", "--out", str(tex)])
            result = subprocess.run(["latexmk", "-pdf", "-norc", "-interaction=nonstopmode", "-halt-on-error",
                                     tex.name], cwd=work, capture_output=True, stdin=subprocess.DEVNULL)
            if result.returncode != 0:
                raise SystemExit(f"latexmk failed on {name}; see {tex.with_suffix('.log')}")
            first_page_png(tex.with_suffix(".pdf"), name)
        for lang in HANDOUTS:
            pdf = work / f"handout-{lang}.pdf"
            _stdout(["handout", "--lang", lang, "--out", str(pdf)])
            first_page_png(pdf, f"handout-{lang}")


if __name__ == "__main__":
    write_markdown()
    if "--markdown" not in sys.argv[1:]:
        write_pngs()
