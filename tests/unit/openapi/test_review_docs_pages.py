"""Security review of the documentation pages: the OAuth2 redirect page and escaping."""

from __future__ import annotations

import re

from covet import Covet
from covet.openapi.docs import redoc_html, swagger_ui_html, swagger_ui_oauth2_redirect_html
from covet.testing import TestClient


def test_oauth2_redirect_page_reflects_nothing_and_never_navigates() -> None:
    """The classic target: the page must not echo query parameters into markup nor
    redirect anywhere (it only hands the result to the opener's pending request)."""
    app = Covet(title="t")
    client = TestClient(app)
    plain = client.get("/docs/oauth2-redirect")
    hostile = client.get(
        "/docs/oauth2-redirect",
        params={"code": "<script>alert(1)</script>", "state": '"><img src=x>', "redirect_uri": "https://evil.io"},
    )
    assert plain.status_code == hostile.status_code == 200
    assert hostile.text == plain.text == swagger_ui_oauth2_redirect_html()
    script = plain.text
    for sink in ("innerHTML", "outerHTML", "document.write", "location.href =", "location.assign",
                 "location.replace", "window.location =", "eval(", "postMessage"):
        assert sink not in script, sink
    assert "textContent" in script  # the only DOM write is text
    # the redirect target comes from the opener's own request, never from the URL
    assert re.search(r"redirectUrl = oauth2\.redirectUrl;", script)


def test_script_contexts_escape_every_terminator() -> None:
    """Configured values inside inline scripts can neither close the element, open an
    HTML comment (which changes how ``</script>`` is parsed) nor break a JS string."""
    evil = "</script><!--<script>\u2028\u2029&"
    for page in (
        swagger_ui_html(openapi_url=evil, title=evil, parameters={"x": evil}, init_oauth={"appName": evil}),
        redoc_html(openapi_url=evil, title=evil),
    ):
        scripts = re.findall(r"<script>(.*?)</script>", page, flags=re.S)
        assert scripts
        for script in scripts:
            assert not any(c in script for c in "<>&\u2028\u2029"), script
        assert "<title>&lt;/script&gt;&lt;!--&lt;script&gt;" in page
