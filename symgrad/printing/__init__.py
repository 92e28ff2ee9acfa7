"""Printers: they read a finished Derivation and never compute gradients."""

from .common import select
from .jsonout import to_json
from .steps import to_latex, to_markdown
from .text import to_text

FORMATS = {"text": to_text, "json": to_json, "latex": to_latex, "markdown": to_markdown}


def render(derivation, fmt: str = "text", wrt=None, title: str | None = None, standalone: bool = False) -> str:
    view = select(derivation, wrt, title)
    if fmt == "latex":
        return to_latex(view, standalone=standalone)
    return FORMATS[fmt](view)


__all__ = ["FORMATS", "render", "select"]
