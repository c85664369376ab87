"""``SessionMiddleware``: signed-cookie sessions or server-side sessions with a store."""

from __future__ import annotations

import logging
import secrets
from typing import Any, Literal

from covet._types import ASGIApp, Message, Receive, Scope, Send
from covet.exceptions import ImproperlyConfigured
from covet.http.cookies import build_set_cookie, parse_cookie_header
from covet.sessions.session import Session
from covet.sessions.signing import SecretKey, Signer
from covet.sessions.stores import SessionStore

__all__ = ("SessionMiddleware", "rotate")

logger = logging.getLogger("covet.sessions")
MAX_COOKIE_SIZE = 4096


def rotate(request: Any) -> None:
    """Give the session of ``request`` (a Request, connection or scope) a new id on the
    response and delete the old server-side entry: call it on log-in."""
    scope = request if isinstance(request, dict) else request.scope
    session = scope.get("session")
    if not isinstance(session, Session):
        raise ImproperlyConfigured("rotate() needs SessionMiddleware installed")
    session.regenerate()


class SessionMiddleware:
    """Put a :class:`Session` at ``scope["session"]`` (``request.session``).

    Without ``store`` the whole session travels in the cookie, as compact JSON signed
    with HMAC-SHA256 and a timestamp (``max_age`` enforced on read); keep it small, as
    browsers drop cookies over 4 KB. With a ``store`` (``MemoryStore``, ``RedisStore``,
    ``DatabaseStore``) the cookie holds only a signed random session id.

    The cookie is sent again only when the session changed, when it was regenerated, or
    on every response with ``rolling=True`` (which also renews the expiry). A forged,
    tampered or expired cookie is ignored: the request gets an empty session.
    ``secure=None`` marks the cookie ``Secure`` when the request came over https.
    WebSocket connections can read the session but cannot change the cookie.
    """

    def __init__(
        self,
        app: ASGIApp,
        secret_key: SecretKey,
        store: SessionStore | None = None,
        cookie_name: str = "session",
        max_age: int = 14 * 24 * 3600,
        path: str = "/",
        domain: str | None = None,
        secure: bool | None = None,
        httponly: bool = True,
        samesite: Literal["lax", "strict", "none"] = "lax",
        rolling: bool = False,
    ) -> None:
        if max_age <= 0:
            raise ImproperlyConfigured("session max_age must be a positive number of seconds")
        if store is not None and not isinstance(store, SessionStore):
            raise ImproperlyConfigured("store must provide async load(), save() and delete()")
        if str(samesite).lower() == "none":
            if secure is False:
                raise ImproperlyConfigured("samesite='none' requires secure cookies")
            secure = True
        try:
            for flag in (True, False) if secure is None else (secure,):
                build_set_cookie(cookie_name, "x", max_age, None, path, domain, flag, httponly, samesite)
        except ValueError as exc:
            raise ImproperlyConfigured(f"invalid session cookie settings: {exc}") from exc
        self.app = app
        self.signer = Signer(secret_key, salt="covet.sessions.cookie" if store is None else "covet.sessions.id")
        self.store = store
        self.cookie_name = cookie_name
        self.max_age = max_age
        self.path = path
        self.domain = domain
        self.secure = secure
        self.httponly = httponly
        self.samesite = samesite
        self.rolling = rolling

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        cookie = self._read_cookie(scope)
        session = await self._load(cookie)
        scope["session"] = session
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        had_cookie = cookie is not None

        rolling = self.rolling

        async def send_with_session(message: Message) -> None:
            # Fast path: an unchanged session needs no store write and no cookie.
            if message["type"] == "http.response.start" and (
                session.modified or rolling or (had_cookie and not session)
            ):
                set_cookie = await self._commit(session, had_cookie, scope)
                if set_cookie is not None:
                    headers = list(message.get("headers", ()))
                    headers.append((b"set-cookie", set_cookie.encode("latin-1")))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_session)

    def _read_cookie(self, scope: Scope) -> str | None:
        for key, value in scope["headers"]:
            if key == b"cookie" or key.lower() == b"cookie":
                found = parse_cookie_header(value.decode("latin-1")).get(self.cookie_name)
                if found is not None:
                    return found
        return None

    async def _load(self, cookie: str | None) -> Session:
        if not cookie:
            return Session()
        if self.store is None:
            data = self.signer.loads(cookie, self.max_age)
            return Session(data if isinstance(data, dict) else None)
        raw_id = self.signer.unsign(cookie)
        if raw_id is None:
            return Session()
        session_id = raw_id.decode("ascii", "replace")
        data = await self.store.load(session_id)
        if data is None:
            return Session()
        return Session(data, session_id)

    async def _commit(self, session: Session, had_cookie: bool, scope: Scope) -> str | None:
        """Persist the session; returns the ``Set-Cookie`` value to send, if any."""
        secure = self.secure if self.secure is not None else scope.get("scheme") in ("https", "wss")
        store = self.store
        if store is not None and session.regenerate_requested and session.session_id is not None:
            await store.delete(session.session_id)
            session.session_id = None
        if not session:
            if store is not None and session.session_id is not None:
                await store.delete(session.session_id)
                session.session_id = None
            if had_cookie:
                return self._cookie("", secure, max_age=0)
            return None
        if not (session.modified or self.rolling):
            return None
        if store is None:
            value = self.signer.dumps(session.to_dict())
            if len(value) + len(self.cookie_name) > MAX_COOKIE_SIZE:
                # Browsers ignore such a cookie and keep sending the previous one, which
                # still verifies: a flag just removed (a privilege, an impersonation)
                # would silently live on. Drop the session instead, loudly.
                logger.error(
                    "session cookie is %d bytes, over the %d browsers keep: the session was "
                    "dropped (cookie deleted); keep it small or use a server-side store",
                    len(value),
                    MAX_COOKIE_SIZE,
                )
                return self._cookie("", secure, max_age=0) if had_cookie else None
        else:
            update = getattr(store, "update", None)
            if session.session_id is None or update is None:
                if session.session_id is None:
                    session.session_id = secrets.token_urlsafe(32)
                await store.save(session.session_id, session.to_dict(), self.max_age)
            elif not await update(session.session_id, session.to_dict(), self.max_age):
                # Deleted while this request ran (log-out or rotation elsewhere): writing it
                # back would revive a session its owner ended. Drop the changes; leave the
                # browser's cookie alone (it may already hold the rotated id).
                logger.warning("session ended by another request while this one ran; its changes are dropped")
                return None
            value = self.signer.sign(session.session_id.encode("ascii"))
        return self._cookie(value, secure, self.max_age)

    def _cookie(self, value: str, secure: bool, max_age: int) -> str:
        return build_set_cookie(
            self.cookie_name,
            value,
            max_age=max_age,
            path=self.path,
            domain=self.domain,
            secure=secure,
            httponly=self.httponly,
            samesite=self.samesite,
        )
