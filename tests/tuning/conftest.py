from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path: Path) -> Path:
    """Adapters and the promoted-adapter registry of each test in its own folder, never the checkout's
    ``var/`` (a promotion there would change what every other local chat in this checkout answers with)."""
    settings.DATA_DIR = tmp_path
    return tmp_path
