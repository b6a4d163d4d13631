"""Guards for reading files nobody here wrote: spreadsheets (:mod:`untrusted.xlsx`), PDF
documents (:mod:`untrusted.pdf`), and a child process under memory and time limits for whatever
parses them (:mod:`untrusted.confine`).

Pure Python and its libraries, no Django: the serial engine's command line imports it, and so do
the evidence and payment-document uploads. Every refusal is a :class:`Refused` whose message
says what is wrong and which limit it broke; the caller adds the file's name.
"""

from __future__ import annotations


class Refused(Exception):
    """The file is not read: the message says why, for a person."""


__all__ = ["Refused"]
