#!/usr/bin/env bash
# The Debian packages the test suite needs, installed with apt-get only when one is missing and this user
# may install (root, or sudo without a password). Elsewhere it says what is missing and succeeds: the tests
# that need a missing package skip with the install command in their reason (tests/system_packages.py).
# Run by `make system-packages`, which `make test` (and so .ci/run) runs first.
set -euo pipefail

# OCR for scanned PDFs and images: the engine plus Spanish and English language data; Chromium for the
# browser tests (at /usr/bin/chromium); Caddy, the compose stack's proxy, to validate deploy/Caddyfile;
# gettext, whose msgfmt checks the translation catalogues (locale/).
packages=(tesseract-ocr tesseract-ocr-spa tesseract-ocr-eng chromium caddy gettext)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "system-packages: missing ${missing[*]}, and there is no apt-get here; the tests that need them will skip" >&2
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "system-packages: missing ${missing[*]}; the tests that need them will skip." >&2
  echo "system-packages: install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 0
fi
echo "system-packages: installing ${missing[*]}" >&2
if ! { "${as_root[@]}" apt-get update -qq &&
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
  echo "system-packages: apt-get could not install ${missing[*]}; the tests that need them will skip" >&2
fi
