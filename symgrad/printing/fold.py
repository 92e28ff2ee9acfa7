"""Wide displayed lines folded into aligned rows, so that no line is shrunk or runs off the page.

    L = a + b + ... + z = 3.5    ->    L &= a + b + ...
                                         &\\quad + ... + z
                                         &= 3.5

A line wider than the text breaks first at its top-level `=` (formula, numbers, result
each on a row, aligned at `=`), then a row still too wide at its top-level `+` / `-`.
"Top level" is outside every brace group, \\left ... \\right pair and environment, so a
matrix or a fraction is never cut. Format-free: the same rows reach LaTeX and KaTeX.
"""

from __future__ import annotations

import re

from .texnames import width

_TOKEN = re.compile(r"\\begin\{[^}]*\}|\\end\{[^}]*\}|\\left(?![A-Za-z])|\\right(?![A-Za-z])|\\[A-Za-z]+|\\.|[{}]| = | &= | \+ | - |.",
                    re.DOTALL)


def fold(latex: str, most: int) -> str:
    """`latex` as it is when no row is wider than `most`, else folded into an aligned block."""
    aligned = latex.startswith(r"\begin{aligned}") and latex.endswith(r"\end{aligned}")
    if not aligned and latex.startswith(r"\begin"):
        return latex  # a gathered or cases block (an index form): its rows are its own
    rows = _split(latex[len(r"\begin{aligned}"):-len(r"\end{aligned}")], {r" \\ "}) if aligned else [latex]
    if any(width(row) > most for row in rows):  # "a = b, \quad c = d": two statements, two rows
        rows = [piece + ("," if k < len(pieces) - 1 else "") for row in rows
                for pieces in [_split(row, {r", \quad "})] for k, piece in enumerate(pieces)]
    if all(width(row) <= most for row in rows):
        return latex
    folded = []
    for row in rows:
        if width(row) <= most:
            folded.append(row if "&" in row else row.replace(" = ", " &= ", 1))
            continue
        parts = _split(row.replace(" &= ", " = ", 1), {" = "})
        if len(parts) == 1:
            folded += _sums(parts[0], most)
            continue
        folded += _sums(parts[0] + " &= " + parts[1], most)
        for part in parts[2:]:
            folded += _sums("&= " + part, most)
    if len(folded) == len(rows) and not aligned:
        return latex  # nothing to cut (one wide matrix): as it is
    return r"\begin{aligned}" + r" \\ ".join(folded) + r"\end{aligned}"


def _sums(row: str, most: int) -> list[str]:
    """A row broken at its top-level + and - into rows of at most `most`, continued with &\\quad."""
    if width(row) <= most:
        return [row]
    pieces = _split(row, {" + ", " - "}, keep=True)
    rows, current = [], pieces[0]
    for piece in pieces[1:]:
        if width(current + piece) > most and not current.endswith("&= ") and width(piece) <= most:
            rows.append(current)
            current = r"&\quad" + piece
        else:
            current += piece
    return rows + [current]


def _split(latex: str, at: set[str], keep: bool = False) -> list[str]:
    """`latex` cut at the top-level occurrences of the strings in `at` (kept at the start of the next piece
    when `keep`); a sign right after `=`, `(` or at the start is no operator."""
    pieces, current, depth = [], "", 0
    for token in _tokens(latex, at):
        if token in ("{", r"\left") or token.startswith(r"\begin{"):
            depth += 1
        elif token in ("}", r"\right") or token.startswith(r"\end{"):
            depth -= 1
        if depth == 0 and token in at and current.strip() and not current.rstrip().endswith(("=", "(", "&")):
            pieces.append(current)
            current = token if keep else ""
        else:
            current += token
    return pieces + [current]


def _tokens(latex: str, at: set[str]):
    """Tokens, with the `at` strings (e.g. ' \\\\ ') as one token each."""
    k = 0
    while k < len(latex):
        for sep in at:
            if latex.startswith(sep, k):
                yield sep
                k += len(sep)
                break
        else:
            token = _TOKEN.match(latex, k).group(0)
            if token in (" = ", " + ", " - ", " &= ") and token not in at:
                yield token[0]  # not a cut here: its characters as they are
                k += 1
                continue
            yield token
            k += len(token)
