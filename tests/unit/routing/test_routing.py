"""Path templates, converters, the matcher, conflicts, include_router, url_path_for."""

from __future__ import annotations

import uuid

import pytest

from covet.exceptions import ImproperlyConfigured, NoMatchFound, RouteConflict
from covet.routing import (
    Convertor,
    Mount,
    Route,
    Router,
    RouteTable,
    WebSocketRoute,
    register_convertor,
)


async def endpoint() -> None:
    return None


async def other() -> None:
    return None


def match(routes: list[Route], path: str) -> tuple[str, dict] | None:
    found = RouteTable(routes).http.match(path)
    if found is None:
        return None
    table, params = found
    return table.template, params


class TestConvertors:
    @pytest.mark.parametrize(
        ("template", "path", "expected"),
        [
            ("/i/{v:int}", "/i/42", 42),
            ("/f/{v:float}", "/f/2.5", 2.5),
            ("/f/{v:float}", "/f/3", 3.0),
            ("/u/{v:uuid}", "/u/12345678-1234-5678-1234-567812345678", uuid.UUID("12345678-1234-5678-1234-567812345678")),
            ("/s/{v:slug}", "/s/hello-world_2", "hello-world_2"),
            ("/s/{v}", "/s/any thing", "any thing"),
            ("/p/{v:path}", "/p/a/b/c.txt", "a/b/c.txt"),
        ],
    )
    def test_accepts_and_converts(self, template: str, path: str, expected: object) -> None:
        assert match([Route(template, endpoint)], path) == (template, {"v": expected})

    @pytest.mark.parametrize(
        ("template", "path"),
        [
            ("/i/{v:int}", "/i/abc"),
            ("/i/{v:int}", "/i/-1"),
            ("/i/{v:int}", "/i/4٣"),  # non-ASCII digit
            ("/i/{v:int}", "/i/" + "9" * 5000),  # beyond int's digit limit: no crash, no match
            ("/f/{v:float}", "/f/nan"),
            ("/f/{v:float}", "/f/1e5"),
            ("/u/{v:uuid}", "/u/not-a-uuid"),
            ("/s/{v:slug}", "/s/white space"),
            ("/s/{v}", "/s/"),
            ("/p/{v:path}", "/p/../etc/passwd"),
            ("/p/{v:path}", "/p/a/../../x"),
            ("/p/{v:path}", "/p/a\\..\\x"),
            ("/p/{v:path}", "/p/a\x00b"),
        ],
    )
    def test_rejects(self, template: str, path: str) -> None:
        assert match([Route(template, endpoint)], path) is None

    def test_user_registered_convertor(self) -> None:
        class Hex(Convertor):
            regex = "[0-9a-f]+"
            name = "hex"
            priority = 12

            def convert(self, value: str) -> int:
                return int(value, 16)

            def to_string(self, value: object) -> str:
                return format(int(value), "x")  # type: ignore[call-overload]

        register_convertor("hex", Hex())
        route = Route("/colour/{c:hex}", endpoint, name="colour")
        assert match([route], "/colour/ff") == ("/colour/{c:hex}", {"c": 255})
        assert route.url_path(c=255) == "/colour/ff"

    def test_unknown_convertor_is_a_setup_error(self) -> None:
        with pytest.raises(ImproperlyConfigured, match="unknown path convertor 'nope'"):
            Route("/x/{v:nope}", endpoint)


class TestMatcher:
    def test_static_beats_parameter_and_backtracks(self) -> None:
        routes = [
            Route("/users/{id:int}", endpoint),
            Route("/users/me", other),
            Route("/a/{x}/c", endpoint),
            Route("/a/b/d", other),
        ]
        assert match(routes, "/users/me") == ("/users/me", {})
        assert match(routes, "/users/7") == ("/users/{id:int}", {"id": 7})
        assert match(routes, "/a/b/c") == ("/a/{x}/c", {"x": "b"})
        assert match(routes, "/a/b/d") == ("/a/b/d", {})

    def test_convertor_priority_int_before_str(self) -> None:
        routes = [Route("/items/{name}", endpoint), Route("/items/{id:int}", other, methods=["POST"])]
        # both templates differ in convertor, so both are reachable
        assert match(routes, "/items/5") == ("/items/{id:int}", {"id": 5})
        assert match(routes, "/items/five") == ("/items/{name}", {"name": "five"})

    def test_mixed_segment(self) -> None:
        routes = [Route("/files/{name}.{ext}", endpoint), Route("/v{major:int}/x", other)]
        assert match(routes, "/files/report.pdf") == ("/files/{name}.{ext}", {"name": "report", "ext": "pdf"})
        assert match(routes, "/v2/x") == ("/v{major:int}/x", {"major": 2})
        assert match(routes, "/vx/x") is None

    def test_trailing_slash_is_a_different_path(self) -> None:
        routes = [Route("/a", endpoint)]
        assert match(routes, "/a/") is None

    def test_many_routes_resolve_by_lookup(self) -> None:
        routes = [Route(f"/r{i}/items/{{id:int}}", endpoint, name=f"r{i}") for i in range(1000)]
        table = RouteTable(routes)
        found = table.http.match("/r999/items/5")
        assert found is not None and found[0].template == "/r999/items/{id:int}" and found[1] == {"id": 5}
        assert table.http.match("/r1000/items/5") is None


class TestConflicts:
    def test_same_path_same_method(self) -> None:
        with pytest.raises(RouteConflict, match=r"\['GET'\] '/x'"):
            RouteTable([Route("/x", endpoint), Route("/x", other)])

    def test_same_shape_other_names(self) -> None:
        with pytest.raises(RouteConflict, match="same parameter names"):
            RouteTable([Route("/u/{a:int}", endpoint), Route("/u/{b:int}", other, methods=["POST"])])

    def test_same_path_other_methods_is_fine(self) -> None:
        table = RouteTable([Route("/x", endpoint), Route("/x", other, methods=["POST", "DELETE"])])
        methods = table.http.static["/x"]
        assert methods.allow == "DELETE, GET, HEAD, OPTIONS, POST"
        assert methods.by_method["HEAD"].endpoint is endpoint

    def test_explicit_head_overrides_automatic(self) -> None:
        table = RouteTable([Route("/x", endpoint), Route("/x", other, methods=["HEAD"])])
        assert table.http.static["/x"].by_method["HEAD"].endpoint is other

    def test_websocket_conflict(self) -> None:
        with pytest.raises(RouteConflict):
            RouteTable([WebSocketRoute("/ws/{a}", endpoint), WebSocketRoute("/ws/{b}", other)])

    @pytest.mark.parametrize(
        "path", ["nope", "/a/{b", "/a/{1x}", "/a/{x}/{x}", "/a/{p:path}/b", "/a/x{p:path}"]
    )
    def test_bad_templates(self, path: str) -> None:
        with pytest.raises(ImproperlyConfigured):
            Route(path, endpoint)

    def test_bad_method(self) -> None:
        with pytest.raises(ImproperlyConfigured, match="unknown HTTP method"):
            Route("/x", endpoint, methods=["FETCH"])


class TestRouter:
    def test_include_router_prefix_tags_dependencies(self) -> None:
        dep_a, dep_b = object(), object()
        api = Router(prefix="/api", tags=["api"], dependencies=[dep_a])

        @api.get("/items/{id:int}", tags=["items"])
        async def get_item(id: int) -> None:
            return None

        root = Router()
        root.include_router(api, prefix="/v1", tags=["v1"], dependencies=[dep_b])
        (route,) = root.routes
        assert isinstance(route, Route)
        assert route.path == "/v1/api/items/{id:int}"
        assert route.tags == ("v1", "api", "items")
        assert route.dependencies == (dep_b, dep_a)
        assert route.methods == {"GET", "HEAD"}
        assert root.url_path_for("get_item", id=4) == "/v1/api/items/4"

    def test_url_path_for(self) -> None:
        router = Router()
        router.add_route("/users/{user_id:int}", endpoint, name="user")
        router.add_route("/files/{p:path}", endpoint, name="file")
        router.add_route("/u/{id:uuid}", endpoint, name="by_uuid")
        router.add_route("/s/{name}", endpoint, name="by_name")
        assert router.url_path_for("user", user_id=3) == "/users/3"
        assert router.url_path_for("file", p="a/b c.txt") == "/files/a/b%20c.txt"
        assert router.url_path_for("by_name", name="a b?") == "/s/a%20b%3F"
        with pytest.raises(NoMatchFound):  # a slash could never route back to this parameter
            router.url_path_for("by_name", name="a/b")
        uid = uuid.UUID(int=1)
        assert router.url_path_for("by_uuid", id=uid) == f"/u/{uid}"
        with pytest.raises(NoMatchFound, match="no route named 'missing'"):
            router.url_path_for("missing")
        with pytest.raises(NoMatchFound):
            router.url_path_for("user", user_id="abc")
        with pytest.raises(NoMatchFound):
            router.url_path_for("user")
        with pytest.raises(NoMatchFound):
            router.url_path_for("file", p="../etc")

    def test_mount_lookup_longest_prefix(self) -> None:
        async def app_a(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
            return None

        async def app_b(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
            return None

        table = RouteTable([Mount("/api", app_a, name="a"), Mount("/api/v2", app_b, name="b")])
        assert table.find_mount("/api/v2/x") == (table.mounts[0], "/x")
        assert table.find_mount("/api/x")[0].app is app_a  # type: ignore[index]
        assert table.find_mount("/apix") is None
        assert table.find_mount("/api") == (table.mounts[1], "/")
        router = Router(routes=[Mount("/static", app_a, name="static")])
        assert router.url_path_for("static", path="css/site.css") == "/static/css/site.css"

    def test_prefix_validation(self) -> None:
        with pytest.raises(ImproperlyConfigured):
            Router(prefix="api")
        with pytest.raises(ImproperlyConfigured):
            Router().include_router(Router(), prefix="/api/")
