"""In-process test clients: call the ASGI app directly, no server, no sockets.

``TestClient`` is synchronous (the app runs on an event loop in a helper thread, so its
state, pools and background tasks persist between requests); ``AsyncTestClient`` has
the same API with ``await`` and runs on the caller's loop. Both run the lifespan when
used as context managers, keep cookies, follow redirects and speak WebSocket.
"""

from __future__ import annotations

import asyncio
import gzip
import threading
import zlib
from collections.abc import Awaitable, Coroutine, Iterable, Mapping
from typing import Any, TypeVar

from covet import _json
from covet._types import ASGIApp, Message
from covet.http.datastructures import Headers
from covet.testing._messages import CookieJar, FileSpec, encode_body, merge_query, split_url
from covet.testing.websocket import WebSocketSession, WebSocketTestSession

__all__ = ("AsyncTestClient", "TestClient", "TestResponse")

T = TypeVar("T")
_REDIRECTS = {301, 302, 303, 307, 308}
HeaderInput = Mapping[str, str] | Mapping[bytes, bytes] | Iterable[tuple[str | bytes, str | bytes]] | None


class TestResponse:
    """What the app answered: status, headers, body, and the request that caused it.

    ``content`` is the body with any ``Content-Encoding`` undone (like httpx);
    ``raw_content`` is the body exactly as sent.
    """

    __test__ = False

    def __init__(self, status_code: int, raw_headers: list[tuple[bytes, bytes]], content: bytes,
                 method: str, url: str, history: list[TestResponse]) -> None:
        self.status_code = status_code
        self.headers = Headers(raw=raw_headers)
        self.raw_content = content
        self.content = _decode(content, self.headers.get("content-encoding", ""))
        self.method = method
        self.url = url
        self.history = history

    @property
    def text(self) -> str:
        ctype = self.headers.get("content-type", "")
        charset = "utf-8"
        for part in ctype.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip('"')
        return self.content.decode(charset, errors="replace")

    def json(self) -> Any:
        return _json.loads(self.content)

    @property
    def cookies(self) -> dict[str, str]:
        jar = CookieJar()
        jar.update_from(self.headers.getlist("set-cookie"))
        return dict(jar.items())

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def is_redirect(self) -> bool:
        return self.status_code in _REDIRECTS and "location" in self.headers

    @property
    def reason_phrase(self) -> str:
        import http

        try:
            return http.HTTPStatus(self.status_code).phrase
        except ValueError:
            return ""

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise AssertionError(f"{self.method} {self.url} answered {self.status_code}: {self.text[:500]}")

    def __repr__(self) -> str:
        return f"<TestResponse [{self.status_code}] {self.method} {self.url}>"


class AsyncTestClient:
    """``async with AsyncTestClient(app) as client: r = await client.get("/")``."""

    __test__ = False

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        *,
        raise_server_exceptions: bool = True,
        root_path: str = "",
        headers: HeaderInput = None,
        cookies: Mapping[str, str] | None = None,
        follow_redirects: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
    ) -> None:
        self.app = app
        self.base_url = base_url
        self.raise_server_exceptions = raise_server_exceptions
        self.root_path = root_path
        self.headers = _header_list(headers)
        self.cookies = CookieJar()
        for key, value in (cookies or {}).items():
            self.cookies.set(key, value)
        self.follow_redirects = follow_redirects
        self.client = client
        self._lifespan_task: asyncio.Task[None] | None = None
        self._lifespan_in: asyncio.Queue[Message] | None = None
        self._lifespan_out: asyncio.Queue[Message] | None = None
        self.lifespan_state: dict[str, Any] = {}

    # ----------------------------------------------------------------- lifespan

    async def __aenter__(self) -> AsyncTestClient:
        await self.start_lifespan()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop_lifespan()

    async def start_lifespan(self) -> None:
        self._lifespan_in, self._lifespan_out = asyncio.Queue(), asyncio.Queue()
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.3"},
                 "state": self.lifespan_state}

        async def run() -> None:
            try:
                await self.app(scope, self._lifespan_in.get, self._lifespan_out.put)  # type: ignore[union-attr]
            except BaseException as exc:
                await self._lifespan_out.put({"type": "covet.lifespan.error", "exc": exc})  # type: ignore[union-attr]

        self._lifespan_task = asyncio.ensure_future(run())
        await self._lifespan_in.put({"type": "lifespan.startup"})
        message = await self._lifespan_out.get()
        if message["type"] == "lifespan.startup.failed":
            raise RuntimeError(f"lifespan start-up failed: {message.get('message', '')}")
        if message["type"] == "covet.lifespan.error":
            # ASGI: an app that raises on the lifespan scope does not support lifespan
            self._lifespan_task = None

    async def stop_lifespan(self) -> None:
        if self._lifespan_task is None:
            return
        await self._lifespan_in.put({"type": "lifespan.shutdown"})  # type: ignore[union-attr]
        message = await self._lifespan_out.get()  # type: ignore[union-attr]
        await self._lifespan_task
        self._lifespan_task = None
        if message["type"] == "lifespan.shutdown.failed":
            raise RuntimeError(f"lifespan shutdown failed: {message.get('message', '')}")
        if message["type"] == "covet.lifespan.error":
            raise message["exc"]

    # ----------------------------------------------------------------- HTTP

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
        headers: HeaderInput = None,
        cookies: Mapping[str, str] | None = None,
        content: bytes | str | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, FileSpec] | Iterable[tuple[str, FileSpec]] | None = None,
        follow_redirects: bool | None = None,
    ) -> TestResponse:
        body, ctype = encode_body(content=content, json=json, data=data, files=files)
        extra = _header_list(headers)
        if ctype and not any(k.lower() == "content-type" for k, _ in extra):
            extra.append(("content-type", ctype))
        follow = self.follow_redirects if follow_redirects is None else follow_redirects
        history: list[TestResponse] = []
        method = method.upper()
        while True:
            response = await self._send(method, url, params, extra, cookies, body)
            response.history = list(history)
            if not (follow and response.is_redirect) or len(history) >= 20:
                return response
            history.append(response)
            url = response.headers["location"]
            params = None
            if response.status_code in (301, 302, 303) and method not in ("GET", "HEAD"):
                method, body = "GET", b""
                extra = [(k, v) for k, v in extra if k.lower() not in ("content-type", "content-length")]

    async def _send(self, method: str, url: str, params: Any, headers: list[tuple[str, str]],
                    cookies: Mapping[str, str] | None, body: bytes) -> TestResponse:
        scheme, host, port, path, query = split_url(self.base_url, url)
        query = merge_query(query, params)
        default_port = {"http": 80, "https": 443}.get(scheme)
        host_header = host if port == default_port else f"{host}:{port}"
        raw: list[tuple[bytes, bytes]] = []
        names = {k.lower() for k, _ in [*self.headers, *headers]}
        if "host" not in names:
            raw.append((b"host", host_header.encode()))
        if "user-agent" not in names:
            raw.append((b"user-agent", b"covet-testclient"))
        if "accept" not in names:
            raw.append((b"accept", b"*/*"))
        for key, value in [*self.headers, *headers]:
            raw.append((key.lower().encode("latin-1"), value.encode("latin-1")))
        if body and "content-length" not in names and "transfer-encoding" not in names:
            raw.append((b"content-length", str(len(body)).encode()))
        jar_header = self.cookies.header_for(path)
        request_cookies = "; ".join(f"{k}={v}" for k, v in (cookies or {}).items())
        cookie_header = "; ".join(c for c in (jar_header, request_cookies) if c)
        if cookie_header and "cookie" not in names:
            raw.append((b"cookie", cookie_header.encode("latin-1")))
        from urllib.parse import unquote

        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method,
            "scheme": scheme,
            "path": unquote(path),
            "raw_path": path.encode("latin-1"),
            "query_string": query,
            "root_path": self.root_path,
            "headers": raw,
            "client": self.client,
            "server": (host, port),
            "state": dict(self.lifespan_state),
            "extensions": {"covet.raise_server_exceptions": {}} if self.raise_server_exceptions else {},
        }
        done = asyncio.Event()
        body_sent = False
        status: int | None = None
        out_headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def receive() -> Message:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal status, out_headers
            kind = message["type"]
            if kind == "http.response.start":
                if status is not None:
                    raise RuntimeError("http.response.start sent twice")
                status = message["status"]
                out_headers = [(bytes(k).lower(), bytes(v)) for k, v in message.get("headers", [])]
            elif kind == "http.response.body":
                if status is None:
                    raise RuntimeError("http.response.body sent before http.response.start")
                if done.is_set():
                    raise RuntimeError("response already complete")
                chunks.append(bytes(message.get("body", b"")))
                if not message.get("more_body", False):
                    done.set()
            elif kind == "http.response.pathsend":
                with open(message["path"], "rb") as fh:
                    chunks.append(fh.read())
                done.set()

        try:
            await self.app(scope, receive, send)
        except BaseException:
            if self.raise_server_exceptions:
                raise
            if status is None:
                status, out_headers, chunks = 500, [(b"content-type", b"text/plain")], [b"Internal Server Error"]
        finally:
            done.set()
        if status is None:
            raise RuntimeError(f"the app returned without sending a response to {method} {url}")
        response = TestResponse(status, out_headers, b"".join(chunks), method, url, [])
        self.cookies.update_from(response.headers.getlist("set-cookie"))
        return response

    async def get(self, url: str, **kw: Any) -> TestResponse:
        return await self.request("GET", url, **kw)

    async def head(self, url: str, **kw: Any) -> TestResponse:
        return await self.request("HEAD", url, **kw)

    async def options(self, url: str, **kw: Any) -> TestResponse:
        return await self.request("OPTIONS", url, **kw)

    async def post(self, url: str, **kw: Any) -> TestResponse:
        return await self.request("POST", url, **kw)

    async def put(self, url: str, **kw: Any) -> TestResponse:
        return await self.request("PUT", url, **kw)

    async def patch(self, url: str, **kw: Any) -> TestResponse:
        return await self.request("PATCH", url, **kw)

    async def delete(self, url: str, **kw: Any) -> TestResponse:
        return await self.request("DELETE", url, **kw)

    def websocket_connect(self, url: str, *, subprotocols: list[str] | None = None,
                          headers: HeaderInput = None) -> WebSocketSession:
        """``async with client.websocket_connect("/ws") as ws: await ws.send_json(...)``."""
        scheme, host, port, path, query = split_url(self.base_url, url)
        raw = [(b"host", f"{host}:{port}".encode())]
        raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in [*self.headers, *_header_list(headers)]]
        cookie_header = self.cookies.header_for(path)
        if cookie_header:
            raw.append((b"cookie", cookie_header.encode("latin-1")))
        from urllib.parse import unquote

        extensions: dict[str, dict[str, Any]] = {"websocket.http.response": {}}
        if self.raise_server_exceptions:
            extensions["covet.raise_server_exceptions"] = {}
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "scheme": "wss" if scheme in ("https", "wss") else "ws",
            "path": unquote(path),
            "raw_path": path.encode("latin-1"),
            "query_string": query,
            "root_path": self.root_path,
            "headers": raw,
            "client": self.client,
            "server": (host, port),
            "subprotocols": list(subprotocols or []),
            "state": dict(self.lifespan_state),
            "extensions": extensions,
        }
        return WebSocketSession(self.app, scope, self.raise_server_exceptions)


class _Portal:
    """An event loop in a daemon thread that runs coroutines for synchronous callers."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="covet-testclient", daemon=True)
        self.thread.start()

    def call(self, coro: Coroutine[Any, Any, T] | Awaitable[T]) -> T:
        async def wrapper() -> T:
            return await coro

        return asyncio.run_coroutine_threadsafe(wrapper(), self.loop).result()

    def close(self) -> None:
        async def cancel_rest() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.call(cancel_rest())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


class TestClient:
    """``with TestClient(app) as client: assert client.get("/").status_code == 200``.

    Outside ``with`` the lifespan does not run; requests still work.
    """

    __test__ = False

    def __init__(self, app: ASGIApp, base_url: str = "http://testserver", **options: Any) -> None:
        self._async = AsyncTestClient(app, base_url, **options)
        self._portal: _Portal | None = None

    @property
    def app(self) -> ASGIApp:
        return self._async.app

    @property
    def cookies(self) -> CookieJar:
        return self._async.cookies

    @property
    def headers(self) -> list[tuple[str, str]]:
        return self._async.headers

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._portal is None:
            self._portal = _Portal()
        return self._portal.call(coro)

    def __enter__(self) -> TestClient:
        self._run(self._async.start_lifespan())
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._run(self._async.stop_lifespan())
        finally:
            self.close()

    def close(self) -> None:
        if self._portal is not None:
            portal, self._portal = self._portal, None
            portal.close()

    def request(self, method: str, url: str, **kw: Any) -> TestResponse:
        return self._run(self._async.request(method, url, **kw))

    def get(self, url: str, **kw: Any) -> TestResponse:
        return self.request("GET", url, **kw)

    def head(self, url: str, **kw: Any) -> TestResponse:
        return self.request("HEAD", url, **kw)

    def options(self, url: str, **kw: Any) -> TestResponse:
        return self.request("OPTIONS", url, **kw)

    def post(self, url: str, **kw: Any) -> TestResponse:
        return self.request("POST", url, **kw)

    def put(self, url: str, **kw: Any) -> TestResponse:
        return self.request("PUT", url, **kw)

    def patch(self, url: str, **kw: Any) -> TestResponse:
        return self.request("PATCH", url, **kw)

    def delete(self, url: str, **kw: Any) -> TestResponse:
        return self.request("DELETE", url, **kw)

    def websocket_connect(self, url: str, **kw: Any) -> WebSocketTestSession:
        """``with client.websocket_connect("/ws") as ws: ws.send_json({...})``."""
        session = self._async.websocket_connect(url, **kw)
        if self._portal is None:
            self._portal = _Portal()
        return WebSocketTestSession(session, self._portal.call)


def _decode(content: bytes, encoding: str) -> bytes:
    """Undo ``Content-Encoding`` as an HTTP client would (gzip, deflate, br, x-gzip)."""
    for coding in reversed([c.strip().lower() for c in encoding.split(",") if c.strip()]):
        if coding in ("gzip", "x-gzip"):
            content = gzip.decompress(content)
        elif coding == "deflate":
            try:
                content = zlib.decompress(content)
            except zlib.error:
                content = zlib.decompress(content, -zlib.MAX_WBITS)
        elif coding == "br":
            try:
                import brotli
            except ImportError:
                return content  # cannot decode without the extra: leave it as sent
            content = brotli.decompress(content)
        elif coding != "identity":
            return content
    return content


def _header_list(headers: HeaderInput) -> list[tuple[str, str]]:
    if headers is None:
        return []
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(_text(k), _text(v)) for k, v in items]


def _text(value: str | bytes | object) -> str:
    """Header names and values as given: bytes are latin-1, like on the wire."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    return str(value)
