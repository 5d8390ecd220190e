"""Run Faro on embedded defaults: the ASGI web server, a Celery worker for ingestion and one for tone tuning
(its own queue, so a training run never holds up uploads); Ctrl-C stops them all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = os.environ.get("FARO_HOST", "127.0.0.1")
PORT = os.environ.get("FARO_PORT", "8000")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # Explicit handlers: a process started in the background may inherit an ignored SIGINT.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    python = sys.executable
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings")}
    celery = [python, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO"]
    worker = subprocess.Popen([*celery, "-Q", "celery", "-n", "worker@%h"], cwd=ROOT, env=env)
    trainer = subprocess.Popen([*celery, "-Q", "training", "-n", "trainer@%h"], cwd=ROOT, env=env)
    web = subprocess.Popen([python, "manage.py", "runserver", f"{HOST}:{PORT}", "--noreload"], cwd=ROOT, env=env)
    processes = (web, worker, trainer)
    print(
        f"\n  Faro is starting on http://{HOST}:{PORT}/\n"
        "  Sign in as alice or bob (HR), charlie (Sales), erin (Finance), dana (knowledge admin, /admin/),\n"
        "  audrey (auditor) or admin, all with the password 'faro-demo'.\n"
        "  Press Ctrl-C to stop the web server and the workers.\n",
        flush=True,
    )
    try:
        while all(process.poll() is None for process in processes):
            try:
                web.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT if process is web else signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
    return web.returncode or 0


if __name__ == "__main__":
    raise SystemExit(main())
