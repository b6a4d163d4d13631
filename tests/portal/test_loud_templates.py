"""The loud-templates hook (tests/loud_templates.py) finds what it should and nothing else."""

from __future__ import annotations

import pytest
from django.template import Context, Engine, Template
from django.template.base import Origin, VariableDoesNotExist

from tests.loud_templates import ROOT, UndefinedVariables


def _render(source: str, context: dict[str, object], *, where: str = "templates/x.html") -> None:
    origin = Origin(name=str(ROOT / where), template_name="x.html")
    Template(source, origin=origin, engine=Engine.get_default()).render(Context(context))


def _found(loud: UndefinedVariables, source: str, **context: object) -> list[str]:
    _render(source, context)
    return [f"{d.tag}: {d.reason}" for d in loud.take()]


def test_it_finds_missing_variables_and_keys(loud_templates: UndefinedVariables) -> None:
    row = {"serial": "VLT1"}
    assert _found(loud_templates, "{{ missing }}") == [
        "{{ missing }}: no key or attribute 'missing' on Context"
    ]
    assert _found(loud_templates, "{{ row.code }}", row=row) == [
        "{{ row.code }}: no key or attribute 'code' on dict"
    ]
    assert _found(loud_templates, "{% if row.code %}x{% endif %}", row=row) == [
        "{% if row.code %}: no key or attribute 'code' on dict"
    ]
    assert _found(loud_templates, "{% for x in rows %}{% endfor %}") == [
        "{% for x in rows %}: no key or attribute 'rows' on Context"
    ]
    with pytest.raises(VariableDoesNotExist):  # a filter's argument: Django raises (a 500)
        _render("{{ row.serial|cut:row.code }}", {"row": row})
    assert [d.tag for d in loud_templates.take()] == ["{{ row.serial|cut:row.code }}"]


def test_it_reports_the_template_and_line(loud_templates: UndefinedVariables) -> None:
    _render("line one\n{{ row.code }}", {"row": {}}, where="templates/orders/x.html")
    (defect,) = loud_templates.take()
    assert (defect.template, defect.line) == ("templates/orders/x.html", 2)


def test_it_lets_optional_values_say_so(loud_templates: UndefinedVariables) -> None:
    row = {"serial": "VLT1", "approver": None}
    assert _found(loud_templates, "{{ row.note|default:'—' }}", row=row) == []
    assert _found(loud_templates, "{% if row.note|default:'' %}x{% endif %}", row=row) == []
    assert _found(loud_templates, "{% firstof row.note row.serial %}", row=row) == []
    assert _found(loud_templates, "{{ row.approver.username }}", row=row) == []


def test_it_leaves_templates_that_are_not_ours_alone(loud_templates: UndefinedVariables) -> None:
    admin = ".venv/lib/python3.11/site-packages/django/contrib/admin/templates/admin/x.html"
    _render("{{ missing }}", {}, where=admin)
    Engine.get_default().from_string("{{ missing }}").render(Context({}))
    assert loud_templates.take() == []
