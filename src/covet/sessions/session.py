"""The dict-like session object behind ``request.session``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

__all__ = ("Session",)


class Session(MutableMapping[str, Any]):
    """A dict of JSON-serialisable values that remembers whether it was changed.

    Setting or deleting a key marks it ``modified``; the middleware then writes it back
    (and re-sends the cookie). Mutating a nested value in place (``session["cart"].append``)
    is invisible to it: set ``session.modified = True`` afterwards. ``regenerate()`` asks
    for a new session id, for the session-fixation defence on login.
    """

    __slots__ = ("_data", "_regenerate", "modified", "session_id")

    def __init__(self, data: Mapping[str, Any] | None = None, session_id: str | None = None) -> None:
        self._data: dict[str, Any] = dict(data or {})
        self.session_id = session_id
        self.modified = False
        self._regenerate = False

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[key] = value
        self.modified = True

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self.modified = True

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __repr__(self) -> str:
        return f"Session({self._data!r})"

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def clear(self) -> None:
        """Remove every key (the cookie and stored entry are deleted on the response)."""
        if self._data:
            self._data.clear()
            self.modified = True

    def to_dict(self) -> dict[str, Any]:
        """A plain-dict copy of the data."""
        return dict(self._data)

    @property
    def is_new(self) -> bool:
        """True when no stored session was loaded for this request."""
        return self.session_id is None

    @property
    def regenerate_requested(self) -> bool:
        """True once :meth:`regenerate` was called."""
        return self._regenerate

    def regenerate(self) -> None:
        """Move the data to a fresh session id and delete the old server-side entry.

        Call it when privileges change (log-in, log-out) so an id an attacker planted
        before (session fixation) becomes worthless.
        """
        self._regenerate = True
        self.modified = True
