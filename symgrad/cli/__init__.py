"""The command line: `symgrad derive|check|shapes|handout|exercises|examples`."""

from .commands import main

__all__ = ["main"]
