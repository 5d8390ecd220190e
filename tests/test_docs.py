"""Every relative link in the README and docs/ resolves: the file exists and, with a #fragment into a Markdown
file, that file has a heading whose GitHub anchor it is."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE = re.compile(r"`[^`\n]*`")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.MULTILINE)


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for heading in HEADING.findall(FENCE.sub("", page.read_text(encoding="utf-8"))):
        base = anchor(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(page: Path) -> list[str]:
    text = CODE.sub("", FENCE.sub("", page.read_text(encoding="utf-8")))
    return LINK.findall(text)


def test_anchor_follows_github():
    assert anchor("Answers (issue 13)") == "answers-issue-13"
    assert anchor("Audit trail: keys, checkpoints, verification") == "audit-trail-keys-checkpoints-verification"
    assert anchor("Websocket protocol (`/ws/chat/`)") == "websocket-protocol-wschat"


def test_a_broken_link_is_found(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n[ok](#title) [gone](missing.md) [bad anchor](#nowhere)\n", encoding="utf-8")
    assert broken(page) == ["missing.md", "#nowhere"]


def broken(page: Path) -> list[str]:
    wrong = []
    for target in links(page):
        parts = urlsplit(target)
        if parts.scheme or parts.netloc or target.startswith("mailto:"):
            continue  # external: not checked here
        path = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        if not path.exists():
            wrong.append(target)
        elif parts.fragment and path.suffix == ".md" and parts.fragment not in anchors(path):
            wrong.append(target)
    return wrong


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    assert broken(page) == []


def test_the_readme_stays_short():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 150


def test_every_setting_is_documented():
    settings = (ROOT / "config" / "settings.py").read_text(encoding="utf-8")
    names = set(re.findall(r"(?:env_\w+|key_or_generated)\(\s*\"([A-Z0-9_]+)\"", settings))
    configuration = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert names, "no settings found: the pattern no longer matches config/settings.py"
    assert sorted(name for name in names if f"`{name}" not in configuration) == []
