"""Swagger UI and ReDoc pages (HTML only; the assets come from a CDN or a local directory).

Values placed in the pages are escaped for their context: ``html.escape`` in markup, and
JSON with ``<``, ``>``, ``&`` and line separators escaped inside ``<script>``, so a title
or URL from configuration can never close the script element or inject markup.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

__all__ = (
    "ASSET_FILES",
    "CDN_REDOC",
    "CDN_SWAGGER_UI",
    "REDOC_VERSION",
    "SWAGGER_UI_VERSION",
    "redoc_html",
    "swagger_ui_html",
    "swagger_ui_oauth2_redirect_html",
)

SWAGGER_UI_VERSION = "5.35.0"
REDOC_VERSION = "2.5.4"
CDN_SWAGGER_UI = f"https://cdn.jsdelivr.net/npm/swagger-ui-dist@{SWAGGER_UI_VERSION}"
CDN_REDOC = f"https://cdn.jsdelivr.net/npm/redoc@{REDOC_VERSION}/bundles"

#: Files the pages load, by the name under which ``/docs/assets/`` serves them, with their
#: place inside the npm packages (``swagger-ui-dist``, ``redoc``).
ASSET_FILES: Mapping[str, tuple[str, str]] = {
    "swagger-ui-bundle.js": ("swagger-ui-dist", "swagger-ui-bundle.js"),
    "swagger-ui.css": ("swagger-ui-dist", "swagger-ui.css"),
    "favicon-32x32.png": ("swagger-ui-dist", "favicon-32x32.png"),
    "redoc.standalone.js": ("redoc", "bundles/redoc.standalone.js"),
}

_JS_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def _js(value: Any) -> str:
    """JSON for a ``<script>`` block: cannot end the element or break the string."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True).translate(_JS_ESCAPES)


def _asset(assets_url: str | None, name: str) -> str:
    if assets_url is None:
        package, path = ASSET_FILES[name]
        base = CDN_SWAGGER_UI if package == "swagger-ui-dist" else CDN_REDOC
        return f"{base}/{path.rsplit('/', 1)[-1]}"
    return f"{assets_url.rstrip('/')}/{name}"


def swagger_ui_html(
    *,
    openapi_url: str,
    title: str,
    assets_url: str | None = None,
    oauth2_redirect_url: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    init_oauth: Mapping[str, Any] | None = None,
) -> str:
    """The Swagger UI page for the document at ``openapi_url``.

    ``assets_url`` is where ``swagger-ui-bundle.js`` and ``swagger-ui.css`` are served
    (``None``: the pinned CDN release). ``parameters`` override Swagger UI options
    (``deepLinking`` is on by default); ``init_oauth`` is passed to ``ui.initOAuth``.
    """
    options: dict[str, Any] = {
        "url": openapi_url,
        "dom_id": "#swagger-ui",
        "deepLinking": True,
        "showExtensions": True,
        "showCommonExtensions": True,
        "layout": "BaseLayout",
    }
    if oauth2_redirect_url:
        options["oauth2RedirectUrl"] = oauth2_redirect_url
    options.update(parameters or {})
    oauth = f"ui.initOAuth({_js(dict(init_oauth))});" if init_oauth else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="{html.escape(_asset(assets_url, "swagger-ui.css"))}">
<link rel="icon" type="image/png" href="{html.escape(_asset(assets_url, "favicon-32x32.png"))}">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{html.escape(_asset(assets_url, "swagger-ui-bundle.js"))}"></script>
<script>
const options = {_js(options)};
options.presets = [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset];
options.plugins = [SwaggerUIBundle.plugins.DownloadUrl];
const ui = SwaggerUIBundle(options);
{oauth}
window.ui = ui;
</script>
</body>
</html>
"""


def redoc_html(*, openapi_url: str, title: str, assets_url: str | None = None) -> str:
    """The ReDoc page for the document at ``openapi_url``."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>body {{ margin: 0; padding: 0; }}</style>
</head>
<body>
<div id="redoc-container"></div>
<script src="{html.escape(_asset(assets_url, "redoc.standalone.js"))}"></script>
<script>
Redoc.init({_js(openapi_url)}, {{}}, document.getElementById("redoc-container"));
</script>
</body>
</html>
"""


def swagger_ui_oauth2_redirect_html() -> str:
    """The page an OAuth2 provider redirects to; hands the result back to Swagger UI."""
    return """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Swagger UI: OAuth2 redirect</title></head>
<body>
<script>
"use strict";
(function () {
  const oauth2 = window.opener && window.opener.swaggerUIRedirectOauth2;
  if (!oauth2) { document.body.textContent = "No authorization request is pending."; return; }
  const sentState = oauth2.state;
  const redirectUrl = oauth2.redirectUrl;
  const raw = /code|token|error/.test(window.location.hash)
    ? window.location.hash.substring(1)
    : window.location.search.substring(1);
  const qp = Object.fromEntries(new URLSearchParams(raw));
  const isValid = qp.state === sentState;
  const flow = oauth2.auth.schema.get("flow");
  if ((flow === "accessCode" || flow === "authorizationCode" || flow === "authorization_code")
      && !oauth2.auth.code) {
    if (!isValid) {
      oauth2.errCb({authId: oauth2.auth.name, source: "auth", level: "warning",
                    message: "Authorization may be unsafe: the returned state differs from the sent one."});
    }
    if (qp.code) {
      delete oauth2.state;
      oauth2.auth.code = qp.code;
      oauth2.callback({auth: oauth2.auth, redirectUrl: redirectUrl});
    } else {
      const reason = qp.error ? "[" + qp.error + "]: " + (qp.error_description || "") : "no code received";
      oauth2.errCb({authId: oauth2.auth.name, source: "auth", level: "error",
                    message: "Authorization failed: " + reason});
    }
  } else {
    oauth2.callback({auth: oauth2.auth, token: qp, isValid: isValid, redirectUrl: redirectUrl});
  }
  window.close();
})();
</script>
</body>
</html>
"""
