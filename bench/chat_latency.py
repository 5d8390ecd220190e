"""Latency of the answer flow: the default extractive answer, or the packaged local generator behind the
grounding gate.

    .venv/bin/python bench/chat_latency.py [--backend extractive|local] [--max-new-tokens 64]

Runs the real answer flow (``chatbot.rag.answer.answer_stream``: record, rewrite, retrieve, evidence,
generate, check, record) for the 20 demo questions of ``bench/demo_questions.py`` against the demo
company indexed under ``var/bench/`` (its own SQLite database there too), after one warm-up question.
Prints time to first token (from the question arriving to the first generated text), generated tokens
per second, and the share of the time to first token spent in retrieval. With the gate, the first content
is the first *checked sentence*, so the local generator's figure includes the wait for a whole sentence.
Targets (p50 time to first content, 2 cores): 0.5 s for the extractive default, 1.5 s for the local
generator; the ratio to it is printed. Never fails a build.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench"
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
# The benchmark's own database and index, whatever the environment says.
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
os.environ["DATA_DIR"] = str(WORK / "chat-latency")
os.environ["EMBEDDED_INDEX_PATH"] = str(WORK / "demo.sqlite3")
os.environ["SEARCH_BACKEND"] = "embedded"
_BACKEND = sys.argv[sys.argv.index("--backend") + 1] if "--backend" in sys.argv else "extractive"
os.environ["LLM_BACKEND"] = _BACKEND
for name in ("DATABASE_URL", "REDIS_URL"):
    os.environ.pop(name, None)

import django  # noqa: E402

django.setup()

from bench_index import demo_index  # noqa: E402
from demo_questions import IN_SCOPE  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from accounts.models import User  # noqa: E402
from chatbot.llm import get_llm_client  # noqa: E402
from chatbot.models import Message  # noqa: E402
from chatbot.rag.answer import answer_stream  # noqa: E402

TARGET_TTFT_S = {"extractive": 0.5, "local": 1.5}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def ask(user: User, question: str) -> dict[str, float | bool]:
    started = time.monotonic()
    first: float | None = None
    message_id = 0
    async for event in answer_stream(user=user, conversation_id=None, question=question):
        if event["type"] == "token" and first is None:
            first = time.monotonic()
        if event["type"] == "done":
            message_id = event["message_id"]
    total = time.monotonic() - started
    message = await Message.objects.aget(pk=message_id)
    tokenizer = getattr(get_llm_client(), "_tokenizer", None)
    tokens = len(tokenizer.encode(message.content, add_special_tokens=False)) if tokenizer else 0
    ttft = (first or time.monotonic()) - started
    return {
        "ttft": ttft,
        "total": total,
        "retrieval": (message.latency_retrieval_ms or 0) / 1000,
        "tokens_per_s": tokens / max(total - ttft, 1e-6),
        "refused": message.refused,
        "fallback": message.fallback,
        "withheld": len(message.unsupported),
    }


async def run(user: User) -> list[dict[str, float | bool]]:
    await ask(user, "¿Cuántos días de vacaciones tengo al año?")  # warm-up: loads the generator
    return [await ask(user, question) for question, _ in IN_SCOPE]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("extractive", "local"), default="extractive")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    args = parser.parse_args()
    settings.GENERATOR_MAX_NEW_TOKENS = args.max_new_tokens
    call_command("migrate", verbosity=0)
    demo_index()
    user, _ = User.objects.get_or_create(username="bench-latency")
    results = asyncio.run(run(user))

    answered = [r for r in results if not r["refused"]]
    ttft = [float(r["ttft"]) for r in answered]
    share = [float(r["retrieval"]) / float(r["ttft"]) for r in answered]
    rates = [float(r["tokens_per_s"]) for r in answered if not r["fallback"]]
    load = os.getloadavg()[0]
    print(
        f"{args.backend}, {len(IN_SCOPE)} demo questions, {args.max_new_tokens} new tokens at most, "
        f"{os.cpu_count()} cores, load average {load:.1f} at the end"
    )
    print(
        f"  answered {len(answered)}, refused {len(results) - len(answered)}, "
        f"fell back {sum(bool(r['fallback']) for r in answered)}, "
        f"sentences withheld by the gate {sum(int(r['withheld']) for r in results)}"
    )
    if ttft:
        print(
            f"  time to first token: p50 {statistics.median(ttft):.2f} s, p90 {percentile(ttft, 0.9):.2f} s "
            f"(target p50 <= {TARGET_TTFT_S[args.backend]} s: "
            f"ratio {statistics.median(ttft) / TARGET_TTFT_S[args.backend]:.2f})"
        )
        print(f"  retrieval share of the time to first token: p50 {statistics.median(share):.0%}")
    if rates and args.backend == "local":
        print(f"  generation: p50 {statistics.median(rates):.1f} tokens/s")


if __name__ == "__main__":
    main()
