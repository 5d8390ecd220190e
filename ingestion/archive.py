"""ZIP archives uploaded through "Upload many": extract the supported files, and give every member left out
its own reason, so that one bad member never costs the others (tests in
tests/ingestion/test_bulk_upload_archives.py).

The archive as a whole is checked first by ``ingestion.parsers.zipfiles.zip_check`` (member count, declared sizes,
compression ratio of the archive and of each member), the same check a DOCX gets. Declared sizes can lie,
so extraction counts the bytes it really gets: each member is read up to one byte past its declared size
and refused when that byte exists, so nothing extracted ever exceeds the declared total the check bounded.
zipfile itself would stop at the declared size and check the CRC of the shorter data, which a forged CRC
passes; here the CRC is checked over everything read. Only stored and Deflate members are accepted:
zipfile bounds a Deflate read by the size asked for, but decompresses a whole bzip2 or LZMA chunk in memory
first (bzip2 turns 4 KB into gigabytes).
"""

from __future__ import annotations

import copy
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from ingestion.parsers import ParseError, is_supported
from ingestion.parsers.zipfiles import zip_check

_ENCRYPTED = 0x1
_ACCEPTED_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
_BLOCK = 1 << 20
# What reading a damaged stored or Deflate member raises (a local header that does not match, a broken
# Deflate stream, data that ends early, a flag zipfile cannot handle such as "compressed patch data").
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError)


@dataclass(frozen=True)
class UploadItem:
    """One file to register: where it is now, and the name it had."""

    path: Path
    name: str


class _MemberRefused(Exception):
    """A member that cannot be extracted, with the reason its uploader reads."""


def archive_expand(path: Path, destination: Path, *, name: str) -> tuple[list[UploadItem], list[tuple[str, str]]]:
    """The supported files inside the ZIP at ``path`` (uploaded as ``name``), extracted under ``destination``,
    and ``(name, reason)`` for each member left out, or for the whole archive when it is refused."""
    try:
        members = zip_check(path, label="ZIP")
    except ParseError as error:
        return [], [(name, str(error))]
    items: list[UploadItem] = []
    skipped: list[tuple[str, str]] = []
    with zipfile.ZipFile(path) as archive:
        for number, member in enumerate(members):
            base = Path(member.filename).name
            if member.is_dir() or not base or base.startswith(".") or "__MACOSX" in member.filename:
                continue
            suffix = Path(base).suffix.lower()
            if not is_supported(base):
                skipped.append((member.filename, _("Unsupported file type %(ext)s.") % {"ext": suffix or "(none)"}))
                continue
            target = destination / f"{number}-{base}"
            try:
                _extract(archive, member, target)
            except _MemberRefused as refused:
                target.unlink(missing_ok=True)
                skipped.append((member.filename, str(refused)))
                continue
            items.append(UploadItem(target, base))
    return items, skipped


def _extract(archive: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path) -> None:
    if member.flag_bits & _ENCRYPTED:
        raise _MemberRefused(
            _("The file is password-protected inside the ZIP; extract it with its password and upload it on its own.")
        )
    if member.compress_type not in _ACCEPTED_METHODS:
        raise _MemberRefused(
            _(
                "The file is compressed with a method Faro does not accept; make the ZIP again with ordinary "
                "compression."
            )
        )
    declared = member.file_size
    probe = copy.copy(member)
    probe.file_size = declared + 1  # zipfile hands over at most this much, so one byte more than declared shows
    probe.CRC = None  # type: ignore[assignment]  # zipfile skips its own CRC check; ours below sees all data
    crc = written = 0
    with target.open("wb") as out:
        try:
            with archive.open(probe) as source:
                while block := source.read(min(_BLOCK, declared + 1 - written)):
                    written += len(block)
                    if written > declared:
                        raise _MemberRefused(
                            _("The file holds more data than the ZIP declares for it: refused as a possible zip bomb.")
                        )
                    crc = zlib.crc32(block, crc)
                    out.write(block)
        except _DAMAGED as error:
            raise _damaged() from error
    if crc != member.CRC:
        raise _damaged()


def _damaged() -> _MemberRefused:
    return _MemberRefused(
        _("The file is damaged inside the ZIP and cannot be read; add it to the archive again or upload it on its own.")
    )
