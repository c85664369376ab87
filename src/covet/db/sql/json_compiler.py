"""The JSON-document part of the compiler: ``JsonKey`` and the conditions on it, per
backend (PostgreSQL jsonb operators, SQLite ``json_type``/``->``, MySQL ``JSON_*``).

Keys are never SQL text: PostgreSQL binds each key (``doc -> $1``); SQLite and MySQL bind
a JSON-path string built by ``dialect.json_path``. Array indices are validated ints.
Type names written into the SQL come from fixed tables.
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from covet.db.exceptions import NotSupportedError
from covet.db.sql.nodes import JsonCompare, JsonHasKeys, JsonKey, JsonText, JsonTypeIs

if TYPE_CHECKING:
    from covet.db.sql.compiler import DialectLike

__all__ = ("JsonCompiler",)

_SQLITE_TYPES: dict[str, tuple[str, ...]] = {
    "string": ("text",),
    "number": ("integer", "real"),
    "boolean": ("true", "false"),
    "null": ("null",),
    "object": ("object",),
    "array": ("array",),
}
_MYSQL_TYPES: dict[str, tuple[str, ...]] = {
    "string": ("STRING",),
    "number": ("INTEGER", "UNSIGNED INTEGER", "DOUBLE", "DECIMAL"),
    "boolean": ("BOOLEAN",),
    "null": ("NULL",),
    "object": ("OBJECT",),
    "array": ("ARRAY",),
}
_INT64 = range(-(2**63), 2**63)


def _one_of(names: tuple[str, ...]) -> str:
    """``= 'a'`` or ``IN ('a', 'b')`` for constant type names (never user input)."""
    if len(names) == 1:
        return f"= '{names[0]}'"
    return "IN (" + ", ".join(f"'{n}'" for n in names) + ")"


def _json_scalar(value: Any) -> str:
    """The JSON text of a JsonCompare value (a Decimal keeps its digits)."""
    if isinstance(value, decimal.Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _sqlite_number(value: Any) -> int | float:
    """A number SQLite can bind: Decimals and ints beyond 64 bits become floats."""
    if isinstance(value, decimal.Decimal):
        if value != value.to_integral_value():
            return float(value)
        value = int(value)
    if isinstance(value, int) and value not in _INT64:
        return float(value)
    return value


class JsonCompiler:
    """Mixed into ``Compiler``: the ``visit_Json*`` methods and JSON sort keys."""

    __slots__ = ()

    if TYPE_CHECKING:
        dialect: DialectLike
        vendor: str
        _json_refs: dict[int, tuple[JsonKey, list[str]]]

        def visit(self, node: Any) -> str: ...

        def add_param(self, value: Any) -> str: ...

        def q(self, ident: str) -> str: ...

        def _wrap(self, node: Any) -> str: ...


    def _no_json(self, node: Any) -> str:
        raise NotSupportedError(f"{self.vendor} has no JSON key operations")

    visit_JsonKey = visit_JsonText = visit_JsonTypeIs = _no_json
    visit_JsonCompare = visit_JsonHasKeys = _no_json

    def json_sort_keys(self, key: JsonKey) -> list[str]:
        """The ORDER BY expressions for a JSON key: numbers by value, strings as text."""
        method: Callable[[JsonKey], list[str]] | None = getattr(
            self, f"json_sort_keys_{self.vendor}", None
        )
        return method(key) if method is not None else [self.visit(key)]

    # PostgreSQL (jsonb): ``->`` per step; JSON values compare as jsonb of one type.
    def _pg_json(self, key: JsonKey, *, text: bool = False) -> str:
        memo = self._json_refs.get(id(key))
        if memo is None or memo[0] is not key:
            refs = [str(s) if isinstance(s, int) else self.add_param(s) for s in key.path]
            self._json_refs[id(key)] = (key, refs)
        else:
            refs = memo[1]
        sql = self.visit(key.expr)
        last = len(refs) - 1
        for i, (step, ref) in enumerate(zip(key.path, refs, strict=True)):
            op = "->>" if text and i == last else "->"
            if isinstance(step, int):  # ``-> 0`` of a scalar is the scalar: arrays only
                sql = f"CASE WHEN jsonb_typeof({sql}) = 'array' THEN {sql} {op} {ref} END"
            else:
                sql = f"{sql} {op} {ref}"
        if text and not refs:
            sql += " #>> '{}'"
        return f"({sql})"

    def visit_JsonKey_postgresql(self, node: JsonKey) -> str:
        return self._pg_json(node)

    def visit_JsonText_postgresql(self, node: JsonText) -> str:
        return self._pg_json(node.key, text=True)

    def visit_JsonTypeIs_postgresql(self, node: JsonTypeIs) -> str:
        return f"jsonb_typeof({self._pg_json(node.key)}) = '{node.json_type}'"

    def visit_JsonCompare_postgresql(self, node: JsonCompare) -> str:
        value = self._pg_json(node.key)
        param = f"{self.add_param(_json_scalar(node.value))}::jsonb"
        if node.op == "=":  # jsonb equality already requires the same type
            return f"{value} = {param}"
        return f"(jsonb_typeof({value}) = '{node.json_type}' AND {value} {node.op} {param})"

    def visit_JsonHasKeys_postgresql(self, node: JsonHasKeys) -> str:
        doc = self._pg_json(node.key)
        if len(node.keys) == 1:
            test = f"{doc} ? {self.add_param(node.keys[0])}"
        else:
            test = f"{doc} {'?|' if node.any_ else '?&'} {self.add_param(list(node.keys))}"
        # ``?`` also matches the string elements of an array: keys belong to objects
        return f"(jsonb_typeof({doc}) = 'object' AND {test})"

    # SQLite: ``json_type``/``->``/``->>`` with a bound path. Its paths cannot quote a
    # key holding ``"``: such a step is looked up with json_each (key bound as is).
    def _sqlite_json(self, key: JsonKey) -> tuple[str, str]:
        """``(document SQL, path placeholder)`` that locate ``key``."""
        if not self.dialect.supports_json_ops:
            raise NotSupportedError("JSON key lookups need SQLite 3.38 or later")
        doc = self.visit(key.expr)
        steps: list[str | int] = []
        for step in key.path:
            if isinstance(step, str) and '"' in step:
                kind, value, name = self.q("type"), self.q("value"), self.q("key")
                doc = (
                    f"(SELECT CASE {kind} WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
                    f"ELSE json_quote({value}) END "
                    f"FROM json_each({doc}, {self.add_param(self.dialect.json_path(steps))}) "
                    f"WHERE {name} = {self.add_param(step)})"
                )
                steps = []
            else:
                steps.append(step)
        return doc, self.add_param(self.dialect.json_path(steps))

    def visit_JsonKey_sqlite(self, node: JsonKey) -> str:
        doc, path = self._sqlite_json(node)
        return f"({doc} -> {path})"

    def visit_JsonText_sqlite(self, node: JsonText) -> str:
        doc, path = self._sqlite_json(node.key)
        return f"({doc} ->> {path})"

    def visit_JsonTypeIs_sqlite(self, node: JsonTypeIs) -> str:
        doc, path = self._sqlite_json(node.key)
        return f"json_type({doc}, {path}) {_one_of(_SQLITE_TYPES[node.json_type])}"

    def visit_JsonCompare_sqlite(self, node: JsonCompare) -> str:
        value = node.value
        doc, path = self._sqlite_json(node.key)
        if value is None or isinstance(value, bool):
            name = "null" if value is None else "true" if value else "false"
            return f"json_type({doc}, {path}) = '{name}'"
        guard = f"json_type({doc}, {path}) {_one_of(_SQLITE_TYPES[node.json_type])}"
        doc, path = self._sqlite_json(node.key)
        param = self.add_param(value if isinstance(value, str) else _sqlite_number(value))
        return f"({guard} AND ({doc} ->> {path}) {node.op} {param})"

    def visit_JsonHasKeys_sqlite(self, node: JsonHasKeys) -> str:
        tests = []
        for k in node.keys:
            doc, path = self._sqlite_json(node.key.child(k))
            tests.append(f"json_type({doc}, {path}) IS NOT NULL")
        return "(" + (" OR " if node.any_ else " AND ").join(tests) + ")"

    def json_sort_keys_sqlite(self, key: JsonKey) -> list[str]:
        doc, path = self._sqlite_json(key)
        return [f"json_extract({doc}, {path})"]  # SQL values: numbers, then text

    # MySQL/MariaDB: JSON_EXTRACT with a bound path (MariaDB returns JSON text).
    def _mysql_guards(self, key: JsonKey) -> list[str]:
        """MySQL reads ``x[0]`` of a non-array as ``x``: index steps need an array parent."""
        return [
            f"JSON_TYPE(JSON_EXTRACT({self.visit(key.expr)}, "
            f"{self.add_param(self.dialect.json_path(key.path[:i]))})) = 'ARRAY'"
            for i, step in enumerate(key.path)
            if isinstance(step, int)
        ]

    def _mysql_json(self, key: JsonKey) -> str:
        guards = self._mysql_guards(key)
        value = (
            f"JSON_EXTRACT({self.visit(key.expr)}, "
            f"{self.add_param(self.dialect.json_path(key.path))})"
        )
        return f"(CASE WHEN {' AND '.join(guards)} THEN {value} END)" if guards else value

    def _mysql_number(self, key: JsonKey) -> str:
        """The number at ``key`` as a DOUBLE, NULL for other types (no conversion warnings)."""
        kind = f"JSON_TYPE({self._mysql_json(key)}) {_one_of(_MYSQL_TYPES['number'])}"
        return f"(CASE WHEN {kind} THEN {self._mysql_json(key)} + 0e0 END)"

    def visit_JsonKey_mysql(self, node: JsonKey) -> str:
        return self._mysql_json(node)

    def visit_JsonText_mysql(self, node: JsonText) -> str:
        return f"JSON_UNQUOTE({self._mysql_json(node.key)})"

    def visit_JsonTypeIs_mysql(self, node: JsonTypeIs) -> str:
        return f"JSON_TYPE({self._mysql_json(node.key)}) {_one_of(_MYSQL_TYPES[node.json_type])}"

    def visit_JsonCompare_mysql(self, node: JsonCompare) -> str:
        value = node.value
        if value is None:
            return f"JSON_TYPE({self._mysql_json(node.key)}) = 'NULL'"
        if isinstance(value, bool):
            return (
                f"(JSON_TYPE({self._mysql_json(node.key)}) = 'BOOLEAN' "
                f"AND JSON_UNQUOTE({self._mysql_json(node.key)}) = '{'true' if value else 'false'}')"
            )
        if isinstance(value, str):
            return (
                f"(JSON_TYPE({self._mysql_json(node.key)}) = 'STRING' "
                f"AND JSON_UNQUOTE({self._mysql_json(node.key)}) {node.op} {self.add_param(value)})"
            )
        # the type test first: a present non-number is false (not NULL), as elsewhere
        kind = f"JSON_TYPE({self._mysql_json(node.key)}) {_one_of(_MYSQL_TYPES['number'])}"
        number = self._mysql_number(node.key)
        return f"({kind} AND {number} {node.op} {self.add_param(value)})"

    def visit_JsonHasKeys_mysql(self, node: JsonHasKeys) -> str:
        key = node.key
        guards = self._mysql_guards(key)
        paths = ", ".join(self.add_param(self.dialect.json_path((*key.path, k))) for k in node.keys)
        mode = "one" if node.any_ else "all"
        test = f"JSON_CONTAINS_PATH({self.visit(key.expr)}, '{mode}', {paths})"
        return f"({' AND '.join([*guards, test])})"

    def json_sort_keys_mysql(self, key: JsonKey) -> list[str]:
        # MariaDB's JSON is text: numbers first by value, then everything by its text
        return [self._mysql_number(key), f"JSON_UNQUOTE({self._mysql_json(key)})"]
