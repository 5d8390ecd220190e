"""ZIP archives (a DOCX is one, and so is an "Upload many" archive): refuse before unpacking anything whose
declared sizes are absurd."""

from __future__ import annotations

import zipfile
from pathlib import Path

from ingestion.parsers.base import ParseError

# zipfile never returns more bytes than a member declares (it fails the CRC check instead), so declared sizes
# bound the real work.
ZIP_MAX_MEMBERS = 5_000
ZIP_MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
ZIP_MAX_RATIO = 100  # real DOCX XML compresses ~10x
ZIP_RATIO_FROM_BYTES = 1024 * 1024  # the ratio applies to the whole archive and to each member beyond this size


def zip_check(path: Path, *, label: str) -> list[zipfile.ZipInfo]:
    """The archive's members, or ``ParseError`` when it is damaged or would unpack to something absurd."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise ParseError(f"The {label} file is damaged or not a {label} ({error}).") from error
    if len(members) > ZIP_MAX_MEMBERS:
        raise ParseError(f"The {label} file holds {len(members):,} files (at most {ZIP_MAX_MEMBERS:,}).")
    total = sum(member.file_size for member in members)
    # The whole archive too: many members just under the threshold must not add up to a bomb.
    inflated = [
        size > ZIP_RATIO_FROM_BYTES and size > ZIP_MAX_RATIO * max(1, compressed)
        for size, compressed in [
            (total, path.stat().st_size),
            *((member.file_size, member.compress_size) for member in members),
        ]
    ]
    if total > ZIP_MAX_UNCOMPRESSED_BYTES or any(inflated):
        raise ParseError(
            f"The {label} file would expand to {total / (1024 * 1024):,.0f} MB when unpacked "
            f"(limit {ZIP_MAX_UNCOMPRESSED_BYTES // (1024 * 1024)} MB, compression at most {ZIP_MAX_RATIO}:1): "
            "refused as a possible zip bomb."
        )
    return members
