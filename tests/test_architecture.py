"""Imports flow gaps -> evaluation, tuning -> chatbot -> sources -> ingestion -> governance -> accounts, never back."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# ops (health probes, metrics) may read every app; no app imports it.
ORDER = ["ops", "gaps", "evaluation", "tuning", "chatbot", "sources", "ingestion", "governance", "accounts"]


def imported_apps(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & set(ORDER)


def test_apps_import_only_downstream():
    violations = []
    for app in ORDER:
        allowed = set(ORDER[ORDER.index(app) :])
        for path in (ROOT / app).rglob("*.py") if (ROOT / app).is_dir() else []:
            for name in imported_apps(path) - allowed:
                violations.append(f"{path.relative_to(ROOT)} imports {name}")
    assert violations == []
