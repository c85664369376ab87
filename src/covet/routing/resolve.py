"""The compiled route table: conflict checks at build time, fast lookups per request."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from covet.exceptions import NoMatchFound, RouteConflict
from covet.routing.matcher import Matcher
from covet.routing.routes import BaseRoute, Mount, Route, WebSocketRoute

__all__ = ("MethodTable", "RouteTable", "url_path_for")


class MethodTable:
    """The routes of one path template by method, and the ``Allow`` header value."""

    __slots__ = ("allow", "by_method", "explicit", "template")

    def __init__(self, template: str) -> None:
        self.template = template
        self.by_method: dict[str, Route] = {}
        self.explicit: frozenset[str] = frozenset()
        self.allow = ""

    def add(self, route: Route) -> None:
        explicit = route.methods - {"HEAD"} if route.auto_head else route.methods
        clash = explicit & self.explicit
        if clash:
            other = self.by_method[next(iter(clash))]
            raise RouteConflict(
                f"{sorted(clash)} {route.path!r} ({_where(route)}) is already handled by "
                f"{other.path!r} ({_where(other)})",
                context={"path": route.path, "methods": sorted(clash)},
            )
        self.explicit = _intern_set(self.explicit | explicit)
        for method in explicit:
            self.by_method[method] = route
        if route.auto_head and "HEAD" not in self.explicit:
            self.by_method["HEAD"] = route  # an explicit HEAD route wins over GET's
        self.allow = sys.intern(", ".join(sorted(set(self.by_method) | {"OPTIONS"})))


class RouteTable:
    """Everything the app needs to resolve a request, built once from the route list."""

    __slots__ = ("http", "mounts", "websocket")

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self.http: Matcher[MethodTable] = Matcher()
        self.websocket: Matcher[WebSocketRoute] = Matcher()
        self.mounts: list[Mount] = []
        tables: dict[str, MethodTable] = {}
        ws_seen: dict[str, WebSocketRoute] = {}
        for route in routes:
            if isinstance(route, Route):
                key = route.template.key
                table = tables.get(key)
                if table is None:
                    table = tables[key] = MethodTable(route.path)
                    self.http.add(route.template, table)
                elif table.template != route.path:
                    first = next(iter(table.by_method.values()))
                    raise RouteConflict(
                        f"{route.path!r} ({_where(route)}) matches the same paths as "
                        f"{first.path!r} ({_where(first)}); use the same parameter names"
                    )
                table.add(route)
            elif isinstance(route, WebSocketRoute):
                key = route.template.key
                if key in ws_seen:
                    raise RouteConflict(
                        f"websocket route {route.path!r} conflicts with {ws_seen[key].path!r}"
                    )
                ws_seen[key] = route
                self.websocket.add(route.template, route)
            elif isinstance(route, Mount):
                self.mounts.append(route)
        # longest prefix first, so /api/v2 wins over /api
        self.mounts.sort(key=lambda m: len(m.prefix), reverse=True)

    def find_mount(self, path: str) -> tuple[Mount, str] | None:
        """The mount serving ``path`` and the remaining path, if any."""
        for mount in self.mounts:
            prefix = mount.prefix
            if not prefix:
                return mount, path
            if path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/"):
                return mount, path[len(prefix):] or "/"
        return None


_SETS: dict[frozenset[str], frozenset[str]] = {}


def _intern_set(methods: frozenset[str]) -> frozenset[str]:
    return _SETS.setdefault(methods, methods)


def _where(route: BaseRoute) -> str:
    endpoint = getattr(route, "endpoint", None)
    code = getattr(endpoint, "__code__", None)
    if code is None:
        return repr(endpoint)
    return f"{getattr(endpoint, '__qualname__', '?')} at {code.co_filename}:{code.co_firstlineno}"


def url_path_for(routes: Sequence[BaseRoute], name: str, params: dict[str, Any]) -> str:
    """Reverse a route by name; for mounts, ``path=`` gives the path inside the mount."""
    tried = False
    for route in routes:
        if route.name != name:
            continue
        tried = True
        if isinstance(route, Mount):
            inner = str(params.get("path", "/"))
            if set(params) - {"path"}:
                continue
            return (route.prefix or "") + "/" + inner.lstrip("/")
        try:
            return route.url_path(**params)
        except NoMatchFound:
            continue
    for route in routes:
        if isinstance(route, Mount) and ":" in name and route.name == name.split(":", 1)[0]:
            inner_name = name.split(":", 1)[1]
            finder = getattr(route.app, "url_path_for", None)
            if finder is not None:
                return (route.prefix or "") + finder(inner_name, **params)
    if tried:
        raise NoMatchFound(f"route {name!r} exists but not with parameters {sorted(params)}")
    raise NoMatchFound(f"no route named {name!r}")
