"""In-process generation with transformers (embedded default).

Why transformers and not llama-cpp-python: torch is already installed for the embedding model, and
llama-cpp-python compiles from source for minutes on a fresh machine. The packaged GGUF takes ~20 s to
load through transformers' GGUF reader, so the first load converts it once to a float32 safetensors
directory under ``MODEL_CACHE_DIR``; later loads take under a second.

The promoted tone adapter (``chatbot.llm.adapters``) is put on top of the base model with peft when a
request needs it, lazily, and swapped when the promotion changes: the old adapter is deleted, the base
weights stay loaded. With no promoted adapter, generation runs with the adapter layers disabled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from chatbot.llm.adapters import PromotedAdapter, promoted_adapter
from chatbot.llm.base import GenerationError, GenerationRequest

logger = logging.getLogger(__name__)
_load_lock = threading.Lock()


def converted_model_dir(gguf_path: Path, cache_dir: Path) -> Path:
    """Convert a GGUF file to a float32 safetensors directory once; return the directory."""
    target = cache_dir / f"{gguf_path.stem}-f32"
    if (target / "config.json").is_file():
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    logger.info("converting %s to %s (once)", gguf_path, target)
    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    # A model read from GGUF carries a quantizer marker that blocks saving; the weights are float32 already.
    model.hf_quantizer = None  # type: ignore[assignment]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    partial = cache_dir / f".{target.name}.{os.getpid()}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    try:
        partial.rename(target)
    except OSError:  # another process finished first
        shutil.rmtree(partial, ignore_errors=True)
    return target


class LocalLLMClient:
    def __init__(self, model_path: str, *, cache_dir: Path, threads: int = 0) -> None:
        self.model_path = Path(model_path)
        self.model_name = self.model_path.stem if self.model_path.suffix == ".gguf" else self.model_path.name
        self.cache_dir = cache_dir
        self.threads = threads
        self._model: Any = None
        self._tokenizer: Any = None
        self._generate_lock = threading.Lock()
        self.active_adapter = ""  # the adapter loaded on the base model ("" until one is needed)

    @classmethod
    def from_settings(cls) -> LocalLLMClient:
        from django.conf import settings

        return cls(settings.GENERATOR_MODEL, cache_dir=settings.MODEL_CACHE_DIR, threads=settings.GENERATOR_THREADS)

    def adapter_for(self, request: GenerationRequest) -> str:
        if request.adapter:
            return request.adapter
        promoted = promoted_adapter()
        return promoted.id if promoted is not None else ""

    def _resolve_adapter(self, request: GenerationRequest) -> PromotedAdapter | None:
        """The adapter to generate with: only the promoted one has a known place on disk."""
        wanted = self.adapter_for(request)
        if not wanted:
            return None
        promoted = promoted_adapter()
        if promoted is None or promoted.id != wanted:  # e.g. rolled back between naming it and generating
            raise GenerationError(f"adapter {wanted!r} is not the promoted one; the local backend cannot load it")
        return promoted

    def _use_adapter(self, adapter: PromotedAdapter | None) -> contextlib.AbstractContextManager[Any]:
        """Make ``adapter`` the active one (called under the generation lock); the context to generate in."""
        if adapter is None:
            return self._model.disable_adapter() if self.active_adapter else contextlib.nullcontext()
        if adapter.id != self.active_adapter:
            from peft import PeftModel

            logger.info("loading tone adapter %s from %s", adapter.id, adapter.path)
            if self.active_adapter:
                self._model.load_adapter(adapter.path, adapter_name=adapter.id)
                self._model.set_adapter(adapter.id)
                self._model.delete_adapter(self.active_adapter)
            else:
                self._model = PeftModel.from_pretrained(self._model, adapter.path, adapter_name=adapter.id)
            self._model.eval()
            self.active_adapter = adapter.id
        return contextlib.nullcontext()

    def load(self) -> None:
        with _load_lock:
            if self._model is not None:
                return
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            if self.threads:
                torch.set_num_threads(self.threads)
            directory = self.model_path
            if self.model_path.suffix == ".gguf":
                self.cache_dir.mkdir(parents=True, exist_ok=True)
                directory = converted_model_dir(self.model_path, self.cache_dir)
            self._tokenizer = AutoTokenizer.from_pretrained(directory)
            self._model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32)
            self._model.eval()

    def _generate(
        self, request: GenerationRequest, adapter: PromotedAdapter | None, streamer: Any, stop: threading.Event
    ) -> None:
        from transformers import StoppingCriteria, StoppingCriteriaList

        class _Stop(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> bool:
                return stop.is_set()

        try:
            with self._generate_lock, self._use_adapter(adapter):
                inputs = self._tokenizer.apply_chat_template(
                    list(request.messages), add_generation_prompt=True, return_tensors="pt", return_dict=True
                )
                self._model.generate(
                    **inputs,
                    streamer=streamer,
                    max_new_tokens=request.max_new_tokens,
                    do_sample=False,
                    repetition_penalty=1.15,
                    stopping_criteria=StoppingCriteriaList([_Stop()]),
                    pad_token_id=self._tokenizer.eos_token_id,
                )
        except Exception as error:
            logger.exception("local generation failed")
            streamer.on_finalized_text(f"\x00{error}", stream_end=True)

    async def stream(self, request: GenerationRequest) -> AsyncIterator[str]:
        from transformers import TextIteratorStreamer

        loop = asyncio.get_running_loop()
        adapter = self._resolve_adapter(request)
        if self._model is None:
            await loop.run_in_executor(None, self.load)
        streamer = TextIteratorStreamer(self._tokenizer, skip_prompt=True, skip_special_tokens=True)
        stop = threading.Event()
        thread = threading.Thread(target=self._generate, args=(request, adapter, streamer, stop), daemon=True)
        thread.start()
        sentinel = object()
        try:
            while True:
                piece = await loop.run_in_executor(None, next, streamer, sentinel)
                if piece is sentinel:
                    break
                text = str(piece)
                if text.startswith("\x00"):
                    raise GenerationError(f"local generation failed: {text[1:]}")
                if text:
                    yield text
        finally:
            stop.set()  # the consumer went away or we finished: let the generating thread end
