"""API keys in a header, the query string or a cookie."""

from __future__ import annotations

from typing import Literal

from covet.http import Request
from covet.security.base import SecurityBase

__all__ = ("APIKeyCookie", "APIKeyHeader", "APIKeyQuery")


class _APIKeyBase(SecurityBase):
    __slots__ = ("name",)
    location: Literal["header", "query", "cookie"] = "header"
    challenge = "APIKey"

    def __init__(
        self,
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        if not name:
            raise ValueError("the API key needs the name of its header, parameter or cookie")
        self.name = name
        super().__init__(
            {"type": "apiKey", "name": name, "in": self.location},
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )

    async def __call__(self, request: Request) -> str | None:
        if self.location == "header":
            value = (request.headers.get(self.name) or "").strip()
        elif self.location == "query":
            value = request.query_params.get(self.name) or ""
        else:
            value = request.cookies.get(self.name) or ""
        if not value:
            if self.auto_error:
                self._unauthorized()
            return None
        return value


class APIKeyHeader(_APIKeyBase):
    """The key in a request header (``APIKeyHeader(name="X-API-Key")``)."""

    __slots__ = ()
    location = "header"


class APIKeyQuery(_APIKeyBase):
    """The key in a query parameter (``APIKeyQuery(name="api_key")``)."""

    __slots__ = ()
    location = "query"


class APIKeyCookie(_APIKeyBase):
    """The key in a cookie (``APIKeyCookie(name="session_key")``)."""

    __slots__ = ()
    location = "cookie"
