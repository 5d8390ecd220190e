"""LoRA training of the base generator on a dataset snapshot, on CPU (or a GPU when present).

A hand-written loop rather than a Trainer: a few dozen short examples need no more, it starts in well
under a second, and every source of randomness (split, order, LoRA init) hangs off one seed. Loss is
computed on the answer tokens only, so the adapter learns how to answer, not how questions look. torch,
transformers and peft are imported inside the functions: importing this module costs nothing.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tuning.grounding import GROUNDING_SET, grounding_messages, grounding_regressions, grounding_scores
from tuning.scorer import guess_language, tone_score

MAX_TOKENS = 320


@dataclass(frozen=True)
class TrainingParams:
    epochs: int = 3
    rank: int = 8
    lr: float = 1e-3
    seed: int = 0
    batch_size: int = 4
    max_steps: int = 0  # 0: as many as the epochs need
    holdout_fraction: float = 0.25
    eval_max_new_tokens: int = 96  # per held-out answer, base and adapter
    grounding_questions: int = 0  # of tuning.grounding.GROUNDING_SET, in its order; 0: all
    grounding_max_new_tokens: int = 64  # per grounding answer, base and adapter
    target_modules: str = "all-linear"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Progress:
    step: int
    total_steps: int
    loss: float
    epoch: int


@dataclass(frozen=True)
class TrainingResult:
    train_examples: int
    heldout_examples: int
    steps: int
    loss_before: float
    loss_after: float
    tone_base: float
    tone_adapter: float
    train_seconds: float
    losses: list[float] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    # {"questions": n, "base": {...}, "adapter": {...}, "regressions": [...], "samples": [...]}
    grounding: dict[str, Any] = field(default_factory=dict)


def base_model_dir() -> Path:
    """The deployment's base generator as a transformers directory (the packaged GGUF converted once)."""
    from django.conf import settings

    from chatbot.llm.local import converted_model_dir

    path = Path(settings.GENERATOR_MODEL)
    if path.suffix == ".gguf":
        settings.MODEL_CACHE_DIR.mkdir(parents=True, exist_ok=True)
        return converted_model_dir(path, settings.MODEL_CACHE_DIR)
    return path


def split_examples(
    examples: Sequence[dict[str, str]], *, seed: int, holdout_fraction: float
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """A seeded shuffle, then the last ``holdout_fraction`` (at least one when there are two) held out."""
    shuffled = list(examples)
    random.Random(seed).shuffle(shuffled)
    held = max(1, round(len(shuffled) * holdout_fraction)) if len(shuffled) >= 2 else 0
    return shuffled[: len(shuffled) - held], shuffled[len(shuffled) - held :]


def _encode(tokenizer: Any, example: dict[str, str]) -> tuple[list[int], list[int]]:
    """Token ids of the whole conversation and labels that ignore (-100) everything but the answer."""
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": example["question"]}], add_generation_prompt=True, tokenize=False
    )
    full = tokenizer.apply_chat_template(
        [{"role": "user", "content": example["question"]}, {"role": "assistant", "content": example["answer"]}],
        tokenize=False,
    )
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    ids = tokenizer(full, add_special_tokens=False)["input_ids"][:MAX_TOKENS]
    labels = [-100] * min(len(prompt_ids), len(ids)) + ids[len(prompt_ids) :]
    return ids, labels


def _batch(encoded: Sequence[tuple[list[int], list[int]]], pad_id: int) -> dict[str, Any]:
    import torch

    width = max(len(ids) for ids, _ in encoded)
    input_ids = [ids + [pad_id] * (width - len(ids)) for ids, _ in encoded]
    labels = [lab + [-100] * (width - len(lab)) for _, lab in encoded]
    mask = [[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in encoded]
    return {
        "input_ids": torch.tensor(input_ids),
        "labels": torch.tensor(labels),
        "attention_mask": torch.tensor(mask),
    }


def heldout_loss(model: Any, encoded: Sequence[tuple[list[int], list[int]]], pad_id: int) -> float:
    """Mean per-example loss on the answer tokens (NaN when nothing is held out)."""
    import torch

    if not encoded:
        return math.nan
    model.eval()
    with torch.no_grad():
        losses = [float(model(**_batch([item], pad_id)).loss) for item in encoded]
    return sum(losses) / len(losses)


def generate_answer(model: Any, tokenizer: Any, question: str, *, max_new_tokens: int) -> str:
    return generate_chat(model, tokenizer, [{"role": "user", "content": question}], max_new_tokens=max_new_tokens)


def generate_chat(model: Any, tokenizer: Any, messages: Sequence[Any], *, max_new_tokens: int) -> str:
    """Greedy, with the local client's repetition penalty, so scores match what the chat would say."""
    import torch

    inputs = tokenizer.apply_chat_template(
        list(messages), add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    with torch.no_grad():
        output = model.generate(
            **inputs,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            repetition_penalty=1.15,
            pad_token_id=tokenizer.eos_token_id,
        )
    return str(tokenizer.decode(output[0][inputs["input_ids"].shape[1] :], skip_special_tokens=True)).strip()


def train_lora(
    *,
    examples: Sequence[dict[str, str]],
    model_dir: Path,
    output_dir: Path,
    params: TrainingParams,
    on_progress: Callable[[Progress], None] | None = None,
) -> TrainingResult:
    """Train a LoRA adapter on ``examples`` and save it (PEFT format) in ``output_dir``; evaluate it on
    the held-out part (loss before and after, tone adherence of base and adapter answers) and on the
    grounding set (``tuning.grounding``), with and without the adapter."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, set_seed

    set_seed(params.seed)
    train, heldout = split_examples(examples, seed=params.seed, holdout_fraction=params.holdout_fraction)
    if not train:
        raise ValueError("no training examples left after the held-out split")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    base: Any = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    config = LoraConfig(
        r=params.rank,
        lora_alpha=2 * params.rank,
        lora_dropout=0.0,
        target_modules=params.target_modules,
        task_type="CAUSAL_LM",
    )
    model: Any = get_peft_model(base, config)
    train_encoded = [_encode(tokenizer, example) for example in train]
    heldout_encoded = [_encode(tokenizer, example) for example in heldout]
    loss_before = heldout_loss(model, heldout_encoded, pad_id)  # LoRA's B starts at zero: this is the base

    steps_per_epoch = math.ceil(len(train_encoded) / params.batch_size)
    total = params.epochs * steps_per_epoch
    if params.max_steps:
        total = min(total, params.max_steps)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=params.lr)
    order = random.Random(params.seed + 1)
    losses: list[float] = []
    started = time.monotonic()
    step = 0
    model.train()
    for epoch in range(params.epochs):
        batch_order = list(range(len(train_encoded)))
        order.shuffle(batch_order)
        for start in range(0, len(batch_order), params.batch_size):
            if step >= total:
                break
            batch = _batch([train_encoded[i] for i in batch_order[start : start + params.batch_size]], pad_id)
            loss = model(**batch).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            step += 1
            losses.append(round(float(loss.detach()), 4))
            if on_progress is not None:
                on_progress(Progress(step=step, total_steps=total, loss=losses[-1], epoch=epoch + 1))
    train_seconds = time.monotonic() - started
    loss_after = heldout_loss(model, heldout_encoded, pad_id)
    output_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output_dir)

    samples: list[dict[str, Any]] = []
    for example in heldout:
        language = guess_language(example["question"])
        with model.disable_adapter():
            untuned = generate_answer(model, tokenizer, example["question"], max_new_tokens=params.eval_max_new_tokens)
        tuned = generate_answer(model, tokenizer, example["question"], max_new_tokens=params.eval_max_new_tokens)
        samples.append(
            {
                "question": example["question"],
                "base": untuned,
                "adapter": tuned,
                "tone_base": tone_score(untuned, language=language).score,
                "tone_adapter": tone_score(tuned, language=language).score,
            }
        )
    grounding = evaluate_grounding(model, tokenizer, params=params)
    return TrainingResult(
        train_examples=len(train),
        heldout_examples=len(heldout),
        steps=step,
        loss_before=loss_before,
        loss_after=loss_after,
        tone_base=_mean([s["tone_base"] for s in samples]),
        tone_adapter=_mean([s["tone_adapter"] for s in samples]),
        train_seconds=round(train_seconds, 2),
        losses=losses,
        samples=samples,
        grounding=grounding,
    )


def evaluate_grounding(model: Any, tokenizer: Any, *, params: TrainingParams) -> dict[str, Any]:
    """Answer the grounding set with the adapter disabled and enabled; the scores and what got worse."""
    items = GROUNDING_SET[: params.grounding_questions or None]
    base_answers: list[str] = []
    adapter_answers: list[str] = []
    tokens = params.grounding_max_new_tokens
    for item in items:
        messages = grounding_messages(item)
        with model.disable_adapter():
            base_answers.append(generate_chat(model, tokenizer, messages, max_new_tokens=tokens))
        adapter_answers.append(generate_chat(model, tokenizer, messages, max_new_tokens=tokens))
    base, adapter = grounding_scores(items, base_answers), grounding_scores(items, adapter_answers)
    return {
        "questions": len(items),
        "base": base.as_dict(),
        "adapter": adapter.as_dict(),
        "regressions": grounding_regressions(base=base, adapter=adapter),
        "samples": [
            {"question": item.question, "base": untuned, "adapter": tuned}
            for item, untuned, tuned in zip(items, base_answers, adapter_answers, strict=True)
        ],
    }


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan
