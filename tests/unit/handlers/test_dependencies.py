"""Dependency injection: nesting, caching, generators with cleanup, overrides, cycles, container."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import pytest
from handlers_support import FakeApp, call, route, run

from covet.background import BackgroundTasks
from covet.exceptions import HTTPException, ImproperlyConfigured
from covet.handlers import Container, Depends, Header, Query, Security, compile_route
from covet.http.request import Request


class Pagination:
    def __init__(self, page: int = 1, size: Annotated[int, Query(le=100)] = 10) -> None:
        self.page = page
        self.size = size


async def token(x_token: str = Header()) -> str:
    return x_token


async def user(tok: str = Depends(token)) -> dict[str, str]:
    if tok != "secret":
        raise HTTPException(401, "bad token")
    return {"name": "ann"}


async def test_class_dependency_with_query_params() -> None:
    async def f(p: Pagination = Depends()) -> dict[str, int]:
        return {"page": p.page, "size": p.size}

    assert (await run(f, query="page=2")).json() == {"page": 2, "size": 10}
    r = await run(f, query="size=1000")
    assert r.details[0]["field"] == "query.size"


async def test_nested_dependencies_and_their_params() -> None:
    async def f(u: dict[str, str] = Depends(user)) -> dict[str, str]:
        return u

    assert (await run(f, headers=[("x-token", "secret")])).json() == {"name": "ann"}
    assert (await run(f, headers=[("x-token", "nope")])).status == 401
    r = await run(f)
    assert r.details[0]["field"] == "header.x-token"


async def test_errors_from_endpoint_and_dependencies_are_collected_before_any_call() -> None:
    calls: list[str] = []

    async def dep(a: int) -> int:
        calls.append("dep")
        return a

    async def f(b: int, d: int = Depends(dep)) -> dict[str, int]:
        return {}

    r = await run(f, query="a=x&b=y")
    assert {d["field"] for d in r.details} == {"query.a", "query.b"}
    assert calls == []


async def test_per_request_cache_and_opt_out() -> None:
    counter = {"n": 0}

    async def counted() -> int:
        counter["n"] += 1
        return counter["n"]

    async def a(x: int = Depends(counted)) -> int:
        return x

    async def f(x: int = Depends(counted), y: int = Depends(a), z: int = Depends(counted, use_cache=False)):
        return {"x": x, "y": y, "z": z}

    assert (await run(f)).json() == {"x": 1, "y": 1, "z": 2}


async def test_security_scopes_do_not_split_the_per_request_cache() -> None:
    """Scopes only document requirements: Security(dep, scopes=...) and Depends(dep) in
    one request share one call of dep (and of its sub-dependencies)."""
    calls: list[str] = []

    async def current_user() -> str:
        calls.append("user")
        return "ann"

    async def guard(u: str = Security(current_user, scopes=["posts:write"])) -> str:
        return u

    async def f(u: str = Depends(current_user), g: str = Depends(guard)) -> dict[str, str]:
        return {"u": u, "g": g}

    assert (await run(f)).json() == {"u": "ann", "g": "ann"}
    assert calls == ["user"]


async def test_sync_dependency_runs_in_threadpool() -> None:
    main = threading.get_ident()

    def sync_dep() -> bool:
        return threading.get_ident() != main

    async def f(in_thread: bool = Depends(sync_dep)) -> dict[str, bool]:
        return {"in_thread": in_thread}

    assert (await run(f)).json() == {"in_thread": True}


async def test_generator_cleanup_runs_after_the_response_is_sent() -> None:
    log: list[str] = []

    async def resource() -> AsyncIterator[str]:
        log.append("open")
        yield "r"
        log.append("close")

    def sync_resource() -> Iterator[str]:
        log.append("sync-open")
        yield "s"
        log.append("sync-close")

    async def f(r: str = Depends(resource), s: str = Depends(sync_resource)) -> dict[str, str]:
        log.append("handler")
        return {"r": r, "s": s}

    compiled = compile_route(route(f), FakeApp())
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])
        log.append(message["type"])

    scope = {"type": "http", "method": "GET", "headers": [], "query_string": b"", "path_params": {}}
    await compiled(scope, receive, send)
    assert log == ["open", "sync-open", "handler", "http.response.start", "http.response.body", "sync-close", "close"]


async def test_exception_is_thrown_into_generator_dependencies() -> None:
    seen: list[str] = []

    async def resource() -> AsyncIterator[str]:
        try:
            yield "r"
        except ValueError as exc:
            seen.append(f"caught {exc}")
            raise
        finally:
            seen.append("finally")

    async def f(r: str = Depends(resource)) -> dict[str, str]:
        raise ValueError("boom")

    compiled = compile_route(route(f), FakeApp())
    with pytest.raises(ValueError, match="boom"):
        await call(compiled)
    assert seen == ["caught boom", "finally"]


async def test_failing_dependency_cleans_up_the_ones_already_entered() -> None:
    seen: list[str] = []

    async def first() -> AsyncIterator[int]:
        try:
            yield 1
        finally:
            seen.append("first closed")

    async def second(a: int = Depends(first)) -> int:
        raise HTTPException(403, "no")

    async def f(b: int = Depends(second)) -> dict[str, int]:
        return {}

    r = await run(f)
    assert r.status == 403
    assert seen == ["first closed"]


async def test_injected_request_and_background_tasks() -> None:
    done: list[str] = []

    async def f(request: Request, tasks: BackgroundTasks, q: str = "x") -> dict[str, str]:
        tasks.add_task(done.append, request.method + q)
        return {"path_q": request.query_params.get("q", "")}

    r = await run(f, query="q=z")
    assert r.json() == {"path_q": "z"}
    assert done == ["GETz"]


async def test_app_and_route_dependencies_run_first() -> None:
    order: list[str] = []

    async def app_dep() -> None:
        order.append("app")

    async def route_dep(x_key: str = Header()) -> None:
        order.append("route")

    async def f() -> dict[str, int]:
        order.append("endpoint")
        return {}

    app = FakeApp(dependencies=[Depends(app_dep)])
    r = await run(f, app=app, dependencies=[Depends(route_dep)], headers=[("x-key", "k")])
    assert r.status == 200 and order == ["app", "route", "endpoint"]
    r = await run(f, app=app, dependencies=[Depends(route_dep)])
    assert r.details[0]["field"] == "header.x-key"


async def test_dependency_overrides_are_checked_per_request() -> None:
    async def real() -> str:
        return "real"

    async def fake(q: str = "f") -> str:
        return "fake-" + q

    async def f(v: str = Depends(real)) -> dict[str, str]:
        return {"v": v}

    app = FakeApp()
    compiled = compile_route(route(f), app)
    assert (await call(compiled)).json() == {"v": "real"}
    app.dependency_overrides[real] = fake
    assert (await call(compiled, query="q=z")).json() == {"v": "fake-z"}
    assert (await call(compiled)).json() == {"v": "fake-f"}
    app.dependency_overrides.clear()
    assert (await call(compiled)).json() == {"v": "real"}


def test_circular_dependencies_are_detected_at_compile_time() -> None:
    def loop_a(b: Any = None) -> None:
        return None

    def loop_b(a: Any = Depends(loop_a)) -> None:
        return None

    loop_a.__defaults__ = (Depends(loop_b),)

    async def f(v: Any = Depends(loop_a)) -> None:
        return None

    with pytest.raises(ImproperlyConfigured, match=r"circular dependency: .*loop_a -> .*loop_b -> .*loop_a"):
        compile_route(route(f), FakeApp())


class Settings:
    def __init__(self) -> None:
        self.name = "prod"


class Repo:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings


class Session(dict):  # type: ignore[type-arg]
    pass


async def test_container_singletons_and_request_scope() -> None:
    log: list[str] = []

    async def session_factory() -> AsyncIterator[Session]:
        log.append("session-open")
        yield Session(id=len(log))
        log.append("session-close")

    app = FakeApp()
    app.container.provide(Settings, Settings)
    app.container.provide(Repo, Repo)
    app.container.provide(Session, session_factory, scope="request")

    async def f(repo: Repo, settings: Settings, s: Session) -> dict[str, Any]:
        return {"same": repo.settings is settings, "name": settings.name, "session": dict(s)}

    await app.container.startup()
    try:
        r = await run(f, app=app)
        assert r.json() == {"same": True, "name": "prod", "session": {"id": 1}}
        assert log == ["session-open", "session-close"]
    finally:
        await app.container.shutdown()


async def test_container_generator_teardown_at_shutdown() -> None:
    log: list[str] = []

    class Pool:
        pass

    async def pool() -> AsyncIterator[Pool]:
        log.append("start")
        yield Pool()
        log.append("stop")

    c = Container()
    c.provide(Pool, pool)
    with pytest.raises(LookupError):
        c.get(Pool)
    await c.startup()
    assert isinstance(c.get(Pool), Pool)
    await c.shutdown()
    assert log == ["start", "stop"]


async def test_container_resolves_lazily_without_startup() -> None:
    class Clock:
        pass

    c = Container()
    c.provide(Clock, Clock)
    first = await c.resolve(Clock)
    assert first is await c.resolve(Clock)
    await c.shutdown()


def test_container_rejects_bad_registrations() -> None:
    c = Container()
    with pytest.raises(ImproperlyConfigured):
        c.provide(int, 5)  # type: ignore[arg-type]
    with pytest.raises(ImproperlyConfigured):
        c.provide(int, int, scope="session")


async def scaled(factor: int, value: int = 1) -> int:
    return factor * value


async def test_partial_and_callable_object_dependencies() -> None:
    import functools

    class Multiplier:
        def __init__(self, k: int) -> None:
            self.k = k

        async def __call__(self, value: int = 2) -> int:
            return self.k * value

    async def f(a: int = Depends(functools.partial(scaled, 10)), b: int = Depends(Multiplier(3))):
        return {"a": a, "b": b}

    assert (await run(f, query="value=4")).json() == {"a": 40, "b": 12}
    r = await run(f, query="value=x")
    assert r.details[0]["field"] == "query.value"


async def test_callable_objects_with_generator_calls_get_cleanup() -> None:
    log: list[str] = []

    class SyncResource:
        def __call__(self) -> Iterator[str]:
            log.append("sync open")
            yield "sync"
            log.append("sync close")

    class AsyncResource:
        async def __call__(self) -> AsyncIterator[str]:
            log.append("async open")
            yield "async"
            log.append("async close")

    async def f(a: str = Depends(SyncResource()), b: str = Depends(AsyncResource())) -> list[str]:
        return [a, b]

    assert (await run(f)).json() == ["sync", "async"]
    assert sorted(log) == ["async close", "async open", "sync close", "sync open"]
