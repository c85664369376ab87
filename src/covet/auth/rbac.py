"""Role-based access control: roles grant permissions, roles inherit roles, guards answer 403.

Permissions are strings of ``:``-separated segments (``"posts:write"``). A *granted*
permission may end with a ``*`` segment: ``"posts:*"`` grants every permission that starts
with ``posts:`` and has at least one more segment (``posts:write``, ``posts:comments:delete``,
but not ``posts``), and ``"*"`` alone grants everything. ``*`` anywhere else, empty segments
and characters outside ``A-Z a-z 0-9 _ . -`` are refused when the policy is built. A
*required* permission never contains ``*``. Matching is case-sensitive.

The policy is defined in code (``Policy(Role(...), ...)``) and checked when built: unknown
parent roles and inheritance cycles raise ``ValueError``. ``RBAC`` turns it into handler
dependencies, ``requires("posts:write")`` and ``requires_role("admin")``, that read the
user from your own dependency.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from covet.exceptions import HTTPException
from covet.handlers import Depends, Security

__all__ = ("RBAC", "Policy", "Role", "check_permission", "grants")

_SEGMENT = re.compile(r"[A-Za-z0-9_.\-]+")


def check_permission(permission: str, *, pattern: bool = False) -> str:
    """``permission`` if well formed (a trailing ``*`` segment only when ``pattern``), else ValueError."""
    if not isinstance(permission, str) or not permission:
        raise ValueError(f"a permission must be a non-empty string, not {permission!r}")
    segments = permission.split(":")
    for index, segment in enumerate(segments):
        if segment == "*" and pattern and index == len(segments) - 1:
            continue
        if not _SEGMENT.fullmatch(segment):
            where = "as the last segment of a granted permission" if "*" in segment else ""
            raise ValueError(
                f"invalid permission {permission!r}: segments are made of letters, digits, "
                f"'_', '.' and '-'" + (f"; '*' is allowed only {where}" if where else "")
            )
    return permission


def grants(granted: Collection[str], required: str) -> bool:
    """Whether a permission of ``granted`` (exact, ``prefix:*`` or ``*``) covers ``required``.

    ``required`` is a concrete permission; a set lookup per segment, whatever ``granted``'s size.
    """
    if not isinstance(granted, (set, frozenset)):
        granted = frozenset(granted)
    if required in granted or "*" in granted:
        return True
    prefix = ""
    for segment in required.split(":")[:-1]:
        prefix += segment + ":"
        if prefix + "*" in granted:
            return True
    return False


class Role:
    """A named role: the permissions it grants and the roles whose permissions it inherits."""

    __slots__ = ("description", "inherits", "name", "permissions")

    def __init__(
        self,
        name: str,
        permissions: Iterable[str] = (),
        *,
        inherits: Iterable[str] = (),
        description: str = "",
    ) -> None:
        if not isinstance(name, str) or not _SEGMENT.fullmatch(name):
            raise ValueError(f"invalid role name {name!r}")
        if isinstance(permissions, str) or isinstance(inherits, str):
            raise TypeError("permissions and inherits are collections of strings, not a string")
        self.name = name
        self.permissions = frozenset(check_permission(p, pattern=True) for p in permissions)
        self.inherits = tuple(dict.fromkeys(inherits))
        self.description = description

    def __repr__(self) -> str:
        return f"Role({self.name!r}, {sorted(self.permissions)!r}, inherits={list(self.inherits)!r})"


class Policy:
    """Roles and what they grant, resolved once: each role's inherited roles and permissions.

    ``Policy(Role("reader", {"posts:read"}), Role("editor", {"posts:*"}, inherits={"reader"}))``.
    Role names a user holds that the policy does not know grant nothing.
    """

    __slots__ = ("_closure", "_granted", "roles")

    def __init__(self, *roles: Role) -> None:
        by_name: dict[str, Role] = {}
        for role in roles:
            if not isinstance(role, Role):
                raise TypeError(f"Policy takes Role objects, not {role!r}")
            if role.name in by_name:
                raise ValueError(f"role {role.name!r} is defined twice")
            by_name[role.name] = role
        for role in roles:
            unknown = [parent for parent in role.inherits if parent not in by_name]
            if unknown:
                raise ValueError(f"role {role.name!r} inherits unknown role(s) {unknown}")
        self.roles: Mapping[str, Role] = MappingProxyType(by_name)
        self._closure: dict[str, frozenset[str]] = {}
        for name in by_name:
            self._resolve(name, ())
        self._granted: dict[str, frozenset[str]] = {
            name: frozenset(p for r in closure for p in by_name[r].permissions)
            for name, closure in self._closure.items()
        }

    def _resolve(self, name: str, path: tuple[str, ...]) -> frozenset[str]:
        if name in path:
            cycle = " -> ".join((*path[path.index(name) :], name))
            raise ValueError(f"role inheritance cycle: {cycle}")
        done = self._closure.get(name)
        if done is not None:
            return done
        closure = {name}
        for parent in self.roles[name].inherits:
            closure |= self._resolve(parent, (*path, name))
        self._closure[name] = frozenset(closure)
        return self._closure[name]

    def expand_roles(self, roles: Iterable[str]) -> frozenset[str]:
        """``roles`` with every role they inherit (unknown names dropped)."""
        return frozenset(r for name in roles for r in self._closure.get(name, ()))

    def permissions_for(self, roles: Iterable[str]) -> frozenset[str]:
        """Every permission (pattern) the roles grant, inherited ones included."""
        return frozenset(p for name in roles for p in self._granted.get(name, ()))

    def has_role(self, roles: Iterable[str], role: str) -> bool:
        """Whether ``roles`` include ``role``, directly or by inheritance."""
        return role in self.expand_roles(roles)

    def allows(self, roles: Iterable[str], permission: str) -> bool:
        """Whether ``roles`` grant ``permission`` (a concrete permission, no ``*``)."""
        check_permission(permission)
        return grants(self.permissions_for(roles), permission)


RolesGetter = Callable[[Any], Iterable[str] | Awaitable[Iterable[str]]]


def _default_roles(user: Any) -> Iterable[str]:
    roles = user.get("roles", ()) if isinstance(user, Mapping) else getattr(user, "roles", ())
    return roles or ()


class _DocumentedScheme:
    """Stands for a security scheme in OpenAPI only: same scheme object, runs nothing.

    The guard lists its permissions or roles under the scheme (``{"HTTPBearer":
    ["posts:write"]}``, role names as OpenAPI 3.1 allows for non-OAuth2 schemes) without
    running the scheme or the user dependency a second time.
    """

    __slots__ = ("auto_error", "scheme_name", "scopes", "security_scheme")

    def __init__(self, scheme: Any) -> None:
        self.security_scheme = scheme.security_scheme
        self.scheme_name = scheme.scheme_name
        self.auto_error = getattr(scheme, "auto_error", True)
        self.scopes: tuple[str, ...] = ()

    async def __call__(self) -> None:
        return None


class RBAC:
    """Handler guards over a ``Policy``.

    ``user`` is your dependency returning the current user (raising 401 itself, or
    returning None, which the guards answer with 401); ``roles(user)`` gives the names of
    the user's roles (default: ``user.roles`` or ``user["roles"]``; may be async).
    ``scheme`` is the ``covet.security`` object ``user`` reads credentials with: when
    given, OpenAPI lists each guard's permissions or roles under it.
    """

    __slots__ = ("_doc", "policy", "roles", "scheme", "user")

    def __init__(
        self,
        policy: Policy,
        *,
        user: Callable[..., Any],
        roles: RolesGetter = _default_roles,
        scheme: Any = None,
    ) -> None:
        if scheme is not None and not (
            hasattr(scheme, "security_scheme") and hasattr(scheme, "scheme_name")
        ):
            raise TypeError("scheme must be a covet.security object (HTTPBearer, APIKeyHeader...)")
        self.policy = policy
        self.user = user
        self.roles = roles
        self.scheme = scheme
        self._doc = _DocumentedScheme(scheme) if scheme is not None else None

    async def roles_of(self, user: Any) -> frozenset[str]:
        """The user's role names (as held, before inheritance)."""
        roles = self.roles(user)
        if inspect.isawaitable(roles):
            roles = await roles
        if isinstance(roles, str):
            return frozenset((roles,))
        return frozenset(roles)

    def requires(self, *permissions: str) -> Callable[..., Awaitable[Any]]:
        """A dependency that returns the user when their roles grant *every* permission, else 403."""
        if not permissions:
            raise ValueError("requires() needs at least one permission")
        needed = tuple(check_permission(p) for p in permissions)

        async def check(user: Any) -> None:
            granted = self.policy.permissions_for(await self.roles_of(user))
            missing = [p for p in needed if not grants(granted, p)]
            if missing:
                raise HTTPException(403, f"Missing permission: {', '.join(missing)}")

        return self._guard(check, needed, f"requires({', '.join(map(repr, needed))})")

    def requires_role(self, *roles: str) -> Callable[..., Awaitable[Any]]:
        """A dependency that returns the user when they hold *one* of ``roles`` (inheritance counts), else 403."""
        if not roles:
            raise ValueError("requires_role() needs at least one role")
        unknown = [r for r in roles if r not in self.policy.roles]
        if unknown:
            raise ValueError(f"unknown role(s) {unknown}")
        wanted = tuple(roles)

        async def check(user: Any) -> None:
            held = self.policy.expand_roles(await self.roles_of(user))
            if not any(r in held for r in wanted):
                raise HTTPException(403, f"Requires role: {' or '.join(wanted)}")

        return self._guard(check, wanted, f"requires_role({', '.join(map(repr, wanted))})")

    def _guard(
        self, check: Callable[[Any], Awaitable[None]], listed: tuple[str, ...], name: str
    ) -> Callable[..., Awaitable[Any]]:
        challenge = getattr(self.scheme, "challenge", "") if self.scheme is not None else ""

        async def authorize(user: Any) -> Any:
            if user is None:
                headers = {"WWW-Authenticate": challenge} if challenge else None
                raise HTTPException(401, "Not authenticated", headers=headers)
            await check(user)
            return user

        chosen: Callable[..., Awaitable[Any]]
        if self._doc is None:

            async def guard(user: Any = Depends(self.user)) -> Any:
                return await authorize(user)

            chosen = guard
        else:

            async def documented_guard(
                user: Any = Depends(self.user),
                _scheme: None = Security(self._doc, scopes=list(listed)),
            ) -> Any:
                return await authorize(user)

            chosen = documented_guard
        chosen.__qualname__ = chosen.__name__ = name
        return chosen
