"""Errors raised by the serial engine."""


class SerialFileError(Exception):
    """A serial file could not be read: missing, unreadable, binary or of an unsupported kind.

    The message is meant for a person: it names the file and, where it helps, the line.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        return self.message
