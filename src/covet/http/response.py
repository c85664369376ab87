"""The Response family: every response is an ASGI app.

``Response.__init__`` is on every request's hot path: it renders the body once and
builds the raw ASGI header list directly (``MutableHeaders`` is made only when
``.headers`` is touched). ``FileResponse`` lives in :mod:`covet.http.files` and is
re-exported here.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterable, Iterable, Iterator, Mapping
from typing import Any, ClassVar, Literal
from urllib.parse import quote

from covet import _json
from covet._types import Receive, Scope, Send
from covet.background import BackgroundTask
from covet.concurrency import iterate_in_threadpool, run_in_threadpool
from covet.http.cookies import build_set_cookie
from covet.http.datastructures import URL, MutableHeaders, _encode_name, _encode_value

__all__ = (
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
)

RawHeaders = list[tuple[bytes, bytes]]

_NO_BODY_STATUS = frozenset({204, 304})
_CT_CACHE: dict[tuple[str, str], bytes] = {}
_CONTENT_LENGTH = b"content-length"
_CONTENT_TYPE = b"content-type"


def _content_type(media_type: str, charset: str) -> bytes:
    """``media_type`` as header bytes, with ``; charset=`` added for text types."""
    key = (media_type, charset)
    cached = _CT_CACHE.get(key)
    if cached is None:
        value = media_type
        if "charset=" not in media_type.lower() and (
            media_type.startswith("text/") or media_type == "application/javascript"
        ):
            value = f"{media_type}; charset={charset}"
        cached = _encode_value(value)
        if len(_CT_CACHE) < 256:
            _CT_CACHE[key] = cached
    return cached


def body_allowed(status_code: int) -> bool:
    """Whether a response with this status may carry a body (not 1xx, 204, 304)."""
    return status_code >= 200 and status_code not in _NO_BODY_STATUS


def encode_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> RawHeaders:
    """Validate and encode user headers into an ASGI raw list."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    return [(_encode_name(k), _encode_value(v)) for k, v in pairs]


class Response:
    """An HTTP response with a complete body.

    ``content`` may be ``bytes``, ``str`` (encoded with ``charset``) or ``None``.
    Subclasses set the class attribute ``media_type`` for their default.
    """

    __slots__ = ("_headers", "background", "body", "media_type", "raw_headers", "status_code")

    default_media_type: ClassVar[str | None] = None
    charset: ClassVar[str] = "utf-8"
    _default_content_type: ClassVar[bytes | None] = None
    _headers: MutableHeaders | None  # set on first ``.headers`` access

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # ``media_type = "text/csv"`` in a subclass body becomes the default, so the
        # instance slot stays writable.
        super().__init_subclass__(**kwargs)
        declared = cls.__dict__.get("media_type")
        if "media_type" in cls.__dict__ and (declared is None or isinstance(declared, str)):
            cls.default_media_type = declared
            delattr(cls, "media_type")
        default = cls.default_media_type
        cls._default_content_type = None if default is None else _content_type(default, cls.charset)

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.status_code = status_code
        self.background = background
        body = self.body = self.render(content)
        if media_type is None:
            self.media_type = media_type = self.default_media_type
            ctype = self._default_content_type
        else:
            self.media_type = media_type
            ctype = _content_type(media_type, self.charset)
        if headers is not None:
            self.raw_headers = self._init_headers(headers, body, ctype)
        elif status_code == 200 or (status_code >= 200 and status_code not in _NO_BODY_STATUS):
            if ctype is None:
                self.raw_headers = [(_CONTENT_LENGTH, b"%d" % len(body))]
            else:
                self.raw_headers = [(_CONTENT_LENGTH, b"%d" % len(body)), (_CONTENT_TYPE, ctype)]
        else:
            self.raw_headers = []

    def _init_headers(
        self, headers: Mapping[str, str], body: bytes, ctype: bytes | None
    ) -> RawHeaders:
        raw = encode_headers(headers)
        present = {k for k, _ in raw}
        if body_allowed(self.status_code):
            if _CONTENT_LENGTH not in present:
                raw.append((_CONTENT_LENGTH, b"%d" % len(body)))
            if ctype is not None and _CONTENT_TYPE not in present:
                raw.append((_CONTENT_TYPE, ctype))
        return raw

    def render(self, content: Any) -> bytes:
        """Turn ``content`` into the body bytes."""
        if content is None:
            return b""
        if isinstance(content, bytes):
            return content
        if isinstance(content, str):
            return content.encode(self.charset)
        if isinstance(content, (bytearray, memoryview)):
            return bytes(content)
        raise TypeError(
            f"{type(self).__name__} content must be bytes or str, not {type(content).__name__}"
            " (use JSONResponse for data)"
        )

    @property
    def headers(self) -> MutableHeaders:
        """Editable view of ``raw_headers`` (made on first access)."""
        try:
            headers = self._headers
        except AttributeError:
            headers = None
        if headers is None or headers.raw is not self.raw_headers:
            headers = self._headers = MutableHeaders(raw=self.raw_headers)
        return headers

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int | None = None,
        expires: datetime.datetime | str | int | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = True,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        """Add a ``Set-Cookie`` header (validated; see ``build_set_cookie``)."""
        cookie = build_set_cookie(
            key, value, max_age=max_age, expires=expires, path=path, domain=domain,
            secure=secure, httponly=httponly, samesite=samesite, partitioned=partitioned,
        )  # fmt: skip
        self.raw_headers.append((b"set-cookie", cookie.encode("latin-1")))

    def delete_cookie(
        self,
        key: str,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = True,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        """Expire cookie ``key`` (same path/domain as when it was set)."""
        self.set_cookie(
            key, "", max_age=0, expires=0, path=path, domain=domain, secure=secure,
            httponly=httponly, samesite=samesite, partitioned=partitioned,
        )  # fmt: skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        status = self.status_code
        if scope["type"] == "http":
            await send(
                {"type": "http.response.start", "status": status, "headers": self.raw_headers}
            )
            if status == 200 and scope["method"] != "HEAD":
                await send({"type": "http.response.body", "body": self.body})
            elif scope["method"] == "HEAD" or status < 200 or status in _NO_BODY_STATUS:
                await send({"type": "http.response.body", "body": b""})
            else:
                await send({"type": "http.response.body", "body": self.body})
        else:  # websocket denial response (server extension)
            await send(
                {
                    "type": "websocket.http.response.start",
                    "status": status,
                    "headers": self.raw_headers,
                }
            )
            await send({"type": "websocket.http.response.body", "body": self.body})
        if self.background is not None:
            await self.background()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code}, media_type={self.media_type!r})"
        )


class HTMLResponse(Response):
    """``text/html; charset=utf-8``."""

    __slots__ = ()
    default_media_type = "text/html"


class PlainTextResponse(Response):
    """``text/plain; charset=utf-8``."""

    __slots__ = ()
    default_media_type = "text/plain"


class JSONResponse(Response):
    """``content`` serialised with ``covet._json`` (orjson when installed)."""

    __slots__ = ()
    default_media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return _json.dumps(content)


class RedirectResponse(Response):
    """Redirect to ``url`` (307 by default, keeping the method and body).

    The URL is percent-quoted so that it can never break the ``Location`` header.
    """

    __slots__ = ()

    def __init__(
        self,
        url: str | URL,
        status_code: int = 307,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(b"", status_code=status_code, headers=headers, background=background)
        location = quote(str(url), safe=":/%#?=@[]!$&'()*+,;~")
        self.raw_headers.append((b"location", location.encode("latin-1")))


ContentStream = AsyncIterable[str | bytes] | Iterable[str | bytes]


class StreamingResponse(Response):
    """Stream a body from an async or sync iterator of ``bytes``/``str`` chunks.

    Sync iterators are advanced in the threadpool. Streaming stops when the client
    disconnects (``http.disconnect`` received or ``send`` raising ``OSError``).
    """

    __slots__ = ("_sync_iterator", "body_iterator")

    def __init__(
        self,
        content: ContentStream,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.status_code = status_code
        self.media_type = media_type if media_type is not None else self.default_media_type
        self.background = background
        self._headers = None
        self.body = b""
        self._sync_iterator: Iterator[str | bytes] | None = None
        if isinstance(content, AsyncIterable):
            self.body_iterator: AsyncIterable[str | bytes] = content
        else:
            self._sync_iterator = iter(content)
            self.body_iterator = iterate_in_threadpool(self._sync_iterator)
        raw = encode_headers(headers) if headers is not None else []
        if self.media_type is not None and all(k != _CONTENT_TYPE for k, _ in raw):
            raw.append((_CONTENT_TYPE, _content_type(self.media_type, self.charset)))
        self.raw_headers = raw

    async def _stream(self, send: Send, body_type: str) -> None:
        charset = self.charset
        async for chunk in self.body_iterator:
            if not isinstance(chunk, (bytes, bytearray, memoryview)):
                chunk = chunk.encode(charset)
            await send({"type": body_type, "body": chunk, "more_body": True})
        await send({"type": body_type, "body": b"", "more_body": False})

    async def _close_iterator(self) -> None:
        aclose = getattr(self.body_iterator, "aclose", None)
        if aclose is not None:
            await aclose()
        close = getattr(self._sync_iterator, "close", None)
        if close is None:
            return
        # A sync generator's finally blocks, a file... A step may still be running in a
        # worker thread after a disconnect: give it a moment, then leave it to the GC.
        for _ in range(20):
            try:
                await run_in_threadpool(close)
                return
            except ValueError:  # "generator already executing"
                await asyncio.sleep(0.05)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        prefix = "" if scope["type"] == "http" else "websocket."
        body_type = prefix + "http.response.body"
        status = self.status_code
        await send(
            {"type": prefix + "http.response.start", "status": status, "headers": self.raw_headers}
        )
        if scope.get("method") == "HEAD" or not body_allowed(status):
            await self._close_iterator()
            await send({"type": body_type, "body": b""})
        else:
            try:
                disconnected = await _run_until_disconnect(self._stream(send, body_type), receive)
            finally:
                await self._close_iterator()
            if disconnected:
                return
        if self.background is not None:
            await self.background()


async def _listen_for_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def _run_until_disconnect(work: Any, receive: Receive) -> bool:
    """Run coroutine ``work`` until it ends or the client goes; True if the client went."""
    stream_task = asyncio.ensure_future(work)
    listen_task = asyncio.ensure_future(_listen_for_disconnect(receive))
    try:
        done, _ = await asyncio.wait(
            {stream_task, listen_task}, return_when=asyncio.FIRST_COMPLETED
        )
    except BaseException:
        stream_task.cancel()
        listen_task.cancel()
        await asyncio.gather(stream_task, listen_task, return_exceptions=True)
        raise
    if stream_task in done:
        listen_task.cancel()
        try:
            await listen_task
        except asyncio.CancelledError:
            pass
        try:
            stream_task.result()
        except OSError:  # ASGI >= 2.4: send raises OSError once the client is gone
            return True
        return False
    if not listen_task.cancelled() and listen_task.exception() is not None:
        stream_task.cancel()
        raise listen_task.exception()  # type: ignore[misc]
    stream_task.cancel()
    try:
        await stream_task
    except (asyncio.CancelledError, OSError):
        pass
    return True


from covet.http.files import FileResponse  # noqa: E402  (re-export; files imports Response)
