"""``SecurityBase``: what every security dependency shares."""

from __future__ import annotations

from typing import Any, NoReturn

from covet.exceptions import HTTPException

__all__ = ("SecurityBase", "SecuritySchemeObject")


class SecuritySchemeObject(dict[str, Any]):
    """The OpenAPI Security Scheme dict, which also knows whether its dependency is optional.

    The handler analysis hands this very dict to the OpenAPI generator, which reads
    ``auto_error`` from it to list optional schemes as alternatives.
    """

    __slots__ = ("_owner",)

    def __init__(self, owner: SecurityBase, scheme: dict[str, Any]) -> None:
        super().__init__(scheme)
        self._owner = owner

    @property
    def auto_error(self) -> bool:
        return bool(self._owner.auto_error)


class SecurityBase:
    """A security dependency.

    ``security_scheme`` is the OpenAPI Security Scheme object; ``scheme_name`` names it in
    ``components.securitySchemes`` (default: the class name); ``scopes`` are the scopes a
    route requires when it uses this instance directly (``Security(dep, scopes=[...])``
    adds more); ``auto_error=False`` makes a missing or malformed credential return
    ``None`` instead of answering 401, so that optional authentication is possible.
    """

    __slots__ = ("auto_error", "scheme_name", "scopes", "security_scheme")

    #: ``WWW-Authenticate`` challenge sent with the 401.
    challenge: str = ""

    def __init__(
        self,
        security_scheme: dict[str, Any],
        *,
        scheme_name: str | None,
        description: str | None,
        auto_error: bool,
    ) -> None:
        if description:
            security_scheme["description"] = description
        self.security_scheme: dict[str, Any] = SecuritySchemeObject(self, security_scheme)
        self.scheme_name: str = scheme_name or type(self).__name__
        self.scopes: tuple[str, ...] = ()
        self.auto_error = auto_error

    def _unauthorized(self, detail: str = "Not authenticated") -> NoReturn:
        raise HTTPException(401, detail, headers={"WWW-Authenticate": self.challenge})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(scheme_name={self.scheme_name!r})"
