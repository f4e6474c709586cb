"""Baseline: shops, products, api_keys, as the models stood when migrations began.

``if_not_exists`` lets a database made earlier by ``create_all`` (no alembic_version table yet)
be adopted in place: existing tables are kept, missing ones are created.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shops",
        sa.Column("shop_id", sa.String(64), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("shop_id", name=op.f("pk_shops")),
        if_not_exists=True,
    )
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("shop_id", sa.String(64), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.shop_id"],
                                name=op.f("fk_products_shop_id_shops")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("shop_id", "sku", name="uq_products_shop_sku"),
        if_not_exists=True,
    )
    op.create_index("ix_products_shop_id", "products", ["shop_id"], if_not_exists=True)
    op.create_index("ix_products_category", "products", ["category"], if_not_exists=True)
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(12), nullable=False),
        sa.Column("shop_id", sa.String(64), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.shop_id"],
                                name=op.f("fk_api_keys_shop_id_shops")),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_api_keys")),
        if_not_exists=True,
    )
    op.create_index("ix_api_keys_shop_id", "api_keys", ["shop_id"], if_not_exists=True)


def downgrade() -> None:
    op.drop_table("api_keys")
    op.drop_table("products")
    op.drop_table("shops")
