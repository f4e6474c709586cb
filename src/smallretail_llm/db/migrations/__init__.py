"""Alembic migration scripts for the product DB; run them through smallretail_llm.db.migrate."""
