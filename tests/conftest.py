"""Shared fixtures: database URLs for SQLite and PostgreSQL.

`db_url` runs a test once per backend. The PostgreSQL run needs SMALLRETAIL_TEST_PG_URL (CI sets
it through .ci/support/postgres.sh); without it that run is skipped, saying why. Each PostgreSQL
test gets a schema of its own (search_path in the URL), dropped afterwards."""

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_ENV = "SMALLRETAIL_TEST_PG_URL"


@pytest.fixture(scope="session")
def _pg_admin():
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (`source .ci/support/postgres.sh`)")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture
def pg_url(_pg_admin):
    """A PostgreSQL URL whose tables land in a fresh, empty schema."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with _pg_admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(os.environ[PG_ENV])
    yield url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False)
    with _pg_admin.connect() as connection:
        connection.execute(text("SET lock_timeout = '20s'"))  # a leaked open transaction
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """An empty database on each backend: a SQLite file, then a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite'}"
    return request.getfixturevalue("pg_url")
