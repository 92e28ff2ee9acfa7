"""Interview handouts and practice sheets built from the engine's derivations.

- questions.py: the seed articles' questions (`handout(lang)`);
- exercises.py: fresh problems of the same kinds from a seed (`sheets(count, seed, lang)`);
- problems.py: one problem's prompt, worked solution and answers, shared by both;
- document.py / render.py: format-neutral blocks, rendered as Markdown or LaTeX;
- solutions.py: worked solutions from the step-by-step derivation printer;
- compile.py / files.py: PDFs via latexmk, and atomic writing by --out suffix;
- words.py: every prose word, in English and Chinese.
"""

from .exercises import generate, sheets
from .questions import handout
from .render import to_latex, to_markdown

__all__ = ["generate", "handout", "sheets", "to_latex", "to_markdown"]
