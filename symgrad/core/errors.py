"""Errors a user can fix. The CLI prints them as one line and exits 2."""


class SymgradError(Exception):
    """Base class: anything raised on purpose for bad input."""


class OptionError(SymgradError):
    """A layer, loss, optimizer or input option that symgrad (like torch) refuses.

    `where` names the layer ("layers[1] MaxPool2d", or just "MaxPool2d" from the
    Python API) and `option` the offending option, so the one-line message
    always says what to fix.
    """

    def __init__(self, where: str, option: str, message: str):
        self.where = where
        self.option = option
        self.message = message
        super().__init__(f"{where}: {option}: {message}")

    def relabel(self, where: str) -> "OptionError":
        """The same error, attributed to a more precise place (e.g. its layer index)."""
        return OptionError(where, self.option, self.message)
