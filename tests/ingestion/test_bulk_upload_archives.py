"""ZIP archives in the admin's "Upload many": each member that cannot be read is named with its own reason,
the good members of the same upload are registered and indexed, and an archive that would expand far beyond
its size is refused as a whole. The archives are built here, byte by byte where they must lie."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ingestion.models import Document
from tests.conftest import TEST_FILES, wait_until_settled

pytestmark = pytest.mark.django_db(transaction=True)

GOOD = (TEST_FILES / "guide.md").read_bytes()
NOTE = ("Nota interna sobre el reparto de turnos de guardia en el almacén. " * 20).encode()
BULK_UPLOAD = "/admin/ingestion/document/bulk-upload/"


def zip_bytes(members: list[tuple[str, bytes]], compression: int = zipfile.ZIP_STORED) -> bytearray:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return bytearray(buffer.getvalue())


def headers(archive: bytearray, name: str) -> tuple[int, int]:
    """Offsets of the member's local header and central directory entry."""
    with zipfile.ZipFile(io.BytesIO(bytes(archive))) as opened:
        local = opened.getinfo(name).header_offset
    central = next(
        offset
        for offset in _all(archive, b"PK\x01\x02")
        if archive[offset + 46 : offset + 46 + len(name)] == name.encode()
    )
    return local, central


def _all(data: bytearray, needle: bytes) -> list[int]:
    found, start = [], 0
    while (offset := data.find(needle, start)) >= 0:
        found.append(offset)
        start = offset + 1
    return found


def patch(archive: bytearray, name: str, *, flags: int = 0, crc: int | None = None, size: int | None = None) -> None:
    """Set flag bits, the CRC-32 or the uncompressed size of a member in both of its headers."""
    local, central = headers(archive, name)
    archive[local + 6] |= flags
    archive[central + 8] |= flags
    if crc is not None:
        struct.pack_into("<I", archive, local + 14, crc)
        struct.pack_into("<I", archive, central + 16, crc)
    if size is not None:
        struct.pack_into("<I", archive, local + 22, size)
        struct.pack_into("<I", archive, central + 24, size)


def corrupt_stored_member(archive: bytearray, name: str) -> None:
    local, _ = headers(archive, name)
    name_length, extra_length = struct.unpack_from("<HH", archive, local + 26)
    archive[local + 30 + name_length + extra_length + 10] ^= 0xFF


def _crc_update(crc: int, byte: int) -> int:
    return zlib.crc32(bytes([byte]), crc ^ 0xFFFFFFFF) ^ 0xFFFFFFFF


def zipcrypto_encrypt(plain: bytes, password: bytes) -> bytes:
    """Traditional PKWARE encryption (what ``zip -P`` writes), with a fixed header so the bytes are stable."""
    keys = [0x12345678, 0x23456789, 0x34567890]

    def update(byte: int) -> None:
        keys[0] = _crc_update(keys[0], byte)
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = _crc_update(keys[2], keys[1] >> 24)

    for byte in password:
        update(byte)
    encrypted = bytearray()
    for byte in bytes(11) + bytes([zlib.crc32(plain) >> 24]) + plain:
        temp = (keys[2] | 2) & 0xFFFF
        encrypted.append(byte ^ (((temp * (temp ^ 1)) >> 8) & 0xFF))
        update(byte)
    return bytes(encrypted)


def with_encrypted_member(members: list[tuple[str, bytes]], name: str, plain: bytes) -> bytearray:
    archive = zip_bytes([*members, (name, zipcrypto_encrypt(plain, b"clave"))])
    patch(archive, name, flags=0x1, crc=zlib.crc32(plain), size=len(plain))
    with zipfile.ZipFile(io.BytesIO(bytes(archive))) as opened:
        assert opened.read(name, pwd=b"clave") == plain  # a real encrypted member, readable with its password
    return archive


def bulk_upload(client: Client, files: dict[str, bytes]):
    uploads = [SimpleUploadedFile(name, data) for name, data in files.items()]
    return client.post(BULK_UPLOAD, {"uploads": uploads, "all_staff": "on"}, follow=True)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def client_for(user, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


@pytest.mark.slow
def test_bad_members_are_named_with_their_reasons_and_the_good_files_are_indexed(worker, dana):
    archive = with_encrypted_member(
        [("compras/guide.md", GOOD), ("roto.txt", NOTE), ("mayor.txt", NOTE)], "secreto.txt", NOTE
    )
    corrupt_stored_member(archive, "roto.txt")
    patch(archive, "mayor.txt", size=100)  # declares 100 bytes, holds 1,340

    response = bulk_upload(client_for(dana), {"lote.zip": bytes(archive), "notes.txt": NOTE})

    assert response.redirect_chain[-1][0] == "/admin/ingestion/document/"
    assert messages_of(response) == [
        "2 documents queued.",
        "roto.txt: The file is damaged inside the ZIP and cannot be read; add it to the archive again or upload it "
        "on its own.",
        "mayor.txt: The file holds more data than the ZIP declares for it: refused as a possible zip bomb.",
        "secreto.txt: The file is password-protected inside the ZIP; extract it with its password and upload it on "
        "its own.",
    ]
    documents = wait_until_settled(list(Document.objects.order_by("original_name")))
    assert [(d.original_name, d.status) for d in documents] == [("guide.md", "indexed"), ("notes.txt", "indexed")]
    assert [d.file.read() for d in documents] == [GOOD, NOTE]  # each original kept as uploaded


def test_the_reasons_are_translated(dana):
    archive = with_encrypted_member([("guide.md", GOOD), ("roto.txt", NOTE)], "secreto.txt", NOTE)
    corrupt_stored_member(archive, "roto.txt")

    response = bulk_upload(client_for(dana, "es"), {"lote.zip": bytes(archive)})

    assert messages_of(response) == [
        "1 documentos en cola.",
        "roto.txt: El archivo está dañado dentro del ZIP y no se puede leer; vuelve a añadirlo al ZIP o súbelo por "
        "separado.",
        "secreto.txt: El archivo está protegido con contraseña dentro del ZIP; extráelo con su contraseña y súbelo "
        "por separado.",
    ]
    assert list(Document.objects.values_list("original_name", flat=True)) == ["guide.md"]


def test_a_member_larger_than_declared_is_refused_even_when_its_checksum_agrees(dana):
    # A deflated member whose header declares (with a matching CRC) only its first 100 bytes: zipfile stops
    # at the declared size without complaint, so only reading past it shows that the header lies.
    archive = zip_bytes([("guide.md", GOOD), ("mayor.txt", NOTE)], zipfile.ZIP_DEFLATED)
    patch(archive, "mayor.txt", crc=zlib.crc32(NOTE[:100]), size=100)

    response = bulk_upload(client_for(dana), {"lote.zip": bytes(archive)})

    assert messages_of(response) == [
        "1 documents queued.",
        "mayor.txt: The file holds more data than the ZIP declares for it: refused as a possible zip bomb.",
    ]
    assert list(Document.objects.values_list("original_name", flat=True)) == ["guide.md"]


def test_an_archive_that_expands_over_100_to_1_as_a_whole_is_refused(dana):
    # 190 members of 1 MB each: none is over 1 MB, but together they are 190 MB from about 200 KB.
    megabyte = bytes(1024 * 1024)
    archive = zip_bytes([(f"parte-{number:03}.txt", megabyte) for number in range(190)], zipfile.ZIP_DEFLATED)
    assert 100 * len(archive) < 190 * len(megabyte) < 200 * len(megabyte)

    response = bulk_upload(client_for(dana), {"bomba.zip": bytes(archive), "notes.txt": NOTE})

    [queued, refused] = messages_of(response)
    assert queued == "1 documents queued."
    assert refused.startswith("bomba.zip: The ZIP file would expand to 190 MB")
    assert "refused as a possible zip bomb" in refused
    assert list(Document.objects.values_list("original_name", flat=True)) == ["notes.txt"]


def test_members_compressed_with_bzip2_or_lzma_are_refused(dana):
    # zipfile decompresses a whole bzip2 or LZMA chunk before cutting it to size: 4 KB can become gigabytes.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("guide.md", GOOD, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("bz.txt", NOTE, compress_type=zipfile.ZIP_BZIP2)
        archive.writestr("xz.txt", NOTE, compress_type=zipfile.ZIP_LZMA)

    response = bulk_upload(client_for(dana), {"lote.zip": buffer.getvalue()})

    refused = "The file is compressed with a method Faro does not accept; make the ZIP again with ordinary compression."
    assert messages_of(response) == ["1 documents queued.", f"bz.txt: {refused}", f"xz.txt: {refused}"]
    assert list(Document.objects.values_list("original_name", flat=True)) == ["guide.md"]
