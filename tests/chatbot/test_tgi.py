"""The ``tgi`` client against a real server speaking the same Messages API: llama.cpp's server
(``llama-cpp-python[server]``, ``make install-llama-server``) serving the packaged SmolLM2 GGUF on loopback.

Without that package the server tests are skipped with the reason; the connection-failure tests need no
server (they aim at a closed loopback port).
"""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from django.conf import settings

from chatbot.llm import ChatMessage, GenerationError, GenerationRequest
from chatbot.llm.tgi import TGIClient

TOKEN = "faro-test-token"
LLAMA_SERVER_MISSING = importlib.util.find_spec("llama_cpp") is None
SKIP_REASON = (
    "llama-cpp-python[server] is not installed: `make install-llama-server` builds it from source (about "
    "6 minutes on 2 cores; .ci/run does it)"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def request(
    question: str = "Say hello in one word.", *, adapter: str = "", max_new_tokens: int = 8
) -> GenerationRequest:
    return GenerationRequest(
        question=question,
        language="en",
        passages=(),
        messages=(ChatMessage(role="user", content=question),),
        max_new_tokens=max_new_tokens,
        adapter=adapter,
    )


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if LLAMA_SERVER_MISSING:
        pytest.skip(SKIP_REASON)
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            settings.GENERATOR_MODEL,
            "--model_alias",
            "smollm2",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--api_key",
            TOKEN,
            "--n_ctx",
            "2048",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),  # a file, not a pipe: llama.cpp logs enough to fill a pipe and block
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                pytest.fail(f"llama.cpp server exited: {log.read_text()[-2000:]}")
            try:
                if httpx2.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama.cpp server did not start within 120 s")
            time.sleep(0.3)
        _probe(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _probe(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """One tiny completion: a server build that cannot run on this CPU skips the tests, saying so."""
    try:
        httpx2.post(
            f"{url}/v1/chat/completions",
            json={"model": "smollm2", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=60,
        )
    except httpx2.TransportError:
        pass
    time.sleep(0.2)
    if process.poll() is not None:
        pytest.skip(
            f"the installed llama.cpp server died on its first completion (exit {process.returncode}; -4 is an "
            "illegal instruction: a -march=native build for another CPU; `make install-llama-server` builds "
            f"for AVX2): {log.read_text()[-300:]}"
        )


async def collect(client: TGIClient, generation: GenerationRequest) -> list[str]:
    return [piece async for piece in client.stream(generation)]


@pytest.mark.slow
async def test_streams_a_chat_completion_from_a_real_server(llama_server):
    client = TGIClient(llama_server, model="smollm2", token=TOKEN, timeout=30)
    pieces = await collect(client, request(max_new_tokens=12))
    assert len(pieces) >= 2 and "".join(pieces).strip()


@pytest.mark.slow
async def test_the_adapter_is_sent_as_the_model_field(llama_server):
    client = TGIClient(llama_server, model="smollm2", token=TOKEN, timeout=30)
    assert client.adapter_for(request(adapter="tone-v1")) == "tone-v1"
    assert client.request_body(request())["model"] == "smollm2"  # no adapter: the base model
    body = client.request_body(request(adapter="tone-v1"))
    assert body["model"] == "tone-v1"
    # The real server reads that field: llama.cpp's server names the model it was asked for in every chunk
    # (it serves its one model under any name, where TGI routes the name to a LoRA adapter).
    async with httpx2.AsyncClient(timeout=30) as http:
        response = await http.post(client.completions_url(), json=body, headers={"Authorization": f"Bearer {TOKEN}"})
    chunks = [json.loads(line[5:]) for line in response.text.splitlines() if line.startswith("data: {")]
    assert chunks and {chunk["model"] for chunk in chunks} == {"tone-v1"}


@pytest.mark.slow
async def test_a_wrong_token_is_refused(llama_server):
    client = TGIClient(llama_server, model="smollm2", token="wrong", timeout=30, retries=0)
    with pytest.raises(GenerationError, match="401"):
        await collect(client, request())


@pytest.mark.slow
async def test_closing_the_stream_early_leaves_the_server_answering(llama_server):
    client = TGIClient(llama_server, model="smollm2", token=TOKEN, timeout=30)
    stream = client.stream(request("Count from one to fifty.", max_new_tokens=64))
    assert await anext(stream)
    await stream.aclose()  # type: ignore[attr-defined]  # what "stop" does (an async generator)
    assert "".join(await collect(client, request())).strip()


async def test_connection_failures_are_retried_then_reported():
    client = TGIClient(f"http://127.0.0.1:{free_port()}", token=TOKEN, timeout=2, retries=2, backoff=0.05)
    started = time.monotonic()
    with pytest.raises(GenerationError, match="unreachable"):
        await collect(client, request())
    assert time.monotonic() - started >= 0.05 + 0.1  # two back-offs: three attempts


def test_settings_choose_url_model_token_timeout_and_retries(settings):
    settings.TGI_URL, settings.TGI_MODEL, settings.TGI_TOKEN = "http://tgi:80", "base", "secret"
    settings.GENERATOR_TIMEOUT_SECONDS, settings.TGI_RETRIES = 12.0, 4
    client = TGIClient.from_settings()
    assert (client.base_url, client.model_name, client.token, client.timeout, client.retries) == (
        "http://tgi:80",
        "base",
        "secret",
        12.0,
        4,
    )
