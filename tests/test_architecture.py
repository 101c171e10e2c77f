"""The layering in docs/architecture.md, for what import-linter cannot see.

import-linter (`lint-imports` in `make test`, contracts in pyproject.toml) checks imports
between our modules. These tests check the rest: views read through queries, never the ORM, and
services and queries never import Django's HTTP layer (import-linter sees only top-level
external packages, `django` as a whole).
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "steadfast"
VIEWS = sorted(PACKAGE.glob("**/views.py"))
SERVICES_AND_QUERIES = sorted([*PACKAGE.glob("*/services.py"), *PACKAGE.glob("*/queries.py")])
ORM_SHORTCUTS = {"get_object_or_404", "get_list_or_404"}
HTTP_MODULES = ("django.http", "django.shortcuts")


def _name(path: Path) -> str:
    return str(path.relative_to(PACKAGE.parent))


def orm_reads(source: str) -> list[str]:
    """Lines where code reaches the ORM directly: `Model.objects` or get_object_or_404."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in ("objects", "_default_manager"):
            found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Name) and node.id in ORM_SHORTCUTS:
            found.append(f"line {node.lineno}: {node.id}")
    return found


def http_imports(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            modules = [node.module or ""]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            continue
        found += [
            f"line {node.lineno}: {module}"
            for module in modules
            if any(module == m or module.startswith(m + ".") for m in HTTP_MODULES)
        ]
    return found


@pytest.mark.parametrize("path", VIEWS, ids=_name)
def test_views_read_through_queries_not_the_orm(path):
    assert orm_reads(path.read_text()) == []


@pytest.mark.parametrize("path", SERVICES_AND_QUERIES, ids=_name)
def test_services_and_queries_know_nothing_of_http(path):
    assert http_imports(path.read_text()) == []


def test_the_checks_see_what_they_forbid():
    """The walkers find a direct ORM read and an HTTP import (so the tests above can fail)."""
    view = "x = get_object_or_404(Patient, pk=1)\ny = Patient.objects.get(pk=1)\n"
    assert orm_reads(view) == ["line 1: get_object_or_404", "line 2: .objects"]
    assert http_imports("import django.http\nfrom django.http import Http404\n") == [
        "line 1: django.http",
        "line 2: django.http",
    ]
    assert len(VIEWS) >= 6 and len(SERVICES_AND_QUERIES) >= 10
