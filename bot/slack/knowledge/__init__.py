"""Knowledge's Slack adapters, built once by bot/gateway.py: capture (fetching a thread, and
the thread's later edits, deletions and ✅ reactions) and suggestions (a past answer offered
to a member who asks a question in a channel that wants it) — and the search engine both they
and the listeners use, with the optional layers the settings switch on."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.knowledge.engine import KnowledgeEngine
from bot.slack.knowledge.answers import GeneratedAnswers
from bot.slack.knowledge.capture import CaptureSlack
from bot.slack.knowledge.links import WorkspaceLinks
from bot.slack.knowledge.suggest import SuggestSlack
from bot.slack.wiring import SlackWiring


@dataclass(frozen=True)
class KnowledgeSlack:
    engine: KnowledgeEngine
    # The thread links of every knowledge answer: one auth.test per process.
    links: WorkspaceLinks
    answers: GeneratedAnswers
    capture: CaptureSlack
    suggest: SuggestSlack

    @classmethod
    def build(cls, wiring: SlackWiring) -> KnowledgeSlack:
        engine = KnowledgeEngine.from_settings(wiring.settings)
        links = WorkspaceLinks(wiring.client)
        return cls(
            engine=engine,
            links=links,
            answers=GeneratedAnswers(writer=engine.writer, session_factory=wiring.session_factory),
            capture=CaptureSlack(wiring),
            suggest=SuggestSlack(wiring, links=links),
        )
