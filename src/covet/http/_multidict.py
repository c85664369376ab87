"""The ordered, immutable multi-dict shared by query parameters and form data."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = ("ImmutableMultiDict",)


class ImmutableMultiDict(Mapping[str, Any]):
    """An ordered multi-dict: ``d[key]`` is the last value, ``getlist`` gives all."""

    __slots__ = ("_dict", "_list")

    def __init__(self, items: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None) -> None:
        if items is None:
            pairs: list[tuple[str, Any]] = []
        elif isinstance(items, ImmutableMultiDict):
            pairs = items.multi_items()
        elif isinstance(items, Mapping):
            pairs = list(items.items())
        else:
            pairs = [(k, v) for k, v in items]
        self._list = pairs
        self._dict = dict(pairs)

    def getlist(self, key: str) -> list[Any]:
        """All values for ``key`` in order (empty list when absent)."""
        return [v for k, v in self._list if k == key]

    def multi_items(self) -> list[tuple[str, Any]]:
        """Every ``(key, value)`` pair, repeated keys included, in order."""
        return list(self._list)

    def __getitem__(self, key: str) -> Any:
        return self._dict[key]

    def __contains__(self, key: object) -> bool:
        return key in self._dict

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ImmutableMultiDict):
            return NotImplemented
        return sorted(self._list, key=repr) == sorted(other._list, key=repr)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._list!r})"
