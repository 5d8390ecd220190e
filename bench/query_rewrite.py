"""Measure conversation-aware retrieval on the demo company: do follow-ups find their passage?

    .venv/bin/python bench/query_rewrite.py [--no-generator]

For each pair of ``FOLLOW_UPS`` in ``bench/demo_questions.py`` (a first question, then a follow-up that only
makes sense after it), the follow-up is searched (top ``SEARCH_TOP_K``) as asked, as the heuristic rewrites
it, and as the packaged local generator rewrites it; a hit is a passage of the expected document whose
section or text holds the expected phrase. As a control, every standalone question of ``IN_SCOPE`` is
asked after an unrelated one: how often does the heuristic wrongly take it for a follow-up, and does that
cost the hit? Prints the figures; never fails a build.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from bench_index import PUBLIC, demo_index  # noqa: E402
from demo_questions import FOLLOW_UPS, IN_SCOPE  # noqa: E402
from django.conf import settings  # noqa: E402

from chatbot.llm import ChatMessage, get_llm_client  # noqa: E402
from chatbot.rag.rewrite import REWRITE_TIMEOUT_SECONDS, generator_rewrite, heuristic_rewrite  # noqa: E402
from ingestion.embed import get_embedder  # noqa: E402
from ingestion.search.embedded import EmbeddedSearchBackend  # noqa: E402


def found(backend: EmbeddedSearchBackend, query: str, title: str, phrase: str = "") -> bool:
    vector = get_embedder().embed([query])[0]
    hits = backend.search(query, vector, principals=PUBLIC, k=settings.SEARCH_TOP_K)
    return any(h.title == title and phrase.lower() in f"{h.section} {h.text}".lower() for h in hits)


def history(first: str) -> list[ChatMessage]:
    return [ChatMessage(role="user", content=first), ChatMessage(role="assistant", content="(answer)")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-generator", action="store_true", help="skip the local generator's rewrites")
    args = parser.parse_args()
    backend = demo_index()

    counts = {"as asked": 0, "heuristic": 0, "generator": 0}
    generator_seconds: list[float] = []
    llm = None if args.no_generator else get_llm_client("local")
    for first, follow_up, title, phrase in FOLLOW_UPS:
        counts["as asked"] += found(backend, follow_up, title, phrase)
        counts["heuristic"] += found(backend, heuristic_rewrite(follow_up, history(first)).query, title, phrase)
        if llm is not None:
            started = time.monotonic()
            rewrite = asyncio.run(
                generator_rewrite(
                    follow_up, history(first), llm=llm, language="es", timeout=REWRITE_TIMEOUT_SECONDS * 4
                )
            )
            generator_seconds.append(time.monotonic() - started)
            counts["generator"] += found(backend, rewrite.query, title, phrase)
            print(f"  generator ({rewrite.method}): {follow_up!r} -> {rewrite.query!r}")

    triggered = kept_hits = lost_hits = 0
    for index, (question, title) in enumerate(IN_SCOPE):
        unrelated = IN_SCOPE[(index + 7) % len(IN_SCOPE)][0]
        rewrite = heuristic_rewrite(question, history(unrelated))
        if rewrite.method == "heuristic":
            triggered += 1
            before, after = found(backend, question, title), found(backend, rewrite.query, title)
            kept_hits += before and after
            lost_hits += before and not after

    n = len(FOLLOW_UPS)
    print(f"follow-ups finding their passage in the top {settings.SEARCH_TOP_K} ({n} pairs):")
    for method, count in counts.items():
        if method == "generator" and llm is None:
            continue
        print(f"  {method:10s} {count}/{n}")
    if generator_seconds:
        generator_seconds.sort()
        print(f"  generator rewrite time p50 {generator_seconds[len(generator_seconds) // 2]:.2f} s")
    print(
        f"standalone questions taken for follow-ups by the heuristic: {triggered}/{len(IN_SCOPE)} "
        f"(their document still found: {kept_hits}, lost: {lost_hits})"
    )


if __name__ == "__main__":
    main()
