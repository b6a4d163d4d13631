"""A refusal keeps its English sentence for logs and the command line, and carries its template
and values so that a page can say it in the reader's language."""

from __future__ import annotations

import pytest

from untrusted import Refused, pdf
from untrusted.confine import Confined, run_confined


def _refuse() -> None:
    raise Refused(
        "the PDF has %(pages)s pages (limit %(limit)s)", {"pages": "3,001", "limit": "2,000"}
    )


def test_it_reads_as_the_english_sentence() -> None:
    refused = Refused("the PDF has %(pages)s pages (limit %(limit)s)", {"pages": "9", "limit": "2"})
    assert str(refused) == "the PDF has 9 pages (limit 2)"
    assert str(Refused("the PDF has no pages")) == "the PDF has no pages"


def test_it_comes_back_from_the_confined_child_with_its_template() -> None:
    with pytest.raises(Refused) as caught:
        run_confined(_refuse, memory_bytes=256 << 20, seconds=30)
    assert caught.value.template == "the PDF has %(pages)s pages (limit %(limit)s)"
    assert caught.value.params == {"pages": "3,001", "limit": "2,000"}
    assert str(caught.value) == "the PDF has 3,001 pages (limit 2,000)"


def test_it_names_the_pdf_problem_by_a_marked_template() -> None:
    with pytest.raises(Refused) as caught:
        pdf.check(b"%PDF-1.7\nnot really a document")
    assert caught.value.template == "the PDF is damaged and cannot be opened (%(reason)s)"
    assert str(caught.value).startswith("the PDF is damaged and cannot be opened (")


def test_a_broken_limit_keeps_its_template_and_its_english() -> None:
    limit = Confined("reading it took longer than %(seconds)s s", "time", {"seconds": "60"})
    assert str(limit) == "reading it took longer than 60 s"
    assert limit.limit == "time" and limit.params == {"seconds": "60"}
