"""Done when: a tiny adapter is trained on a handful of examples, evaluated (held-out loss, tone, grounding),
promoted, exported for TGI, and a chat answer produced through the real answer flow with the ``local``
backend records its id; after a rollback the base model answers again, in the same process."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from peft import PeftConfig

from chatbot.llm.local import LocalLLMClient
from chatbot.models import Message
from chatbot.rag.answer import answer_stream
from tests.tuning.test_training import EXAMPLES
from tuning.dataset import snapshot_create
from tuning.services import (
    tuning_run_create,
    tuning_run_execute,
    tuning_run_export,
    tuning_run_promote,
    tuning_run_rollback,
)
from tuning.train import TrainingParams

VACATION_QUESTION = "¿Cuántos días de vacaciones tengo al año?"
# As few steps, ranks and tokens as still make every part run; seed and lr as in test_training.
TINY = TrainingParams(
    max_steps=2,
    batch_size=2,
    rank=2,
    lr=0.005,
    seed=7,
    eval_max_new_tokens=4,
    grounding_questions=2,
    grounding_max_new_tokens=8,
)


def ask(client: LocalLLMClient, user: Any) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        events = [
            e async for e in answer_stream(user=user, conversation_id=None, question=VACATION_QUESTION, llm=client)
        ]
        return dict(events[-1])

    return asyncio.run(run())


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_promoted_tiny_adapter_answers_in_the_chat_and_is_recorded(policies, dana, charlie, settings, data_dir):
    settings.GENERATOR_MAX_NEW_TOKENS = 8
    snapshot = snapshot_create(approved_by=dana, examples=EXAMPLES)
    run = tuning_run_create(snapshot_id=snapshot.pk, started_by=dana, params=TINY)
    run = tuning_run_execute(run_id=run.pk)
    grounding = run.metrics["grounding"]
    assert run.metrics["steps"] == 2 and grounding["questions"] == 2
    assert run.metrics["regressed"] is False, run.metrics  # else it could not be promoted

    run = tuning_run_promote(run_id=run.pk, actor=dana)  # committed: the registry file is written
    adapter_id = f"tone-run-{run.pk}"
    exported = tuning_run_export(run_id=run.pk, directory=data_dir / "tgi" / adapter_id, actor=dana)
    config = PeftConfig.from_pretrained(str(exported))  # what TGI reads from LORA_ADAPTERS' folder
    assert config.peft_type == "LORA" and config.r == 2
    assert json.loads(Path(exported, "adapter_config.json").read_text())["target_modules"]

    client = LocalLLMClient.from_settings()
    done = ask(client, charlie)
    assert done["refused"] is False and done["fallback"] is False, done
    assert done["adapter"] == adapter_id
    stored = Message.objects.get(pk=done["message_id"])
    assert (stored.adapter, stored.model) == (adapter_id, client.model_name) and stored.content.strip()
    assert client.active_adapter == adapter_id and set(client._model.peft_config) == {adapter_id}

    assert tuning_run_rollback(actor=dana) is None  # nothing before it: the base model again
    done = ask(client, charlie)
    assert done["fallback"] is False and done["adapter"] == ""
    assert Message.objects.get(pk=done["message_id"]).adapter == ""
