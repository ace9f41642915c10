"""welcome DM in flight and its final error

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 16:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("welcome_claimed_at", models.base.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("welcome_error", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("welcome_error")
        batch_op.drop_column("welcome_claimed_at")
