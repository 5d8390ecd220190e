"""The Content-Security-Policy every page carries, and that Faro's templates stay within it: scripts come
from static files, and each inline event handler is allowed by its hash or it would silently stop working."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from django.conf import settings
from django.test import Client

from tests.deploy.compose import ROOT

INLINE_HANDLER = re.compile(r"""\son[a-z]+=(["'])(.*?)\1""", re.DOTALL)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)([^>]*)>", re.IGNORECASE)


def csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


@pytest.mark.django_db
def test_pages_carry_the_policy(client: Client):
    policy = client.get("/login/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy


def test_templates_use_no_script_the_policy_blocks():
    allowed = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["script-src"]
    for template in sorted((ROOT / "templates").rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        for _, handler in INLINE_HANDLER.findall(text):
            assert csp_hash(handler) in allowed, f"{template.name}: inline handler {handler!r} is blocked by CSP"
        for attributes in INLINE_SCRIPT.findall(text):
            assert "application/json" in attributes, f"{template.name}: inline <script> is blocked by CSP"


@pytest.mark.django_db
def test_sso_forms_may_go_to_the_identity_provider(client: Client, settings):
    # The SSO button and the logout form redirect to the provider; browsers check those redirects too.
    settings.OIDC_ISSUER = "https://login.example.com:8443/realms/staff"
    policy = client.get("/login/")["Content-Security-Policy"]
    form_action = next(part for part in policy.split(";") if part.strip().startswith("form-action"))
    assert form_action.split()[1:] == ["'self'", "https://login.example.com:8443"]
