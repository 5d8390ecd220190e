"""The Debian packages some tests need, and the skip marks for when one is missing.

``make system-packages`` (``scripts/system-packages.sh``, run by ``make test`` and so by ``.ci/run``)
installs them with apt-get where that is permitted (root, or sudo without a password). Elsewhere the tests
that need a missing package skip, and the reason is the command that installs it: a missing system package
is never a test failure.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

# What each need installs; scripts/system-packages.sh installs their union (tests/test_system_packages.py).
OCR_PACKAGES = ("tesseract-ocr", "tesseract-ocr-spa", "tesseract-ocr-eng")  # ingestion/parsers/ocr.py reads spa+eng
CHROMIUM_PACKAGES = ("chromium",)  # the browser tests drive Debian's build at /usr/bin/chromium
CADDY_PACKAGES = ("caddy",)  # validates deploy/Caddyfile, the compose stack's proxy
GETTEXT_PACKAGES = ("gettext",)  # msgfmt checks the translation catalogues (locale/)
PACKAGES = (*OCR_PACKAGES, *CHROMIUM_PACKAGES, *CADDY_PACKAGES, *GETTEXT_PACKAGES)

CHROMIUM = Path("/usr/bin/chromium")


def install_command(packages: tuple[str, ...]) -> str:
    """The command that installs ``packages`` (what the skip reasons print)."""
    return f"sudo apt-get install -y {' '.join(packages)}"


def missing_reason(what: str, packages: tuple[str, ...]) -> str:
    return f"{what} is not installed; install it with `{install_command(packages)}` (or `make system-packages` as root)"


@cache
def ocr_available() -> bool:
    """Tesseract with the Spanish and English data that ``ingestion/parsers/ocr.py`` asks for."""
    tesseract = shutil.which("tesseract")
    if tesseract is None:
        return False
    result = subprocess.run([tesseract, "--list-langs"], capture_output=True, text=True, check=False)
    languages = set((result.stdout + result.stderr).split())
    return result.returncode == 0 and {"spa", "eng"} <= languages


requires_ocr = pytest.mark.skipif(
    not ocr_available(), reason=missing_reason("Tesseract with Spanish and English data", OCR_PACKAGES)
)
requires_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=missing_reason("Debian's chromium", CHROMIUM_PACKAGES)
)
CADDY_MISSING = missing_reason("caddy", CADDY_PACKAGES)
requires_gettext = pytest.mark.skipif(
    shutil.which("msgfmt") is None, reason=missing_reason("GNU gettext's msgfmt", GETTEXT_PACKAGES)
)
