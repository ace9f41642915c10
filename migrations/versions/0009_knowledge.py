"""knowledge: entries, search keys indexed by FTS5 (SQLite) or GIN (PostgreSQL), feedback,
gaps, synonyms, channel settings and optional meaning vectors

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 23:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "knowledge_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_key", sa.String(length=120), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("thread", "faq", "channel", name="entrykind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum("active", "removed", name="entrystatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("masked_kinds", sa.JSON(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("answer_ts", sa.String(length=32), nullable=True),
        sa.Column("asker_id", sa.String(length=32), nullable=True),
        sa.Column("answerer_id", sa.String(length=32), nullable=True),
        sa.Column("recorder_id", sa.String(length=32), nullable=True),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("prefecture", sa.String(length=8), nullable=True),
        sa.Column("answered_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("helpful", sa.Integer(), nullable=False),
        sa.Column("search_keys", sa.Text(), nullable=False),
        sa.Column("created_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("removed_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_entries")),
        sa.UniqueConstraint("source_key", name=op.f("uq_knowledge_entries_source_key")),
    )
    with op.batch_alter_table("knowledge_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_knowledge_entries_channel_id"), ["channel_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_knowledge_entries_recorder_id"), ["recorder_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_knowledge_entries_status"), ["status"], unique=False)

    op.create_table(
        "knowledge_terms",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_knowledge_terms")),
    )
    op.create_table(
        "knowledge_helpful",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("slack_user_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["knowledge_entries.id"],
            name=op.f("fk_knowledge_helpful_entry_id_knowledge_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", "slack_user_id", name=op.f("pk_knowledge_helpful")),
    )
    op.create_table(
        "knowledge_gaps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("folded_query", sa.String(length=200), nullable=False),
        sa.Column("query", sa.String(length=200), nullable=False),
        sa.Column("prefecture", sa.String(length=8), nullable=False),
        sa.Column("times", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_gaps")),
        sa.UniqueConstraint(
            "folded_query", "prefecture", name=op.f("uq_knowledge_gaps_folded_query")
        ),
    )
    with op.batch_alter_table("knowledge_gaps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_knowledge_gaps_last_seen_at"), ["last_seen_at"], unique=False
        )
    op.create_table(
        "knowledge_synonym_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=False),
        sa.Column("updated_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_synonym_groups")),
    )
    op.create_table(
        "knowledge_channel_settings",
        sa.Column("slack_channel_id", sa.String(length=32), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("suggest", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=False),
        sa.Column("updated_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("slack_channel_id", name=op.f("pk_knowledge_channel_settings")),
    )
    op.create_table(
        "knowledge_vectors",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("model_key", sa.String(length=64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["knowledge_entries.id"],
            name=op.f("fk_knowledge_vectors_entry_id_knowledge_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_knowledge_vectors")),
    )
    with op.batch_alter_table("knowledge_vectors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_knowledge_vectors_model_key"), ["model_key"], unique=False
        )

    # The search index over the keys computed in Python (bot/knowledge/tokens.py), kept out of
    # the models. SQLite: an FTS5 table whose rowid is the entry's id, whitespace-separated
    # keys taken verbatim. PostgreSQL: a GIN index over the keys as an array.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE knowledge_fts USING fts5("
            "search_keys, tokenize = \"unicode61 remove_diacritics 0 separators ' '\")"
        )
    else:
        op.execute(
            "CREATE INDEX ix_knowledge_entries_search_keys_gin ON knowledge_entries "
            "USING gin (string_to_array(search_keys, ' '))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE knowledge_fts")
    with op.batch_alter_table("knowledge_vectors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_knowledge_vectors_model_key"))
    op.drop_table("knowledge_vectors")
    op.drop_table("knowledge_channel_settings")
    op.drop_table("knowledge_synonym_groups")
    with op.batch_alter_table("knowledge_gaps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_knowledge_gaps_last_seen_at"))
    op.drop_table("knowledge_gaps")
    op.drop_table("knowledge_helpful")
    op.drop_table("knowledge_terms")
    with op.batch_alter_table("knowledge_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_knowledge_entries_status"))
        batch_op.drop_index(batch_op.f("ix_knowledge_entries_recorder_id"))
        batch_op.drop_index(batch_op.f("ix_knowledge_entries_channel_id"))
    op.drop_table("knowledge_entries")
