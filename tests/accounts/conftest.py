"""The real OpenID provider (Node's oidc-provider on loopback) and a helper that signs in through it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.http import HttpResponse
from django.test import Client

from accounts.sso import provider_metadata_clear
from tests.oidc.provider import OidcTestProvider, node_missing_reason, running_provider


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcTestProvider]:
    reason = node_missing_reason()
    if reason:
        pytest.skip(reason)
    with running_provider(tmp_path_factory.mktemp("oidc")) as provider:
        yield provider


@pytest.fixture
def sso(oidc_provider: OidcTestProvider, settings: Any) -> Iterator[OidcTestProvider]:
    """Single sign-on switched on against the test provider, with no accounts configured there yet."""
    oidc_provider.reset()
    for name, value in oidc_provider.settings().items():
        setattr(settings, name, value)
    provider_metadata_clear()
    yield oidc_provider
    provider_metadata_clear()


def sso_sign_in(client: Client, provider: OidcTestProvider, username: str, next_url: str = "/") -> HttpResponse:
    """Click "Sign in with SSO", sign in at the provider as ``username``, come back to Faro's callback."""
    start = client.get("/oidc/authenticate/", {"next": next_url})
    assert start.status_code == 302, start
    callback = urlsplit(provider.sign_in(start["Location"], username))
    assert (callback.scheme, callback.netloc, callback.path) == ("http", "testserver", "/oidc/callback/")
    return client.get(f"{callback.path}?{callback.query}")  # type: ignore[return-value]
