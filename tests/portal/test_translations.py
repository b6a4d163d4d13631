"""The suppliers' languages: every string the portal marks for translation has its Simplified
Chinese and Vietnamese text, with the same placeholders, and the catalogues compile."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

LOCALE = Path(settings.BASE_DIR) / "locale"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w+\}")


@pytest.mark.parametrize("language", ["zh_Hans", "vi"])
def test_every_string_is_translated_with_its_placeholders(language: str) -> None:
    catalogue = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    assert len(catalogue) > 1000
    problems = []
    for entry in catalogue:
        texts = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        if not all(texts) or "fuzzy" in entry.flags:
            problems.append(f"untranslated: {entry.msgid!r}")
            continue
        # A plural's forms may each name the singular's or the plural's placeholders: Chinese
        # and Vietnamese have one form, which says the count the English singular leaves out.
        wanted = [sorted(set(PLACEHOLDER.findall(entry.msgid)))]
        if entry.msgid_plural:
            wanted.append(sorted(set(PLACEHOLDER.findall(entry.msgid_plural))))
        for text in texts:
            if sorted(set(PLACEHOLDER.findall(text))) not in wanted:
                problems.append(f"placeholders differ: {entry.msgid!r} → {text!r}")
    assert not problems, "\n".join(problems[:30])


@pytest.mark.parametrize(
    ("language", "expected"), [("zh-hans", "工作台"), ("vi", "Bảng điều khiển")]
)
def test_the_compiled_catalogues_answer(language: str, expected: str) -> None:
    with translation.override(language):
        assert translation.gettext("Dashboard") == expected
