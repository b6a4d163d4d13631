"""A label read held against the approved sample's label layout (``orders.samples``): the GTIN
it must carry, the serial format, and the code the layout names with the element strings that
code carries. A read that does not fit is a defect of its own kind (``LayoutCheck``).

Problems are kept as codes with their values (``{"code": "gtin", "expected": ..., "read":
...}``) and put into words when shown, in the reader's language."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from inspection.labels import LabelReading
from orders.models import ApprovedSample
from orders.samples import serial_format_fits

# The zxing-cpp format name (inspection.labels) of each symbology a layout may name.
SYMBOLOGY_NAMES = {
    ApprovedSample.Symbology.GS1_DATAMATRIX: "DataMatrix",
    ApprovedSample.Symbology.GS1_QR: "QRCode",
    ApprovedSample.Symbology.GS1_128: "Code128",
}
# What each element string the code must carry is read into.
CARRIED = {"(01)": "gtin", "(21)": "serial", "(10)": "batch_lot"}

Problem = dict[str, Any]


def layout_problems(sample: ApprovedSample, reading: LabelReading) -> list[Problem]:
    """Where the read departs from the approved layout; [] when it fits. A read that could not
    be parsed is the list check's finding (an unreadable label), not the layout's."""
    if reading.error:
        return []
    problems: list[Problem] = []
    carries = sample.code_carries
    if sample.is_gs1 and reading.kind == "plain" and carries:
        problems.append(
            {
                "code": "not_gs1",
                "symbology": sample.symbology,
                "carries": " + ".join(carries),
                "read": reading.text.strip()[:100],
            }
        )
    elif sample.is_gs1:
        for ai in carries:
            if not getattr(reading, CARRIED[ai]):
                problems.append({"code": "missing", "ai": ai})
    expected_name = SYMBOLOGY_NAMES.get(ApprovedSample.Symbology(sample.symbology))
    if expected_name and reading.symbology and reading.symbology != expected_name:
        problems.append(
            {"code": "symbology", "expected": sample.symbology, "read": reading.symbology}
        )
    if reading.gtin and sample.gtin and reading.gtin != sample.gtin.zfill(14):
        problems.append({"code": "gtin", "expected": sample.gtin, "read": reading.gtin})
    if reading.serial and not serial_format_fits(sample.serial_format, reading.serial):
        problems.append(
            {"code": "serial_format", "expected": sample.serial_format, "read": reading.serial}
        )
    return problems


def _symbology(value: str) -> str:
    try:
        return str(ApprovedSample.Symbology(value).label)
    except ValueError:
        return value


def problem_text(problem: Problem) -> str:
    """One problem in words, in the reader's language."""
    code = problem.get("code")
    if code == "not_gs1":
        return _(
            "the approved label carries a %(symbology)s code with %(carries)s; this read is "
            "plain text (%(read)s)"
        ) % {
            "symbology": _symbology(problem.get("symbology", "")),
            "carries": problem.get("carries", ""),
            "read": problem.get("read", ""),
        }
    if code == "missing":
        return _("the code carries no %(ai)s, which the approved layout puts in it") % {
            "ai": problem.get("ai", "")
        }
    if code == "symbology":
        return _("the code is %(read)s; the approved label has a %(expected)s") % {
            "read": problem.get("read", ""),
            "expected": _symbology(problem.get("expected", "")),
        }
    if code == "gtin":
        return _("GTIN %(read)s; the approved sample's is %(expected)s") % {
            "read": problem.get("read", ""),
            "expected": problem.get("expected", ""),
        }
    if code == "serial_format":
        return _("serial %(read)s does not fit the approved format %(expected)s") % {
            "read": problem.get("read", ""),
            "expected": problem.get("expected", ""),
        }
    return str(problem)


def problems_in_words(problems: list[Problem]) -> list[str]:
    return [problem_text(problem) for problem in problems]


def layout_defect_text(problems: list[Problem]) -> str:
    """The defect as one line: "label does not fit the approved layout: …"."""
    return _("label does not fit the approved layout: %(problems)s") % {
        "problems": "; ".join(problems_in_words(problems))
    }
