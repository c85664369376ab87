"""Every column kind round-trips through the real server with the dialect's adapters."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from collections.abc import AsyncIterator

import pytest

from covet.db import Database
from covet.db.dialects import ColumnSpec

pytestmark = pytest.mark.integration


class Status(enum.Enum):
    ACTIVE = "active"
    GONE = "gone"


KINDS: dict[str, tuple[dict[str, object], list[object]]] = {
    "int": ({}, [0, -(2**31), 2**31 - 1]),
    "bigint": ({}, [2**62, -(2**62)]),
    "smallint": ({}, [-32768, 32767]),
    "str": ({"max_length": 50}, ["", "héllo wörld ✓", "emoji 🎉", "quote ' and \\ back"]),
    "text": ({}, ["x" * 70000, "multi\nline\ttext"]),
    "bool": ({}, [True, False]),
    "float": ({}, [0.0, -1.25, 1e300, 3.141592653589793]),
    "decimal": (
        {"max_digits": 20, "decimal_places": 6},
        [
            decimal.Decimal("12345678901234.123456"),
            decimal.Decimal("-0.000001"),
            decimal.Decimal("0.100000"),
        ],
    ),
    "datetime": (
        {},
        [
            dt.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=dt.timezone.utc),
            dt.datetime(1999, 12, 31, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        ],
    ),
    "date": ({}, [dt.date(2024, 2, 29), dt.date(1, 1, 1), dt.date(9999, 12, 31)]),
    "time": ({}, [dt.time(0, 0), dt.time(23, 59, 59, 123456)]),
    "uuid": ({}, [uuid.UUID("00000000-0000-0000-0000-000000000000"), uuid.uuid4()]),
    "bytes": ({}, [b"", b"\x00\x01\xff" * 100]),
    "json": ({}, [{"a": [1, 2.5, None, True], "ü": "✓"}, [1, "two"], "just a string", 42]),
    "enum": ({"max_length": 10}, [Status.ACTIVE, Status.GONE]),
}


@pytest.fixture
async def kind_table(db: Database) -> AsyncIterator[str]:
    name = f"dbtypes_{uuid.uuid4().hex[:8]}"
    cols = [ColumnSpec("id", "int", primary_key=True, auto_increment=True)]
    for kind, (opts, _) in KINDS.items():
        cols.append(ColumnSpec(f"c_{kind}", kind, **opts))  # type: ignore[arg-type]
    for stmt in db.dialect.create_table_sql(name, cols):
        await db.execute(stmt)
    try:
        yield name
    finally:
        await db.execute(db.dialect.drop_table_sql(name, if_exists=True)[0])


@pytest.mark.parametrize("kind", sorted(KINDS))
async def test_round_trip(db: Database, kind_table: str, kind: str) -> None:
    d = db.dialect
    t, col, p = d.quote(kind_table), d.quote(f"c_{kind}"), d.placeholder
    values = KINDS[kind][1]
    for value in [*values, None]:
        new_id = await db.insert_returning_id(
            f"INSERT INTO {t} ({col}) VALUES ({p(1)})", [d.to_db(value, kind)]
        )
        raw = await db.fetch_val(f"SELECT {col} FROM {t} WHERE id = {p(1)}", [new_id])
        back = d.from_db(raw, kind)
        expected = value.value if isinstance(value, enum.Enum) else value
        if isinstance(value, dt.datetime):
            expected = value.astimezone(dt.timezone.utc)
            assert back.tzinfo is not None
        assert back == expected, (kind, value, raw)
        assert type(back) is type(expected) or expected is None


async def test_decimal_precision_is_exact(db: Database, kind_table: str) -> None:
    d = db.dialect
    t, col, p = d.quote(kind_table), d.quote("c_decimal"), d.placeholder
    value = decimal.Decimal("0.1") + decimal.Decimal("0.2")
    await db.execute(f"INSERT INTO {t} ({col}) VALUES ({p(1)})", [d.to_db(value, "decimal")])
    back = d.from_db(await db.fetch_val(f"SELECT {col} FROM {t}"), "decimal")
    assert back == decimal.Decimal("0.3")


async def test_datetime_ordering_matches_time_order(db: Database, kind_table: str) -> None:
    d = db.dialect
    t, col, p = d.quote(kind_table), d.quote("c_datetime"), d.placeholder
    base = dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone.utc)
    moments = [base + dt.timedelta(microseconds=1), base - dt.timedelta(hours=30), base]
    for m in moments:
        await db.execute(f"INSERT INTO {t} ({col}) VALUES ({p(1)})", [d.to_db(m, "datetime")])
    rows = await db.fetch_all(f"SELECT {col} FROM {t} ORDER BY {col}")
    assert [d.from_db(r[0], "datetime") for r in rows] == sorted(moments)
    later = await db.fetch_val(
        f"SELECT COUNT(*) FROM {t} WHERE {col} > {p(1)}", [d.to_db(base, "datetime")]
    )
    assert later == 1
