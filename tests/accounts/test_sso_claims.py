"""How claims become groups and roles, and the checks on configuration and ID tokens (no provider needed)."""

from __future__ import annotations

import os
from unittest import mock

import pytest
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation

from accounts.backends import SsoBackend
from accounts.roles import Role
from accounts.sso import ProviderMetadata, access_from_claims, sso_config_check
from config.env import env_map

ENTRA_HR = "2f7c1a3e-5b0d-4c8e-9a61-0d2b7f9e4c11"
ENTRA_ADMINS = "8a0e6b52-1f3d-4e77-b2c9-5d4f1e0a9b33"


@pytest.fixture
def entra(settings):
    settings.OIDC_GROUPS_CLAIM = "groups"
    settings.OIDC_ROLES_CLAIM = "roles"
    settings.OIDC_GROUP_MAP = {ENTRA_HR: "hr"}
    settings.OIDC_ROLE_MAP = {ENTRA_ADMINS: "administrator", "Faro.KnowledgeAdmin": "knowledge-admin"}
    settings.OIDC_GROUPS_PASSTHROUGH = False


def test_entra_group_ids_and_app_roles_map_to_faro_groups_and_roles(entra):
    access = access_from_claims({"groups": [ENTRA_HR, "unknown-id"], "roles": ["Faro.KnowledgeAdmin"]})
    assert access.groups == {"hr"}
    assert access.roles == {Role.EMPLOYEE, Role.KNOWLEDGE_ADMIN}
    assert Role.ADMINISTRATOR in access_from_claims({"groups": [ENTRA_ADMINS]}).roles


def test_a_missing_or_malformed_claim_grants_nothing(entra):
    for claims in ({}, {"groups": None}, {"groups": 7}, {"groups": [{"id": ENTRA_HR}]}):
        assert access_from_claims(claims).groups == frozenset()
        assert access_from_claims(claims).roles == {Role.EMPLOYEE}


def test_a_single_group_sent_as_a_string_counts(entra):
    assert access_from_claims({"groups": ENTRA_HR}).groups == {"hr"}


def test_entra_group_overage_grants_no_groups(entra):
    claims = {"_claim_names": {"groups": "src1"}, "_claim_sources": {"src1": {"endpoint": "https://graph"}}}
    assert access_from_claims(claims).groups == frozenset()


def test_passthrough_keeps_unmapped_names_but_never_role_groups(settings):
    settings.OIDC_GROUP_MAP = {"/hr": "hr"}
    settings.OIDC_GROUPS_PASSTHROUGH = True
    access = access_from_claims({"groups": ["/hr", "legal", "knowledge-admins", "auditors", ""]})
    assert access.groups == {"hr", "legal"}
    assert access.roles == {Role.EMPLOYEE}


def test_mappings_that_cannot_work_stop_the_start(settings):
    settings.OIDC_ROLE_MAP = {"faro-admins": "superuser"}
    with pytest.raises(ImproperlyConfigured, match="roles are"):
        sso_config_check()
    settings.OIDC_ROLE_MAP = {}
    settings.OIDC_GROUP_MAP = {"it": "knowledge-admins"}
    with pytest.raises(ImproperlyConfigured, match="OIDC_ROLE_MAP"):
        sso_config_check()


def test_env_map_reads_pairs_and_fails_loudly():
    with mock.patch.dict(os.environ, {"M": "a=hr, Sales Team=sales ,x=y=z"}):
        assert env_map("M") == {"a": "hr", "Sales Team": "sales", "x=y": "z"}
    with mock.patch.dict(os.environ, {"M": "hr-staff"}), pytest.raises(ImproperlyConfigured):
        env_map("M")


def test_id_tokens_for_another_issuer_or_client_are_refused(settings):
    settings.OIDC_CLIENT_ID = "faro"
    backend = SsoBackend()
    backend.metadata = ProviderMetadata(
        issuer="https://idp.example", authorization_endpoint="", token_endpoint="", jwks_uri="",
        userinfo_endpoint=None, end_session_endpoint=None,
    )  # fmt: skip
    backend._verify_id_token_claims({"iss": "https://idp.example", "aud": "faro"})
    backend._verify_id_token_claims({"iss": "https://idp.example", "aud": ["faro", "api"], "azp": "faro"})
    for payload in (
        {"iss": "https://evil.example", "aud": "faro"},
        {"iss": "https://idp.example", "aud": "other-app"},
        {"iss": "https://idp.example"},
        {"iss": "https://idp.example", "aud": ["faro", "api"], "azp": "api"},
    ):
        with pytest.raises(SuspiciousOperation):
            backend._verify_id_token_claims(payload)
