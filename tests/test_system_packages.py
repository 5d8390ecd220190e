"""`make system-packages` (scripts/system-packages.sh) installs what the tests' skip marks name, and where it
may not install it says so and lets `make test` go on (the tests then skip with the install command)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.system_packages import CADDY_MISSING, OCR_PACKAGES, PACKAGES, requires_chromium, requires_ocr

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "system-packages.sh"


def script_packages(text: str) -> tuple[str, ...]:
    match = re.search(r"^packages=\((.*)\)$", text, re.MULTILINE)
    assert match is not None
    return tuple(match.group(1).split())


def test_the_script_installs_exactly_the_packages_the_tests_name():
    assert sorted(script_packages(SCRIPT.read_text(encoding="utf-8"))) == sorted(PACKAGES)


def test_skip_reasons_carry_the_install_command():
    assert "sudo apt-get install -y tesseract-ocr tesseract-ocr-spa tesseract-ocr-eng" in requires_ocr.kwargs["reason"]
    assert "sudo apt-get install -y chromium" in requires_chromium.kwargs["reason"]
    assert "sudo apt-get install -y caddy" in CADDY_MISSING
    assert OCR_PACKAGES == ("tesseract-ocr", "tesseract-ocr-spa", "tesseract-ocr-eng")


def test_without_apt_get_a_missing_package_is_reported_and_make_goes_on(tmp_path):
    # The same script with a package no machine has, on a PATH holding only the tools it needs besides
    # apt-get and sudo.
    text = SCRIPT.read_text(encoding="utf-8")
    script = tmp_path / "system-packages.sh"
    script.write_text(re.sub(r"^packages=\(.*\)$", "packages=(faro-no-such-package)", text, flags=re.MULTILINE))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("dpkg-query", "grep", "id"):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    bash = shutil.which("bash")
    assert bash is not None
    result = subprocess.run(
        [bash, str(script)], env={**os.environ, "PATH": str(bin_dir)}, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "missing faro-no-such-package" in result.stderr
    assert "the tests that need them will skip" in result.stderr


def test_without_permission_the_install_command_is_printed_and_apt_get_is_not_run(tmp_path):
    # Not root (an `id` that says 1000), no sudo, and an apt-get that leaves a mark if anything runs it.
    text = SCRIPT.read_text(encoding="utf-8")
    script = tmp_path / "system-packages.sh"
    script.write_text(re.sub(r"^packages=\(.*\)$", "packages=(faro-no-such-package)", text, flags=re.MULTILINE))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("dpkg-query", "grep"):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    (bin_dir / "id").write_text("#!/bin/sh\necho 1000\n")
    (bin_dir / "apt-get").write_text(f"#!/bin/sh\ntouch {tmp_path / 'apt-get-ran'}\nexit 1\n")
    for tool in ("id", "apt-get"):
        (bin_dir / tool).chmod(0o755)
    bash = shutil.which("bash")
    assert bash is not None
    result = subprocess.run(
        [bash, str(script)], env={**os.environ, "PATH": str(bin_dir)}, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "sudo apt-get install -y faro-no-such-package" in result.stderr
    assert not (tmp_path / "apt-get-ran").exists()
