"""What the keyed, anchored audit chain costs: per recorded event, and for ``audit_verify`` on a big trail.

    DATA_DIR=/tmp/faro-bench .venv/bin/python bench/audit_chain.py [--events 100000] [--records 2000]
    DATABASE_URL=postgres://... DATA_DIR=/tmp/faro-bench .venv/bin/python bench/audit_chain.py

Use a throwaway DATA_DIR or database: it migrates it and appends events. It measures

- ``audit_record`` one event per transaction (as the app writes them), and the hash alone: the keyed HMAC
  against the unkeyed SHA-256 of earlier versions, on the same events;
- one checkpoint (count, newest row, signature, file append with fsync, log line), which the app writes
  every ``AUDIT_CHECKPOINT_EVERY`` events;
- ``audit_verify`` over ``--events`` chat-turn-sized events with a checkpoint every 2000 of them, against
  the verifier of earlier versions (unkeyed hashes, no checkpoints) over the same rows: the baseline.

Prints figures and ratios; never fails a build.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from governance.audit import GENESIS, audit_record, audit_verify, event_hash, legacy_event_hash  # noqa: E402
from governance.checkpoints import audit_checkpoint, checkpoint_read  # noqa: E402
from governance.models import AuditEvent  # noqa: E402


def turn_data(n: int) -> dict[str, object]:
    """About the size of a real chat.turn event (pseudonymised texts, digests, retrieval, latencies)."""
    return {
        "message_id": n,
        "question": f"¿Cuántos días de vacaciones me quedan este año? Soy <PERSON_{n:010x}> ({n})",
        "question_hmac": f"{n:064x}",
        "rewritten_query": "días de vacaciones restantes año",
        "rewritten_query_hmac": f"{n + 1:064x}",
        "answer": "Tienes 23 días laborables de vacaciones al año [1]. " * 4,
        "answer_hmac": f"{n + 2:064x}",
        "retrieval": [{"chunk_id": f"{n:032x}", "document_id": 1 + i, "score": 0.5 - i / 10} for i in range(5)],
        "evidence": 0.61,
        "cited_documents": [1],
        "model": "local",
        "adapter": "",
        "prompt_version": "v3",
        "confidence": "high",
        "fallback": False,
        "refused": False,
        "stopped": False,
        "unsupported_sentences": 0,
        "latency_ms": {"retrieval": 41, "first_token": 380, "total": 1900},
    }


def fill(total: int) -> None:
    """Append events with valid keyed hashes until the trail holds ``total`` (bulk, as fast as possible)."""
    last = AuditEvent.objects.order_by("-id").first()
    previous = last.hash if last else GENESIS
    count = AuditEvent.objects.count()
    batch: list[AuditEvent] = []
    while count < total:
        event = AuditEvent(
            created_at=timezone.now(),
            actor_id=1,
            actor_username="alice",
            event_type="chat.turn",
            object_type="conversation",
            object_id=str(count),
            data=turn_data(count),
            previous_hash=previous,
        )
        event.hash = previous = event_hash(event)
        batch.append(event)
        count += 1
        if len(batch) == 2000 or count == total:
            AuditEvent.objects.bulk_create(batch)
            batch = []
            audit_checkpoint()


def legacy_verify() -> int:
    """The verifier of earlier versions: unkeyed hashes, links, nothing outside the database."""
    breaks, previous = 0, GENESIS
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        breaks += event.previous_hash != previous
        breaks += legacy_event_hash(event) != event.hash
        previous = event.hash
    return breaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=2000)
    args = parser.parse_args()
    logging.getLogger("governance.audit").setLevel(logging.WARNING)  # one log line per checkpoint: quiet here
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}; checkpoints: {settings.AUDIT_CHECKPOINT_FILE}")

    started = time.perf_counter()
    for n in range(args.records):
        audit_record(event_type="chat.turn", object_type="conversation", object_id=n, data=turn_data(n))
    record_ms = (time.perf_counter() - started) / args.records * 1000
    sample = list(AuditEvent.objects.order_by("-id")[: args.records])
    timings = {}
    for name, hasher in (("keyed HMAC", event_hash), ("unkeyed SHA-256", legacy_event_hash)):
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            for event in sample:
                hasher(event)
            runs.append((time.perf_counter() - started) / len(sample) * 1e6)
        timings[name] = statistics.median(runs)
    checkpoint_runs = []
    for _ in range(20):
        started = time.perf_counter()
        audit_checkpoint()
        checkpoint_runs.append((time.perf_counter() - started) * 1000)
    checkpoint_ms = statistics.median(checkpoint_runs)
    every = settings.AUDIT_CHECKPOINT_EVERY
    amortised = checkpoint_ms * 1000 / every if every else 0.0
    added = timings["keyed HMAC"] - timings["unkeyed SHA-256"] + amortised
    print(f"audit_record, one event per transaction: {record_ms:.2f} ms per event ({args.records} events)")
    for name, micros in timings.items():
        print(f"hash of one chat.turn event, {name}: {micros:.1f} µs")
    print(f"one checkpoint: {checkpoint_ms:.2f} ms (median of 20); every {every} events: {amortised:.1f} µs/event")
    print(f"added per event: {added:.1f} µs, {added / (record_ms * 10):.2f} % of audit_record")

    started = time.perf_counter()
    fill(args.events)
    total = AuditEvent.objects.count()
    print(f"filled to {total} events in {time.perf_counter() - started:.1f} s")
    anchors = checkpoint_read(settings.AUDIT_CHECKPOINT_FILE)
    keyed_runs, legacy_runs = [], []
    for _ in range(3):  # interleaved, so both see the same machine
        started = time.perf_counter()
        breaks = list(audit_verify(checkpoints=anchors))
        keyed_runs.append(time.perf_counter() - started)
        started = time.perf_counter()
        legacy_verify()  # every row "breaks" (they are keyed); the work is the same as on an unkeyed trail
        legacy_runs.append(time.perf_counter() - started)
    verify_s, legacy_s = statistics.median(keyed_runs), statistics.median(legacy_runs)
    print(
        f"audit_verify of {total} events against {len(anchors)} checkpoints: {verify_s:.2f} s (median of 3), "
        f"{len(breaks)} breaks"
    )
    print(f"baseline, the unkeyed verifier of earlier versions on the same rows: {legacy_s:.2f} s (median of 3)")
    print(f"ratio: {verify_s / legacy_s:.2f}")


if __name__ == "__main__":
    main()
