"""HTTP authentication schemes: ``HTTPBearer`` and ``HTTPBasic`` (RFC 7235, 6750, 7617)."""

from __future__ import annotations

import binascii
from base64 import b64decode
from dataclasses import dataclass

from covet.http import Request
from covet.security.base import SecurityBase

__all__ = ("HTTPAuthorizationCredentials", "HTTPBasic", "HTTPBasicCredentials", "HTTPBearer")


@dataclass(frozen=True, slots=True)
class HTTPAuthorizationCredentials:
    """The ``Authorization`` header split into ``scheme`` and ``credentials``."""

    scheme: str
    credentials: str


@dataclass(frozen=True, slots=True)
class HTTPBasicCredentials:
    """Decoded Basic credentials (any Unicode: the client chooses them).

    Compare as bytes in constant time, ``secrets.compare_digest(creds.password.encode(),
    expected.encode())``: given ``str`` it raises ``TypeError`` (a 500) on non-ASCII input.
    """

    username: str
    password: str

    def __repr__(self) -> str:  # never print the password
        return f"HTTPBasicCredentials(username={self.username!r}, password='***')"


def _split_authorization(request: Request) -> tuple[str, str] | None:
    value = request.headers.get("authorization")
    if not value:
        return None
    scheme, _, credentials = value.strip().partition(" ")
    return scheme, credentials.strip()


class HTTPBearer(SecurityBase):
    """``Authorization: Bearer <token>`` -> ``HTTPAuthorizationCredentials``."""

    __slots__ = ()
    challenge = "Bearer"

    def __init__(
        self,
        *,
        bearer_format: str | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        scheme = {"type": "http", "scheme": "bearer"}
        if bearer_format:
            scheme["bearerFormat"] = bearer_format
        super().__init__(
            scheme, scheme_name=scheme_name, description=description, auto_error=auto_error
        )

    async def __call__(self, request: Request) -> HTTPAuthorizationCredentials | None:
        parts = _split_authorization(request)
        if parts is None:
            if self.auto_error:
                self._unauthorized()
            return None
        scheme, token = parts
        if scheme.lower() != "bearer" or not token or " " in token:
            if self.auto_error:
                self._unauthorized("Invalid authentication credentials")
            return None
        return HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)


class HTTPBasic(SecurityBase):
    """``Authorization: Basic base64(user:password)`` -> ``HTTPBasicCredentials``.

    ``realm`` goes into the ``WWW-Authenticate`` challenge, so browsers show a login box.
    """

    __slots__ = ("realm",)

    def __init__(
        self,
        *,
        realm: str | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        if realm is not None and any(c in '"\\' or not (" " <= c <= "\xff") or c == "\x7f" for c in realm):
            # It goes into a header: anything else would fail every 401 with a 500.
            raise ValueError(
                "realm must be Latin-1 text without quotes, backslashes or control characters"
            )
        self.realm = realm
        super().__init__(
            {"type": "http", "scheme": "basic"},
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )

    @property
    def challenge(self) -> str:  # type: ignore[override]
        return f'Basic realm="{self.realm}"' if self.realm else "Basic"

    async def __call__(self, request: Request) -> HTTPBasicCredentials | None:
        parts = _split_authorization(request)
        if parts is None:
            if self.auto_error:
                self._unauthorized()
            return None
        scheme, encoded = parts
        if scheme.lower() != "basic":
            if self.auto_error:
                self._unauthorized("Invalid authentication credentials")
            return None
        try:
            decoded = b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            decoded = ""
        username, sep, password = decoded.partition(":")
        if not sep:
            if self.auto_error:
                self._unauthorized("Invalid authentication credentials")
            return None
        return HTTPBasicCredentials(username=username, password=password)
