"""Initial schema: instruments, sealed responses, encrypted drafts, aggregate counters.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instruments",
        sa.Column("instrument_id", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("source_hash", sa.String(64), nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("published_day", sa.Date, nullable=False),
        sa.PrimaryKeyConstraint("instrument_id", "version"),
        sa.UniqueConstraint("instrument_id", "source_hash", name="uq_instruments_source"),
    )
    op.create_table(
        "responses",
        sa.Column("response_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                  primary_key=True, autoincrement=True),
        sa.Column("submission_id", sa.String(64), nullable=False, unique=True),
        sa.Column("instrument_id", sa.String(100), nullable=False),
        sa.Column("instrument_version", sa.Integer, nullable=False),
        sa.Column("page_id", sa.String(100), nullable=False),
        sa.Column("arm", sa.String(50), nullable=False),
        sa.Column("language", sa.String(20), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("seconds", sa.Integer, nullable=False),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "drafts",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("instrument_id", sa.String(100), nullable=False),
        sa.Column("expires_day", sa.Date, nullable=False),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "counters",
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("language", sa.String(20), nullable=False),
        sa.Column("arm", sa.String(50), nullable=False),
        sa.Column("event", sa.String(50), nullable=False),
        sa.Column("link", sa.String(100), nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("day", "language", "arm", "event", "link"),
    )


def downgrade() -> None:
    op.drop_table("counters")
    op.drop_table("drafts")
    op.drop_table("responses")
    op.drop_table("instruments")
