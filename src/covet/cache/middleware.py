"""``CacheMiddleware``: a shared HTTP response cache for GET/HEAD 200 responses.

What is stored: GET responses with status 200 whose ``Cache-Control`` allows a shared
cache (no ``no-store``, ``private`` or ``no-cache``; freshness from ``s-maxage``, then
``max-age``, else the middleware's ``ttl``), without ``Set-Cookie``, without ``Vary: *``,
and no larger than ``max_body_size``. Requests carrying ``Cookie`` or ``Authorization``
only get (and only create) entries for responses marked ``public`` or ``s-maxage``, so a
personalised page is never served to someone else. The key is the scheme, host, path and
query, the proxy forwarding headers (``Forwarded``, ``X-Forwarded-Host/-Proto/-Prefix``),
plus the values of the request headers the response's ``Vary`` names. Requests
with ``Cache-Control: no-cache`` (or ``max-age=0``, ``Pragma: no-cache``) skip the lookup;
``no-store`` also skips storing. HEAD is answered from the GET entry.

ETags: single-chunk 200 responses to GET/HEAD without an ``ETag`` get one (weak by
default, ``etag="strong"`` or ``None`` to disable), and ``If-None-Match`` is answered 304,
for fresh and cached responses alike. Streaming responses pass through unbuffered (a
copy is kept for the cache up to ``max_body_size``). Cache outages are logged and
bypassed. Responses carry ``X-Cache: HIT`` / ``MISS`` and, on hits, ``Age``.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any, Literal

from covet import _json
from covet._types import ASGIApp, Message, Receive, Scope, Send

from .base import Cache, CacheBackendError, check_ttl
from .memory import MemoryCache

__all__ = ("CacheMiddleware", "parse_cache_control")

logger = logging.getLogger("covet.cache")

RawHeaders = list[tuple[bytes, bytes]]
# Set-Cookie is kept: a 304 made from a fresh response must not drop a cookie the app set
# (session refresh, CSRF token); cached entries never hold one.
_NOT_MODIFIED_KEEP = frozenset(
    {b"cache-control", b"content-location", b"date", b"etag", b"expires", b"vary",
     b"last-modified", b"age", b"x-cache", b"set-cookie"}
)  # fmt: skip


_FORWARDING_HEADERS = (
    b"forwarded",
    b"x-forwarded-host",
    b"x-forwarded-proto",
    b"x-forwarded-prefix",
)


def parse_cache_control(value: str) -> dict[str, str | None]:
    """``"public, max-age=60"`` -> ``{"public": None, "max-age": "60"}`` (names lowercased)."""
    out: dict[str, str | None] = {}
    for part in value.split(","):
        name, sep, arg = part.strip().partition("=")
        name = name.strip().lower()
        if name:
            out[name] = arg.strip().strip('"') if sep else None
    return out


def _seconds(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return max(0, int(value))
    except ValueError:
        return 0  # malformed freshness means stale


def _etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    target = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == target for tag in header.split(","))


def _get(headers: RawHeaders, name: bytes) -> str | None:
    values = [v.decode("latin-1") for k, v in headers if k.lower() == name]
    return ", ".join(values) if values else None


class CacheMiddleware:
    """``app.add_middleware(CacheMiddleware, cache=RedisCache(url), ttl=60)``."""

    def __init__(
        self,
        app: ASGIApp,
        cache: Cache | None = None,
        *,
        ttl: float = 60.0,
        key_prefix: str = "covet:page:",
        etag: Literal["weak", "strong"] | None = "weak",
        max_body_size: int = 1024 * 1024,
    ) -> None:
        self.app = app
        self.cache = cache if cache is not None else MemoryCache()
        self.ttl = check_ttl(ttl)
        self.key_prefix = key_prefix
        if etag not in ("weak", "strong", None):
            raise ValueError("etag must be 'weak', 'strong' or None")
        self.etag = etag
        self.max_body_size = max_body_size

    # -- keys ---------------------------------------------------------------------------

    def _base_key(self, scope: Scope, headers: dict[bytes, bytes]) -> str:
        host = headers.get(b"host", b"").decode("latin-1").lower()
        root, path = scope.get("root_path", ""), scope["path"]
        if root and not path.startswith(root):  # servers may or may not include root_path
            path = root + path
        query = scope.get("query_string", b"").decode("latin-1")
        # Headers a proxy-headers middleware *inside* this one turns into the host and
        # scheme the app sees: left out of the key, one client's forged value would be
        # served to everyone (unkeyed-header cache poisoning).
        forwarded = "\n".join(
            headers.get(name, b"").decode("latin-1") for name in _FORWARDING_HEADERS
        )
        raw = "\n".join((scope.get("scheme", "http"), host, forwarded, path, query))
        return self.key_prefix + hashlib.sha256(raw.encode("utf-8", "surrogateescape")).hexdigest()

    @staticmethod
    def _variant_key(base: str, vary: list[str], headers: dict[bytes, bytes]) -> str:
        if not vary:
            return base + ":0"
        parts = "\n".join(f"{n}={headers.get(n.encode(), b'').decode('latin-1')}" for n in vary)
        return base + ":" + hashlib.sha256(parts.encode()).hexdigest()[:32]

    def _etag_for(self, body: bytes) -> str:
        digest = hashlib.sha256(body).hexdigest()[:32]
        return f'W/"{digest}"' if self.etag == "weak" else f'"{digest}"'

    # -- ASGI ---------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, bytes] = {}
        for k, v in scope.get("headers", ()):
            name = k.lower()
            headers[name] = headers[name] + b", " + v if name in headers else v
        request_cc = parse_cache_control(headers.get(b"cache-control", b"").decode("latin-1"))
        no_store = "no-store" in request_cc
        revalidate = (
            "no-cache" in request_cc
            or request_cc.get("max-age") == "0"
            or b"no-cache" in headers.get(b"pragma", b"").lower()
        )
        credentialed = b"cookie" in headers or b"authorization" in headers
        base = self._base_key(scope, headers)
        if not (no_store or revalidate):
            try:
                if await self._serve_cached(scope, send, base, headers, credentialed):
                    return
            except CacheBackendError as exc:
                logger.warning("response cache unavailable (%s); bypassing", exc)
        store = not no_store and scope["method"] == "GET"
        await self._respond(scope, receive, send, base, headers, credentialed, store)

    async def _serve_cached(
        self, scope: Scope, send: Send, base: str, headers: dict[bytes, bytes], credentialed: bool
    ) -> bool:
        vary = await self.cache.get(base + ":vary")
        if not isinstance(vary, list):
            return False
        packed = await self.cache.get(self._variant_key(base, vary, headers))
        if not isinstance(packed, bytes):
            return False
        meta_raw, _, body = packed.partition(b"\n")
        try:
            meta = _json.loads(meta_raw)
        except ValueError:
            return False
        if credentialed and not meta.get("public"):
            return False
        response_headers: RawHeaders = [
            (k.encode("latin-1"), v.encode("latin-1")) for k, v in meta["h"]
        ]
        response_headers.append((b"age", str(max(0, int(time.time() - meta["t"]))).encode()))
        response_headers.append((b"x-cache", b"HIT"))
        etag = meta.get("e")
        inm = headers.get(b"if-none-match")
        if etag and inm is not None and _etag_matches(inm.decode("latin-1"), etag):
            await self._send_304(send, response_headers)
            return True
        await send({"type": "http.response.start", "status": 200, "headers": response_headers})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )
        return True

    @staticmethod
    async def _send_304(send: Send, headers: RawHeaders) -> None:
        kept = [(k, v) for k, v in headers if k.lower() in _NOT_MODIFIED_KEEP]
        await send({"type": "http.response.start", "status": 304, "headers": kept})
        await send({"type": "http.response.body", "body": b""})

    def _storable(
        self, status: int, response_headers: RawHeaders, credentialed: bool
    ) -> tuple[float, bool] | None:
        """``(ttl, public)`` when the response may be stored, else None."""
        if status != 200 or _get(response_headers, b"set-cookie") is not None:
            return None
        cc = parse_cache_control(_get(response_headers, b"cache-control") or "")
        if {"no-store", "private", "no-cache"} & cc.keys():
            return None
        if "*" in (_get(response_headers, b"vary") or ""):
            return None
        public = "public" in cc or "s-maxage" in cc
        if credentialed and not public:
            return None
        ttl: float | None = _seconds(cc.get("s-maxage"))
        if ttl is None:
            ttl = _seconds(cc.get("max-age"))
        if ttl is None:
            ttl = self.ttl
        return (float(ttl), public) if ttl else None

    async def _respond(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        base: str,
        headers: dict[bytes, bytes],
        credentialed: bool,
        store: bool,
    ) -> None:
        state: dict[str, Any] = {"start": None, "started": False, "chunks": [], "size": 0}
        inm = headers.get(b"if-none-match")

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["start"] = message
                status = message["status"]
                raw = list(message.get("headers", ()))
                state["plan"] = self._storable(status, raw, credentialed) if store else None
                return
            if message["type"] != "http.response.body" or state["start"] is None:
                start = state["start"]
                if start is not None and not state["started"]:
                    # pathsend / zerocopy: the body bypasses us, so it can be neither
                    # stored nor answered 304; the held start must still go first.
                    state["started"] = True
                    state["plan"] = None
                    raw = [*start.get("headers", ()), (b"x-cache", b"MISS")]
                    await send({**start, "headers": raw})
                await send(message)
                return
            start = state["start"]
            if not state["started"]:
                state["started"] = True
                raw = list(start.get("headers", ()))
                more = message.get("more_body", False)
                if (
                    start["status"] == 200
                    and not more
                    and self.etag
                    and _get(raw, b"etag") is None
                    and scope["method"] == "GET"
                ):
                    raw.append((b"etag", self._etag_for(message.get("body", b"")).encode()))
                raw.append((b"x-cache", b"MISS"))
                state["headers"] = raw
                etag = _get(raw, b"etag")
                if (
                    start["status"] == 200
                    and etag
                    and inm is not None
                    and _etag_matches(inm.decode("latin-1"), etag)
                    and not more
                ):
                    await self._send_304(send, raw)
                    state["not_modified"] = True
                else:
                    await send({**start, "headers": raw})
            if state["plan"] is not None:
                body = message.get("body", b"")
                state["size"] += len(body)
                if state["size"] > self.max_body_size:
                    state["plan"] = None
                    state["chunks"] = []
                else:
                    state["chunks"].append(body)
            if not state.get("not_modified"):
                await send(message)
            if not message.get("more_body", False) and state["plan"] is not None:
                await self._store(base, headers, state)

        await self.app(scope, receive, capture)

    async def _store(self, base: str, headers: dict[bytes, bytes], state: dict[str, Any]) -> None:
        ttl, public = state["plan"]
        raw: RawHeaders = [(k, v) for k, v in state["headers"] if k.lower() != b"x-cache"]
        vary_value = _get(raw, b"vary") or ""
        vary = sorted({v.strip().lower() for v in vary_value.split(",") if v.strip()})
        body = b"".join(state["chunks"])
        etag = _get(raw, b"etag")
        if etag is None and self.etag:
            etag = self._etag_for(body)
            raw.append((b"etag", etag.encode()))
        meta = {
            "h": [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw],
            "e": etag,
            "t": time.time(),
            "public": public,
        }
        try:
            await self.cache.set(base + ":vary", vary, ttl)
            await self.cache.set(
                self._variant_key(base, vary, headers), _json.dumps(meta) + b"\n" + body, ttl
            )
        except CacheBackendError as exc:
            logger.warning("response cache unavailable (%s); not storing", exc)
