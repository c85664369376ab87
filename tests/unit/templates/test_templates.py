"""Templates: async rendering, autoescape, context processors, url_for/static_url, reload."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from covet import Covet
from covet.exceptions import ImproperlyConfigured
from covet.http import HTMLResponse, Request
from covet.staticfiles import StaticFiles
from covet.templates import TemplateResponse, Templates
from covet.testing import TestClient


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    tpl = tmp_path / "templates"
    tpl.mkdir()
    (tpl / "base.html").write_text(
        "<title>{% block title %}{% endblock %}</title>{% block body %}{% endblock %}"
    )
    (tpl / "page.html").write_text(
        '{% extends "base.html" %}{% block title %}{{ title }}{% endblock %}'
        "{% block body %}<p>{{ message }}</p><i>{{ site }}</i><u>{{ user }}</u>{% endblock %}"
    )
    (tpl / "links.html").write_text(
        "{{ url_for('user', user_id=7) }}|{{ static_url('css/app.css') }}"
        "|{{ static_url('css/app.css', version=True) }}|{{ static_url('missing.css', version=True) }}"
    )
    (tpl / "feed.xml").write_text("<t>{{ message }}</t>")
    (tpl / "plain.txt").write_text("{{ message }}")
    (tpl / "live.html").write_text("v1")
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "app.css").write_text("body{}")
    return tpl, static


def make_app(
    tpl: Path, static: Path, *, debug: bool = False, **options: object
) -> tuple[Covet, Templates]:
    async def site(request: Request) -> dict[str, str]:
        return {"site": "Shop", "title": "default title"}

    templates = Templates(
        directory=tpl,
        context_processors=[site, lambda r: {"user": r.query_params.get("u", "anon")}],
        **options,
    )  # type: ignore[arg-type]
    app = Covet(debug=debug)
    app.mount("/static", StaticFiles(directory=static), name="static")

    @app.get("/page")
    async def page(request: Request) -> HTMLResponse:
        message = request.query_params.get("m", "")
        return templates.TemplateResponse(
            request, "page.html", {"title": "Hello", "message": message}
        )

    @app.get("/users/{user_id:int}", name="user")
    async def user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    @app.get("/t/{name}")
    async def any_template(request: Request, name: str) -> HTMLResponse:
        return templates.TemplateResponse(
            request, name, {"message": request.query_params.get("m", "")}, status_code=201
        )

    return app, templates


def test_render_with_inheritance_processors_and_autoescape(folders: tuple[Path, Path]) -> None:
    app, _ = make_app(*folders)
    with TestClient(app) as client:
        r = client.get("/page", params={"m": "<script>alert(1)</script>", "u": "<b>bob</b>"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.text == (
        "<title>Hello</title><p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
        "<i>Shop</i><u>&lt;b&gt;bob&lt;/b&gt;</u>"
    )
    assert r.headers["content-length"] == str(len(r.content))


def test_autoescape_by_extension(folders: tuple[Path, Path]) -> None:
    app, _ = make_app(*folders)
    with TestClient(app) as client:
        xml = client.get("/t/feed.xml", params={"m": "<x>&"})
        txt = client.get("/t/plain.txt", params={"m": "<x>&"})
    assert xml.status_code == 201 and xml.text == "<t>&lt;x&gt;&amp;</t>"
    assert txt.text == "<x>&"


def test_url_for_and_static_url(folders: tuple[Path, Path]) -> None:
    app, _ = make_app(*folders)
    with TestClient(app) as client:
        text = client.get("/t/links.html").text
    url, plain, versioned, missing = text.split("|")
    assert url == "http://testserver/users/7"
    assert plain == "/static/css/app.css"
    assert versioned.startswith("/static/css/app.css?v=") and len(versioned.split("=")[1]) == 12
    assert missing == "/static/missing.css"


def test_cache_bust_by_default(folders: tuple[Path, Path]) -> None:
    app, _ = make_app(*folders, cache_bust=True)
    with TestClient(app) as client:
        assert "/static/css/app.css?v=" in client.get("/t/links.html").text.split("|")[1]


def test_template_response_exposes_template_and_context(folders: tuple[Path, Path]) -> None:
    app, templates = make_app(*folders)
    request = Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/",
            "headers": [],
            "query_string": b"",
            "app": app,
        }
    )
    response = templates.TemplateResponse(request, "page.html", {"title": "T"}, status_code=404)
    assert isinstance(response, TemplateResponse) and isinstance(response, HTMLResponse)
    assert response.template.name == "page.html"
    assert response.context["title"] == "T" and response.context["request"] is request
    assert response.status_code == 404


def test_missing_template_raises_at_creation(folders: tuple[Path, Path]) -> None:
    import jinja2

    app, templates = make_app(*folders)
    request = Request(
        {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    )
    with pytest.raises(jinja2.TemplateNotFound):
        templates.TemplateResponse(request, "nope.html")
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/t/nope.html").status_code == 500
        assert client.get("/t/..%2f..%2fetc%2fpasswd").status_code in (404, 500)


@pytest.mark.parametrize(("debug", "reloads"), [(True, True), (False, False)])
def test_reload_follows_debug(folders: tuple[Path, Path], debug: bool, reloads: bool) -> None:
    tpl, static = folders
    app, _ = make_app(tpl, static, debug=debug)
    with TestClient(app) as client:
        assert client.get("/t/live.html").text == "v1"
        (tpl / "live.html").write_text("v2")
        st = (tpl / "live.html").stat()
        os.utime(tpl / "live.html", ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
        assert client.get("/t/live.html").text == ("v2" if reloads else "v1")


async def test_render_to_string(folders: tuple[Path, Path]) -> None:
    _, templates = make_app(*folders)
    assert await templates.render("plain.txt", {"message": "hi"}) == "hi"


def test_configuration_errors(folders: tuple[Path, Path]) -> None:
    import jinja2

    with pytest.raises(ImproperlyConfigured):
        Templates()
    with pytest.raises(ImproperlyConfigured):
        Templates(env=jinja2.Environment())
    env = jinja2.Environment(enable_async=True, loader=jinja2.DictLoader({"a.html": "{{ x }}"}))
    assert Templates(env=env).env is env


def test_missing_jinja2_raises_missing_dependency(
    monkeypatch: pytest.MonkeyPatch, folders: tuple[Path, Path]
) -> None:
    import sys

    from covet.exceptions import MissingDependency

    monkeypatch.setitem(sys.modules, "jinja2", None)
    with pytest.raises(MissingDependency, match=r"covetpy\[templates\]"):
        Templates(directory=folders[0])
