"""Response compression: gzip always, Brotli when the ``brotli`` package is installed."""

from __future__ import annotations

import fnmatch
import zlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from covet._types import ASGIApp, Message, Receive, Scope, Send
from covet.exceptions import ImproperlyConfigured
from covet.middleware._util import READY, RawHeaders, add_vary, get_header

__all__ = ("DEFAULT_CONTENT_TYPES", "GZipMiddleware", "parse_accept_encoding")

DEFAULT_CONTENT_TYPES = (
    "text/*",
    "application/json",
    "application/*+json",
    "application/javascript",
    "application/xml",
    "application/*+xml",
    "application/wasm",
    "image/svg+xml",
)
_SKIP_STATUS = frozenset({204, 206, 304})
_VARY = (b"vary", b"Accept-Encoding")


def parse_accept_encoding(value: str) -> dict[str, float]:
    """Map each coding in an ``Accept-Encoding`` value to its q-value (bad q -> 0)."""
    result: dict[str, float] = {}
    for item in value.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        if not coding:
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, raw = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(raw.strip())
                except ValueError:
                    q = 0.0
                if not 0.0 <= q <= 1.0:
                    q = 0.0
        result[coding] = q
    return result


def _load_brotli() -> Any:
    try:
        import brotli
    except ImportError:
        return None
    return brotli


class GZipMiddleware:
    """Compress responses for clients that accept it, streaming bodies included.

    Only media types matching ``content_types`` (glob patterns) are compressed, bodies
    shorter than ``minimum_size`` are sent as they are, and responses that already carry
    a ``Content-Encoding`` are never encoded twice. Streaming bodies are compressed chunk
    by chunk with a sync flush, so each chunk reaches the client when it is produced.
    Brotli (``br``) is used when ``brotli`` is importable, ``brotli=True`` and the client
    rates ``br`` at least as high as ``gzip``. Compressible responses get
    ``Vary: Accept-Encoding``; strong ETags of compressed responses are weakened.
    """

    def __init__(
        self,
        app: ASGIApp,
        minimum_size: int = 500,
        compresslevel: int = 6,
        content_types: Sequence[str] = DEFAULT_CONTENT_TYPES,
        brotli: bool = True,
        brotli_quality: int = 4,
    ) -> None:
        if minimum_size < 0:
            raise ImproperlyConfigured("GZip minimum_size must be >= 0")
        if not 1 <= compresslevel <= 9:
            raise ImproperlyConfigured("GZip compresslevel must be between 1 and 9")
        if not 0 <= brotli_quality <= 11:
            raise ImproperlyConfigured("brotli_quality must be between 0 and 11")
        if isinstance(content_types, str) or not content_types:
            raise ImproperlyConfigured("content_types must be a non-empty list of media type patterns")
        self.app = app
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel
        self.content_types = tuple(c.lower() for c in content_types)
        self.brotli_module = _load_brotli() if brotli else None
        self.brotli_quality = brotli_quality
        self._type_cache: dict[bytes, bool] = {}
        self._encoding_cache: dict[bytes, str | None] = {}

    def compressible(self, content_type: bytes | None) -> bool:
        """Whether a response of this ``Content-Type`` may be compressed."""
        if content_type is None:
            return False
        cached = self._type_cache.get(content_type)
        if cached is None:
            media = content_type.split(b";", 1)[0].strip().decode("latin-1").lower()
            cached = any(fnmatch.fnmatchcase(media, pattern) for pattern in self.content_types)
            if len(self._type_cache) < 256:
                self._type_cache[content_type] = cached
        return cached

    def choose_encoding(self, accept_encoding: bytes | None) -> str | None:
        """``"br"``, ``"gzip"`` or ``None`` for an ``Accept-Encoding`` header value."""
        if not accept_encoding:
            return None
        try:
            return self._encoding_cache[accept_encoding]
        except KeyError:
            pass
        choice = self._choose(accept_encoding)
        if len(self._encoding_cache) < 256:  # browsers send a handful of distinct values
            self._encoding_cache[accept_encoding] = choice
        return choice

    def _choose(self, accept_encoding: bytes) -> str | None:
        q = parse_accept_encoding(accept_encoding.decode("latin-1"))
        star = q.get("*", 0.0)
        q_gzip = q.get("gzip", q.get("x-gzip", star))
        if self.brotli_module is not None:
            q_br = q.get("br", star)
            if q_br > 0 and q_br >= q_gzip:
                return "br"
        return "gzip" if q_gzip > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        encoding = None
        if scope["method"] != "HEAD":
            encoding = self.choose_encoding(get_header(scope["headers"], b"accept-encoding"))
        responder = _Responder(self, send, encoding)
        await self.app(scope, receive, responder.send)


class _Responder:
    __slots__ = ("compress", "encoding", "finish", "mw", "passthrough", "send_raw", "start")

    def __init__(self, mw: GZipMiddleware, send: Send, encoding: str | None) -> None:
        self.mw = mw
        self.send_raw = send
        self.encoding = encoding
        self.start: Message | None = None
        self.passthrough = False
        self.compress: Callable[[bytes], bytes] | None = None
        self.finish: Callable[[], bytes] | None = None

    # ``send`` is a plain method returning an awaitable: the messages that go through
    # unchanged (every one of a response that is not compressed) cost no coroutine here.
    def send(self, message: Message) -> Awaitable[None]:
        kind = message["type"]
        if kind == "http.response.start":
            return self._start(message)
        if kind != "http.response.body" or self.passthrough:
            return self.send_raw(message)
        return self._body(message)

    def _start(self, message: Message) -> Awaitable[None]:
        headers: RawHeaders = list(message.get("headers", ()))
        # One pass for the five headers the decision reads (first of each, any case);
        # names of other lengths cost one comparison.
        content_type = length = coding = cache_control = None
        has_vary = False
        for key, value in headers:
            size = len(key)
            if size == 12:
                if content_type is None and (key == b"content-type" or key.lower() == b"content-type"):
                    content_type = value
            elif size == 14:
                if length is None and (key == b"content-length" or key.lower() == b"content-length"):
                    length = value
            elif size == 16:
                if coding is None and (key == b"content-encoding" or key.lower() == b"content-encoding"):
                    coding = value
            elif size == 13:
                if cache_control is None and (key == b"cache-control" or key.lower() == b"cache-control"):
                    cache_control = value
            elif size == 4 and (key == b"vary" or key.lower() == b"vary"):
                has_vary = True
        mw = self.mw
        compressible = mw.compressible(content_type)
        if compressible:
            if has_vary:
                add_vary(headers, "Accept-Encoding")
            else:
                headers.append(_VARY)
        message = dict(message)  # the app's message is never mutated
        message["headers"] = headers
        status = message["status"]
        if (
            self.encoding is None
            or not compressible
            or status in _SKIP_STATUS
            or status < 200
            or (length is not None and length.isdigit() and int(length) < mw.minimum_size)
            or coding is not None
            or (cache_control is not None and b"no-transform" in cache_control.lower())
        ):
            self.passthrough = True
            return self.send_raw(message)
        self.start = message  # held until the first body chunk decides
        return READY

    async def _body(self, message: Message) -> None:
        body: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        if self.compress is None:
            start = self.start
            assert start is not None
            self.start = None
            if not more and len(body) < self.mw.minimum_size:
                self.passthrough = True
                await self.send_raw(start)
                await self.send_raw(message)
                return
            self._open()
            data = self._encode(body, more)
            headers = _encoded_headers(start["headers"], self.encoding or "gzip", None if more else len(data))
            await self.send_raw({**start, "headers": headers})
            await self.send_raw({"type": "http.response.body", "body": data, "more_body": more})
            return
        data = self._encode(body, more)
        if data or not more:
            await self.send_raw({"type": "http.response.body", "body": data, "more_body": more})

    def _encode(self, body: bytes, more: bool) -> bytes:
        assert self.compress is not None and self.finish is not None
        return self.compress(body) if more else self.compress(body) + self.finish()

    def _open(self) -> None:
        if self.encoding == "br":
            brotli: Any = self.mw.brotli_module
            compressor = brotli.Compressor(quality=self.mw.brotli_quality)

            def compress_br(chunk: bytes) -> bytes:
                return bytes(compressor.process(chunk) + compressor.flush()) if chunk else b""

            self.compress = compress_br
            self.finish = lambda: bytes(compressor.finish())
            return
        gz = zlib.compressobj(self.mw.compresslevel, zlib.DEFLATED, 31)

        def compress_gzip(chunk: bytes) -> bytes:
            return gz.compress(chunk) + gz.flush(zlib.Z_SYNC_FLUSH) if chunk else b""

        self.compress = compress_gzip
        self.finish = gz.flush


def _encoded_headers(headers: RawHeaders, encoding: str, length: int | None) -> RawHeaders:
    out: RawHeaders = []
    for key, value in headers:
        lower = key.lower()
        if lower == b"content-length":
            continue
        if lower == b"etag" and not value.startswith(b"W/"):
            value = b"W/" + value
        out.append((key, value))
    out.append((b"content-encoding", encoding.encode("ascii")))
    if length is not None:
        out.append((b"content-length", str(length).encode("ascii")))
    return out
