"""The knowledge evaluation set (tests/data/knowledge): entries written for it and queries with
graded relevance, loaded into a database the way a bulk import writes them. Used by
bench/knowledge.py and tests/test_knowledge_evaluation.py."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from bot.services.knowledge import index
from models import EntryKind, EntryStatus, KnowledgeEntry

DATA = Path(__file__).resolve().parents[1] / "data" / "knowledge"
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # the evaluation set's "today"

PREFECTURES = [
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
]


def prefecture_name(code: str | None) -> str | None:
    return PREFECTURES[int(code) - 1] if code and code.isdigit() and 1 <= int(code) <= 47 else None


# ---------------------------------------------------------------- the evaluation set


@dataclass(frozen=True)
class Query:
    id: str
    text: str
    relevant: dict[str, int]
    prefecture: str | None
    split: str


def load_entries() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted(DATA.glob("entries_*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return rows


def load_queries(split: str) -> list[Query]:
    out: list[Query] = []
    for path in sorted(DATA.glob("queries_*.jsonl")):
        part = "held-out" if path.stem.endswith("held_out") else "dev"
        if split not in ("all", part):
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line:
                row = json.loads(line)
                out.append(
                    Query(
                        row["id"],
                        row["query"],
                        row["relevant"],
                        prefecture_name(row.get("prefecture_code")),
                        part,
                    )
                )
    return out


def entry_row(row: dict[str, Any], *, entry_id: int | None = None) -> dict[str, Any]:
    answered = datetime.combine(date.fromisoformat(row["answered_on"]), datetime.min.time(), UTC)
    values: dict[str, Any] = {
        "source_key": f"bench:{row['id']}",
        "kind": EntryKind(row["kind"] if row["kind"] != "channel_card" else "channel"),
        "status": EntryStatus.ACTIVE,
        "title": row["title"][:200],
        "question": row["question"],
        "answer": row["answer"],
        "tags": list(row.get("tags") or []),
        "masked_kinds": [],
        "anonymous": False,
        "prefecture": prefecture_name(row.get("prefecture_code")),
        "answered_at": answered,
        "checks": int(row.get("checks") or 0),
        "helpful": 0,
        "search_keys": index.entry_keys(
            title=row["title"],
            question=row["question"],
            answer=row["answer"],
            tags=list(row.get("tags") or []),
        ),
        "created_at": NOW,
        "updated_at": NOW,
    }
    if entry_id is not None:
        values["id"] = entry_id
    return values


def write_entries(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Rows and their index, as a bulk import does: one batch, one index update."""
    session.execute(insert(KnowledgeEntry), list(rows))
    index.add(session, [_Written(r["id"], r["status"], r["search_keys"]) for r in rows])


@dataclass(frozen=True)
class _Written:
    id: int
    status: EntryStatus
    search_keys: str
