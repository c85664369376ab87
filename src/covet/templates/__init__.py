"""Jinja2 templates (extra ``covetpy[templates]``), rendered asynchronously.

    templates = Templates(directory="templates", context_processors=[current_user])

    @app.get("/")
    async def home(request: Request) -> Response:
        return templates.TemplateResponse(request, "home.html", {"title": "Home"})

See ``docs/static-and-templates.md``.
"""

from __future__ import annotations

from .engine import ContextProcessor, TemplateResponse, Templates

__all__ = ("ContextProcessor", "TemplateResponse", "Templates")
