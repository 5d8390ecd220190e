"""Which tone adapter the deployment serves: a small file that ``tuning`` writes and the LLM clients read.

Why a file and not a query on ``tuning.TuningRun``: imports flow ``tuning -> chatbot``, never back, so the
chat cannot ask the tuning app. Why not the cache: the embedded default's cache is per process, and the web
process, the workers and the trainer must all see one promotion. The file sits under ``DATA_DIR``, which
every app container mounts; promote and roll back rewrite it (atomically, after their transaction
commits), and the clients re-read it only when its modification time changes: one ``stat`` a request.

``{"id": "tone-run-3", "run": 3, "path": "/data/adapters/3"}``: ``id`` is what answers record and what the
TGI client sends as ``model`` (the name under which TGI loaded it, ``LORA_ADAPTERS``); ``path`` is the PEFT
directory the ``local`` backend loads. No file, or ``null``: the base model answers.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

REGISTRY_NAME = "promoted.json"


@dataclass(frozen=True)
class PromotedAdapter:
    id: str
    run: int
    path: str


def adapter_id_for_run(run_id: int) -> str:
    """The one name of a run's adapter: in answers, in ``LORA_ADAPTERS`` and as an exported folder."""
    return f"tone-run-{run_id}"


def registry_path() -> Path:
    return Path(settings.DATA_DIR) / "adapters" / REGISTRY_NAME


def promoted_adapter_write(adapter: PromotedAdapter | None) -> None:
    """Replace the registry in one rename, so a reader never sees half a file."""
    path = registry_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = None if adapter is None else {"id": adapter.id, "run": adapter.run, "path": adapter.path}
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    partial.write_text(json.dumps(payload), encoding="utf-8")
    partial.replace(path)


_cache_lock = threading.Lock()
_cache: dict[Path, tuple[tuple[int, int], PromotedAdapter | None]] = {}


def promoted_adapter() -> PromotedAdapter | None:
    """The adapter promoted now, or None (re-read only when the file changed)."""
    path = registry_path()
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    # Every write is a rename, so a new inode; the time alone could repeat on a coarse clock.
    stamp = (status.st_ino, status.st_mtime_ns)
    with _cache_lock:
        cached = _cache.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    adapter = None if not data else PromotedAdapter(id=str(data["id"]), run=int(data["run"]), path=str(data["path"]))
    with _cache_lock:
        _cache[path] = (stamp, adapter)
    return adapter
