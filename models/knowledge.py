"""The workspace's kept answers and what makes them findable.

The search keys (`search_keys`) are computed in Python (bot/knowledge/tokens.py) and indexed
by the database: an FTS5 table `knowledge_fts` on SQLite and a GIN index over
`string_to_array(search_keys, ' ')` on PostgreSQL, both made by migration 0009 and kept out of
the models (migrations/env.py leaves them out of the drift check)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum


class EntryKind(StrEnum):
    THREAD = "thread"  # a question and its answer from a public channel thread
    FAQ = "faq"  # written (or imported) by the secretariat
    CHANNEL = "channel"  # a channel card from the registry


class EntryStatus(StrEnum):
    ACTIVE = "active"
    REMOVED = "removed"  # by its recorder, the secretariat, or its source's deletion


class KnowledgeEntry(Base):
    __tablename__ = "knowledge_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    # "thread:C…:ts", "channel:C…", "faq:<key>": one entry per source, however often saved.
    source_key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[EntryKind] = mapped_column(str_enum(EntryKind))
    status: Mapped[EntryStatus] = mapped_column(str_enum(EntryStatus), index=True)
    title: Mapped[str] = mapped_column(String(200))
    # Stored after the privacy gate: personal values masked.
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(default=list)
    masked_kinds: Mapped[list[str]] = mapped_column(default=list)
    # Slack ids, never names: names are looked up when shown.
    channel_id: Mapped[str | None] = mapped_column(String(32), index=True)
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    answer_ts: Mapped[str | None] = mapped_column(String(32))
    asker_id: Mapped[str | None] = mapped_column(String(32))
    answerer_id: Mapped[str | None] = mapped_column(String(32))
    recorder_id: Mapped[str | None] = mapped_column(String(32), index=True)
    anonymous: Mapped[bool] = mapped_column(default=False)
    prefecture: Mapped[str | None] = mapped_column(String(8))  # its name (岩手県), as elsewhere
    answered_at: Mapped[datetime]  # when the answer was given: recency counts from here
    checks: Mapped[int] = mapped_column(default=0)  # ✅ on the answer
    helpful: Mapped[int] = mapped_column(default=0)  # 「役に立った」 presses
    search_keys: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]
    removed_by: Mapped[str | None] = mapped_column(String(32))


class KnowledgeTerm(Base):
    """How many active entries hold a search key: the inverse document frequency's count."""

    __tablename__ = "knowledge_terms"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    entries: Mapped[int] = mapped_column(default=0)


class KnowledgeHelpful(Base):
    """One 「役に立った」 per member and entry, however often pressed."""

    __tablename__ = "knowledge_helpful"

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("knowledge_entries.id", ondelete="CASCADE"), primary_key=True
    )
    slack_user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime]


class KnowledgeGap(Base):
    """A search that found nothing: what the workspace has not answered yet. Never who asked."""

    __tablename__ = "knowledge_gaps"
    __table_args__ = (UniqueConstraint("folded_query", "prefecture"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    folded_query: Mapped[str] = mapped_column(String(200))
    query: Mapped[str] = mapped_column(String(200))  # masked
    # The searcher's prefecture ("" when unknown), for the ambassadors of that prefecture.
    prefecture: Mapped[str] = mapped_column(String(8), default="")
    times: Mapped[int] = mapped_column(default=1)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(index=True)


class KnowledgeSynonymGroup(Base):
    """Government jargon that means the same: ガバクラ, ガバメントクラウド. The secretariat's
    own list once edited; the shipped list (bot/data/knowledge-synonyms.txt) until then."""

    __tablename__ = "knowledge_synonym_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    terms: Mapped[list[str]] = mapped_column()
    updated_by: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime]


class KnowledgeChannelSetting(Base):
    """A channel's choices, made by its facilitators (or the secretariat)."""

    __tablename__ = "knowledge_channel_settings"

    slack_channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    opted_out: Mapped[bool] = mapped_column(default=False)  # nothing is kept from it
    suggest: Mapped[bool] = mapped_column(default=False)  # 「過去の回答が見つかりました」
    updated_by: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime]


class KnowledgeVector(Base):
    """An entry's meaning vector from the optional embedding model (float32, normalised)."""

    __tablename__ = "knowledge_vectors"

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("knowledge_entries.id", ondelete="CASCADE"), primary_key=True
    )
    model_key: Mapped[str] = mapped_column(String(64), index=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime]
