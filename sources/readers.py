"""What a source holds now: one reader per kind, listing entries (path, fingerprint) and materialising the
ones that changed as files the ingestion services can take. Pure reading; sources/services.py decides."""

from __future__ import annotations

import os
import stat
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol

from ingestion.parse import SUPPORTED_EXTENSIONS
from ingestion.services import file_checksum


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
    return PurePosixPath(key).suffix.lower() in SUPPORTED_EXTENSIONS


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
