"""The optional generated answer's Slack side: after `/kyoso search` has shown its results,
the entries found go to the approved endpoint (bot/knowledge/generated.py) and what it writes
follows as a second ephemeral message through the command's response_url.

Off the listener's thread: the endpoint may take seconds (its timeout, 8 s by default), and
Bolt's listener threads also run the acks of everyone else's clicks. A few answers are written
at once; past that a search simply shows its plain results. A timeout or an error adds
nothing: the plain results stand."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from bot.db import SessionFactory
from bot.domain.knowledge import FoundEntry
from bot.i18n import Language
from bot.knowledge.generated import NOTHING_RELEVANT, AnswerWriter
from bot.services.knowledge import lookup
from bot.views.blocks import to_dicts
from bot.views.knowledge.search import generated_blocks, generated_text, nothing_relevant_blocks

log = logging.getLogger(__name__)

RUNNING_MAX = 4  # answers written at the same time, per process

Post = Callable[..., Any]  # Bolt's `respond`: a POST to the command's response_url


class GeneratedAnswers:
    def __init__(
        self,
        *,
        writer: AnswerWriter | None,
        session_factory: SessionFactory,
        running_max: int = RUNNING_MAX,
    ) -> None:
        self._writer = writer
        self._session_factory = session_factory
        self._slots = threading.BoundedSemaphore(running_max)

    @property
    def enabled(self) -> bool:
        return self._writer is not None

    def offer(
        self,
        *,
        question: str,
        hits: Sequence[FoundEntry],
        language: Language,
        workspace_url: str | None,
        post: Post,
    ) -> bool:
        """Start writing an answer from `hits`; False when none will come (no endpoint, no
        results, or enough answers being written already)."""
        writer = self._writer
        if writer is None or not hits:
            return False
        if not self._slots.acquire(blocking=False):
            log.info("generated answer skipped: %d already being written", RUNNING_MAX)
            return False
        threading.Thread(
            target=self._write,
            args=(writer, question, tuple(hits), language, workspace_url, post),
            name="kyoso-generated-answer",
            daemon=True,
        ).start()
        return True

    def _write(
        self,
        writer: AnswerWriter,
        question: str,
        hits: tuple[FoundEntry, ...],
        language: Language,
        workspace_url: str | None,
        post: Post,
    ) -> None:
        try:
            with self._session_factory() as session:
                sources = lookup.sources(session, hits)
            outcome = writer.answer(question, sources)
            if outcome is None:
                return  # the writer logged why; the plain results stand
            if outcome is NOTHING_RELEVANT:
                blocks = nothing_relevant_blocks(language)
            else:
                blocks = generated_blocks(outcome, hits, language, workspace_url=workspace_url)
            post(
                text=generated_text(language),
                blocks=to_dicts(blocks),
                response_type="ephemeral",
                replace_original=False,
            )
        except Exception as exc:  # off any request: nobody else would hear of it
            log.warning("generated answer not shown: %s", type(exc).__name__)
        finally:
            self._slots.release()
