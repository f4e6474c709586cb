"""Teacher distillation: a larger model behind any OpenAI-compatible endpoint (vLLM, llama.cpp
server, ...) drafts richer descriptions; only drafts that pass grounding are kept."""

from __future__ import annotations

import logging

import httpx

from smallretail_llm.core.record import ProductRecord, ShopPolicy
from smallretail_llm.grounding.check import check_description

log = logging.getLogger(__name__)


class TeacherClient:
    """Minimal chat-completions client; errors and timeouts become None (the renderer fills in)."""

    def __init__(self, url: str, model: str = "teacher", api_key: str | None = None,
                 timeout_s: float = 60.0, max_tokens: int = 512, temperature: float = 0.7):
        base = url.rstrip("/")
        self.endpoint = base + ("/chat/completions" if base.endswith("/v1") else "/v1/chat/completions")
        self.model, self.max_tokens, self.temperature = model, max_tokens, temperature
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(timeout=timeout_s, headers=headers)

    def complete(self, messages: list[dict]) -> str | None:
        payload = {"model": self.model, "messages": messages, "max_tokens": self.max_tokens,
                   "temperature": self.temperature}
        try:
            response = self._http.post(self.endpoint, json=payload)
            response.raise_for_status()
            text = response.json()["choices"][0]["message"]["content"]
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as exc:
            log.warning("teacher request failed: %s", type(exc).__name__)
            return None
        return text.strip() if isinstance(text, str) and text.strip() else None

    def close(self) -> None:
        self._http.close()


def teacher_drafter(client: TeacherClient):
    """A dataset Drafter: the teacher's draft if it passes the grounding check, else None."""

    def draft(messages: list[dict], record: ProductRecord, policy: ShopPolicy | None,
              style: str, tone: str) -> str | None:
        text = client.complete(messages)
        if text is None:
            return None
        return text if check_description(text, record, policy, style).passed else None

    return draft
