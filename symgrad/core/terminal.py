"""Text as a terminal shows it: East Asian wide characters take two columns.

Shared by the text printers (a title's "=" underline is as wide as the title, Chinese
included); it imports nothing of symgrad.
"""

from __future__ import annotations

import unicodedata


def columns(text: str) -> int:
    """Terminal columns of `text`: East Asian wide and fullwidth characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
