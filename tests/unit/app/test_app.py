"""The application: dispatch, errors, lifespan, middleware chain, mounts."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from covet import Covet, HTTPException, Request, Response, Router, WebSocket, WebSocketDisconnect
from covet.exceptions import RouteConflict
from covet.responses import JSONResponse, PlainTextResponse
from covet.testing import TestClient


@dataclass
class NamedItem:
    name: str


def make_app(**options: object) -> Covet:
    app = Covet(openapi_url=None, **options)  # type: ignore[arg-type]

    @app.get("/plain")
    async def plain() -> PlainTextResponse:
        return PlainTextResponse("hello")

    @app.get("/users/{user_id:int}")
    async def get_user(user_id: int) -> dict:
        return {"id": user_id}

    @app.post("/users")
    async def create_user(request: Request) -> JSONResponse:
        return JSONResponse(await request.json(), status_code=201)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret database password=hunter2 at /srv/app/db.py")

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(418, "I'm a teapot", headers={"X-Tea": "earl grey"})

    @app.get("/dir/")
    async def directory() -> dict:
        return {"dir": True}

    return app


@pytest.fixture
def client() -> TestClient:
    with TestClient(make_app()) as c:
        yield c


class TestDispatch:
    def test_static_and_param(self, client: TestClient) -> None:
        assert client.get("/plain").text == "hello"
        assert client.get("/users/42").json() == {"id": 42}

    def test_bad_converter_value_is_404_in_json(self, client: TestClient) -> None:
        r = client.get("/users/abc")
        assert r.status_code == 404
        body = r.json()
        assert body["error"] == "Not Found" and len(body["trace_id"]) == 32

    def test_405_with_allow(self, client: TestClient) -> None:
        r = client.delete("/users/1")
        assert r.status_code == 405
        assert r.headers["allow"] == "GET, HEAD, OPTIONS"
        assert r.json()["error"] == "Method Not Allowed"

    def test_head_has_headers_but_no_body(self, client: TestClient) -> None:
        r = client.head("/plain")
        assert r.status_code == 200
        assert r.content == b""
        assert r.headers["content-length"] == "5"

    def test_options_lists_methods(self, client: TestClient) -> None:
        r = client.options("/users/1")
        assert r.status_code == 204 and r.headers["allow"] == "GET, HEAD, OPTIONS"

    def test_trailing_slash_redirect_keeps_query(self, client: TestClient) -> None:
        r = client.get("/dir?x=1", follow_redirects=False)
        assert r.status_code == 307 and r.headers["location"] == "/dir/?x=1"
        assert client.get("/dir").json() == {"dir": True}

    def test_strict_slashes(self) -> None:
        with TestClient(make_app(redirect_slashes=False)) as c:
            assert c.get("/dir", follow_redirects=False).status_code == 404

    def test_malformed_json_is_400(self, client: TestClient) -> None:
        r = client.post("/users", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 400
        assert "error" in r.json()

    def test_conflict_reported_at_build(self) -> None:
        app = make_app()

        @app.get("/plain")
        async def again() -> None:
            return None

        with pytest.raises(RouteConflict, match="again"):
            app.build()


class TestErrors:
    def test_http_exception_detail_and_headers(self, client: TestClient) -> None:
        r = client.get("/teapot")
        assert r.status_code == 418
        assert r.headers["x-tea"] == "earl grey"
        assert r.json()["error"] == "I'm a teapot"

    def test_production_500_is_sanitized(self, caplog: pytest.LogCaptureFixture) -> None:
        with TestClient(make_app(), raise_server_exceptions=False) as c, caplog.at_level(logging.ERROR):
            r = c.get("/boom")
        assert r.status_code == 500
        body = r.json()
        assert set(body) == {"error", "trace_id"} and body["error"] == "Internal Server Error"
        assert "hunter2" not in r.text and "/srv" not in r.text and "Traceback" not in r.text
        assert body["trace_id"] in caplog.text and "hunter2" in caplog.text  # the log has it all

    def test_debug_500_shows_traceback(self) -> None:
        with TestClient(make_app(debug=True), raise_server_exceptions=False) as c:
            r = c.get("/boom")
            assert r.status_code == 500 and r.json()["exception"] == "RuntimeError"
            html = c.get("/boom", headers={"accept": "text/html"})
        assert html.headers["content-type"].startswith("text/html")
        assert "RuntimeError" in html.text and "Traceback" in html.text

    def test_test_client_raises_server_errors_by_default(self) -> None:
        with TestClient(make_app()) as c, pytest.raises(RuntimeError, match="hunter2"):
            c.get("/boom")

    def test_handlers_by_class_and_status(self) -> None:
        app = make_app()

        class Oops(LookupError):
            pass

        @app.get("/oops")
        async def oops() -> None:
            raise Oops("gone")

        @app.exception_handler(LookupError)
        async def lookup(request: Request, exc: Exception) -> Response:
            return JSONResponse({"lookup": str(exc), "path": request.url.path}, status_code=410)

        @app.exception_handler(404)
        def not_found(request: Request, exc: Exception) -> Response:
            return PlainTextResponse("nothing here", status_code=404)

        with TestClient(app) as c:
            r = c.get("/oops")
            assert (r.status_code, r.json()) == (410, {"lookup": "gone", "path": "/oops"})
            r = c.get("/missing")
            assert (r.status_code, r.text) == (404, "nothing here")

    def test_request_id_becomes_trace_id(self) -> None:
        app = make_app()

        class SetId:
            def __init__(self, app: object) -> None:
                self.app = app

            async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
                scope["request_id"] = "req-123"
                await self.app(scope, receive, send)

        app.add_middleware(SetId)
        with TestClient(app) as c:
            assert c.get("/nope").json()["trace_id"] == "req-123"


class TestLifespan:
    def test_events_and_context_state(self) -> None:
        calls: list[str] = []

        @contextlib.asynccontextmanager
        async def lifespan(app: Covet) -> AsyncIterator[dict]:
            calls.append("enter")
            yield {"pool": "the-pool"}
            calls.append("exit")

        app = Covet(lifespan=lifespan, openapi_url=None)
        app.on_event("startup")(lambda: calls.append("startup"))

        @app.on_event("shutdown")
        async def down() -> None:
            calls.append("shutdown")

        @app.get("/state")
        async def state(request: Request) -> dict:
            return {"pool": request.state.pool, "app": request.app.state.pool}

        with TestClient(app) as c:
            assert calls == ["startup", "enter"]
            assert c.get("/state").json() == {"pool": "the-pool", "app": "the-pool"}
        assert calls == ["startup", "enter", "shutdown", "exit"]

    def test_startup_failure_is_reported(self) -> None:
        app = Covet(openapi_url=None)

        @app.on_event("startup")
        async def fail() -> None:
            raise ConnectionError("database unreachable")

        with pytest.raises(RuntimeError, match="database unreachable"), TestClient(app):
            pass


class TestMiddlewareChain:
    def test_order_last_added_runs_first(self) -> None:
        app = make_app()
        seen: list[str] = []

        def tagger(tag: str):  # type: ignore[no-untyped-def]
            class Tag:
                def __init__(self, app: object) -> None:
                    self.app = app

                async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
                    if scope["type"] == "http":
                        seen.append(tag)
                    await self.app(scope, receive, send)

            return Tag

        app.add_middleware(tagger("inner"))
        app.add_middleware(tagger("outer"))
        with TestClient(app) as c:
            c.get("/plain")
        assert seen == ["outer", "inner"]

    def test_middleware_sees_error_responses(self) -> None:
        app = make_app()

        class AddHeader:
            def __init__(self, app: object) -> None:
                self.app = app

            async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
                async def wrapped(message):  # type: ignore[no-untyped-def]
                    if message["type"] == "http.response.start":
                        message["headers"] = [*message["headers"], (b"x-mw", b"1")]
                    await send(message)

                await self.app(scope, receive, wrapped)

        app.add_middleware(AddHeader)
        with TestClient(app) as c:
            assert c.get("/missing").headers["x-mw"] == "1"

    def test_error_inside_middleware_is_a_clean_500(self) -> None:
        app = make_app()

        class Broken:
            def __init__(self, app: object) -> None:
                self.app = app

            async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
                if scope["type"] == "http":
                    raise ValueError("token=abc")
                await self.app(scope, receive, send)

        app.add_middleware(Broken)
        with TestClient(app, raise_server_exceptions=False) as c:
            r = c.get("/plain")
        assert r.status_code == 500 and "abc" not in r.text

    def test_decorator_middleware(self) -> None:
        app = make_app()

        @app.middleware("http")
        async def stamp(request: Request, call_next):  # type: ignore[no-untyped-def]
            response = await call_next(request)
            response.headers["x-stamp"] = "yes"
            return response

        with TestClient(app) as c:
            r = c.get("/users/1")
        assert r.headers["x-stamp"] == "yes" and r.json() == {"id": 1}


class TestMountsAndRouters:
    def test_mount_sees_relative_path_and_root_path(self) -> None:
        async def inner(scope, receive, send):  # type: ignore[no-untyped-def]
            await PlainTextResponse(f"{scope['root_path']}|{scope['path']}")(scope, receive, send)

        app = make_app()
        app.mount("/sub", inner, name="sub")
        with TestClient(app) as c:
            assert c.get("/sub/a/b").text == "/sub|/a/b"
            assert c.get("/sub").text == "/sub|/"
        assert app.url_path_for("sub", path="x/y") == "/sub/x/y"

    def test_mounted_covet_app(self) -> None:
        child = Covet(openapi_url=None)

        @child.get("/ping/{n:int}")
        async def ping(n: int) -> dict:
            return {"pong": n}

        app = make_app()
        app.mount("/child", child, name="child")
        with TestClient(app) as c:
            assert c.get("/child/ping/3").json() == {"pong": 3}
        assert app.url_path_for("child:ping", n=3) == "/child/ping/3"

    def test_include_router_and_url_for(self) -> None:
        api = Router(prefix="/api", tags=["api"])

        @api.get("/items/{item_id:int}")
        async def get_item(item_id: int, request: Request) -> dict:
            return {"id": item_id, "self": str(request.url_for("get_item", item_id=item_id))}

        app = make_app()
        app.include_router(api, prefix="/v1")
        with TestClient(app) as c:
            assert c.get("/v1/api/items/7").json() == {"id": 7, "self": "http://testserver/v1/api/items/7"}


class TestWebSocketRouting:
    def test_echo_with_converter(self) -> None:
        app = make_app()

        @app.websocket("/ws/{room}/{n:int}")
        async def ws(websocket: WebSocket, room: str, n: int) -> None:
            await websocket.accept()
            async for message in websocket.iter_json():
                await websocket.send_json({"room": room, "n": n, "echo": message})

        with TestClient(app) as c, c.websocket_connect("/ws/lobby/2") as s:
            s.send_json({"hi": 1})
            assert s.receive_json() == {"room": "lobby", "n": 2, "echo": {"hi": 1}}

    def test_unknown_path_closes(self) -> None:
        with TestClient(make_app()) as c, pytest.raises(WebSocketDisconnect) as info, c.websocket_connect("/nope"):
            pass
        assert info.value.code == 1000


class TestExtraFields:
    def test_forbid_unknown_body_fields_app_wide(self) -> None:
        for policy, expected in (("ignore", 200), ("forbid", 422)):
            app = Covet(openapi_url=None, extra_fields=policy)

            @app.post("/items")
            async def create(item: NamedItem) -> dict:
                return {"name": item.name}

            with TestClient(app) as c:
                r = c.post("/items", json={"name": "x", "surprise": 1})
            assert r.status_code == expected, (policy, r.text)
            if expected == 422:
                assert r.json()["details"][0]["code"] == "extra_forbidden"

    def test_bad_policy_is_a_setup_error(self) -> None:
        with pytest.raises(Exception, match="extra_fields"):
            Covet(extra_fields="sometimes")


class TestStartupChecks:
    def test_endpoint_checks_run_at_build(self) -> None:
        from covet.exceptions import ImproperlyConfigured

        seen: list[Covet] = []

        def needs_flag(app: Covet) -> None:
            seen.append(app)
            if not getattr(app.state, "flag", False):
                raise ImproperlyConfigured("needs app.state.flag")

        app = make_app()

        @app.get("/checked")
        async def checked() -> dict:
            return {}

        checked.__covet_checks__ = (needs_flag,)  # type: ignore[attr-defined]
        with pytest.raises(ImproperlyConfigured, match=r"needs app\.state\.flag"):
            app.build()
        app.state.flag = True
        with TestClient(app) as c:
            assert c.get("/checked").status_code == 200
        assert seen == [app, app]


def test_error_behind_middleware_is_answered_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()

    class Passthrough:
        def __init__(self, app: object) -> None:
            self.app = app

        async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
            await self.app(scope, receive, send)

    app.add_middleware(Passthrough)
    with TestClient(app) as c, caplog.at_level(logging.WARNING), pytest.raises(RuntimeError, match="hunter2"):
        c.get("/boom")
    assert [r.levelname for r in caplog.records if r.name.startswith("covet")] == ["ERROR"]
    assert "already started" not in caplog.text


def test_broken_setup_fails_start_up_instead_of_being_ignored() -> None:
    app = make_app()

    @app.get("/plain")  # conflicts with make_app's /plain: found when routes compile
    async def again() -> None:
        return None

    with pytest.raises(RuntimeError, match="RouteConflict"), TestClient(app):
        pass
