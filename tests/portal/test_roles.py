"""Role sets live in portal/roles.py as named capabilities, nowhere else in app code."""

from __future__ import annotations

import ast
from pathlib import Path

from portal.models import Role

ROOT = Path(__file__).resolve().parents[2]
# Every app of the project: a top-level package with an apps.py (a new app is scanned too).
APPS = sorted(path.parent.name for path in ROOT.glob("*/apps.py"))
HOME = Path("portal/roles.py")
ROLE_MEMBERS = set(Role.names)
ROLE_VALUES = set(Role.values)


def _app_files() -> list[Path]:
    files = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if {"migrations", "tests"} & set(relative.parts) or relative == HOME:
                continue
            files.append(relative)
    return files


def _is_role_member(node: ast.expr) -> bool:
    """``Role.BUYER``, or ``Something.Role.BUYER``."""
    if isinstance(node, ast.Attribute) and node.attr in ROLE_MEMBERS:
        base = node.value
        return (isinstance(base, ast.Name) and base.id == "Role") or (
            isinstance(base, ast.Attribute) and base.attr == "Role"
        )
    return False


def _is_role_name(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value in ROLE_VALUES


def _is_role_set(node: ast.Set | ast.Tuple | ast.List) -> bool:
    """Two or more Role members, or two or more roles (members or names) and nothing else: a
    list of field names that happens to hold "buyer" and "supplier" is not a role set."""
    members = sum(_is_role_member(element) for element in node.elts)
    names = sum(_is_role_name(element) for element in node.elts)
    roles = members + names
    return roles >= 2 and (members >= 2 or roles == len(node.elts))


def _unpacked_values(tree: ast.AST) -> set[int]:
    """``a, b = "x", "y"`` names two things, it is not a collection: skip such right-hand sides."""
    skipped = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Tuple)
            and any(isinstance(target, ast.Tuple) for target in node.targets)
        ):
            skipped.add(id(node.value))
    return skipped


def role_sets_in(source: str, filename: str = "<source>") -> list[tuple[int, str]]:
    tree = ast.parse(source, filename)
    skipped = _unpacked_values(tree)
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Set | ast.Tuple | ast.List)
            and id(node) not in skipped
            and _is_role_set(node)
        ):
            found.append((node.lineno, ast.unparse(node)))
    return found


def test_every_app_is_scanned() -> None:
    assert {"portal", "orders", "serials", "evidence", "inspection", "lookup"} <= set(APPS)


def test_the_scan_finds_role_sets() -> None:
    assert role_sets_in("x in {Role.BUYER, Role.ADMIN}")
    assert role_sets_in('role in ("buyer", "admin")')
    assert role_sets_in("[Membership.Role.SUPPLIER, Role.FINANCE, 3]")
    assert not role_sets_in("role == Role.BUYER")
    assert not role_sets_in('select_related("buyer", "order")')
    assert role_sets_in('{"supplier", Role.BUYER}')
    assert not role_sets_in('fields = ["buyer", "number", "supplier"]')
    assert not role_sets_in('("Amelia", "Hart", "buyer", Role.BUYER)')
    assert not role_sets_in('BUYER, SUPPLIER = "buyer", "supplier"')


def test_no_role_set_outside_portal_roles() -> None:
    offences = [
        f"{path}:{line}: {text}"
        for path in _app_files()
        for line, text in role_sets_in((ROOT / path).read_text(), str(path))
    ]
    assert not offences, (
        "Role sets spelled out outside portal/roles.py; name the capability there and call it:\n"
        + "\n".join(offences)
    )
