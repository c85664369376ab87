"""``Record``: one result row, indexable by position and by column name.

PostgreSQL returns asyncpg's own ``Record`` (same interface); SQLite and MySQL rows are
wrapped in this light class. Rows of one result share a single ``{name: index}`` map,
so building a record costs one small object.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

__all__ = ("Record", "column_index")


def column_index(names: Sequence[str]) -> dict[str, int]:
    """``{name: position}`` for a result's columns (the first wins on duplicates)."""
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        index.setdefault(name, i)
    return index


class Record:
    """A row: ``r[0]``, ``r["name"]``, ``r.get("name")``, ``dict(r)``, ``tuple(r)``, ``len(r)``."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: tuple[Any, ...], index: dict[str, int]) -> None:
        self._values = values
        self._index = index

    @overload
    def __getitem__(self, key: int | str) -> Any: ...
    @overload
    def __getitem__(self, key: slice) -> tuple[Any, ...]: ...
    def __getitem__(self, key: int | str | slice) -> Any:
        if type(key) is str:
            try:
                return self._values[self._index[key]]
            except KeyError:
                raise KeyError(key) from None
        return self._values[key]  # type: ignore[index]

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __contains__(self, value: object) -> bool:
        return value in self._values

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Record):
            return self._values == other._values and list(self._index) == list(other._index)
        if isinstance(other, tuple):
            return self._values == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values)

    def __repr__(self) -> str:
        fields = " ".join(f"{k}={self._values[i]!r}" for k, i in self._index.items())
        return f"<Record {fields}>"

    def keys(self) -> Iterator[str]:
        return iter(self._index)

    def values(self) -> Iterator[Any]:
        return iter(self._values)

    def items(self) -> Iterator[tuple[str, Any]]:
        values = self._values
        return ((k, values[i]) for k, i in self._index.items())

    def get(self, key: str, default: Any = None) -> Any:
        i = self._index.get(key)
        return default if i is None else self._values[i]
