"""Sign-in throttling (django-axes, configured in config/settings.py): after LOGIN_FAILURE_LIMIT failures
for one account, or from one address, the sign-in is refused (even with the right password) until the
failures are LOGIN_LOCKOUT_MINUTES old; every lockout is in the audit log. Real sign-ins through the login
page; the failures live in the test database, so each test starts without any."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.utils import timezone

from governance.audit import audit_verify
from governance.models import AuditEvent

pytestmark = pytest.mark.django_db

LIMIT = settings.AXES_FAILURE_LIMIT


def sign_in(username: str, password: str, address: str = "10.0.0.1", language: str = "en"):
    client = Client(headers={"accept-language": language})
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(response) -> bool:
    return bool(response.status_code == 302 and response.wsgi_request.user.is_authenticated)


def pass_the_lockout_time() -> None:
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))


def test_the_right_password_is_refused_after_too_many_wrong_ones(charlie):
    assert LIMIT == 10  # the documented default
    for _ in range(40):  # the probe: 40 wrong passwords, then the right one
        refused = sign_in("charlie", "wrong")
        assert refused.status_code in (200, 429) and not refused.wsgi_request.user.is_authenticated
    response = sign_in("charlie", "pw-charlie")
    assert response.status_code == 429 and not response.wsgi_request.user.is_authenticated
    assert "Too many failed sign-ins" in response.content.decode()


def test_lockout_by_account_from_any_address(charlie, dana):
    for n in range(LIMIT):  # the failure that reaches the limit already gets the lockout page
        assert sign_in("charlie", "wrong", address=f"10.0.1.{n}").status_code == (429 if n == LIMIT - 1 else 200)
    assert sign_in("charlie", "pw-charlie", address="10.0.2.1").status_code == 429
    assert signed_in(sign_in("dana", "pw-dana", address="10.0.1.1"))  # those addresses are not locked


def test_lockout_by_address_for_any_account(charlie, dana):
    for n in range(LIMIT):  # password spraying: one guess per account
        assert sign_in(f"user{n}", "Summer2026!", address="10.0.3.1").status_code == (429 if n == LIMIT - 1 else 200)
    assert sign_in("dana", "pw-dana", address="10.0.3.1").status_code == 429
    assert signed_in(sign_in("charlie", "pw-charlie", address="10.0.3.2"))  # from elsewhere


def test_fewer_failures_than_the_limit_lock_nothing(charlie):
    for _ in range(LIMIT - 1):
        sign_in("charlie", "wrong")
    assert signed_in(sign_in("charlie", "pw-charlie"))


def test_the_lockout_ends_and_attempts_while_locked_do_not_extend_it(dana):
    for _ in range(LIMIT):
        sign_in("dana", "wrong")
    for _ in range(20):  # someone keeps trying the break-glass account
        assert sign_in("dana", "wrong").status_code == 429
    pass_the_lockout_time()
    assert signed_in(sign_in("dana", "pw-dana"))


def test_lockouts_are_audited(charlie):
    for _ in range(LIMIT + 2):
        sign_in("charlie", "wrong", address="10.0.4.1")
    locked = AuditEvent.objects.filter(event_type="auth.locked_out").order_by("id")
    assert locked.count() == 3  # the attempt that locked, and the two refused while locked
    assert locked.first().data == {"username": "charlie", "ip_address": "10.0.4.1"}  # type: ignore[union-attr]
    assert not list(audit_verify())


def test_the_lockout_page_is_in_spanish_too(charlie):
    for _ in range(LIMIT):
        sign_in("charlie", "wrong")
    response = sign_in("charlie", "pw-charlie", language="es")
    assert response.status_code == 429
    assert "Demasiados intentos fallidos" in response.content.decode()
