from __future__ import annotations

import logging
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from chatbot.events import ErrorEvent
from chatbot.rag.answer import answer_stream

logger = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 4000


class ChatConsumer(AsyncJsonWebsocketConsumer):
    """``/ws/chat/``: authenticated members of staff ask; answers stream back (protocol in the README)."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=4401)
            return
        await self.accept()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        user = self.scope["user"]
        if not user.is_authenticated or not user.is_active:
            await self.close(code=4401)
            return
        if not isinstance(content, dict) or content.get("type") != "ask":
            await self.send_json(ErrorEvent(type="error", message="Unknown message type."))
            return
        question = content.get("question")
        conversation = content.get("conversation")
        if not isinstance(question, str) or not question.strip() or len(question) > MAX_QUESTION_CHARS:
            await self.send_json(
                ErrorEvent(type="error", message=f"Ask a question of 1 to {MAX_QUESTION_CHARS} characters.")
            )
            return
        if conversation is not None and not isinstance(conversation, int):
            await self.send_json(ErrorEvent(type="error", message="Invalid conversation id."))
            return
        try:
            async for event in answer_stream(user=user, conversation_id=conversation, question=question.strip()):
                await self.send_json(event)
        except Exception:
            logger.exception("answer failed")
            await self.send_json(ErrorEvent(type="error", message="Something went wrong; please try again."))
