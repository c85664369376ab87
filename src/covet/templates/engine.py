"""``Templates`` and ``TemplateResponse``: jinja2 with autoescape, async rendering,
context processors, ``url_for`` and ``static_url``."""

from __future__ import annotations

import inspect
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Union

from covet._types import Receive, Scope, Send
from covet.background import BackgroundTask
from covet.concurrency import run_in_threadpool
from covet.exceptions import ImproperlyConfigured, MissingDependency
from covet.http import HTMLResponse, Request
from covet.staticfiles import StaticFiles

__all__ = ("ContextProcessor", "TemplateResponse", "Templates")

ContextProcessor = Callable[[Request], Union[Mapping[str, Any], Awaitable[Mapping[str, Any]]]]
PathArg = Union[str, "os.PathLike[str]"]


_MARKUP = ("html", "htm", "xml", "xhtml", "svg")
# Markup files, also under the usual jinja suffixes ("page.html.j2", "page.jinja"): those
# are served as text/html by TemplateResponse, so they must never render unescaped.
_ESCAPED_EXTENSIONS = (
    *_MARKUP,
    *(f"{ext}.{suffix}" for ext in _MARKUP for suffix in ("j2", "jinja", "jinja2")),
    "jinja",
    "jinja2",
)


def _jinja2() -> Any:
    try:
        import jinja2
    except ImportError as exc:
        raise MissingDependency("jinja2", "templates") from exc
    return jinja2


def _url_for(context: Any, name: str, /, **params: Any) -> str:
    request: Request = context["request"]
    return str(request.url_for(name, **params))


class TemplateResponse(HTMLResponse):
    """An ``HTMLResponse`` rendered when sent; ``.template`` and ``.context`` stay readable.

    The template is loaded (and a missing one raised) when the response is created;
    context processors run and the body is rendered asynchronously in ``__call__``.
    """

    __slots__ = ("_request", "_templates", "context", "template")

    def __init__(
        self,
        templates: Templates,
        request: Request,
        template: Any,
        context: dict[str, Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(None, status_code, headers, media_type, background)
        self._templates = templates
        self._request = request
        self.template = template
        self.context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._templates._prepare(self._request, self.context)
        self.body = (await self.template.render_async(self.context)).encode(self.charset)
        if self.status_code >= 200 and self.status_code not in (204, 304):
            self.headers["content-length"] = str(len(self.body))
        await super().__call__(scope, receive, send)


class Templates:
    """A jinja2 environment configured for CovetPy.

    ``directory``: one or several template folders (or pass a ready ``env``).
    ``context_processors``: functions ``request -> dict`` (sync or async) merged into
    every context (explicit context keys win). ``auto_reload``: re-read changed template
    files; ``None`` follows the app's ``debug``. Autoescaping is on for ``.html``,
    ``.htm``, ``.xml`` (and ``.svg``, ``.xhtml``) files and for templates from strings.
    Templates see ``request``, ``url_for(name, **params)`` (absolute URL of a route) and
    ``static_url(path, version=None)`` (URL in the static mount named ``static_name``;
    ``version=True``, or ``cache_bust=True`` here, appends ``?v=<content hash>``).
    """

    def __init__(
        self,
        directory: PathArg | Sequence[PathArg] | None = None,
        *,
        env: Any = None,
        context_processors: Sequence[ContextProcessor] = (),
        auto_reload: bool | None = None,
        static_name: str = "static",
        static_files: StaticFiles | None = None,
        cache_bust: bool = False,
        **env_options: Any,
    ) -> None:
        jinja2 = _jinja2()
        if env is None:
            if directory is None:
                raise ImproperlyConfigured("Templates needs directory= or env=")
            dirs = [directory] if isinstance(directory, (str, os.PathLike)) else list(directory)
            env_options.setdefault(
                "autoescape",
                jinja2.select_autoescape(_ESCAPED_EXTENSIONS, default_for_string=True),
            )
            env = jinja2.Environment(
                loader=jinja2.FileSystemLoader([os.fspath(d) for d in dirs]),
                enable_async=True,
                auto_reload=bool(auto_reload),
                **env_options,
            )
        elif not env.is_async:
            raise ImproperlyConfigured("the jinja2 Environment must have enable_async=True")
        self.env = env
        self.auto_reload = auto_reload
        self.context_processors = list(context_processors)
        self.static_name = static_name
        self.static_files = static_files
        self.cache_bust = cache_bust

        def static_url(context: Any, path: str, version: bool | None = None) -> str:
            return self._static_url(context, path, version)

        env.globals.setdefault("url_for", jinja2.pass_context(_url_for))
        env.globals.setdefault("static_url", jinja2.pass_context(static_url))

    # -- template globals ------------------------------------------------------------

    def _static_url(self, context: Any, path: str, version: bool | None = None) -> str:
        request: Request = context["request"]
        app = request.scope.get("app")
        if app is None or not hasattr(app, "url_path_for"):
            raise RuntimeError("static_url() needs the request of a Covet application")
        url = request.scope.get("root_path", "") + str(
            app.url_path_for(self.static_name, path="/" + path.lstrip("/"))
        )
        if self.cache_bust if version is None else version:
            static = self.static_files or self._find_static(app)
            digest = static.file_hash(path) if static is not None else None
            if digest is not None:
                url += "?v=" + digest
        return url

    def _find_static(self, app: Any) -> StaticFiles | None:
        for route in getattr(app, "routes", ()):
            if getattr(route, "name", None) == self.static_name and isinstance(
                getattr(route, "app", None), StaticFiles
            ):
                self.static_files = route.app
                return route.app
        return None

    # -- rendering -----------------------------------------------------------------------

    async def _prepare(self, request: Request, context: dict[str, Any]) -> None:
        if self.auto_reload is None:
            self.env.auto_reload = bool(getattr(request.scope.get("app"), "debug", False))
        for processor in self.context_processors:
            extra = processor(request)
            if inspect.isawaitable(extra):
                extra = await extra
            for key, value in dict(extra).items():
                context.setdefault(key, value)

    def get_template(self, name: str) -> Any:
        """Load ``name`` (raises ``jinja2.TemplateNotFound``)."""
        return self.env.get_template(name)

    def TemplateResponse(
        self,
        request: Request,
        name: str,
        context: Mapping[str, Any] | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> TemplateResponse:
        """A response rendering template ``name`` with ``context`` (plus ``request``)."""
        full = {**(context or {}), "request": request}
        return TemplateResponse(
            self,
            request,
            self.get_template(name),
            full,
            status_code,
            headers,
            media_type,
            background,
        )

    async def render(
        self, name: str, context: Mapping[str, Any] | None = None, request: Request | None = None
    ) -> str:
        """Render ``name`` to a string (context processors run when ``request`` is given)."""
        full = dict(context or {})
        if request is not None:
            full["request"] = request
            await self._prepare(request, full)
        template = await run_in_threadpool(self.get_template, name)
        return str(await template.render_async(full))
