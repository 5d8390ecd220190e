"""A website source against a real local HTTP server serving a small site that changes between syncs:
same host only, robots.txt respected, depth and page limits, conditional GET (ETag and Last-Modified) so
an unchanged page is not downloaded again, main content extracted as HTML uploads are; a sitemap (or a
sitemap index) as the start URL; linked files of supported formats synced as documents."""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Iterator
from email.utils import formatdate
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from accounts.models import User
from sources.models import Source, SourceItem
from sources.readers import SourceError
from sources.services import source_sync
from tests.conftest import VACATION_PDF
from tests.sources.conftest import found, index, sync_and_index

PAGE = (
    "<html><head><title>{title}</title></head><body><nav>Menú Inicio Contacto</nav>"
    "<main><h1>{title}</h1><p>{text}</p>{links}</main></body></html>"
)


def page(title: str, text: str, *links: str) -> str:
    return PAGE.format(title=title, text=text, links="".join(f'<a href="{href}">{href}</a> ' for href in links))


class Handler(SimpleHTTPRequestHandler):
    """Static files with an ETag (content hash) and Last-Modified; 304 for a matching If-None-Match."""

    log: list[tuple[str, int]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def send_head(self) -> Any:
        path = Path(self.translate_path(self.path))
        if path.is_file():
            body = path.read_bytes()
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                self.log.append((self.path, 304))
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return None
            self.log.append((self.path, 200))
            self.send_response(200)
            self.send_header("Content-Type", self.guess_type(str(path)))
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", formatdate(path.stat().st_mtime, usegmt=True))
            self.end_headers()
            return io.BytesIO(body)
        self.log.append((self.path, 404))
        return super().send_head()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "site"
    root.mkdir()
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /privado/\n")
    (root / "index.html").write_text(
        page(
            "Intranet",
            "Bienvenida a la intranet citrinolandia.",
            "/normas.html",
            "/privado/nominas.html",
            "http://example.invalid/fuera.html",
            "gastos.html#seccion",
            "/logo.svg",  # a format Faro does not read: skipped
        )
    )
    (root / "normas.html").write_text(page("Normas", "El horario es flexible peridotania.", "/normas/detalle.html"))
    (root / "normas").mkdir()
    (root / "normas" / "detalle.html").write_text(
        page("Detalle", "Detalle de normas espinelburgo.", "/normas/mas.html")
    )
    (root / "normas" / "mas.html").write_text(page("Más", "Tercer nivel de enlaces rodocrosita."))
    (root / "gastos.html").write_text(page("Gastos", "Las dietas se pagan a fin de mes alejandritania."))
    (root / "privado").mkdir()
    (root / "privado" / "nominas.html").write_text(page("Nóminas", "Confidencial morganitópolis."))
    (root / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')

    def handler(*args: Any) -> Handler:
        return Handler(*args, directory=str(root))

    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Handler.log = []
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


@pytest.fixture
def source(db: None, site: tuple[str, Path], search_index: object) -> Source:
    url, _ = site
    return Source.objects.create(
        name="intranet", kind=Source.Kind.WEBSITE, location=f"{url}/index.html", max_depth=2, all_staff=True
    )


def keys(source: Source) -> list[str]:
    return sorted(SourceItem.objects.filter(source=source).values_list("key", flat=True))


def test_a_site_syncs_within_its_host_robots_and_depth(source: Source, site: tuple[str, Path], charlie: User) -> None:
    result = sync_and_index(source.pk)

    # depth 2: index (0) -> normas (1) -> normas/detalle (2); normas/mas would be depth 3.
    assert keys(source) == ["/gastos.html", "/index.html", "/normas.html", "/normas/detalle.html"]
    assert ("/privado/nominas.html", "disallowed by robots.txt") in result.failed
    assert not any(path.startswith("/privado") for path, _ in Handler.log)  # never requested
    assert found(charlie, "peridotania") == {SourceItem.objects.get(source=source, key="/normas.html").document_id}
    assert found(charlie, "Contacto") == set()  # the navigation is not main content
    assert found(charlie, "rodocrosita") == set()


def test_an_unchanged_site_is_asked_conditionally_and_a_changed_one_resyncs(
    source: Source, site: tuple[str, Path], charlie: User
) -> None:
    _, root = site
    sync_and_index(source.pk)
    Handler.log = []

    again = source_sync(source_id=source.pk, queue=False)

    assert (again.added, again.changed, again.removed, again.unchanged) == ([], [], [], 4)
    assert {status for path, status in Handler.log if path.endswith(".html")} == {304}

    (root / "gastos.html").write_text(page("Gastos", "Las dietas se pagan cada quincena granatópolis."))
    (root / "normas" / "detalle.html").unlink()
    result = source_sync(source_id=source.pk, queue=False)
    index(result.document_ids)

    assert result.changed == ["/gastos.html"]
    assert result.removed == ["/normas/detalle.html"]
    assert found(charlie, "granatópolis") == {SourceItem.objects.get(source=source, key="/gastos.html").document_id}
    assert found(charlie, "espinelburgo") == set()


def test_the_page_limit(source: Source) -> None:
    Source.objects.filter(pk=source.pk).update(max_pages=2)

    result = source_sync(source_id=source.pk, queue=False)

    assert len(result.added) == 2


def test_linked_files_on_the_same_host_are_synced_as_documents(
    source: Source, site: tuple[str, Path], charlie: User
) -> None:
    _, root = site
    (root / "manual.md").write_text("# Manual de gastos\n\nLos tickets se guardan tres años turmalinópolis.\n")
    (root / "vacaciones.pdf").write_bytes(VACATION_PDF.read_bytes())
    (root / "gastos.html").write_text(
        page("Gastos", "Dietas alejandritania.", "/manual.md", "vacaciones.pdf", "http://example.invalid/otro.pdf")
    )

    result = sync_and_index(source.pk)

    # index (0) -> gastos (1) -> its files (2), within max_depth 2.
    assert {"/manual.md", "/vacaciones.pdf"} <= set(result.added)
    manual = SourceItem.objects.get(source=source, key="/manual.md").document
    pdf = SourceItem.objects.get(source=source, key="/vacaciones.pdf").document
    assert (manual.original_name, pdf.original_name) == ("manual.md", "vacaciones.pdf")  # read as what they are
    assert found(charlie, "turmalinópolis") == {manual.pk}
    assert pdf.pk in found(charlie, "laborables")
    assert not any("otro.pdf" in path for path, _ in Handler.log)

    # Conditional GET for files as for pages; an edited file is a new version of its document.
    Handler.log = []
    again = source_sync(source_id=source.pk, queue=False)
    assert (again.added, again.changed, again.removed) == ([], [], [])
    assert {status for path, status in Handler.log if path in ("/manual.md", "/vacaciones.pdf")} == {304}
    (root / "manual.md").write_text("# Manual de gastos\n\nLos tickets se guardan cinco años zafirolandia.\n")
    changed = sync_and_index(source.pk)
    assert changed.changed == ["/manual.md"]
    assert found(charlie, "zafirolandia") == {manual.pk}


def test_linked_files_keep_to_the_depth_and_page_limits(source: Source, site: tuple[str, Path]) -> None:
    _, root = site
    (root / "manual.md").write_text("# Manual\n\nTexto.\n")
    (root / "gastos.html").write_text(page("Gastos", "Dietas.", "/manual.md"))
    Source.objects.filter(pk=source.pk).update(max_depth=1)

    shallow = source_sync(source_id=source.pk, queue=False)

    assert "/manual.md" not in shallow.added
    assert not any(path == "/manual.md" for path, _ in Handler.log)


SITEMAP = (
    '<?xml version="1.0" encoding="UTF-8"?><{tag} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</{tag}>'
)


def sitemap(base: str, *paths: str, index: bool = False) -> str:
    item = "<sitemap><loc>{}</loc></sitemap>" if index else "<url><loc>{}</loc><changefreq>weekly</changefreq></url>"
    tag = "sitemapindex" if index else "urlset"
    return SITEMAP.format(tag=tag, items="".join(item.format(p if "://" in p else base + p) for p in paths))


def test_a_sitemap_start_url_syncs_the_pages_it_lists(db: None, site: tuple[str, Path], search_index: object) -> None:
    url, root = site
    (root / "sitemap.xml").write_text(
        sitemap(url, "/normas/mas.html", "/gastos.html", "/privado/nominas.html", "http://example.invalid/fuera.html")
    )
    source = Source.objects.create(
        name="mapa", kind=Source.Kind.WEBSITE, location=f"{url}/sitemap.xml", max_depth=0, all_staff=True
    )

    result = source_sync(source_id=source.pk, queue=False)

    # The listed pages (however deep in the site's links), same host only, robots.txt respected.
    assert keys(source) == ["/gastos.html", "/normas/mas.html"]
    assert ("/privado/nominas.html", "disallowed by robots.txt") in result.failed
    assert not any(path.startswith("/privado") for path, _ in Handler.log)

    Handler.log = []
    again = source_sync(source_id=source.pk, queue=False)
    assert (again.added, again.changed, again.removed, again.unchanged) == ([], [], [], 2)
    assert {status for path, status in Handler.log if path.endswith(".html")} == {304}


def test_a_sitemap_index_and_the_page_limit(db: None, site: tuple[str, Path], search_index: object) -> None:
    url, root = site
    (root / "sitemap-normas.xml").write_text(sitemap(url, "/normas.html", "/normas/detalle.html"))
    (root / "sitemap-gastos.xml").write_text(sitemap(url, "/gastos.html"))
    (root / "sitemap_index.xml").write_text(
        sitemap(url, "/sitemap-normas.xml", "/sitemap-gastos.xml", "http://example.invalid/sitemap.xml", index=True)
    )
    source = Source.objects.create(
        name="indice", kind=Source.Kind.WEBSITE, location=f"{url}/sitemap_index.xml", max_depth=0, all_staff=True
    )

    source_sync(source_id=source.pk, queue=False)

    assert keys(source) == ["/gastos.html", "/normas.html", "/normas/detalle.html"]
    assert not any("example.invalid" in path for path, _ in Handler.log)

    Source.objects.filter(pk=source.pk).update(max_pages=2)
    limited = source_sync(source_id=source.pk, queue=False)
    assert len(limited.removed) == 1 and len(keys(source)) == 2


def test_a_start_url_that_is_not_a_sitemap_fails_the_sync(
    db: None, site: tuple[str, Path], search_index: object
) -> None:
    url, root = site
    (root / "mal.xml").write_text("<html><body>no</body></html>")
    source = Source.objects.create(name="mal", kind=Source.Kind.WEBSITE, location=f"{url}/mal.xml", all_staff=True)

    with pytest.raises(SourceError, match="not a sitemap"):
        source_sync(source_id=source.pk, queue=False)

    source.refresh_from_db()
    assert source.status == Source.Status.FAILED and "not a sitemap" in source.status_reason
