"""Shared fixtures: real service URLs, each test run in its own fresh database.

Service URLs come from the environment (defaults match the development machine):

    COVET_TEST_POSTGRES_URL  postgresql://postgres@127.0.0.1:5432/test
    COVET_TEST_MYSQL_URL     mysql://root@127.0.0.1:3306/test
    COVET_TEST_REDIS_URL     redis://127.0.0.1:6379/0

Each fixture creates a uniquely named database for this run and drops it at the end.
Without a reachable server the test is skipped with the reason, except when CI=true,
where a missing service is a failure.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

POSTGRES_URL = os.environ.get("COVET_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("COVET_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
REDIS_URL = os.environ.get("COVET_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

RUN_ID = uuid.uuid4().hex[:10]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), 1.0):
            return True
    except OSError:
        return False


def require_service(name: str, url: str, default_port: int) -> None:
    """Skip (or fail under CI) when the service at ``url`` does not answer."""
    if _reachable(url, default_port):
        return
    reason = f"{name} not reachable at {urlsplit(url).netloc}; set COVET_TEST_{name.upper()}_URL"
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def _with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a fresh PostgreSQL database for this test run (dropped afterwards)."""
    require_service("postgres", POSTGRES_URL, 5432)
    asyncpg = pytest.importorskip("asyncpg")
    dbname = f"covet_test_{RUN_ID}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(POSTGRES_URL)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{dbname}"'))
    try:
        yield _with_database(POSTGRES_URL, dbname)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def mysql_url() -> Iterator[str]:
    """URL of a fresh MariaDB/MySQL database for this test run (dropped afterwards)."""
    require_service("mysql", MYSQL_URL, 3306)
    pymysql = pytest.importorskip("pymysql")
    parts = urlsplit(MYSQL_URL)
    dbname = f"covet_test_{RUN_ID}"

    def admin(sql: str) -> None:
        conn = pymysql.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=parts.username or "root",
            password=parts.password or "",
        )
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
            conn.commit()
        finally:
            conn.close()

    admin(f"CREATE DATABASE `{dbname}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    try:
        yield _with_database(MYSQL_URL, dbname)
    finally:
        admin(f"DROP DATABASE IF EXISTS `{dbname}`")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the test Redis server; use ``redis_prefix`` to namespace keys."""
    require_service("redis", REDIS_URL, 6379)
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix unique to this test; its keys are deleted afterwards."""
    prefix = f"covet-test:{RUN_ID}:{uuid.uuid4().hex[:8]}:"
    yield prefix
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
