"""Ingestion throughput, end to end, against the raw embedding rate of the same chunks.

    .venv/bin/python bench/ingest.py [--limit N] [--pages 100]

Loads the SciFact corpus (``../shared/datasets/scifact/corpus.jsonl``, 5,183 abstracts, read in place) and a
generated 100-page PDF through the bulk-load service behind ``manage.py ingest`` (register, store the
original, parse, chunk with the tokenizer, embed, write the database and the embedded index), in a
throwaway DATA_DIR. After each round of documents it encodes exactly the texts the pipeline embedded with
the model directly (same model, same batch size; ``EMBEDDING_MODEL`` picks it), and prints documents/s,
chunks/s, the ratio pipeline/raw throughput (target >= 0.8) and the peak resident memory (and the encoding
process's, where the multilingual model encodes in one; its CPU time is not in the CPU time ratio). It never
fails a build: it only prints.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCIFACT = ROOT.parent / "shared" / "datasets" / "scifact" / "corpus.jsonl"
ROUND_DOCUMENTS = 250  # SciFact abstracts per interleaved round
PDF_ROUNDS = 3


def setup(data_dir: Path) -> None:
    os.environ["DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_pdf(path: Path, pages: int, *, seed: int) -> None:
    """A policy manual: a numbered section per page, four paragraphs, a ruled table every tenth page."""
    import random

    from fpdf import FPDF

    rng = random.Random(seed)
    vocabulary = (
        "la empresa política persona empleada vacaciones permiso solicitud plazo días laborables contrato "
        "jornada horario oficina responsable equipo proyecto gasto viaje factura aprobación registro portal"
    ).split()
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, 20)
    for page in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("helvetica", "B", 13)
        pdf.cell(0, 9, f"{page}. Apartado {page} del manual", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", "", 10)
        for _ in range(4):
            words = " ".join(rng.choice(vocabulary) for _ in range(85))
            pdf.multi_cell(0, 5, words.capitalize() + ".", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        if page % 10 == 0:
            with pdf.table(first_row_as_headings=True) as table:
                for row in [("Concepto", "Importe", "Plazo")] + [
                    (f"Concepto {i}", f"{i * 10} EUR", f"{i} días") for i in range(4)
                ]:
                    cells = table.row()
                    for value in row:
                        cells.cell(value)
    pdf.output(str(path))


class Tally:
    """Pipeline and raw-encode time over the same chunks, summed over interleaved rounds.

    The two cores are shared with other jobs whose load changes minute to minute: measuring the pipeline
    for a while and then the raw encode would compare two different machines. Each round therefore runs
    the pipeline on some documents and then encodes exactly their chunks, so both sides see the same load.
    CPU time (all threads of this process) is summed too: it is the least noisy view of the work added."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.documents = self.failed = self.chunks = 0
        self.wall = self.raw_wall = self.cpu = self.raw_cpu = 0.0

    def round(self, files: list[Path]) -> None:
        from ingestion.bulk import documents_load_paths
        from ingestion.chunk import embedding_text
        from ingestion.models import Chunk, Document

        wall, cpu = time.perf_counter(), time.process_time()
        summary = documents_load_paths(paths=files, owner=None)
        self.wall += time.perf_counter() - wall
        self.cpu += time.process_time() - cpu
        ids = [document.pk for document in summary.indexed]
        titles = dict(Document.objects.filter(pk__in=ids).values_list("pk", "title"))
        texts = [
            embedding_text(titles[document_id], section, text)
            for document_id, section, text in Chunk.objects.filter(document_id__in=ids).values_list(
                "document_id", "section", "text"
            )
        ]
        self.documents += len(ids)
        self.failed += len(summary.failed)
        self.chunks += len(texts)
        wall, cpu = time.perf_counter(), time.process_time()
        raw_encode(texts)
        self.raw_wall += time.perf_counter() - wall
        self.raw_cpu += time.process_time() - cpu

    def report(self) -> None:
        print(
            f"{self.label}: {self.documents} documents ({self.failed} failed), {self.chunks} chunks in "
            f"{self.wall:.1f} s = {self.documents / self.wall:.2f} documents/s, "
            f"{self.chunks / self.wall:.1f} chunks/s; "
            f"raw encode {self.chunks / self.raw_wall:.1f} chunks/s; ratio {self.raw_wall / self.wall:.2f} "
            f"(CPU time ratio {self.raw_cpu / self.cpu:.2f})",
            flush=True,
        )


def raw_encode(texts: list[str]) -> None:
    """The model encoding exactly these texts, nothing else: the embedder's own model call with its batch
    size (sentence-transformers' ``encode``, or the multilingual encoder's), without Faro's queue."""
    from ingestion.embed import get_embedder

    get_embedder()._encode_texts(texts)  # type: ignore[attr-defined]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=0, help="only the first N SciFact abstracts (0: all)")
    parser.add_argument("--pages", type=int, default=100, help="pages of the generated PDF")
    args = parser.parse_args()
    if not SCIFACT.is_file():
        print(f"SciFact corpus not found at {SCIFACT}")
        return 0
    with tempfile.TemporaryDirectory(prefix="faro-bench-") as scratch:
        work = Path(scratch)
        setup(work / "data")
        from django.conf import settings

        from ingestion.embed import bulk_embedder, get_embedder
        from ingestion.language import detect_language

        get_embedder()  # load the model before the clock starts, as a running worker has it loaded
        # and the bulk loads' encoding process (multilingual model), which the first multi-batch load starts
        child = bulk_embedder(documents=sys.maxsize)
        if child is not None:
            child.embed(["warm up"])
        # The language identifier too (py3langid, its model LZMA-packed): loaded by the first document, it was
        # 3.6 s of the 44 s the pipeline took in a profiled run here (load ~10), once per worker process.
        detect_language("warm up")
        threads = __import__("torch").get_num_threads() if "torch" in sys.modules else "-"  # not imported for USE
        print(
            f"model {get_embedder().name}, cores {os.cpu_count()}, torch threads {threads}, "
            f"batch {settings.EMBEDDING_BATCH_SIZE}, chunk budget {settings.CHUNK_MAX_TOKENS} tokens, "
            f"documents per batch {settings.INGESTION_BATCH_DOCUMENTS}",
            flush=True,
        )
        # One text file per abstract (title line, then the abstract), as a bulk load from a folder would see.
        corpus = work / "scifact"
        corpus.mkdir()
        files = []
        with SCIFACT.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle):
                if args.limit and number >= args.limit:
                    break
                record = json.loads(line)
                path = corpus / f"{record['_id']}.txt"
                path.write_text(f"{record['title']}\n\n{record['text']}\n", encoding="utf-8")
                files.append(path)
        scifact = Tally("SciFact abstracts")
        for start in range(0, len(files), ROUND_DOCUMENTS):
            scifact.round(files[start : start + ROUND_DOCUMENTS])
        scifact.report()
        manual = Tally(f"{args.pages}-page PDF, {PDF_ROUNDS} different ones")
        for seed in range(PDF_ROUNDS):
            pdf = work / f"manual-{seed}.pdf"
            make_pdf(pdf, args.pages, seed=seed)
            manual.round([pdf])
        manual.report()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if child is not None:
            child.close()
        encoder = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the encoding process, ended
        wall, raw = scifact.wall + manual.wall, scifact.raw_wall + manual.raw_wall
        print(
            f"overall: {(scifact.chunks + manual.chunks) / wall:.1f} chunks/s, ratio {raw / wall:.2f} "
            f"(target >= 0.8); CPU time ratio {(scifact.raw_cpu + manual.raw_cpu) / (scifact.cpu + manual.cpu):.2f}; "
            f"peak memory {peak:.0f} MiB" + (f" (+ {encoder:.0f} MiB in the encoding process)" if child else ""),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
