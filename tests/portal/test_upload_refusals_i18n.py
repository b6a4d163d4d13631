"""Upload refusals are said in the reader's language, the file's own name kept as written."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from portal import uploads
from untrusted import Refused
from untrusted.confine import Confined

CATALOGUE = {
    "the PDF is too heavy to open safely (%(reason)s)": (
        "该 PDF 过于庞大，无法安全打开（%(reason)s）"
    ),
    "reading it took longer than %(seconds)s s": "读取时间超过 %(seconds)s 秒",
    "%(name)s is empty.": "%(name)s 是空文件。",
}


@pytest.fixture
def chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    """A catalogue of our own: the real .po files are filled by translators, not by this test."""
    monkeypatch.setattr(uploads, "gettext", lambda message: CATALOGUE.get(message, message))


def test_it_translates_a_refusal_and_the_limit_inside_it(chinese: None) -> None:
    refused = Refused(
        "the PDF is too heavy to open safely (%(reason)s)",
        {
            "reason": Confined(
                "reading it took longer than %(seconds)s s", "time", {"seconds": "60"}
            )
        },
    )
    assert uploads.translated(refused) == "该 PDF 过于庞大，无法安全打开（读取时间超过 60 秒）"


def test_it_keeps_the_file_name_as_written(chinese: None) -> None:
    empty = SimpleUploadedFile("标签-B1.jpg", b"", content_type="image/jpeg")
    with pytest.raises(ValidationError) as caught:
        uploads.upload_checked(
            empty, allowed={"image/jpeg"}, max_bytes=1 << 20, field="file", what="evidence"
        )
    assert caught.value.message_dict == {"file": ["标签-B1.jpg 是空文件。"]}


def test_it_says_the_same_english_as_before() -> None:
    text = SimpleUploadedFile("labels.pdf", b"hello, world\n", content_type="application/pdf")
    with translation.override("en-gb"), pytest.raises(ValidationError) as caught:
        uploads.upload_checked(
            text, allowed={"application/pdf"}, max_bytes=1 << 20, field="file", what="evidence"
        )
    assert caught.value.message_dict == {
        "file": ["labels.pdf: files of type text/plain are not accepted as evidence."]
    }
