"""symgrad's version, written once: the package, the CLI, generated code and the build read it here."""

__version__ = "0.1.0"
