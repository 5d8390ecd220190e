"""A no-change re-sync of a folder source against its first sync.

    .venv/bin/python bench/source_resync.py [--files 1000] [--no-index]
    .venv/bin/python bench/source_resync.py --site-pages 200

With ``--site-pages N`` it times a website source instead: a local ``http.server`` (the standard library's,
which answers If-Modified-Since with 304) serving an index page that links N-1 policy pages, synced once and
then again with nothing changed (one conditional request per page).

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
import tempfile
import time
from pathlib import Path

from ingest import setup  # the same throwaway DATA_DIR, Django and migrations as the ingestion benchmark

TOPICS = ["vacaciones", "teletrabajo", "gastos", "formación", "seguridad", "igualdad", "equipos", "viajes"]


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


def site(folder: Path, pages: int) -> str:
    import threading
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    links = "".join(f'<li><a href="/p/{n:04d}.html">Política {n}</a></li>' for n in range(1, pages))
    (folder / "index.html").write_text(f"<html><body><main><h1>Intranet</h1><ul>{links}</ul></main></body></html>")
    (folder / "p").mkdir()
    for n in range(1, pages):
        topic = TOPICS[n % len(TOPICS)]
        paragraphs = "".join(
            f"<p>Sección {s}: la norma {n}.{s} sobre {topic} se aplica a toda la plantilla desde el año "
            f"{2000 + (n + s) % 26}, con las excepciones que acuerde el comité de empresa.</p>"
            for s in range(1, 4)
        )
        (folder / "p" / f"{n:04d}.html").write_text(
            f"<html><head><title>Política {n}</title></head><body><nav>Inicio</nav><main><h1>Política {n} de "
            f"{topic}</h1>{paragraphs}</main></body></html>",
            encoding="utf-8",
        )
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/index.html"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--no-index", action="store_true", help="time the first sync without the pipeline")
    parser.add_argument("--site-pages", type=int, default=0, help="time a website source of this many pages")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="faro-bench-sources-") as scratch:
        data_dir, folder = Path(scratch) / "data", Path(scratch) / "share"
        folder.mkdir()
        setup(data_dir)
        from ingestion.pipeline import documents_ingest
        from sources.models import Source
        from sources.services import source_sync

        if args.site_pages:
            source = Source.objects.create(
                name="bench",
                kind=Source.Kind.WEBSITE,
                location=site(folder, args.site_pages),
                max_depth=1,
                max_pages=args.site_pages,
                all_staff=True,
            )
        else:
            write_files(folder, args.files)
            source = Source.objects.create(name="bench", kind=Source.Kind.FOLDER, location=str(folder), all_staff=True)
        what = f"{args.site_pages} pages" if args.site_pages else f"{args.files} files"

        started = time.perf_counter()
        result = source_sync(source_id=source.pk, queue=False)
        registered = time.perf_counter() - started
        if not args.no_index:
            documents_ingest(document_ids=result.document_ids, errors="fail")
        first = time.perf_counter() - started
        print(
            f"first sync of {what}: {first:.2f} s (registering {registered:.2f} s, "
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
        if args.site_pages:
            return
        now = time.time()
        for path in folder.rglob("*.md"):
            os.utime(path, (now + 5, now + 5))
        timed("re-sync after touching every file (same content)")
        for path in sorted(folder.rglob("*.md"))[: max(1, args.files // 100)]:
            path.write_text(path.read_text(encoding="utf-8") + "\nRevisada.\n", encoding="utf-8")
        timed("re-sync after editing 1 % of the files (registered, not indexed)")


if __name__ == "__main__":
    main()
