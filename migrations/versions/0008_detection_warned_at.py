"""when a detection's warning reached the poster

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 16:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("detections", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("warned_at", models.base.UtcDateTime(timezone=True), nullable=True)
        )
    # Detections from before were warned (or given up) when they were made.
    op.execute("UPDATE detections SET warned_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("detections", schema=None) as batch_op:
        batch_op.drop_column("warned_at")
