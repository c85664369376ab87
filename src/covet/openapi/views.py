"""The routes that serve the document and the documentation pages.

``install(app)`` is called by the application at build time when ``app.openapi_url`` is
set. With ``app.docs_assets`` (a directory where the npm packages ``swagger-ui-dist`` and
``redoc`` are installed, e.g. by ``scripts/fetch-docs-assets.sh``) the pages load their
scripts from ``{docs_url}/assets/`` instead of the CDN. Only the few files the pages use
are served, each resolved once at start-up: a request can never name another file.
"""

from __future__ import annotations

import os
from typing import Any

from covet.exceptions import HTTPException, ImproperlyConfigured
from covet.http import FileResponse, HTMLResponse, Request, Response
from covet.openapi.docs import (
    ASSET_FILES,
    redoc_html,
    swagger_ui_html,
    swagger_ui_oauth2_redirect_html,
)

__all__ = ("find_assets", "install")

_MAX_PREFIXES = 16  # encoded documents kept, one per root_path

_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
}


def find_assets(directory: str | os.PathLike[str]) -> dict[str, str]:
    """Absolute paths of the page assets found under ``directory``, by served name.

    Looks in ``node_modules/<package>/`` (``npm install --prefix DIR``), ``<package>/``
    and the directory itself. Raises ``ImproperlyConfigured`` when the directory is
    missing or holds none of the files.
    """
    root = os.path.realpath(os.fspath(directory))
    if not os.path.isdir(root):
        raise ImproperlyConfigured(f"docs_assets directory {root!r} does not exist")
    found: dict[str, str] = {}
    for name, (package, relative) in ASSET_FILES.items():
        for candidate in (
            os.path.join(root, "node_modules", package, relative),
            os.path.join(root, package, relative),
            os.path.join(root, name),
        ):
            if os.path.isfile(candidate):
                found[name] = candidate
                break
    if not found:
        raise ImproperlyConfigured(
            f"no Swagger UI or ReDoc assets under {root!r}: run scripts/fetch-docs-assets.sh"
        )
    return found


_POPUP_FRIENDLY = {"Cross-Origin-Opener-Policy": "same-origin-allow-popups"}


def install(app: Any) -> None:
    """Add the ``openapi_url``, ``docs_url`` (+ OAuth2 redirect, assets) and ``redoc_url``
    routes to ``app`` (none of them appears in the document)."""
    openapi_url: str | None = app.openapi_url
    if not openapi_url:
        return
    docs_url: str | None = getattr(app, "docs_url", None)
    redoc_url: str | None = getattr(app, "redoc_url", None)
    assets_dir = getattr(app, "docs_assets", None)
    assets = find_assets(assets_dir) if assets_dir and (docs_url or redoc_url) else None
    assets_path = f"{(docs_url or '/docs').rstrip('/')}/assets"
    cache: dict[str, Any] = {"document": None, "bodies": {}}

    def root(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    async def openapi_document(request: Request) -> Response:
        document = app.openapi()
        if cache["document"] is not document:
            cache["document"], cache["bodies"] = document, {}
        prefix = root(request)
        body = cache["bodies"].get(prefix)
        if body is None:
            from covet import _json

            if prefix and not document.get("servers"):
                # Behind a proxy that strips a prefix: "Try it out" must call through it.
                document = {**document, "servers": [{"url": prefix}]}
            if len(cache["bodies"]) >= _MAX_PREFIXES:  # root_path may come from a header
                cache["bodies"].clear()
            body = cache["bodies"][prefix] = _json.dumps(document)
        return Response(body, media_type="application/json")

    add = app.add_route
    add(openapi_url, openapi_document, methods=["GET"], include_in_schema=False, name="openapi")

    if docs_url:
        oauth2_redirect = f"{docs_url.rstrip('/')}/oauth2-redirect"

        async def swagger_ui(request: Request) -> HTMLResponse:
            prefix = root(request)
            page = swagger_ui_html(
                openapi_url=prefix + openapi_url,
                title=f"{app.title} - Swagger UI",
                assets_url=prefix + assets_path if assets else None,
                oauth2_redirect_url=prefix + oauth2_redirect,
                parameters=getattr(app, "swagger_ui_parameters", None),
                init_oauth=getattr(app, "swagger_ui_init_oauth", None),
            )
            # the OAuth2 "Authorize" flow opens a popup that must report back to this page;
            # SecurityHeadersMiddleware's strict default would cut that link (it keeps a
            # header the handler set)
            return HTMLResponse(page, headers=_POPUP_FRIENDLY)

        async def swagger_ui_redirect(request: Request) -> HTMLResponse:
            return HTMLResponse(swagger_ui_oauth2_redirect_html())

        add(docs_url, swagger_ui, methods=["GET"], include_in_schema=False, name="swagger_ui")
        add(
            oauth2_redirect,
            swagger_ui_redirect,
            methods=["GET"],
            include_in_schema=False,
            name="swagger_ui_oauth2_redirect",
        )

    if redoc_url:

        async def redoc(request: Request) -> HTMLResponse:
            prefix = root(request)
            page = redoc_html(
                openapi_url=prefix + openapi_url,
                title=f"{app.title} - ReDoc",
                assets_url=prefix + assets_path if assets else None,
            )
            return HTMLResponse(page)

        add(redoc_url, redoc, methods=["GET"], include_in_schema=False, name="redoc")

    if assets:
        files = dict(assets)

        async def docs_asset(request: Request) -> Response:
            name = request.path_params.get("name", "")
            path = files.get(name)
            if path is None:
                raise HTTPException(404)
            media_type = _MEDIA_TYPES.get(os.path.splitext(name)[1], "application/octet-stream")
            return FileResponse(
                path,
                media_type=media_type,
                headers={"Cache-Control": "public, max-age=86400"},
                content_disposition_type="inline",
            )

        add(
            assets_path + "/{name}",
            docs_asset,
            methods=["GET"],
            include_in_schema=False,
            name="docs_assets",
        )
