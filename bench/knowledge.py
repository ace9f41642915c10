"""Knowledge search: how well it finds the answer, and what a search and indexing cost,
against a plain `LIKE` scan measured in the same run.

    .venv/bin/python bench/knowledge.py                 # SQLite (a fresh file in a temp dir)
    .venv/bin/python bench/knowledge.py --database-url postgresql://postgres@127.0.0.1:5432/test
    options: --entries 50000 --rounds 3 --quality-only --speed-only --save

Quality, on the labelled evaluation set (tests/data/knowledge: entries written for it, queries
with graded relevance; `--split held-out` or `dev` or `all`): recall@5, MRR@10 and the
zero-result rate for
  like         every whitespace-separated word of the query in the title, question or answer
               (LIKE '%word%'), newest first: what a search box without an index does
  text         Kyoso's keys (bigrams, folding) and ranking, without synonyms
  +synonyms    the same with the shipped synonym list (what Kyoso runs)
  +embedding   the text ranking fused (RRF) with the optional meaning layer, here a tiny model
               generated on the fly: it only proves the plumbing, its figures mean nothing
The bar for text search alone (+synonyms): recall@5 ≥ 0.90 and MRR@10 ≥ 0.75.

Speed, at `--entries` entries (the evaluation entries recombined into new ones with a fixed
seed, so every run measures the same corpus): indexing rate (keys computed, rows written, the
database's index and the key counts updated, in batches of 1,000), then rounds alternating the
LIKE scan and Kyoso's search (all evaluation queries each, top 5 with snippets as /kyoso search
shows them): p50/p95/max per round. The bar: search p95 ≤ 50 ms, indexing ≥ 1,000 entries/s.

With PostgreSQL the URL names a server to connect to; the bench creates a throwaway database
next to it, migrates it and drops it at the end. Exit status 0 when the measured bars hold.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import and_, or_, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bot.clock import FixedClock  # noqa: E402
from bot.db import make_engine, make_session_factory  # noqa: E402
from bot.knowledge import evaluation  # noqa: E402
from bot.knowledge.synonyms import Thesaurus, shipped_groups  # noqa: E402
from bot.migrate import upgrade  # noqa: E402
from bot.services.knowledge import search  # noqa: E402
from models import EntryStatus, KnowledgeEntry  # noqa: E402

sys.path.insert(0, str(REPO / "tests"))
from support.knowledge_set import (  # noqa: E402
    NOW,
    PREFECTURES,
    Query,
    entry_row,
    load_entries,
    load_queries,
    write_entries,
)

RESULTS_DIR = REPO / "bench" / "results"
TARGET_RECALL, TARGET_MRR = 0.90, 0.75
TARGET_P95_MS, TARGET_INDEX_RATE = 50.0, 1000.0

# ---------------------------------------------------------------- rankers


Ranker = Callable[[Session, Query], list[int]]


def like_ranker(session: Session, query: Query, limit: int = 10) -> list[int]:
    words = query.text.split() or [query.text]
    conditions = [
        or_(
            KnowledgeEntry.title.like(f"%{w}%"),
            KnowledgeEntry.question.like(f"%{w}%"),
            KnowledgeEntry.answer.like(f"%{w}%"),
        )
        for w in words[:8]
    ]
    statement = (
        select(KnowledgeEntry.id)
        .where(KnowledgeEntry.status == EntryStatus.ACTIVE, and_(*conditions))
        .order_by(KnowledgeEntry.answered_at.desc(), KnowledgeEntry.id.desc())
        .limit(limit)
    )
    return list(session.scalars(statement))


def text_ranker(thesaurus: Thesaurus | None) -> Ranker:
    def ranker(session: Session, query: Query) -> list[int]:
        found = search.ranked(
            session,
            query=query.text,
            clock=FixedClock(NOW),
            thesaurus=thesaurus,
            prefecture=query.prefecture,
        )
        return [s.entry_id for s in found.scored[:10]]

    return ranker


def embedding_ranker(session: Session, thesaurus: Thesaurus, workdir: Path) -> Ranker | None:
    """Text fused with the meaning layer, over a tiny model built here (plumbing only)."""
    try:
        from support.tiny_embedding import build_tiny_model

        from bot.knowledge.embedding import load_model
        from bot.knowledge.fusion import reciprocal_rank_fusion
        from bot.services.knowledge import vectors
    except ImportError as exc:
        print(f"  +embedding skipped: {exc}")
        return None
    model = load_model(build_tiny_model(workdir / "tiny-model"))
    clock = FixedClock(NOW)
    while batch := vectors.missing(session, model=model, limit=1000):
        texts = {
            e.id: vectors.embedding_text(e)
            for e in session.scalars(select(KnowledgeEntry).where(KnowledgeEntry.id.in_(batch)))
        }
        vectors.store(session, model=model, entries=list(texts.items()), clock=clock)
    text = text_ranker(thesaurus)

    def ranker(session: Session, query: Query) -> list[int]:
        by_meaning = [
            i for i, _ in vectors.nearest(session, model=model, query=query.text, limit=10)
        ]
        return reciprocal_rank_fusion([text(session, query), by_meaning])[:10]

    return ranker


def evaluate(
    session: Session, queries: Sequence[Query], ranker: Ranker, ids: dict[int, str]
) -> evaluation.Scores:
    judged = [
        evaluation.Judged(q.id, q.relevant, [ids[i] for i in ranker(session, q) if i in ids])
        for q in queries
    ]
    return evaluation.score(judged)


# ---------------------------------------------------------------- the corpus at scale


def synthetic_rows(
    base: Sequence[dict[str, Any]], count: int, start_id: int
) -> Iterator[dict[str, Any]]:
    """New entries recombined from the evaluation entries' sentences, with a fixed seed."""
    rng = random.Random(20261203)
    sentences = [
        s + "。" for row in base for s in (row["question"] + row["answer"]).split("。") if s
    ]
    for n in range(count):
        source = base[rng.randrange(len(base))]
        question = "".join(rng.choices(sentences, k=2))
        answer = "".join(rng.choices(sentences, k=rng.randint(3, 6)))
        row = {
            "id": f"s{n}",
            "kind": "thread",
            "title": f"{source['title']}（{rng.choice(PREFECTURES)}の例 {n}）",
            "question": question,
            "answer": answer,
            "tags": source.get("tags") or [],
            "prefecture_code": f"{rng.randint(1, 47):02d}",
            "checks": rng.randint(0, 5),
            "answered_on": (date(2022, 4, 1) + timedelta(days=rng.randrange(1700))).isoformat(),
        }
        yield entry_row(row, entry_id=start_id + n)


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def timed(
    session_factory: Any, queries: Sequence[Query], run: Callable[[Session, Query], object]
) -> list[float]:
    out: list[float] = []
    with session_factory() as session:
        for query in queries:
            started = time.perf_counter()
            run(session, query)
            out.append((time.perf_counter() - started) * 1000)
    return out


def shown(thesaurus: Thesaurus) -> Callable[[Session, Query], object]:
    """What /kyoso search does: the ranked results and the first page with its snippets."""

    def run(session: Session, query: Query) -> object:
        return search.search(
            session,
            query=query.text,
            clock=FixedClock(NOW),
            thesaurus=thesaurus,
            prefecture=query.prefecture,
            limit=5,
        )

    return run


# ---------------------------------------------------------------- main


@contextlib.contextmanager
def database(url: str | None, workdir: Path) -> Iterator[str]:
    if url is None:
        yield f"sqlite:///{workdir / 'knowledge-bench.db'}"
        return
    import psycopg

    parsed = make_url(url)
    name = f"kyoso_bench_{secrets.token_hex(4)}"
    admin = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--split", choices=("all", "dev", "held-out"), default="all")
    parser.add_argument("--quality-only", action="store_true")
    parser.add_argument("--speed-only", action="store_true")
    parser.add_argument(
        "--misses", action="store_true", help="list queries whose answer is not in the top 5"
    )
    parser.add_argument("--save", action="store_true")
    args = parser.parse_args(argv)

    base = load_entries()
    queries = load_queries(args.split)
    all_queries = load_queries("all")
    thesaurus = Thesaurus(shipped_groups())
    report: dict[str, Any] = {"machine": platform.platform(), "python": platform.python_version()}
    ok = True
    with tempfile.TemporaryDirectory() as tmp, database(args.database_url, Path(tmp)) as url:
        upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        report["database"] = engine.dialect.name
        print(
            f"database: {engine.dialect.name}; {len(base)} evaluation entries, "
            f"{len(queries)} queries ({args.split})"
        )
        with factory.begin() as session:
            write_entries(session, [entry_row(r, entry_id=i + 1) for i, r in enumerate(base)])
        ids = {i + 1: r["id"] for i, r in enumerate(base)}

        if not args.speed_only:
            print("\nquality          recall@5  (related)  MRR@10  zero-result rate")
            rankers: dict[str, Ranker | None] = {
                "like": like_ranker,
                "text": text_ranker(None),
                "+synonyms": text_ranker(thesaurus),
            }
            with factory.begin() as session:
                rankers["+embedding"] = embedding_ranker(session, thesaurus, Path(tmp))
            quality: dict[str, Any] = {}
            for name, ranker in rankers.items():
                if ranker is None:
                    continue
                with factory() as session:
                    scores = evaluate(session, queries, ranker, ids)
                quality[name] = scores.as_dict()
                print(
                    f"  {name:<13} {scores.recall_at_5:9.3f} {scores.related_recall_at_5:10.3f} "
                    f"{scores.mrr_at_10:7.3f} {scores.zero_rate:12.3f}"
                )
            report["quality"] = quality
            best = quality["+synonyms"]
            ok &= best["recall@5"] >= TARGET_RECALL and best["MRR@10"] >= TARGET_MRR
            if args.misses:
                with factory() as session:
                    judged = [
                        evaluation.Judged(
                            q.id,
                            q.relevant,
                            [ids[i] for i in text_ranker(thesaurus)(session, q) if i in ids],
                        )
                        for q in queries
                    ]
                by_id = {r["id"]: r for r in base}
                for miss in evaluation.misses(judged):
                    query = next(q for q in queries if q.id == miss.query_id)
                    wanted = [e for e, g in miss.relevant.items() if g == 2]
                    print(
                        f"  MISS {query.id} {query.text!r} wants {[by_id[e]['title'] for e in wanted]}"
                        f" got {[by_id[e]['title'] for e in miss.results[:3]]}"
                    )

        if not args.quality_only:
            extra = max(0, args.entries - len(base))
            started = time.perf_counter()
            batch: list[dict[str, Any]] = []
            for row in synthetic_rows(base, extra, start_id=len(base) + 1):
                batch.append(row)
                if len(batch) == 1000:
                    with factory.begin() as session:
                        write_entries(session, batch)
                    batch = []
            if batch:
                with factory.begin() as session:
                    write_entries(session, batch)
            elapsed = time.perf_counter() - started
            rate = extra / elapsed if elapsed else 0.0
            print(
                f"\nindexing: {extra} entries in {elapsed:.1f} s = {rate:,.0f} entries/s "
                "(keys, rows, index, key counts)"
            )
            report["indexing_entries_per_s"] = round(rate)
            ok &= rate >= TARGET_INDEX_RATE
            run = shown(thesaurus)
            print(f"\nsearch over {args.entries} entries, {len(all_queries)} queries per round")
            print("  round  method     p50 ms  p95 ms  max ms")
            rounds: list[dict[str, Any]] = []
            for number in range(1, args.rounds + 1):
                for method, call in (("like", like_ranker), ("kyoso", run)):
                    times = timed(factory, all_queries, call)
                    figures = {
                        "round": number,
                        "method": method,
                        "p50": percentile(times, 50),
                        "p95": percentile(times, 95),
                        "max": max(times),
                    }
                    rounds.append(figures)
                    print(
                        f"  {number:5d}  {method:<8} {figures['p50']:7.1f} {figures['p95']:7.1f} "
                        f"{figures['max']:7.1f}"
                    )
            kyoso_p95 = statistics.median(r["p95"] for r in rounds if r["method"] == "kyoso")
            like_p95 = statistics.median(r["p95"] for r in rounds if r["method"] == "like")
            print(
                f"  median p95: kyoso {kyoso_p95:.1f} ms, like {like_p95:.1f} ms "
                f"(×{kyoso_p95 / like_p95:.2f} of the LIKE scan)"
            )
            report["search_rounds"] = rounds
            report["search_p95_ms"] = {"kyoso": kyoso_p95, "like": like_p95}
            ok &= kyoso_p95 <= TARGET_P95_MS
        engine.dispose()
    print("\nbar:", "met" if ok else "NOT met")
    if args.save:
        RESULTS_DIR.mkdir(exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        (RESULTS_DIR / f"knowledge-{report['database']}-{stamp}.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
