"""No service package imports another, not even lazily inside a function: they share only common/.

``tests/integration/test_entry_points.py`` checks what a running process loads; this reads every
import statement, so an import on a rare path (one request, one error) is caught as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("ingest", "matcher", "notifier", "callbacks")


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {name.split(".")[0] for name in names}


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_common_but_no_other_service(service: str):
    others = set(SERVICES) - {service}
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & (others | {"revotp"}))
        for path in (ROOT / service).rglob("*.py")
    }
    assert {path: found for path, found in offenders.items() if found} == {}


def test_common_imports_no_service():
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & {*SERVICES, "revotp"})
        for path in (ROOT / "common").rglob("*.py")
    }
    assert {path: found for path, found in offenders.items() if found} == {}
