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


# Inside ingestion, a document's lifecycle is layered the same way: the bulk loads call the services, which
# queue to the pipeline, which prepares (chunk, embed) what the parsers read; never back.
INGESTION_LAYERS = [
    "ingestion.bulk",
    "ingestion.services",
    "ingestion.pipeline",
    "ingestion.prepare",
    "ingestion.parsers",
]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def layer(module: str) -> int | None:
    for index, name in enumerate(INGESTION_LAYERS):
        if module == name or module.startswith(name + "."):
            return index
    return None


def test_ingestion_layers_import_only_downstream():
    violations = []
    for index, name in enumerate(INGESTION_LAYERS):
        package = ROOT / name.replace(".", "/")
        paths = sorted(package.rglob("*.py")) if package.is_dir() else [package.with_suffix(".py")]
        for path in paths:
            for module in imported_modules(path):
                imported = layer(module)
                if imported is not None and imported < index:
                    violations.append(f"{path.relative_to(ROOT)} imports {module}")
    assert violations == []


def test_parsers_read_files_and_know_nothing_else_of_faro():
    """A parser turns a file into blocks: no models, search or settings (it runs in bench/ and evaluation/ as is)."""
    outside = {
        f"{path.relative_to(ROOT)} imports {module}"
        for path in (ROOT / "ingestion" / "parsers").rglob("*.py")
        for module in imported_modules(path)
        if module.split(".")[0] in {*ORDER, "config", "django"} and not module.startswith("ingestion.parsers")
    }
    assert outside == set()


STATE_FIELDS = {"status", "status_reason", "stage", "progress", "progress_detail", "lease"}
STATE_WRITERS = {"ingestion/pipeline.py", "ingestion/progress.py"}


def test_a_document_s_state_is_written_only_by_the_pipeline_and_the_progress_helper():
    """``ingestion/models.py`` says so: no hand-made ``.update(status=…, stage=…)`` elsewhere."""
    violations = []
    for app in ORDER:
        for path in (ROOT / app).rglob("*.py"):
            name = str(path.relative_to(ROOT))
            if name in STATE_WRITERS or "/migrations/" in name:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                if node.func.attr != "update" or not {keyword.arg for keyword in node.keywords} & STATE_FIELDS:
                    continue
                if app == "ingestion" or "Document" in ast.unparse(node.func.value):
                    violations.append(f"{name}:{node.lineno}")
    assert violations == []
