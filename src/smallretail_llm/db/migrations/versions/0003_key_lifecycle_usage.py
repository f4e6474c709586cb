"""Key lifecycle and shared quotas: api_keys gains name, scopes, expiry and last-used/revoked
times; key_events audits every key change; usage counts requests and tokens per key and shop in
fixed windows (minute, day, month), so every API replica over one database shares one quota.

Keys made by the previous release keep working: new columns are nullable or have a server
default (all scopes, which is what those keys could do).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ALL_SCOPES = "catalog:read,generate,import"


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("name", sa.String(64), nullable=True))
        batch.add_column(sa.Column("scopes", sa.String(200), nullable=False,
                                   server_default=ALL_SCOPES))
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "key_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key_id", sa.String(12), nullable=False),
        sa.Column("shop_id", sa.String(64), nullable=False),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_events")),
    )
    op.create_index("ix_key_events_key_id", "key_events", ["key_id"])
    op.create_index("ix_key_events_shop_id", "key_events", ["shop_id"])
    op.create_table(
        "usage",
        sa.Column("subject", sa.String(80), nullable=False),
        sa.Column("window", sa.String(20), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("subject", "window", name=op.f("pk_usage")),
    )


def downgrade() -> None:
    op.drop_table("usage")
    op.drop_index("ix_key_events_shop_id", table_name="key_events")
    op.drop_index("ix_key_events_key_id", table_name="key_events")
    op.drop_table("key_events")
    with op.batch_alter_table("api_keys") as batch:
        for column in ("revoked_at", "last_used_at", "expires_at", "scopes", "name"):
            batch.drop_column(column)
