"""The grounding check of tone tuning on its own: how the base model (and an adapter) score, and what it costs.

    .venv/bin/python bench/tone_grounding.py [--adapter DATA_DIR/adapters/<run id>] [--tokens 64] [--questions N]

Answers ``tuning.grounding.GROUNDING_SET`` through the answer flow's prompt with the deployment's base
generator, and with ``--adapter`` also with that LoRA adapter on top (what ``tune_tone`` does after
training); prints each answer with its time, the three shares, and the measures on which the adapter is
worse. Never fails a build.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import torch  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

from tuning.grounding import GROUNDING_SET, grounding_messages, grounding_regressions, grounding_scores  # noqa: E402
from tuning.train import base_model_dir, generate_chat  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adapter", type=Path, help="a PEFT adapter directory to compare with the base model")
    parser.add_argument("--tokens", type=int, default=64, help="new tokens per answer (TrainingParams' default)")
    parser.add_argument("--questions", type=int, default=0, help="the first N questions (0: all)")
    args = parser.parse_args()

    directory = base_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(directory)
    model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32).eval()
    if args.adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(args.adapter)).eval()
    items = GROUNDING_SET[: args.questions or None]
    variants: dict[str, list[str]] = {"base": [], "adapter": []} if args.adapter else {"base": []}
    started = time.monotonic()
    for item in items:
        for name, answers in variants.items():
            began = time.monotonic()
            if name == "base" and args.adapter:
                with model.disable_adapter():
                    answer = generate_chat(model, tokenizer, grounding_messages(item), max_new_tokens=args.tokens)
            else:
                answer = generate_chat(model, tokenizer, grounding_messages(item), max_new_tokens=args.tokens)
            answers.append(answer)
            print(f"{time.monotonic() - began:6.1f} s  {name:7}  {item.question}  ->  {answer[:120]!r}", flush=True)
    scores = {name: grounding_scores(items, answers) for name, answers in variants.items()}
    print(f"{len(items)} questions, {args.tokens} new tokens each, {time.monotonic() - started:.0f} s in all")
    for name, score in scores.items():
        print(f"{name:7}  {score.as_dict()}")
    if args.adapter:
        worse = grounding_regressions(base=scores["base"], adapter=scores["adapter"])
        print(f"worse with the adapter: {', '.join(worse) or 'nothing'}")


if __name__ == "__main__":
    main()
