"""Websocket load: simulated employees asking over loopback against a running Faro server.

    .venv/bin/python bench/ws_load.py [--users 100] [--baseline-users 10] [--questions 5]

Starts its own server (Daphne, ``config.asgi``) on 127.0.0.1 with ``LLM_BACKEND=extractive`` and the demo
company indexed under ``var/bench/``. The production path is used when its servers answer on this machine:
PostgreSQL on 127.0.0.1:5432 (a dedicated ``faro_bench`` database, created here, never the test database)
and Redis on 127.0.0.1:6379 (database 14) for the channel layer and the cache that holds the rate limit
and conversation locks; otherwise SQLite and in-memory layers, and it says so. Those URLs are set only for
this script and the server it starts.

Each simulated employee signs in (a session created directly), opens a websocket and asks ``--questions``
demo questions with 1-3 s of think time between them. Reported: p50/p95 time to the first answer content
(first token) and to ``done``, and the error count, for ``--baseline-users`` and then ``--users``
employees. Target: 0 errors; p95 to first content <= 2 s at 100 users. Never fails a build; the loops are
bounded and everything stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench"
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PG_BENCH_URL = "postgres://postgres@127.0.0.1:5432/faro_bench"
REDIS_BENCH_URL = "redis://127.0.0.1:6379/14"
QUESTION_TIMEOUT_S = 60
TARGET_P95_FIRST_S = 2.0


def reachable(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def bench_environment() -> tuple[dict[str, str], str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATA_DIR": str(WORK / "ws-load"),
        "EMBEDDED_INDEX_PATH": str(WORK / "demo.sqlite3"),
        "SEARCH_BACKEND": "embedded",
        "LLM_BACKEND": "extractive",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    path = []
    if reachable(5432):
        import psycopg

        with psycopg.connect(PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True) as admin:
            if not admin.execute("SELECT 1 FROM pg_database WHERE datname = 'faro_bench'").fetchone():
                admin.execute("CREATE DATABASE faro_bench")
        env["DATABASE_URL"] = PG_BENCH_URL
        pool = env.get("DATABASE_POOL_MAX_SIZE") or "0"
        path.append(f"PostgreSQL (faro_bench, pool of {pool})" if pool != "0" else "PostgreSQL (faro_bench, no pool)")
    else:
        path.append("SQLite (no PostgreSQL on 127.0.0.1:5432)")
    if reachable(6379):
        env["REDIS_URL"] = REDIS_BENCH_URL
        path.append("Redis channel layer and cache (db 14)")
    else:
        path.append("in-memory channel layer (no Redis on 127.0.0.1:6379)")
    return env, ", ".join(path)


def prepare(env: dict[str, str], users: int) -> list[str]:
    """Migrate the bench database, index the demo company, create the employees and their sessions."""
    os.environ.update(env)
    for name in ("DATABASE_URL", "REDIS_URL"):
        if name not in env:
            os.environ.pop(name, None)
    import django

    django.setup()
    from bench_index import demo_index
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from accounts.models import User

    call_command("migrate", verbosity=0)
    demo_index()
    keys = []
    for n in range(users):
        user, created = User.objects.get_or_create(username=f"bench-employee-{n:03d}")
        if created:
            user.set_password(f"bench-{n}")
            user.save()
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        keys.append(session.session_key or "")
    return keys


@dataclass
class Results:
    first: list[float] = field(default_factory=list)
    done: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)


async def employee(url: str, origin: str, session_key: str, questions: list[str], results: Results) -> None:
    import websockets

    try:
        async with websockets.connect(
            url, additional_headers={"Cookie": f"sessionid={session_key}", "Origin": origin}, open_timeout=30
        ) as ws:
            for index, question in enumerate(questions):
                if index:
                    await asyncio.sleep(random.uniform(1, 3))
                started = time.monotonic()
                await ws.send(json.dumps({"type": "ask", "conversation": None, "question": question}))
                first = None
                async with asyncio.timeout(QUESTION_TIMEOUT_S):
                    while True:
                        event = json.loads(await ws.recv())
                        if event["type"] == "token" and first is None:
                            first = time.monotonic() - started
                        elif event["type"] == "error":
                            results.errors.append(event.get("code", "error"))
                            break
                        elif event["type"] == "done":
                            results.first.append(first if first is not None else time.monotonic() - started)
                            results.done.append(time.monotonic() - started)
                            break
    except Exception as error:  # a failed connection or a timeout is an error of the run, not a crash
        results.errors.append(type(error).__name__)
        results.details.append(str(error)[:200])


async def wave(port: int, keys: list[str], questions: int) -> tuple[Results, float]:
    from demo_questions import IN_SCOPE

    results = Results()
    started = time.monotonic()
    await asyncio.gather(
        *(
            employee(
                f"ws://127.0.0.1:{port}/ws/chat/",
                f"http://127.0.0.1:{port}",
                key,
                [q for q, _ in random.sample(IN_SCOPE, questions)],
                results,
            )
            for key in keys
        )
    )
    return results, time.monotonic() - started


def p(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(label: str, results: Results, seconds: float) -> None:
    errors = f" {sorted(set(results.errors))}" if results.errors else ""
    print(
        f"  {label}: {len(results.done)} answers in {seconds:.0f} s; "
        f"first content p50 {p(results.first, 0.5):.2f} s, p95 {p(results.first, 0.95):.2f} s; "
        f"done p50 {p(results.done, 0.5):.2f} s, p95 {p(results.done, 0.95):.2f} s; "
        f"errors {len(results.errors)}{errors}"
    )
    for detail in sorted(set(results.details))[:3]:
        print(f"    e.g. {detail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--baseline-users", type=int, default=10)
    parser.add_argument("--questions", type=int, default=5)
    args = parser.parse_args()
    random.seed(7)
    env, path = bench_environment()
    # Separate employees for the warm-up, the baseline and the load, so no one reaches the rate limit.
    keys = prepare(env, 1 + args.baseline_users + args.users)
    warm_up, baseline_keys, load_keys = keys[:1], keys[1 : 1 + args.baseline_users], keys[1 + args.baseline_users :]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server_log = (WORK / "ws-load" / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=ROOT,
        env={**env, "ALLOWED_HOSTS": "127.0.0.1,localhost"},
        stdout=subprocess.DEVNULL,
        stderr=server_log,
    )
    try:
        deadline = time.monotonic() + 60
        while not reachable(port):
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start; see {server_log.name}")
            time.sleep(0.2)
        asyncio.run(wave(port, warm_up, 1))  # warm-up: loads the embedding model in the server
        print(
            f"websocket load, extractive answers, {path}; {args.questions} questions per employee with 1-3 s of "
            f"think time; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before the run"
        )
        baseline, baseline_s = asyncio.run(wave(port, baseline_keys, args.questions))
        report(f"{args.baseline_users:3d} employees (baseline)", baseline, baseline_s)
        loaded, loaded_s = asyncio.run(wave(port, load_keys, args.questions))
        report(f"{args.users:3d} employees", loaded, loaded_s)
        if baseline.first and loaded.first:
            print(
                f"  p95 to first content: {p(loaded.first, 0.95) / p(baseline.first, 0.95):.1f}x the baseline; "
                f"target <= {TARGET_P95_FIRST_S} s: ratio {p(loaded.first, 0.95) / TARGET_P95_FIRST_S:.2f}"
            )
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
