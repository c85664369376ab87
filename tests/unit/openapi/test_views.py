"""/openapi.json, /docs, /docs/oauth2-redirect, /redoc and the local asset route."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from covet import Covet
from covet.exceptions import ImproperlyConfigured
from covet.openapi import find_assets
from covet.openapi.docs import CDN_REDOC, CDN_SWAGGER_UI, redoc_html, swagger_ui_html
from covet.testing import TestClient


def make_app(**options: Any) -> Covet:
    app = Covet(title="Shop", **options)

    @app.get("/items/{item_id:int}")
    async def get_item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    return app


@pytest.fixture
def assets(tmp_path: Path) -> Path:
    swagger = tmp_path / "node_modules" / "swagger-ui-dist"
    swagger.mkdir(parents=True)
    (swagger / "swagger-ui-bundle.js").write_text("window.SwaggerUIBundle = function () {};")
    (swagger / "swagger-ui.css").write_text("body {}")
    (swagger / "package.json").write_text('{"secret": true}')
    redoc = tmp_path / "redoc" / "bundles"  # the other supported layout: DIR/<package>/
    redoc.mkdir(parents=True)
    (redoc / "redoc.standalone.js").write_text("window.Redoc = {};")
    return tmp_path


def test_document_route_is_cached_and_excluded() -> None:
    app = make_app()
    with TestClient(app) as client:
        first = client.get("/openapi.json")
        assert first.status_code == 200
        assert first.headers["content-type"] == "application/json"
        doc = first.json()
        assert list(doc["paths"]) == ["/items/{item_id}"]
        assert app.openapi() is app.openapi()  # built once
        assert client.get("/openapi.json").content == first.content


def test_swagger_ui_page_uses_cdn_by_default() -> None:
    with TestClient(make_app()) as client:
        page = client.get("/docs")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        html = page.text
        assert f"{CDN_SWAGGER_UI}/swagger-ui-bundle.js" in html
        assert f"{CDN_SWAGGER_UI}/swagger-ui.css" in html
        assert '"url": "/openapi.json"' in html
        assert '"deepLinking": true' in html
        assert '"oauth2RedirectUrl": "/docs/oauth2-redirect"' in html
        assert "<title>Shop - Swagger UI</title>" in html
        redirect = client.get("/docs/oauth2-redirect")
        assert redirect.status_code == 200 and "swaggerUIRedirectOauth2" in redirect.text
        redoc = client.get("/redoc")
        assert redoc.status_code == 200
        assert f"{CDN_REDOC}/redoc.standalone.js" in redoc.text
        assert 'Redoc.init("/openapi.json"' in redoc.text
        assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 404


def test_pages_escape_configured_values() -> None:
    evil = "</title><script>alert(1)</script>"
    html = swagger_ui_html(openapi_url='/o"</script><script>x()</script>', title=evil)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;/title&gt;" in html
    assert "</script><script>x()" not in html
    assert "\\u003c/script\\u003e" in html
    redoc = redoc_html(openapi_url="/o</script>", title=evil)
    assert "<script>alert(1)</script>" not in redoc and "/o</script>" not in redoc
    with TestClient(make_app(version="1")) as client:
        app_title = Covet(title=evil)
        with TestClient(app_title) as other:
            assert "<script>alert(1)</script>" not in other.get("/docs").text
        assert client.get("/redoc").status_code == 200


def test_app_level_swagger_ui_settings() -> None:
    app = make_app()
    app.swagger_ui_parameters = {"tryItOutEnabled": True}  # type: ignore[attr-defined]
    app.swagger_ui_init_oauth = {"clientId": "docs"}  # type: ignore[attr-defined]
    with TestClient(app) as client:
        html = client.get("/docs").text
    assert '"tryItOutEnabled": true' in html
    assert 'ui.initOAuth({"clientId": "docs"});' in html


def test_swagger_ui_parameters_override_defaults() -> None:
    html = swagger_ui_html(
        openapi_url="/o", title="t", parameters={"deepLinking": False, "tryItOutEnabled": True}
    )
    options = json.loads(html.split("const options = ", 1)[1].split(";\n", 1)[0])
    assert options["deepLinking"] is False and options["tryItOutEnabled"] is True
    with_oauth = swagger_ui_html(openapi_url="/o", title="t", init_oauth={"clientId": "abc"})
    assert 'ui.initOAuth({"clientId": "abc"});' in with_oauth


def test_local_assets_are_served_and_nothing_else(assets: Path) -> None:
    app = make_app(docs_assets=str(assets))
    with TestClient(app) as client:
        html = client.get("/docs").text
        assert "/docs/assets/swagger-ui-bundle.js" in html and "cdn.jsdelivr" not in html
        assert "/docs/assets/redoc.standalone.js" in client.get("/redoc").text
        bundle = client.get("/docs/assets/swagger-ui-bundle.js")
        assert bundle.status_code == 200
        assert bundle.text == "window.SwaggerUIBundle = function () {};"
        assert bundle.headers["content-type"].startswith("text/javascript")
        assert bundle.headers["cache-control"] == "public, max-age=86400"
        assert (
            client.get("/docs/assets/swagger-ui.css").headers["content-type"].startswith("text/css")
        )
        assert client.get("/docs/assets/redoc.standalone.js").status_code == 200
        for hostile in (
            "/docs/assets/package.json",
            "/docs/assets/..%2Fpackage.json",
            "/docs/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
            "/docs/assets/favicon-32x32.png",  # allowed name, but not present in this directory
        ):
            response = client.get(hostile)
            assert response.status_code == 404, hostile
            assert b"secret" not in response.content


def test_find_assets_errors(tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match="does not exist"):
        find_assets(tmp_path / "nope")
    with pytest.raises(ImproperlyConfigured, match="fetch-docs-assets"):
        find_assets(tmp_path)
    with pytest.raises(ImproperlyConfigured, match="does not exist"):
        make_app(docs_assets=str(tmp_path / "missing")).build()  # at start-up, not per request


def test_urls_can_be_moved_or_disabled() -> None:
    app = make_app(openapi_url="/api/schema.json", docs_url="/api/docs", redoc_url=None)
    with TestClient(app) as client:
        assert client.get("/api/schema.json").status_code == 200
        page = client.get("/api/docs").text
        assert '"url": "/api/schema.json"' in page
        assert client.get("/api/docs/oauth2-redirect").status_code == 200
        assert client.get("/redoc").status_code == 404
        assert client.get("/openapi.json").status_code == 404
    off = make_app(openapi_url=None)
    with TestClient(off) as client:
        for path in ("/openapi.json", "/docs", "/redoc"):
            assert client.get(path).status_code == 404


def test_root_path_prefixes_page_urls_and_becomes_the_server() -> None:
    app = make_app()
    with TestClient(app, root_path="/shop") as client:
        html = client.get("/docs").text
        doc = client.get("/openapi.json").json()
    assert '"url": "/shop/openapi.json"' in html
    assert doc["servers"] == [{"url": "/shop"}]
    assert "servers" not in app.openapi()  # the cached document itself is untouched
    with TestClient(app) as client:
        assert "servers" not in client.get("/openapi.json").json()
    for n in range(40):  # more prefixes than the bounded cache holds: each still answered right
        with TestClient(app, root_path=f"/p{n}") as client:
            assert client.get("/openapi.json").json()["servers"] == [{"url": f"/p{n}"}]
    declared = make_app(servers=[{"url": "https://api.example.com"}])
    with TestClient(declared, root_path="/shop") as client:
        assert client.get("/openapi.json").json()["servers"] == [{"url": "https://api.example.com"}]


def test_swagger_page_allows_the_oauth2_popup_behind_security_headers() -> None:
    from covet import Covet
    from covet.middleware import SecurityHeadersMiddleware
    from covet.testing import TestClient

    app = Covet(title="t")
    app.add_middleware(SecurityHeadersMiddleware)
    with TestClient(app) as client:
        docs = client.get("/docs")
        other = client.get("/openapi.json")
    assert docs.headers["cross-origin-opener-policy"] == "same-origin-allow-popups"
    assert other.headers["cross-origin-opener-policy"] == "same-origin"
