"""The promoted-adapter registry the LLM clients read (tuning writes it), and how each client uses it."""

from __future__ import annotations

import pytest

from chatbot.llm import GenerationError, GenerationRequest
from chatbot.llm.adapters import PromotedAdapter, promoted_adapter, promoted_adapter_write, registry_path
from chatbot.llm.local import LocalLLMClient
from chatbot.llm.tgi import TGIClient

ADAPTER = PromotedAdapter(id="tone-run-3", run=3, path="/data/adapters/3")


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


def request(adapter: str = "") -> GenerationRequest:
    return GenerationRequest(question="q", language="es", passages=(), messages=(), adapter=adapter)


def test_no_registry_means_the_base_model():
    assert not registry_path().exists()
    assert promoted_adapter() is None


def test_each_write_is_seen_at_once_and_none_clears_it():
    promoted_adapter_write(ADAPTER)
    assert promoted_adapter() == ADAPTER
    other = PromotedAdapter(id="tone-run-4", run=4, path="/data/adapters/4")
    promoted_adapter_write(other)  # immediately after: same second, still a new file
    assert promoted_adapter() == other
    promoted_adapter_write(None)
    assert promoted_adapter() is None
    assert [p.name for p in registry_path().parent.iterdir()] == ["promoted.json"]  # no partial files left


def test_tgi_sends_the_promoted_adapter_only_when_tgi_loads_it():
    loads_it = TGIClient("http://tgi", adapters=("tone-run-3",))
    lacks_it = TGIClient("http://tgi", adapters=("tone-run-1",))
    assert loads_it.adapter_for(request()) == lacks_it.adapter_for(request()) == ""
    promoted_adapter_write(ADAPTER)
    assert loads_it.adapter_for(request()) == "tone-run-3"
    assert lacks_it.adapter_for(request()) == ""  # not exported to TGI yet: the base model answers
    assert lacks_it.adapter_for(request("tone-run-1")) == "tone-run-1"  # an explicit choice wins


def test_tgi_reads_its_adapters_from_lora_adapters(settings):
    settings.TGI_URL = "http://tgi"
    settings.TGI_ADAPTERS = ["tone-run-3"]
    promoted_adapter_write(ADAPTER)
    assert TGIClient.from_settings().adapter_for(request()) == "tone-run-3"


async def test_local_names_the_promoted_adapter_and_refuses_one_it_cannot_load(tmp_path):
    client = LocalLLMClient(str(tmp_path / "model"), cache_dir=tmp_path)
    assert client.adapter_for(request()) == ""
    promoted_adapter_write(ADAPTER)
    assert client.adapter_for(request()) == "tone-run-3"
    with pytest.raises(GenerationError):
        # Checked before any model is loaded: only the promoted adapter has a known folder.
        async for _ in client.stream(request("tone-run-1")):
            pass
