"""Services send jobs by the task's name; the name must be a task the worker knows."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from celery.exceptions import NotRegistered

from portal.celery import app
from portal.jobs import task_send

ROOT = Path(__file__).resolve().parents[2]
APPS = ("portal", "orders", "serials", "evidence", "inspection", "lookup", "approvals", "dossier")


def _task_names_sent_by_app_code() -> set[str]:
    names = set()
    for app_name in APPS:
        for path in (ROOT / app_name).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "id", None) in ("task_send", "task_send_on_commit")
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                ):
                    names.add(node.args[0].value)
    return names


def test_every_task_a_service_sends_is_registered() -> None:
    names = _task_names_sent_by_app_code()
    assert {
        "serials.tasks.validate_serial_list",
        "evidence.tasks.process_evidence",
        "portal.tasks.send_notifications",
    } <= names
    app.loader.import_default_modules()
    assert names <= set(app.tasks)


def test_an_unknown_task_name_fails_at_once() -> None:
    with pytest.raises(NotRegistered):
        task_send("serials.tasks.no_such_task", 1)
