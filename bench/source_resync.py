"""A no-change re-sync of a folder source against its first sync.

    .venv/bin/python bench/source_resync.py [--files 1000] [--no-index]

Writes N small Markdown policies (about 1 KB each, three paragraphs) into a temporary folder, creates a
folder source over it in a throwaway DATA_DIR (SQLite, embedded index), and times:

- the first sync: listing and hashing every file, registering each document through the upload's service
  (original stored, audit events) and, unless ``--no-index``, indexing them with the real pipeline
  (parse, chunk, embed, write), as the workers would after a queued sync;
- a re-sync with nothing changed (the folder listed, sizes and mtimes compared, no file read);
- a re-sync after touching every file's mtime with the same content (every file re-hashed, none changed);
- a re-sync after editing 1 % of the files (their new versions registered, not indexed).

Prints seconds and each re-sync's share of the first sync (target for the no-change re-sync: under 5 %).
It never fails a build: it only prints.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOPICS = ["vacaciones", "teletrabajo", "gastos", "formación", "seguridad", "igualdad", "equipos", "viajes"]


def setup(data_dir: Path) -> None:
    os.environ["DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def write_files(folder: Path, count: int) -> None:
    for n in range(count):
        topic = TOPICS[n % len(TOPICS)]
        path = folder / topic / f"politica-{n:04d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"# Política {n} de {topic}\n\n"
            + "\n\n".join(
                f"Sección {s}: la norma {n}.{s} sobre {topic} se aplica a toda la plantilla desde el año "
                f"{2000 + (n + s) % 26}, con las excepciones que acuerde el comité de empresa en su reunión "
                f"trimestral y que se publican en la intranet."
                for s in range(1, 4)
            )
            + "\n",
            encoding="utf-8",
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--no-index", action="store_true", help="time the first sync without the pipeline")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="faro-bench-sources-") as scratch:
        data_dir, folder = Path(scratch) / "data", Path(scratch) / "share"
        folder.mkdir()
        setup(data_dir)
        from ingestion.services import documents_ingest
        from sources.models import Source
        from sources.services import source_sync

        write_files(folder, args.files)
        source = Source.objects.create(name="bench", kind=Source.Kind.FOLDER, location=str(folder), all_staff=True)

        started = time.perf_counter()
        result = source_sync(source_id=source.pk, queue=False)
        registered = time.perf_counter() - started
        if not args.no_index:
            documents_ingest(document_ids=result.document_ids, errors="fail")
        first = time.perf_counter() - started
        print(
            f"first sync of {args.files} files: {first:.2f} s (registering {registered:.2f} s, "
            f"{'indexing ' + format(first - registered, '.2f') + ' s' if not args.no_index else 'not indexed'})"
        )

        def timed(label: str) -> None:
            started = time.perf_counter()
            again = source_sync(source_id=source.pk, queue=False)
            seconds = time.perf_counter() - started
            print(
                f"{label}: {seconds:.3f} s = {100 * seconds / first:.2f} % of the first sync "
                f"(changed {len(again.changed)}, unchanged {again.unchanged})"
            )

        timed("no-change re-sync")
        now = time.time()
        for path in folder.rglob("*.md"):
            os.utime(path, (now + 5, now + 5))
        timed("re-sync after touching every file (same content)")
        for path in sorted(folder.rglob("*.md"))[: max(1, args.files // 100)]:
            path.write_text(path.read_text(encoding="utf-8") + "\nRevisada.\n", encoding="utf-8")
        timed("re-sync after editing 1 % of the files (registered, not indexed)")


if __name__ == "__main__":
    main()
