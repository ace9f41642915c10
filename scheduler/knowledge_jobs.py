"""Knowledge's scheduled work: the nightly channel cards, after the registry sync has brought
in the day's new, renamed and archived channels (the registry's events do not touch the cards:
a change made during the day is searchable the next night); and, with a meaning model
configured, the vectors of entries saved or changed since the last run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.services.knowledge import cards, vectors

if TYPE_CHECKING:
    from scheduler.jobs import JobContext

JobResult = dict[str, Any]


def channel_cards(ctx: JobContext) -> JobResult:
    """One searchable card per active channel; no Slack call, so it runs in any context."""
    with ctx.session_factory.begin() as session:
        return dict(cards.sync_channel_cards(session, clock=ctx.clock).as_dict())


EMBEDDED_PER_RUN = 2000  # entries given a vector per run: minutes of work at most


def embed_new_entries(ctx: JobContext) -> JobResult:
    """Vectors for new and changed entries; nothing to do without KYOSO_EMBEDDING_MODEL_DIR."""
    meaning = ctx.gateway.knowledge.engine.meaning if ctx.gateway is not None else None
    if meaning is None:
        return {"skipped": "no embedding model configured"}
    with ctx.session_factory.begin() as session:
        done = vectors.embed_missing(
            session, model=meaning, clock=ctx.clock, limit=EMBEDDED_PER_RUN
        )
    return {"embedded": done, "model": meaning.key}
