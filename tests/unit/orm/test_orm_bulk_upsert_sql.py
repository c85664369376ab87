"""The SQL bulk_create(ignore_conflicts=... / update_conflicts=...) runs per dialect, and
its option checks, against a recording stand-in for the database (no server)."""

from __future__ import annotations

from typing import Any

import pytest
from orm_sql_support import DIALECTS, q

from covet.db.dialects import get_dialect
from covet.db.sql import insert, table
from covet.db.sql.compiler import Compiler
from covet.orm import Field, FieldError, Model
from covet.orm.persistence import bulk_insert


class BulkSku(Model):
    id: int = Field(primary_key=True)
    code: str = Field(max_length=20, unique=True)
    qty: int = 0

    class Meta:
        table = "u_bulk_sku"


class RecordingDB:
    """Records statements; RETURNING answers one pk per row (1, 2, ...)."""

    def __init__(self, dialect: str, *, returning: bool = True) -> None:
        self.dialect = get_dialect(dialect)
        self.dialect.supports_returning = returning
        self.statements: list[tuple[str, list[Any]]] = []

    async def execute(self, sql: str, params: list[Any]) -> int:
        self.statements.append((sql, params))
        return len(params) // 2

    async def fetch_rows(self, sql: str, params: list[Any]) -> list[tuple[int]]:
        self.statements.append((sql, params))
        return [(i + 1,) for i in range(len(params) // 2)]


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_sql_per_dialect(dialect: str) -> None:
    db = RecordingDB(dialect)
    new = [BulkSku(code="a", qty=1), BulkSku(code="b")]
    await bulk_insert(BulkSku, new, db, None, ignore_conflicts=True)
    await bulk_insert(BulkSku, [BulkSku(id=7, code="c")], db, None, ignore_conflicts=True)
    up = [BulkSku(code="a", qty=5), BulkSku(code="d")]
    await bulk_insert(
        BulkSku, up, db, None, update_conflicts=True, unique_fields=["code"], update_fields=["qty"]
    )
    cols = '("code", "qty") VALUES (?, ?), (?, ?)'
    expected = {
        "postgresql": [
            f'INSERT INTO "u_bulk_sku" {cols} ON CONFLICT DO NOTHING',
            'INSERT INTO "u_bulk_sku" ("id", "code", "qty") VALUES (?, ?, ?) '
            'ON CONFLICT DO NOTHING RETURNING "id"',
            f'INSERT INTO "u_bulk_sku" {cols} ON CONFLICT ("code") '
            'DO UPDATE SET "qty" = EXCLUDED."qty" RETURNING "id"',
        ],
        "mysql": [
            f'INSERT INTO "u_bulk_sku" {cols} ON DUPLICATE KEY UPDATE "code" = "code"',
            'INSERT INTO "u_bulk_sku" ("id", "code", "qty") VALUES (?, ?, ?) '
            'ON DUPLICATE KEY UPDATE "id" = "id"',
            f'INSERT INTO "u_bulk_sku" {cols} ON DUPLICATE KEY UPDATE "qty" = VALUES("qty") '
            'RETURNING "id"',
        ],
    }
    expected["sqlite"] = expected["postgresql"]
    assert [s for s, _ in db.statements] == [q(s, dialect) for s in expected[dialect]]
    assert [p for _, p in db.statements] == [["a", 1, "b", 0], [7, "c", 0], ["a", 5, "d", 0]]
    # ignore: no pk for objects without one; update: the pks RETURNING gave, in order
    assert [o.pk for o in new] == [None, None] and [o.pk for o in up] == [1, 2]
    assert all(o.__dict__["_persisted"] for o in up)
    assert not any(o.__dict__["_persisted"] for o in new)


async def test_without_returning_pks_stay_unset() -> None:
    db = RecordingDB("mysql", returning=False)
    up = [BulkSku(code="a", qty=5), BulkSku(code="d")]
    await bulk_insert(
        BulkSku, up, db, None, update_conflicts=True, unique_fields=["code"], update_fields=["qty"]
    )
    assert db.statements[0][0].endswith("ON DUPLICATE KEY UPDATE `qty` = VALUES(`qty`)")
    assert [o.pk for o in up] == [None, None]
    assert not any(o.__dict__["_persisted"] for o in up)


async def test_ignore_marks_saved_only_the_returned_pks() -> None:
    class Answer(RecordingDB):
        async def fetch_rows(self, sql: str, params: list[Any]) -> list[tuple[int]]:
            self.statements.append((sql, params))
            return [(3,), (5,)]  # 4 was skipped; the second 3 is a duplicate of the first

    db = Answer("postgresql")
    objs = [BulkSku(id=i, code=f"c{n}") for n, i in enumerate([3, 4, 3, 5])]
    await bulk_insert(BulkSku, objs, db, None, ignore_conflicts=True)
    assert [o.__dict__["_persisted"] for o in objs] == [True, False, False, True]
    assert [o.pk for o in objs] == [3, 4, 3, 5]


async def test_batches_follow_the_parameter_limit() -> None:
    db = RecordingDB("sqlite")
    db.dialect.max_params = 10  # 5 rows of 2 columns per statement
    objs = [BulkSku(code=f"c{i}") for i in range(12)]
    upsert = {"update_conflicts": True, "unique_fields": ["code"], "update_fields": ["qty"]}
    await bulk_insert(BulkSku, objs, db, None, **upsert)
    assert [len(p) // 2 for _, p in db.statements] == [5, 5, 2]
    db.statements.clear()
    objs = [BulkSku(code=f"c{i}") for i in range(12)]
    await bulk_insert(BulkSku, objs, db, 4, ignore_conflicts=True)
    assert [len(p) // 2 for _, p in db.statements] == [4, 4, 4]
    db.statements.clear()
    with_pks = [BulkSku(id=i + 1, code=f"c{i}") for i in range(7)]  # 3 columns: 3 rows
    await bulk_insert(BulkSku, with_pks, db, None, ignore_conflicts=True)
    assert [len(p) // 3 for _, p in db.statements] == [3, 3, 1]


UPSERT = {"update_conflicts": True}


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"ignore_conflicts": True, "update_conflicts": True}, ValueError),
        ({"unique_fields": ["code"]}, ValueError),
        ({"update_fields": ["qty"]}, ValueError),
        ({**UPSERT, "unique_fields": ["code"]}, ValueError),
        ({**UPSERT, "unique_fields": ["code"], "update_fields": []}, ValueError),
        ({**UPSERT, "unique_fields": ["qty"], "update_fields": ["qty"]}, ValueError),
        ({**UPSERT, "unique_fields": ["code"], "update_fields": ["x"]}, FieldError),
        ({**UPSERT, "unique_fields": ["x"], "update_fields": ["qty"]}, FieldError),
        ({**UPSERT, "unique_fields": ["code"], "update_fields": ["pk"]}, FieldError),
        ({**UPSERT, "unique_fields": "code", "update_fields": ["qty"]}, TypeError),
        ({"batch_size": -1}, ValueError),
    ],
)
async def test_bad_options(dialect: str, options: dict[str, Any], error: type[Exception]) -> None:
    db = RecordingDB(dialect)
    options = dict(options)
    batch_size = options.pop("batch_size", None)
    with pytest.raises(error):
        await bulk_insert(BulkSku, [BulkSku(code="a")], db, batch_size, **options)
    assert db.statements == []


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_unique_fields_are_optional_on_mysql_only(dialect: str) -> None:
    db = RecordingDB(dialect)
    objs = [BulkSku(code="a")]
    if dialect == "mysql":
        await bulk_insert(BulkSku, objs, db, None, update_conflicts=True, update_fields=["qty"])
        tail = "ON DUPLICATE KEY UPDATE `qty` = VALUES(`qty`) RETURNING `id`"
        assert db.statements[0][0].endswith(tail)
    else:
        with pytest.raises(ValueError, match="needs unique_fields"):
            await bulk_insert(BulkSku, objs, db, None, update_conflicts=True, update_fields=["qty"])
        assert db.statements == []


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_do_nothing_without_a_conflict_target(dialect: str) -> None:
    stmt = insert(table("t"), {"a": 1}, update_columns=[])
    assert Compiler(get_dialect(dialect)).compile(stmt)[0].endswith(" ON CONFLICT DO NOTHING")
    with pytest.raises(ValueError, match="DO UPDATE needs conflict_target"):
        Compiler(get_dialect(dialect)).compile(insert(table("t"), {"a": 1}, update_columns=["a"]))
