"""What a source holds now: one reader per kind, listing entries (path, fingerprint) and materialising the
ones that changed as files the ingestion services can take. Pure reading; sources/services.py decides."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import tempfile
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import Protocol
from urllib.error import HTTPError, URLError
from urllib.parse import urldefrag, urljoin, urlsplit
from urllib.request import Request, urlopen
from urllib.robotparser import RobotFileParser

from defusedxml import ElementTree
from django.conf import settings

from ingestion.parsers import is_supported, parser_for, parser_for_mime_type
from ingestion.parsers.html import PARSER as HTML
from ingestion.services import file_checksum

USER_AGENT = "FaroBot"
UPLOAD_LIMIT = settings.UPLOAD_MAX_BYTES
MAX_SITEMAPS = 50  # sitemaps read from one sitemap index


@dataclass(frozen=True)
class Entry:
    key: str  # a relative POSIX path inside the source
    fingerprint: str
    stat: str = ""
    link: str = ""


@dataclass(frozen=True)
class Known:
    """What the previous sync recorded for a key."""

    fingerprint: str
    stat: str


class SourceError(Exception):
    """The source as a whole cannot be read (a missing folder, an unreachable repository)."""


def supported(key: str) -> bool:
    return is_supported(PurePosixPath(key))


class Reader(Protocol):
    refused: list[tuple[str, str]]  # entries the reader will not take, with why
    revision: str  # the source's version as read (git: the commit), "" when it has none

    def entries(self, known: Mapping[str, Known]) -> Iterator[Entry]:
        """Every supported file of the source now; ``known`` lets a reader skip re-reading unchanged ones."""
        ...

    def materialise(self, entry: Entry) -> AbstractContextManager[Path]:
        """The entry's content as a file named like the entry, for as long as the context lasts."""
        ...


@dataclass
class FolderReader:
    """A mounted folder. Files are compared by checksum; a file whose size and modification time did not
    change since it was hashed keeps its checksum (so a no-change re-sync reads no file). Symlinks (to files
    or folders) and anything resolving outside the folder are refused."""

    root: Path
    refused: list[tuple[str, str]] = field(default_factory=list)
    revision: str = ""

    def entries(self, known: Mapping[str, Known]) -> Iterator[Entry]:
        root = self.root
        if not root.is_dir():
            raise SourceError(f"{root} is not a folder.")
        real_root = root.resolve()
        for directory, folders, files in os.walk(root, followlinks=False):
            here = Path(directory)
            for name in list(folders):
                if (here / name).is_symlink():
                    self.refused.append(((here / name).relative_to(root).as_posix(), "symlink refused"))
                    folders.remove(name)
            folders.sort()
            for name in sorted(files):
                path = here / name
                key = path.relative_to(root).as_posix()
                if not supported(key):
                    continue
                info = path.lstat()
                if stat.S_ISLNK(info.st_mode):
                    self.refused.append((key, "symlink refused"))
                    continue
                if not stat.S_ISREG(info.st_mode) or not path.resolve().is_relative_to(real_root):
                    self.refused.append((key, "not a regular file inside the folder"))
                    continue
                signature = f"{info.st_size}:{info.st_mtime_ns}"
                previous = known.get(key)
                if previous is not None and previous.stat == signature:
                    yield Entry(key=key, fingerprint=previous.fingerprint, stat=signature)
                else:
                    yield Entry(key=key, fingerprint=file_checksum(path), stat=signature)

    @contextmanager
    def materialise(self, entry: Entry) -> Iterator[Path]:
        path = self.root / entry.key
        if path.is_symlink() or not path.resolve().is_relative_to(self.root.resolve()):
            raise SourceError(f"{entry.key}: not a regular file inside the folder")
        yield path


def _git(*args: str, cwd: Path) -> str:
    result = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, env={**os.environ, "LC_ALL": "C"}
    )
    if result.returncode != 0:
        raise SourceError(f"git {args[0]}: {result.stderr.strip()[:500]}")
    return result.stdout


def _link(location: str, commit: str, key: str) -> str:
    if location.startswith(("https://", "http://")):
        base = location.removesuffix(".git").rstrip("/")
        return f"{base}/blob/{commit}/{key}"
    return f"{location}@{commit}:{key}"


@dataclass
class GitReader:
    """A branch of a git repository, fetched into a bare cache; files are compared by blob id, so an
    unchanged branch costs one fetch and one tree listing. Symbolic links and submodules are refused."""

    location: str
    branch: str
    cache: Path
    refused: list[tuple[str, str]] = field(default_factory=list)
    revision: str = ""

    def _fetch(self) -> str:
        if not (self.cache / "HEAD").exists():
            self.cache.mkdir(parents=True, exist_ok=True)
            _git("init", "--bare", "--quiet", str(self.cache), cwd=self.cache)
        ref = f"refs/heads/{self.branch}"
        _git("fetch", "--quiet", "--force", "--no-tags", self.location, f"+{ref}:{ref}", cwd=self.cache)
        return _git("rev-parse", ref, cwd=self.cache).strip()

    def entries(self, known: Mapping[str, Known]) -> Iterator[Entry]:
        self.revision = self._fetch()
        listing = _git("ls-tree", "-r", "-z", "--full-tree", self.revision, cwd=self.cache)
        for record in filter(None, listing.split("\0")):
            meta, key = record.split("\t", 1)
            mode, kind, blob = meta.split()
            if not supported(key):
                continue
            if mode == "120000":
                self.refused.append((key, "symlink refused"))
                continue
            if kind != "blob":
                continue
            yield Entry(key=key, fingerprint=blob, link=_link(self.location, self.revision, key))

    @contextmanager
    def materialise(self, entry: Entry) -> Iterator[Path]:
        content = subprocess.run(
            ["git", "cat-file", "blob", entry.fingerprint], cwd=self.cache, capture_output=True, check=True
        ).stdout
        with tempfile.TemporaryDirectory(prefix="faro-git-") as folder:
            path = Path(folder) / PurePosixPath(entry.key).name
            path.write_bytes(content)
            yield path


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(value for name, value in attrs if name == "href" and value)


def _links(base: str, body: bytes) -> list[str]:
    parser = _Links()
    parser.feed(body.decode("utf-8", errors="replace"))
    return [urldefrag(urljoin(base, href))[0] for href in parser.hrefs]


def _sitemap_locations(body: bytes) -> tuple[bool, list[str]]:
    """(whether it is a sitemap index, the ``<loc>`` URLs it lists) of a sitemaps.org XML document."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as error:
        raise SourceError(f"not a sitemap: {error}") from error
    except Exception as error:  # defusedxml refuses entities and DTDs
        raise SourceError(f"sitemap refused: {error}") from error
    tag = root.tag.rsplit("}", 1)[-1]
    if tag not in ("urlset", "sitemapindex"):
        raise SourceError(f"not a sitemap: <{tag}>")
    urls = [
        element.text.strip()
        for element in root.iter()
        if element.tag.rsplit("}", 1)[-1] == "loc" and element.text and element.text.strip()
    ]
    return tag == "sitemapindex", urls


@dataclass
class WebsiteReader:
    """A site crawled from a start URL, or from the pages a sitemap lists (a start URL ending in ``.xml``:
    a sitemap or a sitemap index): same scheme and host only, robots.txt respected (Faro's user agent),
    breadth first to ``max_depth`` links and ``max_pages`` items. HTML pages give their main content and
    their links; a linked file of a supported format on the same host (a PDF, a Markdown file) is synced as
    that file, within the same limits. An item seen before is asked for with its ETag and Last-Modified; a
    304 keeps its fingerprint, and a page's links are read from the copy kept in ``cache`` (so an unchanged
    site costs one conditional request per item, and one request per sitemap)."""

    start: str
    max_depth: int
    max_pages: int
    cache: Path
    timeout: float = 15.0
    refused: list[tuple[str, str]] = field(default_factory=list)
    revision: str = ""
    _bodies: dict[str, bytes] = field(default_factory=dict)
    _files: set[str] = field(default_factory=set)  # keys that are files, not pages

    def _key(self, url: str) -> str:
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def _cached(self, key: str, *, page: bool = True) -> Path:
        return self.cache / (hashlib.sha256(key.encode()).hexdigest() + (".html" if page else ".file"))

    def _seeds(self, origin: str, robots: RobotFileParser) -> list[str]:
        """The start URL, or the same-host pages its sitemap (or the sitemaps of its sitemap index) lists."""
        start = urldefrag(self.start)[0]
        if not urlsplit(start).path.lower().endswith(".xml"):
            return [start]
        pages: list[str] = []
        sitemaps, read = deque([start]), 0
        while sitemaps and read < MAX_SITEMAPS and len(pages) < self.max_pages:
            url = sitemaps.popleft()
            read += 1
            if not robots.can_fetch(USER_AGENT, url):
                self.refused.append((self._key(url), "disallowed by robots.txt"))
                continue
            try:
                with urlopen(Request(url, headers={"User-Agent": USER_AGENT}), timeout=self.timeout) as reply:
                    body = reply.read(UPLOAD_LIMIT + 1)
            except (HTTPError, URLError) as error:
                if url == start:
                    raise SourceError(f"{url}: {getattr(error, 'reason', error)}") from error
                self.refused.append((self._key(url), f"sitemap: {getattr(error, 'reason', error)}"[:200]))
                continue
            index, locations = _sitemap_locations(body)
            same_host = [urldefrag(loc)[0] for loc in locations if _origin(loc) == origin]
            if index:
                sitemaps.extend(same_host if url == start else [])  # one level of index, as sitemaps.org allows
            else:
                pages.extend(same_host)
        return list(dict.fromkeys(pages))[: self.max_pages]

    def _robots(self, origin: str) -> RobotFileParser:
        robots = RobotFileParser(origin + "/robots.txt")
        try:
            with urlopen(
                Request(origin + "/robots.txt", headers={"User-Agent": USER_AGENT}), timeout=self.timeout
            ) as reply:
                robots.parse(reply.read().decode("utf-8", errors="replace").splitlines())
        except HTTPError as error:
            robots.parse([] if error.code >= 400 else ["User-agent: *", "Disallow: /"])
        except URLError as error:
            raise SourceError(f"{origin}: {error.reason}") from error
        return robots

    def entries(self, known: Mapping[str, Known]) -> Iterator[Entry]:
        start = urlsplit(self.start)
        if start.scheme not in ("http", "https") or not start.netloc:
            raise SourceError(f"{self.start} is not an http(s) URL.")
        origin = f"{start.scheme}://{start.netloc}"
        robots = self._robots(origin)
        self.cache.mkdir(parents=True, exist_ok=True)
        queue: deque[tuple[str, int]] = deque((url, 0) for url in self._seeds(origin, robots))
        visited: set[str] = set()
        pages = 0
        while queue and pages < self.max_pages:
            url, depth = queue.popleft()
            if url in visited:
                continue
            visited.add(url)
            key = self._key(url)
            if not robots.can_fetch(USER_AGENT, url):
                self.refused.append((key, "disallowed by robots.txt"))
                continue
            page = self._fetch(url, key, known.get(key))
            if page is None:
                continue
            pages += 1
            entry, body = page
            yield entry
            if depth < self.max_depth and key not in self._files:
                for link in _links(url, body):
                    if _origin(link) == origin and link not in visited:
                        queue.append((link, depth + 1))

    def _fetch(self, url: str, key: str, previous: Known | None) -> tuple[Entry, bytes] | None:
        headers = {"User-Agent": USER_AGENT}
        as_file = self._cached(key, page=False)
        cached = as_file if as_file.exists() else self._cached(key)  # what it was when last fetched
        if previous is not None and previous.stat and cached.exists():
            etag, _, modified = previous.stat.partition("\n")
            if etag:
                headers["If-None-Match"] = etag
            if modified:
                headers["If-Modified-Since"] = modified
        try:
            with urlopen(Request(url, headers=headers), timeout=self.timeout) as reply:
                page = parser_for_mime_type(reply.headers.get_content_type()) is HTML
                if not page and not _linked_file(url):
                    return None
                body = reply.read(UPLOAD_LIMIT + 1)
                validators = f"{reply.headers.get('ETag', '')}\n{reply.headers.get('Last-Modified', '')}"
                final = reply.geturl()
        except HTTPError as error:
            if error.code == 304 and previous is not None:
                body = cached.read_bytes()
                self._bodies[key] = body
                if cached == as_file:
                    self._files.add(key)
                return Entry(key=key, fingerprint=previous.fingerprint, stat=previous.stat, link=url), body
            if error.code not in (404, 410):
                self.refused.append((key, f"HTTP {error.code}"))
            return None
        except URLError as error:
            self.refused.append((key, str(error.reason)[:200]))
            return None
        if urlsplit(final).netloc != urlsplit(url).netloc:
            self.refused.append((key, "redirected to another host"))
            return None
        if len(body) > UPLOAD_LIMIT:
            self.refused.append((key, "larger than the upload limit"))
            return None
        if not page:
            self._files.add(key)
        (self._cached(key, page=False) if not page else self._cached(key)).write_bytes(body)
        (self._cached(key) if not page else as_file).unlink(missing_ok=True)  # a page that became a file
        self._bodies[key] = body
        fingerprint = hashlib.sha256(body).hexdigest()
        return Entry(key=key, fingerprint=fingerprint, stat=validators.strip() and validators, link=url), body

    @contextmanager
    def materialise(self, entry: Entry) -> Iterator[Path]:
        page = entry.key not in self._files
        body = self._bodies.get(entry.key)
        if body is None:
            body = self._cached(entry.key, page=page).read_bytes()
        path_in_site = PurePosixPath(urlsplit(entry.link).path)
        # A page is parsed as HTML whatever its URL says; a file keeps its name, so its format's parser reads it.
        name = f"{path_in_site.stem or 'index'}.html" if page else path_in_site.name
        with tempfile.TemporaryDirectory(prefix="faro-web-") as folder:
            path = Path(folder) / name
            path.write_bytes(body)
            yield path


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _linked_file(url: str) -> bool:
    """A URL naming a file of a format Faro reads, other than a page (``/manual.pdf``, ``/normas.md``)."""
    parser = parser_for(PurePosixPath(urlsplit(url).path))
    return parser is not None and parser is not HTML
