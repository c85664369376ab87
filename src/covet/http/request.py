"""``HTTPConnection`` and ``Request``: lazy views over the ASGI scope.

Nothing is computed in ``__init__``; each property is parsed on first access and
cached in the instance ``__dict__`` (later reads are plain attribute lookups).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator
from typing import Any, Generic, TypeVar

from covet import _json
from covet._types import Message, Receive, Scope, Send
from covet.exceptions import HTTPException
from covet.http.cookies import parse_cookie_header
from covet.http.datastructures import URL, Address, Headers, QueryParams, State, scope_path
from covet.http.limits import DEFAULT_LIMITS, Limits, json_nesting_exceeds
from covet.http.uploads import FormData

__all__ = ("ClientDisconnect", "HTTPConnection", "Request")

T = TypeVar("T")


class ClientDisconnect(HTTPException):
    """The client went away while the request body was being read."""

    error_code = "client_disconnect"

    def __init__(self) -> None:
        super().__init__(400, "Client disconnected")


class _cached(Generic[T]):
    """Like ``functools.cached_property`` without the lock: stores in ``__dict__``."""

    def __init__(self, func: Callable[[Any], T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __get__(self, obj: Any, owner: type | None = None) -> T:
        if obj is None:
            return self  # type: ignore[return-value]
        value = self.func(obj)
        obj.__dict__[self.name] = value
        return value


async def _empty_receive() -> Message:
    raise RuntimeError("Receive channel has not been made available")


async def _empty_send(message: Message) -> None:
    raise RuntimeError("Send channel has not been made available")


class HTTPConnection:
    """What HTTP requests and WebSocket connections share: URL, headers, cookies..."""

    def __init__(self, scope: Scope, receive: Receive | None = None) -> None:
        self.scope = scope

    def __getitem__(self, key: str) -> Any:
        return self.scope[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.scope.get(key, default)

    @property
    def app(self) -> Any:
        """The application (``scope["app"]``)."""
        return self.scope.get("app")

    @_cached
    def limits(self) -> Limits:
        """Active limits: ``app.limits`` or ``DEFAULT_LIMITS``."""
        return getattr(self.scope.get("app"), "limits", DEFAULT_LIMITS)

    @_cached
    def url(self) -> URL:
        """The full request URL."""
        return URL(scope=self.scope)

    @_cached
    def base_url(self) -> URL:
        """Scheme, host and ``root_path`` with a trailing slash."""
        root, _ = scope_path(self.scope)
        scope = {**self.scope, "path": root + "/", "root_path": "", "query_string": b""}
        return URL(scope=scope)

    @_cached
    def headers(self) -> Headers:
        """Request headers (case-insensitive)."""
        return Headers(raw=self.scope["headers"])

    @_cached
    def query_params(self) -> QueryParams:
        """Parsed query string."""
        return QueryParams(self.scope.get("query_string", b""))

    @property
    def path_params(self) -> dict[str, Any]:
        """Converted path parameters set by the router."""
        return self.scope.get("path_params", {})

    @_cached
    def cookies(self) -> dict[str, str]:
        """Cookies from the ``Cookie`` header(s)."""
        cookies: dict[str, str] = {}
        for key, value in self.scope["headers"]:
            if key == b"cookie":
                for name, val in parse_cookie_header(value.decode("latin-1")).items():
                    cookies.setdefault(name, val)
        return cookies

    @_cached
    def client(self) -> Address | None:
        """The peer address, if the server gave one."""
        client = self.scope.get("client")
        if client is None:
            return None
        return Address(client[0], client[1])

    @property
    def scheme(self) -> str:
        return self.scope.get("scheme", "http")

    @_cached
    def state(self) -> State:
        """Per-request attribute bag over ``scope["state"]`` (lifespan state included)."""
        return State(self.scope.setdefault("state", {}))

    @property
    def session(self) -> Any:
        """The session (needs ``SessionMiddleware``)."""
        if "session" not in self.scope:
            raise AssertionError("SessionMiddleware must be installed to access request.session")
        return self.scope["session"]

    @property
    def user(self) -> Any:
        """The authenticated user (needs an authentication middleware)."""
        if "user" not in self.scope:
            raise AssertionError(
                "AuthenticationMiddleware must be installed to access request.user"
            )
        return self.scope["user"]

    @property
    def auth(self) -> Any:
        """Authentication credentials (needs an authentication middleware)."""
        if "auth" not in self.scope:
            raise AssertionError(
                "AuthenticationMiddleware must be installed to access request.auth"
            )
        return self.scope["auth"]

    def url_for(self, name: str, /, **path_params: Any) -> URL:
        """Absolute URL of the route called ``name`` (raises ``NoMatchFound``)."""
        target = self.scope.get("router") or self.scope.get("app")
        url_path_for = getattr(target, "url_path_for", None)
        if url_path_for is None:
            raise RuntimeError(
                "url_for() needs scope['router'] or scope['app'] with url_path_for()"
            )
        path = str(url_path_for(name, **path_params))
        base = str(self.base_url).rstrip("/")
        return URL(base + (path if path.startswith("/") else "/" + path))


class _FormContext:
    """``await request.form()`` or ``async with request.form() as form``."""

    __slots__ = ("_form", "_request")

    def __init__(self, request: Request) -> None:
        self._request = request
        self._form: FormData | None = None

    def __await__(self) -> Generator[Any, None, FormData]:
        return self._request._get_form().__await__()

    async def __aenter__(self) -> FormData:
        self._form = await self._request._get_form()
        return self._form

    async def __aexit__(self, *exc: object) -> None:
        await self._request.close()


class Request(HTTPConnection):
    """An HTTP request: ``HTTPConnection`` plus the body."""

    def __init__(
        self, scope: Scope, receive: Receive = _empty_receive, send: Send = _empty_send
    ) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Request needs an 'http' scope, got {scope['type']!r}")
        self.scope = scope
        self._receive = receive
        self._send = send
        self._stream_consumed = False
        self._is_disconnected = False

    @property
    def receive(self) -> Receive:
        return self._receive

    @property
    def method(self) -> str:
        return self.scope["method"]

    def _content_length(self) -> int | None:
        for key, value in self.scope["headers"]:
            if key == b"content-length":
                if not value.isdigit():
                    raise HTTPException(400, "Invalid Content-Length header")
                # Leading zeros are legal; a huge digit count would make int() raise.
                digits = value.lstrip(b"0")
                return int(digits or b"0") if len(digits) <= 30 else 10**30
        return None

    async def stream(self) -> AsyncIterator[bytes]:
        """Yield the body in chunks as they arrive (no size limit: yours to enforce)."""
        body = self.__dict__.get("_body")
        if body is not None:
            if body:
                yield body
            return
        async for chunk in self._receive_chunks(None):
            yield chunk

    async def _receive_chunks(self, limit: int | None) -> AsyncIterator[bytes]:
        if self._stream_consumed:
            raise RuntimeError("The request body has already been consumed")
        self._stream_consumed = True
        expected = self._content_length()
        if limit is not None and expected is not None and expected > limit:
            raise HTTPException(413, f"Request body too large (limit {limit} bytes)")
        if expected == 0:
            return
        received = 0
        pending = self.__dict__.pop("_pending", None) or []
        while True:
            message = pending.pop(0) if pending else await self._receive()
            kind = message["type"]
            if kind == "http.request":
                chunk = message.get("body", b"")
                if chunk:
                    received += len(chunk)
                    if limit is not None and received > limit:
                        raise HTTPException(413, f"Request body too large (limit {limit} bytes)")
                    yield chunk
                # Done on Content-Length: some servers send an extra empty message later.
                if not message.get("more_body", False) or (
                    expected is not None and received >= expected
                ):
                    return
            elif kind == "http.disconnect":
                self._is_disconnected = True
                raise ClientDisconnect

    async def body(self) -> bytes:
        """The whole body; 413 past ``limits.max_body_size`` (declared or streamed)."""
        body = self.__dict__.get("_body")
        if body is None:
            chunks = [c async for c in self._receive_chunks(self.limits.max_body_size)]
            body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            self._body = body
        return body

    async def json(self) -> Any:
        """The body parsed as JSON; 400 if malformed or nested deeper than allowed."""
        if "_json" not in self.__dict__:
            body = await self.body()
            max_depth = self.limits.max_json_depth
            if json_nesting_exceeds(body, max_depth):
                raise HTTPException(400, f"JSON body nested too deeply (limit {max_depth})")
            try:
                data = _json.loads(body)
            except (ValueError, RecursionError, UnicodeDecodeError):
                raise HTTPException(400, "Malformed JSON body") from None
            self._json = data
        return self._json

    def form(self) -> _FormContext:
        """The parsed form (urlencoded or multipart); also an async context manager
        that closes uploaded files on exit. Other content types give an empty form."""
        return _FormContext(self)

    async def _get_form(self) -> FormData:
        form = self.__dict__.get("_form")
        if form is None:
            from covet.http.forms import parse_multipart, parse_urlencoded
            from covet.http.multipart import boundary_from_content_type, parse_options_header

            content_type = self.headers.get("content-type", "")
            media_type, _ = parse_options_header(content_type)
            if media_type == "multipart/form-data":
                boundary = boundary_from_content_type(content_type)
                form = await parse_multipart(self.stream(), boundary, self.limits)
            elif media_type == "application/x-www-form-urlencoded":
                form = parse_urlencoded(await self.body(), self.limits)
            else:
                form = FormData()
            self._form = form
        return form

    async def close(self) -> None:
        """Release uploaded files of a parsed form."""
        form = self.__dict__.get("_form")
        if form is not None:
            await form.close()

    async def is_disconnected(self) -> bool:
        """Whether the client has gone, checked without waiting."""
        if self._is_disconnected:
            return True
        # Step the receive awaitable once: a message already waiting comes back at once,
        # otherwise it would suspend, so we abandon it (nothing has been consumed).
        awaitable = self._receive().__await__()
        try:
            step = getattr(awaitable, "send", None)
            if step is not None:
                step(None)
            else:
                next(awaitable)
        except StopIteration as done:
            message = done.value
        else:
            close = getattr(awaitable, "close", None)
            if close is not None:
                close()
            return False
        if message.get("type") == "http.disconnect":
            self._is_disconnected = True
        else:
            self.__dict__.setdefault("_pending", []).append(message)
        return self._is_disconnected
