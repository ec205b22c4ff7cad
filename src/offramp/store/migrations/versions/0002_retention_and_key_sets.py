"""Retention and key sets: exported_day on responses, the key_sets and purges tables, indexes.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("responses") as batch:
        batch.add_column(sa.Column("exported_day", sa.Date, nullable=True))
        batch.create_index("ix_responses_instrument_day", ["instrument_id", "day"])
    op.create_index("ix_drafts_expires_day", "drafts", ["expires_day"])
    op.create_table(
        "key_sets",
        sa.Column("key_set_id", sa.String(32), primary_key=True),
        sa.Column("fingerprints", sa.Text, nullable=False),
        sa.Column("first_day", sa.Date, nullable=False),
    )
    op.create_table(
        "purges",
        sa.Column("purge_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                  primary_key=True, autoincrement=True),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("instrument_id", sa.String(100), nullable=True),
        sa.Column("from_day", sa.Date, nullable=True),
        sa.Column("to_day", sa.Date, nullable=True),
        sa.Column("count", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("purges")
    op.drop_table("key_sets")
    op.drop_index("ix_drafts_expires_day", table_name="drafts")
    with op.batch_alter_table("responses") as batch:
        batch.drop_index("ix_responses_instrument_day")
        batch.drop_column("exported_day")
