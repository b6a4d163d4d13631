"""Guards for reading files nobody here wrote: spreadsheets (:mod:`untrusted.xlsx`), PDF
documents (:mod:`untrusted.pdf`), and a child process under memory and time limits for whatever
parses them (:mod:`untrusted.confine`).

Pure Python and its libraries, no Django: the serial engine's command line imports it, and so do
the evidence and payment-document uploads. Every refusal is a :class:`Refused` whose message
says what is wrong and which limit it broke; the caller adds the file's name.
"""

from __future__ import annotations

from collections.abc import Mapping


def gettext_noop(message: str) -> str:
    """Marks an English sentence for translation (``makemessages`` extracts calls by this name)
    without importing Django; the page that shows it translates it (``portal.uploads``)."""
    return message


class Refused(Exception):
    """The file is not read: the message says why, for a person. ``template`` is the English
    sentence with ``%(name)s`` placeholders and ``params`` their values, so that a page can show
    it in the reader's language; ``str()`` is the English sentence."""

    def __init__(self, template: str, params: Mapping[str, object] | None = None) -> None:
        # Both in args: a refusal raised in a confined child is pickled back whole.
        super().__init__(template, dict(params or {}))
        self.template = template
        self.params = dict(params or {})

    def __str__(self) -> str:
        return self.template % self.params if self.params else self.template


__all__ = ["Refused", "gettext_noop"]
