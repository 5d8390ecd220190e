"""Start the test OpenID provider (``provider.mjs``, Node's certified ``oidc-provider``) on loopback, and walk
its sign-in flow without a browser.

The provider's packages are installed by ``make install`` (``npm ci`` here); nothing is downloaded at test
time. It prints its issuer once it serves and exits when this process closes its standard input.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "provider.mjs"
PACKAGE = HERE / "node_modules" / "oidc-provider"
CLIENT_ID = "faro"
CLIENT_SECRET = "faro-test-secret"  # the static client's, in provider.mjs too
START_TIMEOUT_SECONDS = 30


def node_missing_reason() -> str | None:
    """Why the provider cannot start here, or ``None``. A missing ``npm ci`` is an error, not a skip."""
    if shutil.which("node") is None:
        return "node is not installed (the SSO tests start Node's oidc-provider)"
    if not PACKAGE.is_dir():
        raise RuntimeError(f"{PACKAGE} is missing: run `make install` (or `npm ci` in {HERE})")
    return None


@dataclass
class OidcTestProvider:
    issuer: str
    accounts_file: Path
    process: subprocess.Popen[str]
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def set_account(self, username: str, *, groups: list[str], **claims: Any) -> None:
        """What the provider says about ``username`` from its next sign-in on."""
        self.accounts[username] = {"groups": groups, **claims}
        self.accounts_file.write_text(json.dumps(self.accounts), encoding="utf-8")

    def reset(self) -> None:
        self.accounts.clear()
        self.accounts_file.write_text("{}", encoding="utf-8")

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """Faro settings that point at this provider (for ``override_settings``)."""
        return {
            "OIDC_ISSUER": self.issuer,
            "OIDC_DISCOVERY_URL": None,
            "OIDC_ENABLED": True,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_SCOPES": "openid email profile groups",
            "OIDC_GROUPS_CLAIM": "groups",
            "OIDC_ROLES_CLAIM": None,
            "OIDC_GROUP_MAP": {"hr-staff": "hr", "sales-team": "sales", "finance-team": "finance"},
            "OIDC_GROUPS_PASSTHROUGH": False,
            "OIDC_SYNC_GROUPS": True,
            "OIDC_ROLE_MAP": {
                "faro-knowledge-admins": "knowledge-admin",
                "faro-auditors": "auditor",
                "faro-administrators": "administrator",
            },
            "LOCAL_LOGIN_ENABLED": True,
            **overrides,
        }

    def sign_in(self, authorization_url: str, username: str) -> str:
        """Follow an authorization request through the development login page as ``username``; returns the
        URL the provider sends the browser back to (Faro's callback with ``code`` and ``state``)."""
        session = requests.Session()
        url = authorization_url
        for _ in range(10):
            response = session.get(url, allow_redirects=False, timeout=10)
            if response.status_code == 200 and "/interaction/" in url:
                # The development login page: any username, any password.
                response = session.post(
                    url, data={"prompt": "login", "login": username, "password": "any"}, allow_redirects=False
                )
            if response.status_code not in (302, 303):
                raise AssertionError(f"provider answered {response.status_code} at {url}: {response.text[:500]}")
            url = urljoin(url, response.headers["location"])
            if not url.startswith(self.issuer):
                return url
        raise AssertionError("the provider kept redirecting")


@contextmanager
def running_provider(work_dir: Path) -> Iterator[OidcTestProvider]:
    """The provider on 127.0.0.1 (a free port), stopped when the block ends."""
    work_dir.mkdir(parents=True, exist_ok=True)
    accounts_file = work_dir / "oidc-accounts.json"
    accounts_file.write_text("{}", encoding="utf-8")
    environment = {
        **os.environ,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_ACCOUNTS_FILE": str(accounts_file),
        "NODE_ENV": "test",
    }
    process, issuer = _start(environment, work_dir)
    try:
        provider = OidcTestProvider(issuer=issuer, accounts_file=accounts_file, process=process)
        yield provider
    finally:
        if process.stdin:
            process.stdin.close()  # the provider exits when its input closes
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _start(environment: dict[str, str], work_dir: Path) -> tuple[subprocess.Popen[str], str]:
    """Start the provider; a start that prints no issuer within the timeout is tried once more (once in a
    CI run it printed nothing for 30 s, and a second start of the same script came up at once)."""
    failures: list[str] = []
    for attempt in (1, 2):
        log = work_dir / f"oidc-provider-{attempt}.log"
        with log.open("w", encoding="utf-8") as log_file:
            process = subprocess.Popen(
                ["node", str(SCRIPT)],
                cwd=HERE,
                env=environment,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log_file,
                text=True,
            )
        try:
            return process, _read_issuer(process, log)
        except _NotStarted as error:
            failures.append(f"attempt {attempt}: {error}")
    raise RuntimeError("the OpenID provider did not start: " + " | ".join(failures))


class _NotStarted(Exception):
    pass


def _read_issuer(process: subprocess.Popen[str], log: Path) -> str:
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline() if process.stdout else ""))
    reader.start()
    reader.join(START_TIMEOUT_SECONDS)
    if not line or not line[0].strip():
        process.kill()
        process.wait()
        raise _NotStarted(log.read_text(encoding="utf-8")[-2000:])
    issuer = json.loads(line[0])["issuer"]
    if urlsplit(issuer).hostname != "127.0.0.1":
        raise RuntimeError(f"the OpenID provider is not on loopback: {issuer}")
    return str(issuer)
