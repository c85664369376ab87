"""Route resolution compiled at start-up: a dict for static paths, a segment tree for the rest.

Static paths (no parameters) are found with one dict lookup. Parametrised paths are
walked segment by segment in a tree whose children are a dict of literal segments (tried
first), then parameter edges in converter priority order, then a ``path`` catch-all;
the walk backtracks, so ``/users/me`` and ``/users/{id}`` coexist. The cost of a lookup
depends on the depth of the path, not on the number of routes.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from covet.routing.template import Mixed, Param, PathTemplate

__all__ = ("Matcher",)

T = TypeVar("T")
_NO_LITERALS: dict[str, Any] = {}  # shared by leaf nodes; replaced, never mutated
_NO_PARAMS: tuple[Any, ...] = ()


class _Node(Generic[T]):
    __slots__ = ("catchall", "leaf", "literals", "params")

    def __init__(self) -> None:
        self.literals: dict[str, _Node[T]] | tuple[str, _Node[T]] = _NO_LITERALS
        self.params: tuple[tuple[Param | Mixed, _Node[T]], ...] = _NO_PARAMS
        self.catchall: tuple[str, Any, T] | None = None
        self.leaf: T | None = None


class Matcher(Generic[T]):
    """Maps path templates to values of type ``T`` (the router stores method tables)."""

    __slots__ = ("_root", "static")

    def __init__(self) -> None:
        self.static: dict[str, T] = {}
        self._root: _Node[T] = _Node()

    def add(self, template: PathTemplate, value: T) -> None:
        if template.is_static:
            self.static[template.source] = value
            return
        node = self._root
        last = len(template.segments) - 1
        for index, seg in enumerate(template.segments):
            if isinstance(seg, str):
                node = _literal_child(node, seg)
            elif isinstance(seg, Param) and seg.convertor.consumes_rest:
                assert index == last
                node.catchall = (seg.name, seg.convertor, value)
                return
            else:
                for edge, child in node.params:
                    if _same_edge(edge, seg):
                        node = child
                        break
                else:
                    child = _Node()
                    # a tuple, not a list: no spare capacity kept per node
                    node.params = tuple(sorted([*node.params, (seg, child)], key=_edge_priority))
                    node = child
        node.leaf = value

    def match(self, path: str) -> tuple[T, dict[str, Any]] | None:
        """Return the value and converted parameters for ``path``, or ``None``."""
        value = self.static.get(path)
        if value is not None:
            return value, {}
        params: dict[str, Any] = {}
        found = _walk(self._root, path.split("/"), 1, params, path)
        if found is None:
            return None
        return found, params


def _literal_child(node: _Node[T], text: str) -> _Node[T]:
    """The child for literal ``text``, created if needed.

    ``literals`` is a dict, except for the common single-child case, which is stored as
    a ``(text, child)`` pair (a quarter of a dict's memory).
    """
    literals: Any = node.literals
    if type(literals) is tuple:
        if literals[0] == text:
            return literals[1]
        literals = node.literals = {literals[0]: literals[1]}
    elif literals is _NO_LITERALS:
        child: _Node[T] = _Node()
        node.literals = (text, child)
        return child
    child = literals.get(text)
    if child is None:
        child = literals[text] = _Node()
    return child


def _same_edge(a: Param | Mixed, b: Param | Mixed) -> bool:
    if isinstance(a, Param) and isinstance(b, Param):
        return a.name == b.name and type(a.convertor) is type(b.convertor)
    if isinstance(a, Mixed) and isinstance(b, Mixed):
        return a.source == b.source
    return False


def _edge_priority(edge: tuple[Param | Mixed, Any]) -> tuple[int, int]:
    seg = edge[0]
    if isinstance(seg, Mixed):
        return (0, 0)  # the most specific: literal text plus parameters
    return (1, seg.convertor.priority)


def _walk(node: _Node[T], parts: list[str], i: int, params: dict[str, Any], path: str) -> T | None:
    if i == len(parts):
        return node.leaf
    part = parts[i]
    literals: Any = node.literals
    if type(literals) is tuple:
        child = literals[1] if literals[0] == part else None
    else:
        child = literals.get(part)
    if child is not None:
        found = _walk(child, parts, i + 1, params, path)
        if found is not None:
            return found
    if part:
        for seg, child in node.params:
            if isinstance(seg, Param):
                try:
                    value = seg.convertor.convert(part)
                except ValueError:
                    continue
                found = _walk(child, parts, i + 1, params, path)
                if found is not None:
                    params[seg.name] = value
                    return found
            else:
                m = seg.pattern.fullmatch(part)
                if m is None:
                    continue
                try:
                    values = {p.name: p.convertor.convert(m.group(p.name)) for p in seg.params}
                except ValueError:
                    continue
                found = _walk(child, parts, i + 1, params, path)
                if found is not None:
                    params.update(values)
                    return found
    if node.catchall is not None:
        name, convertor, value = node.catchall
        rest = "/".join(parts[i:])
        try:
            params[name] = convertor.convert(rest)
        except ValueError:
            return None
        return value
    return None
