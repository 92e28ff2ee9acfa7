""""Did you mean ...?" for names a user mistyped: commands, options, layer types, option names."""

from __future__ import annotations

import difflib


def did_you_mean(word, choices) -> str:
    """" (did you mean X?)" for the closest of `choices`, or "" when none is close (difflib)."""
    if not isinstance(word, str):
        return ""
    cutoff = 0.5 if len(word) <= 3 else 0.6  # one slip in a short word ("zn") is half of it
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1, cutoff=cutoff)
    if not close:  # case slips ("conv2d") fall below difflib's ratio
        close = [c for c in choices if str(c).lower() == word.lower()][:1]
    return f" (did you mean {close[0]}?)" if close else ""
