"""transfers and leavers: moves, affiliation checks, the season survey, departures and
hand-overs; applications remember an earlier account; organisations can be merged or retired

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 02:43:54.388482
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "affiliation_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "asked",
                "kept",
                "deactivating",
                "resolved",
                name="checkstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("old_email", sa.String(length=254), nullable=True),
        sa.Column("new_email", sa.String(length=254), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("review_channel_id", sa.String(length=32), nullable=True),
        sa.Column("review_message_ts", sa.String(length=32), nullable=True),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("decided_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_affiliation_checks_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_affiliation_checks_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_affiliation_checks")),
        sa.UniqueConstraint("public_id", name=op.f("uq_affiliation_checks_public_id")),
    )
    with op.batch_alter_table("affiliation_checks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_affiliation_checks_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_affiliation_checks_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_affiliation_checks_status"), ["status"], unique=False)
        batch_op.create_index(
            "uq_affiliation_checks_open_member",
            ["member_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('open', 'asked')"),
            postgresql_where=sa.text("status IN ('open', 'asked')"),
        )

    op.create_table(
        "departures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "scheduled",
                "done",
                "todo",
                "cancelled",
                name="departurestatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column(
            "knowledge",
            sa.Enum(
                "attributed", "anonymous", name="knowledgechoice", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("requested_by", sa.String(length=32), nullable=False),
        sa.Column("handed_over_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("goodbye_claimed_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("goodbye_sent_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("deactivated_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("deactivation_via", sa.String(length=32), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_departures_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departures")),
        sa.UniqueConstraint("public_id", name=op.f("uq_departures_public_id")),
    )
    with op.batch_alter_table("departures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_departures_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_departures_last_day"), ["last_day"], unique=False)
        batch_op.create_index(batch_op.f("ix_departures_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_departures_status"), ["status"], unique=False)
        batch_op.create_index(
            "uq_departures_scheduled_member",
            ["member_id"],
            unique=True,
            sqlite_where=sa.text("status = 'scheduled'"),
            postgresql_where=sa.text("status = 'scheduled'"),
        )

    op.create_table(
        "season_answers",
        sa.Column("season", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column(
            "answer",
            sa.Enum(
                "no_change",
                "moving",
                "leaving",
                name="seasonanswerkind",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("answered_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_season_answers_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("season", "member_id", name=op.f("pk_season_answers")),
    )
    op.create_table(
        "season_contacts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("season", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("survey", "reminder", name="seasoncontactkind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
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
        sa.Column("created_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_season_contacts")),
        sa.UniqueConstraint("season", "kind", "member_id", name=op.f("uq_season_contacts_season")),
    )
    with op.batch_alter_table("season_contacts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_season_contacts_planned_due",
            ["due_at"],
            unique=False,
            sqlite_where=sa.text("status = 'planned'"),
            postgresql_where=sa.text("status = 'planned'"),
        )

    op.create_table(
        "affiliation_moves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "awaiting",
                "review",
                "scheduled",
                "confirmed",
                "refused",
                "cancelled",
                "expired",
                name="movestatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "source",
            sa.Enum(
                "command",
                "home",
                "survey",
                "application",
                "slack",
                name="movesource",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("old_organisation_id", sa.Integer(), nullable=True),
        sa.Column("old_email", sa.String(length=254), nullable=True),
        sa.Column("new_organisation_id", sa.Integer(), nullable=True),
        sa.Column("new_email", sa.String(length=254), nullable=True),
        sa.Column("new_email_normalized", sa.String(length=254), nullable=True),
        sa.Column("new_department", sa.String(length=200), nullable=True),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("effective_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column(
            "applied_notice",
            sa.Enum("due", "claimed", "sent", name="movenotice", native_enum=False, length=16),
            nullable=True,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("code_expires_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("code_attempts", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column(
            "slack_email_state",
            sa.Enum(
                "unchanged",
                "scim_changed",
                "instructed",
                "seen",
                "todo",
                name="slackemailstate",
                native_enum=False,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("slack_email_due_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("review_channel_id", sa.String(length=32), nullable=True),
        sa.Column("review_message_ts", sa.String(length=32), nullable=True),
        sa.Column("reminded_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_affiliation_moves_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_affiliation_moves_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["new_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_affiliation_moves_new_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["old_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_affiliation_moves_old_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_affiliation_moves")),
        sa.UniqueConstraint("public_id", name=op.f("uq_affiliation_moves_public_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_affiliation_moves_token_hash")),
    )
    with op.batch_alter_table("affiliation_moves", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_affiliation_moves_confirmed_at"), ["confirmed_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_affiliation_moves_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_affiliation_moves_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_affiliation_moves_new_email_normalized"),
            ["new_email_normalized"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_affiliation_moves_effective_at"), ["effective_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_affiliation_moves_slack_email_due_at"),
            ["slack_email_due_at"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_affiliation_moves_status"), ["status"], unique=False)
        batch_op.create_index(
            "uq_affiliation_moves_open_member",
            ["member_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('awaiting', 'review', 'scheduled')"),
            postgresql_where=sa.text("status IN ('awaiting', 'review', 'scheduled')"),
        )

    op.create_table(
        "departure_handovers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("departure_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "channel",
                "request",
                "case",
                "role",
                name="handoverkind",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("successor_id", sa.String(length=32), nullable=True),
        sa.Column("done_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["departure_id"],
            ["departures.id"],
            name=op.f("fk_departure_handovers_departure_id_departures"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departure_handovers")),
        sa.UniqueConstraint(
            "departure_id", "kind", "target", name=op.f("uq_departure_handovers_departure_id")
        ),
    )
    with op.batch_alter_table("departure_handovers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_departure_handovers_departure_id"), ["departure_id"], unique=False
        )

    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("existing_member_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("duplicate_hints", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_applications_existing_member_id_members"),
            "members",
            ["existing_member_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("retired_at", models.base.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_organisations_merged_into_id_organisations"),
            "organisations",
            ["merged_into_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_organisations_merged_into_id_organisations"), type_="foreignkey"
        )
        batch_op.drop_column("retired_at")
        batch_op.drop_column("merged_into_id")

    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_applications_existing_member_id_members"), type_="foreignkey"
        )
        batch_op.drop_column("duplicate_hints")
        batch_op.drop_column("existing_member_id")
        batch_op.drop_column("previous_email")

    with op.batch_alter_table("departure_handovers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_departure_handovers_departure_id"))

    op.drop_table("departure_handovers")
    with op.batch_alter_table("affiliation_moves", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_affiliation_moves_open_member",
            sqlite_where=sa.text("status IN ('awaiting', 'review', 'scheduled')"),
            postgresql_where=sa.text("status IN ('awaiting', 'review', 'scheduled')"),
        )
        batch_op.drop_index(batch_op.f("ix_affiliation_moves_status"))
        batch_op.drop_index(batch_op.f("ix_affiliation_moves_slack_email_due_at"))
        batch_op.drop_index(batch_op.f("ix_affiliation_moves_effective_at"))
        batch_op.drop_index(batch_op.f("ix_affiliation_moves_new_email_normalized"))
        batch_op.drop_index(batch_op.f("ix_affiliation_moves_member_id"))
        batch_op.drop_index(batch_op.f("ix_affiliation_moves_created_at"))
        batch_op.drop_index(batch_op.f("ix_affiliation_moves_confirmed_at"))

    op.drop_table("affiliation_moves")
    with op.batch_alter_table("season_contacts", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_season_contacts_planned_due",
            sqlite_where=sa.text("status = 'planned'"),
            postgresql_where=sa.text("status = 'planned'"),
        )

    op.drop_table("season_contacts")
    op.drop_table("season_answers")
    with op.batch_alter_table("departures", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_departures_scheduled_member",
            sqlite_where=sa.text("status = 'scheduled'"),
            postgresql_where=sa.text("status = 'scheduled'"),
        )
        batch_op.drop_index(batch_op.f("ix_departures_status"))
        batch_op.drop_index(batch_op.f("ix_departures_member_id"))
        batch_op.drop_index(batch_op.f("ix_departures_last_day"))
        batch_op.drop_index(batch_op.f("ix_departures_created_at"))

    op.drop_table("departures")
    with op.batch_alter_table("affiliation_checks", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_affiliation_checks_open_member",
            sqlite_where=sa.text("status IN ('open', 'asked')"),
            postgresql_where=sa.text("status IN ('open', 'asked')"),
        )
        batch_op.drop_index(batch_op.f("ix_affiliation_checks_status"))
        batch_op.drop_index(batch_op.f("ix_affiliation_checks_member_id"))
        batch_op.drop_index(batch_op.f("ix_affiliation_checks_created_at"))

    op.drop_table("affiliation_checks")
