"""Compile the translation catalogues (locale/*/LC_MESSAGES/*.po → .mo) in pure Python.

Django's ``compilemessages`` needs GNU gettext's ``msgfmt`` on the machine; polib does not, so
``make run``, ``make test`` and the Dockerfile compile the same way everywhere. A catalogue is
compiled only when its .po is newer than its .mo. Fuzzy entries are left out, as msgfmt does.
Extracting new strings (``manage.py makemessages -l zh_Hans -l vi``) does need gettext; that is a
translator's step, not a build step."""

from __future__ import annotations

import sys
from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parent.parent / "locale"


def main() -> int:
    compiled = 0
    for po_path in sorted(LOCALE.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        catalogue = polib.pofile(str(po_path))
        for entry in catalogue.fuzzy_entries():
            catalogue.remove(entry)
        catalogue.save_as_mofile(str(mo_path))
        compiled += 1
    if compiled:
        print(f"Compiled {compiled} translation catalogue(s).", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
