"""The two backends the store runs on, for the tests: DuckDB files, and databases on a PostgreSQL server.

A test module marked ``both_backends`` runs each of its tests twice, as
``[duckdb]`` and ``[postgresql]``; a test in it marked ``duckdb_only`` runs
once (it opens DuckDB files itself). The PostgreSQL cases need a server:
``BACKPLAN_TEST_POSTGRES`` is its URL (a role that may create databases). Without
it they are skipped on a laptop, and fail when ``BACKPLAN_TEST_POSTGRES_REQUIRED``
is set, as ``.ci/run`` sets it: a test skipped in CI would be a defect unseen.

Each PostgreSQL case gets a database of its own, copied from a template migrated once per
session (``CREATE DATABASE … TEMPLATE``: a few milliseconds, not a migration per test).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import pytest

from planner import store

#: The server's URL: ``postgresql://postgres@127.0.0.1:5432/postgres``.
URL_ENV = "BACKPLAN_TEST_POSTGRES"
#: Set (to anything) where PostgreSQL must be there: CI.
REQUIRED_ENV = "BACKPLAN_TEST_POSTGRES_REQUIRED"
BACKENDS = ("duckdb", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_backends: run each test on DuckDB and on PostgreSQL")
    config.addinivalue_line("markers", "duckdb_only: in a both_backends module, a test about DuckDB files")
    config.addinivalue_line("markers", "postgres: needs the PostgreSQL server (BACKPLAN_TEST_POSTGRES)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marked = metafunc.definition.get_closest_marker("both_backends")
    if "backend" in metafunc.fixturenames and marked and not metafunc.definition.get_closest_marker("duckdb_only"):
        metafunc.parametrize("backend", BACKENDS, indirect=True)


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` instead."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


@dataclass
class PostgresServer:
    """The test server: makes and drops the databases tests run on."""

    url: str
    #: one per test process, so runs side by side (pytest-xdist workers, two checkouts) never drop each other's
    template: str = field(default_factory=lambda: f"backplan_test_template_{os.getpid()}")
    _names: Iterator[int] = field(default_factory=itertools.count)

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]  # names made here, never user text

    def prepare(self) -> None:
        """The template: an empty database at the latest schema (C collation: sorted as DuckDB sorts)."""
        self.admin(f"DROP DATABASE IF EXISTS {self.template} WITH (FORCE)")
        self.admin(f"CREATE DATABASE {self.template} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'")
        store.connect(with_database(self.url, self.template)).close()

    def fresh(self, *, empty: bool = False, like: str | None = None) -> str:
        """The URL of a new database: at the latest schema, or ``empty`` (nothing in it, not even the schema),
        or a copy of database ``like`` (which nobody may be connected to)."""
        name = f"backplan_test_{os.getpid()}_{next(self._names)}"
        source = like or ("template0" if empty else self.template)
        # FILE_COPY: a few milliseconds for a small template, where the default strategy logs every page.
        self.admin(f"CREATE DATABASE {name} TEMPLATE {source} ENCODING 'UTF8' LOCALE 'C' STRATEGY FILE_COPY")
        return with_database(self.url, name)

    def drop(self, url: str) -> None:
        self.admin(f"DROP DATABASE IF EXISTS {urlsplit(url).path.lstrip('/')} WITH (FORCE)")


_server: PostgresServer | None = None


def postgres_server() -> PostgresServer:
    """The session's server, its template prepared on first use; skipped (or failed, in CI) when there is none."""
    global _server
    url = os.environ.get(URL_ENV, "").strip()
    if not url:
        if os.environ.get(REQUIRED_ENV):
            pytest.fail(f"{REQUIRED_ENV} is set but {URL_ENV} is not: the PostgreSQL cases cannot run")
        pytest.skip(f"no PostgreSQL server for the tests: set {URL_ENV}=postgresql://user@host:port/postgres")
    if _server is None or _server.url != url:
        server = PostgresServer(url)
        try:
            server.prepare()
        except Exception as error:
            if os.environ.get(REQUIRED_ENV):
                pytest.fail(f"the PostgreSQL server at {url} cannot be used: {error}")
            pytest.skip(f"the PostgreSQL server at {url} cannot be used: {error}")
        _server = server
    return _server


def pytest_sessionfinish() -> None:
    """Drop this process's template: a local cluster kept between runs keeps no template per run."""
    if _server is not None:
        _server.drop(with_database(_server.url, _server.template))


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """Which database the test's store is on: "duckdb" unless the module runs on both."""
    return getattr(request, "param", "duckdb")


@pytest.fixture
def postgres() -> PostgresServer:
    """The PostgreSQL server, for tests that need one whatever the module's backend."""
    return postgres_server()
