"""OAuth2 password flow: the bearer token issued by the application's token endpoint."""

from __future__ import annotations

from collections.abc import Mapping

from covet.http import Request
from covet.security.base import SecurityBase

__all__ = ("OAuth2PasswordBearer",)


class OAuth2PasswordBearer(SecurityBase):
    """``Authorization: Bearer <token>`` for tokens from ``token_url`` (password flow).

    ``scopes`` maps each scope the application knows to its description (shown by Swagger
    UI's *Authorize* dialog); a route requires some of them with
    ``Security(oauth2, scopes=["orders:read"])``. Returns the raw token string.
    """

    __slots__ = ("token_url",)
    challenge = "Bearer"

    def __init__(
        self,
        token_url: str,
        *,
        scopes: Mapping[str, str] | None = None,
        refresh_url: str | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        if not token_url:
            raise ValueError("token_url is required")
        self.token_url = token_url
        flow: dict[str, object] = {"tokenUrl": token_url, "scopes": dict(scopes or {})}
        if refresh_url:
            flow["refreshUrl"] = refresh_url
        super().__init__(
            {"type": "oauth2", "flows": {"password": flow}},
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )

    async def __call__(self, request: Request) -> str | None:
        value = request.headers.get("authorization")
        scheme, _, token = (value or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or " " in token:  # like HTTPBearer
            if self.auto_error:
                self._unauthorized()
            return None
        return token
