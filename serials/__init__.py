"""Serial numbers: the validation engine (``serials.engine``) and its command line.

This package must stay importable without Django: ``python -m serials validate`` imports only
``serials.cli`` and ``serials.engine``. Keep Django imports out of this file.
"""
