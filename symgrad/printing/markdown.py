"""Markdown with $$ ... $$ math (the KaTeX subset: amsmath only)."""

from __future__ import annotations

from .latex import equations


def to_markdown(view) -> str:
    lines = [f"# {view.title or 'symgrad derivation'}", ""]
    for eq in equations(view):
        lines += ["$$", eq, "$$", ""]
    return "\n".join(lines)
