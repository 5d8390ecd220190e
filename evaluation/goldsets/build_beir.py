"""Write the demo company's retrieval sets as BEIR folders, for ``manage.py evaluate_retrieval --beir``.

Corpus: the Markdown sources of the demo documents (``demo/sources/*.md``, from which ``demo/corpus/`` is
built), one entry per document, id = file stem, title from ``demo/manifest.json``, text without the title
line. Three query sets, each a folder whose ``corpus.jsonl`` links to the shared one:

- ``demo`` and ``demo-employees``: the answerable questions of those gold sets (``demo.json``: 20 direct
  questions; ``demo-employees.json``: 48 paraphrased ones, 12 of them asked in the other language than the
  document's), judged by their expected documents;
- ``crosslingual-es-en`` / ``crosslingual-en-es``: ``crosslingual.json``, Spanish questions about the
  English documents and English questions about the Spanish ones.

Run with:  .venv/bin/python evaluation/goldsets/build_beir.py   (deterministic; a test checks the output
is current). ``--distractors CORPUS.jsonl --out DIR`` writes the same sets into ``DIR`` with the documents
of another BEIR corpus added to the demo's (e.g. ConditionalQA's 59 English gov.uk pages: a Spanish
question must then find its English document among 62, and an English question its Spanish one despite
English pages that share its words); the shared datasets are never copied into the repository.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = HERE / "beir"


def _jsonl(rows: list[dict[str, str]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def build(distractors: Path | None = None) -> dict[str, str]:
    """Relative path -> content of every file (the corpus links are made by ``write``)."""
    manifest = json.loads((ROOT / "demo" / "manifest.json").read_text(encoding="utf-8"))
    titles = {Path(item["file"]).stem: item["title"] for item in manifest}
    corpus = []
    for stem in sorted(titles):
        lines = (ROOT / "demo" / "sources" / f"{stem}.md").read_text(encoding="utf-8").splitlines()
        body = "\n".join(line for line in lines if not line.startswith("# ")).strip()
        corpus.append({"_id": stem, "title": titles[stem], "text": body})
    if distractors is not None:
        with distractors.open(encoding="utf-8") as handle:
            extra = [json.loads(line) for line in handle if line.strip()]
        corpus += [
            {"_id": f"distractor-{row['_id']}", "title": row.get("title", ""), "text": row["text"]} for row in extra
        ]
    by_title = {title: stem for stem, title in titles.items()}
    sets: dict[str, list[tuple[str, list[str]]]] = {}
    for name in ("demo", "demo-employees"):
        gold = json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"))
        sets[name] = [
            (row["question"], [by_title[title] for title in row["expected_documents"]])
            for row in gold["questions"]
            if row.get("answerable", True)
        ]
    crosslingual = json.loads((HERE / "crosslingual.json").read_text(encoding="utf-8"))
    for direction in ("es-en", "en-es"):
        sets[f"crosslingual-{direction}"] = [
            (question, list(expected)) for question, expected in crosslingual[direction]
        ]
    files = {"corpus.jsonl": _jsonl(corpus)}
    for name, questions in sets.items():
        queries, qrels = [], ["query-id\tcorpus-id\tscore"]
        for number, (question, expected) in enumerate(questions, start=1):
            query_id = f"{name}-{number:02d}"
            queries.append({"_id": query_id, "text": question})
            qrels.extend(f"{query_id}\t{stem}\t1" for stem in expected)
        files[f"{name}/queries.jsonl"] = _jsonl(queries)
        files[f"{name}/qrels/test.tsv"] = "\n".join(qrels) + "\n"
    return files


def write(out: Path = OUT, distractors: Path | None = None) -> None:
    for relative, content in build(distractors).items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        if relative.endswith("queries.jsonl"):
            link = path.parent / "corpus.jsonl"
            if not link.is_symlink():
                link.symlink_to("../corpus.jsonl")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--distractors", type=Path, help="corpus.jsonl of another BEIR set to add")
    parser.add_argument("--out", type=Path, default=OUT)
    arguments = parser.parse_args()
    if arguments.distractors and arguments.out.resolve() == OUT:
        parser.error("--distractors needs --out outside the repository")
    write(arguments.out, arguments.distractors)
    sys.stdout.write(f"wrote {arguments.out}\n")
