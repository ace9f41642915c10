"""announcements and guests: the secretariat's announcements with each recipient recorded
before their DM, members' opt-outs of optional categories, and members' guest kind

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 04:09:09.142709
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "sending",
                "paused",
                "cancelled",
                "done",
                name="announcementstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "category",
            sa.Enum(
                "rules",
                "account",
                "events",
                "surveys",
                "general",
                name="announcementcategory",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=150), nullable=False),
        sa.Column("text_ja", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=True),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("confirmed_by", sa.String(length=32), nullable=True),
        sa.Column("confirmed_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("progress_channel_id", sa.String(length=32), nullable=True),
        sa.Column("progress_ts", sa.String(length=32), nullable=True),
        sa.Column("finished_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
        sa.UniqueConstraint("public_id", name=op.f("uq_announcements_public_id")),
    )
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_announcements_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_announcements_status"), ["status"], unique=False)

    op.create_table(
        "announcement_recipients",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "planned", "sent", "failed", name="attemptstatus", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("due_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcement_recipients")),
        sa.UniqueConstraint(
            "announcement_id", "member_id", name=op.f("uq_announcement_recipients_announcement_id")
        ),
    )
    with op.batch_alter_table("announcement_recipients", schema=None) as batch_op:
        batch_op.create_index(
            "ix_announcement_recipients_planned_due",
            ["due_at"],
            unique=False,
            sqlite_where=sa.text("status = 'planned'"),
            postgresql_where=sa.text("status = 'planned'"),
        )

    op.create_table(
        "message_opt_outs",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "rules",
                "account",
                "events",
                "surveys",
                "general",
                name="announcementcategory",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("created_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_message_opt_outs_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "category", name=op.f("pk_message_opt_outs")),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "guest_kind",
                sa.Enum(
                    "multi_channel",
                    "single_channel",
                    "external",
                    name="guestkind",
                    native_enum=False,
                    length=16,
                ),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("guest_kind")

    op.drop_table("message_opt_outs")
    with op.batch_alter_table("announcement_recipients", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_announcement_recipients_planned_due",
            sqlite_where=sa.text("status = 'planned'"),
            postgresql_where=sa.text("status = 'planned'"),
        )

    op.drop_table("announcement_recipients")
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_announcements_status"))
        batch_op.drop_index(batch_op.f("ix_announcements_created_at"))

    op.drop_table("announcements")
