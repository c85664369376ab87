"""Minimal route/app stand-ins and an in-memory ASGI caller for handler unit tests."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from covet.exceptions import HTTPException, ValidationError
from covet.handlers import Container, compile_route
from covet.routing.convertors import get_convertor


@dataclasses.dataclass
class FakeRoute:
    endpoint: Callable[..., Any]
    path: str = "/"
    methods: frozenset[str] = frozenset({"GET"})
    param_convertors: dict[str, Any] = dataclasses.field(default_factory=dict)
    status_code: int | None = None
    response_model: Any = ...
    response_class: Any = None
    dependencies: list[Any] = dataclasses.field(default_factory=list)
    name: str = "endpoint"
    tags: list[str] = dataclasses.field(default_factory=list)
    summary: str | None = None
    description: str | None = None
    deprecated: bool = False
    operation_id: str | None = None
    include_in_schema: bool = True
    responses: dict[Any, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class FakeApp:
    dependencies: list[Any] = dataclasses.field(default_factory=list)
    dependency_overrides: dict[Any, Any] = dataclasses.field(default_factory=dict)
    container: Container = dataclasses.field(default_factory=Container)
    debug: bool = False


@dataclasses.dataclass
class Result:
    status: int
    headers: dict[str, str]
    body: bytes
    error: Exception | None = None

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def details(self) -> list[dict[str, Any]]:
        assert isinstance(self.error, ValidationError), self.error
        return self.error.details


def route(endpoint: Callable[..., Any], path: str = "/", **kw: Any) -> FakeRoute:
    convs = {}
    for part in path.split("/"):
        if part.startswith("{") and part.endswith("}"):
            name, _, conv = part[1:-1].partition(":")
            convs[name] = get_convertor(conv or "str")
    return FakeRoute(endpoint, path=path, param_convertors=convs, **kw)


async def call(
    asgi: Any,
    *,
    method: str = "GET",
    path_params: dict[str, Any] | None = None,
    query: str | dict[str, Any] = "",
    headers: list[tuple[str, str]] | None = None,
    body: bytes | None = None,
    json_body: Any = None,
    chunks: list[bytes] | None = None,
) -> Result:
    """Call a compiled endpoint; HTTPExceptions are turned into responses like the app does."""
    raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers or []]
    if json_body is not None:
        body = json.dumps(json_body).encode()
        if not any(k == b"content-type" for k, _ in raw_headers):
            raw_headers.append((b"content-type", b"application/json"))
    parts = chunks if chunks is not None else [body or b""]
    if body is not None and chunks is None:
        raw_headers.append((b"content-length", str(len(body)).encode()))
    qs = query if isinstance(query, str) else urlencode(query, doseq=True)
    scope = {
        "type": "http",
        "method": method,
        "path": "/",
        "headers": raw_headers,
        "query_string": qs.encode("latin-1"),
        "path_params": path_params or {},
    }
    pending = [
        {"type": "http.request", "body": p, "more_body": i < len(parts) - 1} for i, p in enumerate(parts)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    try:
        await asgi(scope, receive, send)
    except HTTPException as exc:
        payload = exc.to_dict() if isinstance(exc, ValidationError) else {"error": exc.detail}
        return Result(exc.status_code, {}, json.dumps(payload).encode(), exc)
    start = sent[0]
    assert start["type"] == "http.response.start"
    hdrs = {k.decode(): v.decode() for k, v in start["headers"]}
    body_out = b"".join(m.get("body", b"") for m in sent[1:])
    return Result(start["status"], hdrs, body_out)


async def run(endpoint: Callable[..., Any], path: str = "/", app: FakeApp | None = None, **kw: Any) -> Result:
    """Compile ``endpoint`` on a fake route and call it once."""
    route_kw = {k: kw.pop(k) for k in list(kw) if k in FakeRoute.__dataclass_fields__}
    compiled = compile_route(route(endpoint, path, **route_kw), app or FakeApp())
    return await call(compiled, **kw)
