"""ambassadors: appointments by prefecture or region for a term, greeting cards for newcomers,
and questions asked in the prefectures' デジ_re_ channels

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 03:21:22.520606
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "regional_questions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("prefecture", sa.String(length=8), nullable=True),
        sa.Column("asked_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regional_questions")),
        sa.UniqueConstraint(
            "channel_id", "message_ts", name=op.f("uq_regional_questions_channel_id")
        ),
    )
    with op.batch_alter_table("regional_questions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_regional_questions_asked_at"), ["asked_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_regional_questions_prefecture"), ["prefecture"], unique=False
        )

    op.create_table(
        "ambassador_appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "ended", name="appointmentstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("prefectures", sa.JSON(), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("appointed_by", sa.String(length=32), nullable=False),
        sa.Column("coverage_at_start", sa.JSON(), nullable=False),
        sa.Column("reminded_for", sa.Date(), nullable=True),
        sa.Column("ended_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=32), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.Column("created_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_ambassador_appointments_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ambassador_appointments")),
        sa.UniqueConstraint("public_id", name=op.f("uq_ambassador_appointments_public_id")),
    )
    with op.batch_alter_table("ambassador_appointments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ambassador_appointments_ends_on"), ["ends_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ambassador_appointments_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ambassador_appointments_status"), ["status"], unique=False
        )

    op.create_table(
        "ambassador_greetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open", "claimed", "closed", name="greetingstatus", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("prefecture", sa.String(length=8), nullable=True),
        sa.Column("mentioned", sa.JSON(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("claimed_by", sa.String(length=32), nullable=True),
        sa.Column("claimed_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("introduced_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_ambassador_greetings_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ambassador_greetings")),
        sa.UniqueConstraint("member_id", name=op.f("uq_ambassador_greetings_member_id")),
    )
    with op.batch_alter_table("ambassador_greetings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ambassador_greetings_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ambassador_greetings_prefecture"), ["prefecture"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ambassador_greetings_status"), ["status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ambassador_greetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ambassador_greetings_status"))
        batch_op.drop_index(batch_op.f("ix_ambassador_greetings_prefecture"))
        batch_op.drop_index(batch_op.f("ix_ambassador_greetings_created_at"))

    op.drop_table("ambassador_greetings")
    with op.batch_alter_table("ambassador_appointments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ambassador_appointments_status"))
        batch_op.drop_index(batch_op.f("ix_ambassador_appointments_member_id"))
        batch_op.drop_index(batch_op.f("ix_ambassador_appointments_ends_on"))

    op.drop_table("ambassador_appointments")
    with op.batch_alter_table("regional_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_regional_questions_prefecture"))
        batch_op.drop_index(batch_op.f("ix_regional_questions_asked_at"))

    op.drop_table("regional_questions")
