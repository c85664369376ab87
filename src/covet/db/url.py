"""Database URLs: parsing, pool options from the query string, password masking.

sqlite:///relative/path.db      sqlite:////absolute/path.db      sqlite:///:memory:
postgresql://user:pass@host:5432/db?sslmode=require   (also postgres://)
mysql://user:pass@host:3306/db   mariadb://...   mysql+aiomysql://... (force a driver)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from covet.db.exceptions import InterfaceError

__all__ = ("POOL_OPTIONS", "DatabaseURL", "mask_password", "scrub")

_SCHEMES = {
    "sqlite": "sqlite",
    "sqlite3": "sqlite",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "pgsql": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
}
_DRIVERS = {"sqlite": ("sqlite3",), "postgresql": ("asyncpg",), "mysql": ("asyncmy", "aiomysql")}

#: query-string options read by the pool (and removed before the driver sees the URL)
POOL_OPTIONS: dict[str, type] = {
    "min_size": int,
    "max_size": int,
    "acquire_timeout": float,
    "recycle": float,
    "idle_ping": float,
}

_USERINFO = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]*)(?P<at>@)")


def mask_password(url: str) -> str:
    """``url`` with the password part replaced by ``***``."""
    return _USERINFO.sub(lambda m: m.group("head") + "***" + m.group("at"), url)


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """Remove every occurrence of ``secrets`` (and URL passwords) from ``text``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return mask_password(text)


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed database URL; ``str()`` and ``repr()`` never show the password."""

    dialect: str
    driver: str | None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    host: str | None = None
    port: int | None = None
    database: str = ""
    options: dict[str, str] = field(default_factory=dict)
    is_mariadb_scheme: bool = False

    @classmethod
    def parse(cls, url: str) -> DatabaseURL:
        """Parse ``url``; raises InterfaceError (with the password masked) when malformed."""
        if not isinstance(url, str) or "://" not in url:
            shown = mask_password(url) if isinstance(url, str) else type(url).__name__
            raise InterfaceError(f"invalid database URL {shown!r}: expected scheme://...")
        scheme, _, rest = url.partition("://")
        base, _, driver = scheme.lower().partition("+")
        dialect = _SCHEMES.get(base)
        if dialect is None:
            raise InterfaceError(
                f"unsupported database scheme {base!r} in {mask_password(url)!r}; "
                f"expected one of {sorted(_SCHEMES)}"
            )
        if driver and driver not in _DRIVERS[dialect]:
            raise InterfaceError(
                f"unsupported driver {driver!r} for {dialect}; expected one of {_DRIVERS[dialect]}"
            )
        if dialect == "sqlite":
            return cls._parse_sqlite(rest, url)
        try:
            parts = urlsplit(f"{base}://{rest}")
            port = parts.port
        except ValueError as exc:
            raise InterfaceError(f"invalid database URL {mask_password(url)!r}: {exc}") from None
        return cls(
            dialect=dialect,
            driver=driver or None,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            host=unquote(parts.hostname) if parts.hostname else None,
            port=port,
            database=unquote(parts.path.lstrip("/")),
            options=dict(parse_qsl(parts.query, keep_blank_values=True)),
            is_mariadb_scheme=base == "mariadb",
        )

    @classmethod
    def _parse_sqlite(cls, rest: str, url: str) -> DatabaseURL:
        path, _, query = rest.partition("?")
        if path.startswith("/"):
            path = path[1:]  # sqlite:///rel -> "rel", sqlite:////abs -> "/abs"
        elif path:
            raise InterfaceError(
                f"invalid SQLite URL {url!r}: use sqlite:///relative.db or sqlite:////absolute.db"
            )
        if "\x00" in path:
            raise InterfaceError("invalid SQLite URL: the path contains NUL")
        return cls(
            dialect="sqlite",
            driver="sqlite3",
            database=unquote(path) or ":memory:",
            options=dict(parse_qsl(query, keep_blank_values=True)),
        )

    @property
    def is_memory(self) -> bool:
        return self.dialect == "sqlite" and (
            self.database == ":memory:" or self.options.get("mode") == "memory"
        )

    def pool_options(self) -> dict[str, Any]:
        """Pool options given in the query string (``?min_size=2&max_size=20``)."""
        out: dict[str, Any] = {}
        for key, conv in POOL_OPTIONS.items():
            if key in self.options:
                try:
                    out[key] = conv(self.options[key])
                except ValueError:
                    raise InterfaceError(
                        f"invalid {key}={self.options[key]!r} in the database URL"
                    ) from None
        return out

    def driver_options(self) -> dict[str, str]:
        """Query-string options that are not pool options (``sslmode``...)."""
        return {k: v for k, v in self.options.items() if k not in POOL_OPTIONS}

    def render(self, *, mask: bool = True, with_pool_options: bool = False) -> str:
        """The URL as text; the password is ``***`` unless ``mask=False``."""
        scheme = self.dialect
        if self.driver and self.dialect != "sqlite":
            scheme += "+" + self.driver
        options = self.options if with_pool_options else self.driver_options()
        query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in options.items())
        if self.dialect == "sqlite":
            return f"sqlite:///{self.database}" + (f"?{query}" if query else "")
        auth = ""
        if self.username is not None:
            auth = quote(self.username, safe="")
            if self.password is not None:
                auth += ":" + ("***" if mask else quote(self.password, safe=""))
            auth += "@"
        host = self.host or ""
        if ":" in host:
            host = f"[{host}]"
        port = f":{self.port}" if self.port else ""
        return f"{scheme}://{auth}{host}{port}/{quote(self.database)}" + (
            f"?{query}" if query else ""
        )

    def __str__(self) -> str:
        return self.render()

    def secrets(self) -> tuple[str, ...]:
        """Strings that must never appear in messages (the password, raw and quoted)."""
        if not self.password:
            return ()
        return tuple({self.password, quote(self.password, safe="")})
