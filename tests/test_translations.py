"""The translation catalogues (locale/): valid for msgfmt, the Spanish one complete, and the committed .mo
files compiled from their .po (installs need no gettext). Update them as locale/es/LC_MESSAGES/django.po's
header says (makemessages, translate, compilemessages)."""

from __future__ import annotations

import gettext
import subprocess
from pathlib import Path

import django
import pytest

from tests.conftest import ROOT
from tests.system_packages import requires_gettext

CATALOGUES = sorted((ROOT / "locale").glob("*/LC_MESSAGES/django.po"))
SPANISH = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po"


def _mo(path: Path) -> gettext.GNUTranslations:
    with path.open("rb") as handle:
        return gettext.GNUTranslations(handle)


def test_there_are_catalogues():
    assert SPANISH in CATALOGUES


@requires_gettext
@pytest.mark.parametrize("po", CATALOGUES, ids=lambda po: po.parts[-3])
def test_a_catalogue_passes_msgfmt_check_and_its_mo_is_compiled_from_it(po, tmp_path):
    # --check: formats, header, and as many plural forms per entry as the header declares.
    result = subprocess.run(
        ["msgfmt", "--check", "-o", str(tmp_path / "django.mo"), str(po)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert _mo(po.with_suffix(".mo"))._catalog == _mo(tmp_path / "django.mo")._catalog  # type: ignore[attr-defined]


@requires_gettext
def test_the_spanish_catalogue_has_no_fuzzy_or_untranslated_entry():
    # A fuzzy entry is msgmerge's guess from a similar string: shown as is, it can say something else.
    for flag in ("--only-fuzzy", "--untranslated"):
        result = subprocess.run(
            ["msgattrib", flag, "--no-obsolete", str(SPANISH)], capture_output=True, text=True, check=True
        )
        entries = [line for line in result.stdout.splitlines() if line.startswith("msgid ")]
        assert entries in ([], ['msgid ""']), (flag, result.stdout[-2000:])


def test_spanish_has_the_plural_forms_of_djangos_own_spanish_catalogue():
    django_es = Path(django.__file__).parent / "conf" / "locale" / "es" / "LC_MESSAGES" / "django.mo"
    assert _mo(SPANISH.with_suffix(".mo")).info()["plural-forms"] == _mo(django_es).info()["plural-forms"]
