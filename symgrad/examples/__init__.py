"""The spec files bundled with symgrad: the seed articles' questions and two whole networks.

They ship inside the package so that `symgrad derive conv_max_pool` works from any folder
after a plain `pip install`: wherever a SPEC is accepted, the name of a bundled example is
taken when no file of that name exists.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

FOLDER = Path(__file__).resolve().parent


def names() -> list[str]:
    """The bundled examples' names (file names without .toml), sorted."""
    return sorted(path.stem for path in FOLDER.glob("*.toml"))


def path(name: str) -> Path | None:
    """The file of the bundled example `name` (with or without .toml), or None."""
    stem = name[:-5] if name.endswith(".toml") else name
    candidate = FOLDER / f"{stem}.toml"
    return candidate if stem in names() else None


def title(name: str) -> str:
    """The example's title line ("" when it has none)."""
    with open(FOLDER / f"{name}.toml", "rb") as handle:
        return str(tomllib.load(handle).get("title", ""))


def text(name: str) -> str:
    """The example's spec as written (comments included), for `symgrad examples NAME`."""
    return (FOLDER / f"{name}.toml").read_text(encoding="utf-8")
