"""Knowledge search as the bot runs it: the text search with the secretariat's synonyms, plus
the optional layers the settings switch on (a meaning model from a local folder, a generated
answer from an approved endpoint). Built once at start: an incomplete model folder stops the
start with the reason rather than a search that quietly does less than configured."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain.knowledge import SearchPage
from bot.knowledge.embedding import Embedder, load_model
from bot.knowledge.generated import AnswerWriter
from bot.services.knowledge import search, vocabulary
from bot.services.knowledge.search import Ranked
from bot.settings import CoreSettings


@dataclass(frozen=True)
class KnowledgeEngine:
    meaning: Embedder | None = None
    writer: AnswerWriter | None = None

    @classmethod
    def from_settings(cls, settings: CoreSettings) -> KnowledgeEngine:
        """Raises ModelFolderIncomplete or EmbeddingUnavailable for a configured model that
        cannot be used."""
        folder = settings.embedding_model_dir
        return cls(
            meaning=load_model(folder) if folder else None,
            writer=AnswerWriter.from_settings(settings),
        )

    def search(
        self,
        session: Session,
        *,
        query: str,
        clock: Clock,
        prefecture: str | None = None,
        offset: int = 0,
        limit: int = 5,
    ) -> SearchPage:
        return search.search(
            session,
            query=query,
            clock=clock,
            thesaurus=vocabulary.thesaurus(session),
            prefecture=prefecture,
            offset=offset,
            limit=limit,
            meaning=self.meaning,
        )

    def ranked(
        self, session: Session, *, query: str, clock: Clock, prefecture: str | None = None
    ) -> Ranked:
        return search.ranked(
            session,
            query=query,
            clock=clock,
            thesaurus=vocabulary.thesaurus(session),
            prefecture=prefecture,
            meaning=self.meaning,
        )
