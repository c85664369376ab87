"""Review: markup templates named with jinja suffixes are autoescaped too."""

from __future__ import annotations

from pathlib import Path

import pytest

from covet.templates import Templates

XSS = "<script>alert(1)</script>"


@pytest.mark.parametrize(
    "name",
    ["page.html.j2", "page.html.jinja", "page.html.jinja2", "feed.xml.j2", "page.jinja",
     "page.jinja2", "PAGE.HTML.J2", "page.html"],
)  # fmt: skip
async def test_markup_templates_with_jinja_suffixes_escape(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("<p>{{ value }}</p>")
    html = await Templates(directory=tmp_path).render(name, {"value": XSS})
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize("name", ["mail.txt", "mail.txt.j2", "notes.md"])
async def test_text_templates_stay_unescaped(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("{{ value }}")
    assert await Templates(directory=tmp_path).render(name, {"value": "a & b"}) == "a & b"
