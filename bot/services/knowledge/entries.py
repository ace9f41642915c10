"""Keeping entries: saved from a thread, written by the secretariat, removed by their owner,
the secretariat or their source's deletion, updated when their source is edited.

Every change goes through the privacy gate (privacy.py) and the index (index.py), and is
audited. Entries hold Slack ids, never names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain.knowledge import EntrySummary
from bot.services import audit
from bot.services.knowledge import channel_choices, index
from bot.services.knowledge.privacy import Refused, gate, gate_all
from models import EntryKind, EntryStatus, KnowledgeEntry

TARGET = "knowledge_entry"
TITLE_LIMIT = 200
TEXT_LIMIT = 3000
TAG_LIMIT = 10


class ChannelOptedOut(Exception):
    """The channel's facilitators chose that nothing of it is kept."""


class NotFound(LookupError):
    pass


class NotYours(PermissionError):
    """Only the entry's recorder, asker or answerer, or the secretariat, may remove it."""


@dataclass(frozen=True)
class ThreadDraft:
    channel_id: str
    thread_ts: str
    answer_ts: str | None
    asker_id: str | None
    answerer_id: str | None
    title: str
    question: str
    answer: str
    tags: tuple[str, ...]
    answered_at: datetime
    prefecture: str | None = None
    checks: int = 0  # ✅ on the answer when it was kept; later ones are counted as they come


@dataclass(frozen=True)
class Saved:
    entry_id: int
    created: bool  # False: the thread's entry existed and was updated
    masked: frozenset[str]


def thread_key(channel_id: str, thread_ts: str) -> str:
    return f"thread:{channel_id}:{thread_ts}"


def clean_tags(tags: Sequence[str]) -> tuple[str, ...]:
    out: list[str] = []
    for tag in tags:
        tag = " ".join(tag.replace("#", " ").split())[:30]
        if tag and tag not in out:
            out.append(tag)
    return tuple(out[:TAG_LIMIT])


def save_thread(session: Session, *, clock: Clock, recorder_id: str, draft: ThreadDraft) -> Saved:
    """Keep a thread's question and answer (Refused when a label is on it)."""
    if channel_choices.choice(session, draft.channel_id).opted_out:
        raise ChannelOptedOut(draft.channel_id)
    return _save(
        session,
        clock=clock,
        actor=recorder_id,
        key=thread_key(draft.channel_id, draft.thread_ts),
        kind=EntryKind.THREAD,
        title=draft.title,
        question=draft.question,
        answer=draft.answer,
        tags=draft.tags,
        answered_at=draft.answered_at,
        fields={
            "channel_id": draft.channel_id,
            "thread_ts": draft.thread_ts,
            "answer_ts": draft.answer_ts,
            "asker_id": draft.asker_id,
            "answerer_id": draft.answerer_id,
            "recorder_id": recorder_id,
            "prefecture": draft.prefecture,
            "checks": max(0, draft.checks),
        },
    )


def save_faq(
    session: Session,
    *,
    clock: Clock,
    actor: str,
    key: str,
    title: str,
    question: str,
    answer: str,
    tags: Sequence[str] = (),
    answered_at: datetime | None = None,
    prefecture: str | None = None,
) -> Saved:
    """The secretariat's own entry (written in Slack or imported); `key` names it for updates."""
    return _save(
        session,
        clock=clock,
        actor=actor,
        key=f"faq:{key}"[:120],
        kind=EntryKind.FAQ,
        title=title,
        question=question,
        answer=answer,
        tags=tags,
        answered_at=answered_at or clock.now(),
        fields={
            "recorder_id": actor if actor.startswith(("U", "W")) else None,
            "prefecture": prefecture,
        },
    )


def _save(
    session: Session,
    *,
    clock: Clock,
    actor: str,
    key: str,
    kind: EntryKind,
    title: str,
    question: str,
    answer: str,
    tags: Sequence[str],
    answered_at: datetime,
    fields: dict[str, object],
) -> Saved:
    tags = clean_tags(tags)
    (title, question, answer, *tags_masked), masked = gate_all(
        " ".join(title.split())[:TITLE_LIMIT],
        question.strip()[:TEXT_LIMIT],
        answer.strip()[:TEXT_LIMIT],
        *tags,
    )
    title = title[:TITLE_LIMIT]  # a masked address may be longer than the address was
    now = clock.now()
    existing = select(KnowledgeEntry).where(KnowledgeEntry.source_key == key)
    entry = session.scalar(existing)
    created = entry is None
    if entry is None:
        entry = KnowledgeEntry(
            source_key=key,
            kind=kind,
            status=EntryStatus.ACTIVE,
            created_at=now,
            checks=0,
            helpful=0,
            anonymous=False,
        )
    else:
        index.remove(session, [entry])
        entry.status = EntryStatus.ACTIVE
        entry.removed_at = entry.removed_by = None
    entry.title, entry.question, entry.answer = title, question, answer
    entry.tags = list(tags_masked)
    entry.masked_kinds = sorted(masked)
    entry.answered_at = answered_at
    entry.updated_at = now
    for name, value in fields.items():
        setattr(entry, name, value)
    entry.search_keys = index.entry_keys(
        title=title, question=question, answer=answer, tags=entry.tags
    )
    if created:
        try:  # two members may keep the same thread at once: the second one updates it
            with session.begin_nested():
                session.add(entry)
                session.flush()
        except IntegrityError:
            if session.scalar(existing) is None:
                raise  # not the source key: nothing to update
            return _save(
                session,
                clock=clock,
                actor=actor,
                key=key,
                kind=kind,
                title=title,
                question=question,
                answer=answer,
                tags=tags,
                answered_at=answered_at,
                fields=fields,
            )
    session.flush()
    index.add(session, [entry])
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="knowledge.saved" if created else "knowledge.updated",
        target_type=TARGET,
        target_id=str(entry.id),
        details={"kind": kind.value, "masked": sorted(masked)},
    )
    return Saved(entry.id, created, masked)


def _owned_by(user_id: str) -> object:
    return or_(
        KnowledgeEntry.recorder_id == user_id,
        KnowledgeEntry.asker_id == user_id,
        KnowledgeEntry.answerer_id == user_id,
    )


def own_entries(session: Session, user_id: str, *, limit: int = 50) -> list[EntrySummary]:
    rows = session.scalars(
        select(KnowledgeEntry)
        .where(KnowledgeEntry.status == EntryStatus.ACTIVE, _owned_by(user_id))  # type: ignore[arg-type]
        .order_by(KnowledgeEntry.answered_at.desc(), KnowledgeEntry.id.desc())
        .limit(limit)
    )
    return [summary(e) for e in rows]


def summary(entry: KnowledgeEntry) -> EntrySummary:
    return EntrySummary(entry.id, entry.kind, entry.title, entry.channel_id, entry.answered_at)


def get(session: Session, entry_id: int) -> KnowledgeEntry:
    entry = session.get(KnowledgeEntry, entry_id)
    if entry is None or entry.status is not EntryStatus.ACTIVE:
        raise NotFound(entry_id)
    return entry


def remove(
    session: Session,
    *,
    clock: Clock,
    entry_id: int,
    actor: str,
    by_secretariat: bool,
    reason: str,
) -> EntrySummary:
    """Remove an entry for good (its text is cleared). Raises NotFound or NotYours."""
    entry = get(session, entry_id)
    if not by_secretariat and actor not in (entry.recorder_id, entry.asker_id, entry.answerer_id):
        raise NotYours(entry_id)
    return _remove(session, clock=clock, entry=entry, actor=actor, reason=reason)


def _remove(
    session: Session, *, clock: Clock, entry: KnowledgeEntry, actor: str, reason: str
) -> EntrySummary:
    listed = summary(entry)
    index.remove(session, [entry])
    entry.status = EntryStatus.REMOVED
    entry.removed_at = entry.updated_at = clock.now()
    entry.removed_by = actor[:32]
    # Nothing of a removed entry stays searchable or readable: only the record that it was.
    entry.question = entry.answer = ""
    entry.tags = []
    entry.search_keys = ""
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="knowledge.removed",
        target_type=TARGET,
        target_id=str(entry.id),
        reason=reason,
    )
    return listed


def _from_source(session: Session, channel_id: str, ts: str) -> list[KnowledgeEntry]:
    return list(
        session.scalars(
            select(KnowledgeEntry).where(
                KnowledgeEntry.status == EntryStatus.ACTIVE,
                KnowledgeEntry.channel_id == channel_id,
                or_(KnowledgeEntry.thread_ts == ts, KnowledgeEntry.answer_ts == ts),
            )
        )
    )


def source_deleted(session: Session, *, clock: Clock, channel_id: str, ts: str) -> int:
    """The question or the answer was deleted in Slack: its entry goes too."""
    found = _from_source(session, channel_id, ts)
    for entry in found:
        _remove(
            session, clock=clock, entry=entry, actor=audit.SYSTEM_ACTOR, reason="source_deleted"
        )
    return len(found)


def source_edited(session: Session, *, clock: Clock, channel_id: str, ts: str, text: str) -> int:
    """The question or the answer was edited in Slack: the entry follows (through the gate; a
    label added by the edit removes the entry)."""
    found = _from_source(session, channel_id, ts)
    for entry in found:
        try:
            gated = gate(text.strip()[:TEXT_LIMIT])
        except Refused:
            _remove(
                session, clock=clock, entry=entry, actor=audit.SYSTEM_ACTOR, reason="label_added"
            )
            continue
        index.remove(session, [entry])
        if entry.thread_ts == ts and entry.answer_ts != ts:
            entry.question = gated.text
        else:
            entry.answer = gated.text
        entry.masked_kinds = sorted(set(entry.masked_kinds) | gated.masked)
        entry.updated_at = clock.now()
        entry.search_keys = index.entry_keys(
            title=entry.title, question=entry.question, answer=entry.answer, tags=entry.tags
        )
        index.add(session, [entry])
        audit.record(
            session,
            clock=clock,
            actor=audit.SYSTEM_ACTOR,
            action="knowledge.source_edited",
            target_type=TARGET,
            target_id=str(entry.id),
        )
    return len(found)


def remove_channel(session: Session, *, clock: Clock, channel_id: str, actor: str) -> int:
    """Every entry kept from a channel (its facilitators opted out)."""
    found = list(
        session.scalars(
            select(KnowledgeEntry).where(
                KnowledgeEntry.status == EntryStatus.ACTIVE,
                KnowledgeEntry.channel_id == channel_id,
                KnowledgeEntry.kind == EntryKind.THREAD,
            )
        )
    )
    for entry in found:
        _remove(session, clock=clock, entry=entry, actor=actor, reason="channel_opted_out")
    return len(found)


def count_owned(session: Session, user_id: str) -> int:
    """Active entries a member recorded, asked or answered."""
    return int(
        session.scalar(
            select(func.count(KnowledgeEntry.id)).where(
                KnowledgeEntry.status == EntryStatus.ACTIVE,
                _owned_by(user_id),  # type: ignore[arg-type]
            )
        )
        or 0
    )


def make_anonymous(session: Session, *, clock: Clock, user_id: str, actor: str) -> int:
    """A leaver's entries no longer show who asked, answered or recorded them (the search
    keys hold no names, so the index is unchanged). A second call changes nothing."""
    found = list(
        session.scalars(
            select(KnowledgeEntry).where(
                KnowledgeEntry.anonymous.is_(False),
                _owned_by(user_id),  # type: ignore[arg-type]
            )
        )
    )
    now = clock.now()
    for entry in found:
        entry.anonymous = True
        entry.updated_at = now
        audit.record(
            session,
            clock=clock,
            actor=actor,
            action="knowledge.made_anonymous",
            target_type=TARGET,
            target_id=str(entry.id),
        )
    return len(found)
