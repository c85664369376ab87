"""The app served by the middleware e2e tests (a Covet app with the full middleware stack).

Configured from the environment: ``MW_SESSION_REDIS_URL`` + ``MW_SESSION_PREFIX`` switch
sessions to a shared Redis store (the multi-process test); otherwise the signed cookie.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator

from covet import Covet, Request, WebSocket
from covet.csrf import CSRFMiddleware, csrf_exempt, get_csrf_token
from covet.http import StreamingResponse
from covet.middleware.bodylimit import BodySizeLimitMiddleware
from covet.middleware.cors import CORSMiddleware
from covet.middleware.gzip import GZipMiddleware
from covet.middleware.proxy import ProxyHeadersMiddleware
from covet.middleware.requestid import AccessLogMiddleware, RequestIDMiddleware
from covet.middleware.security import SecurityHeadersMiddleware
from covet.middleware.timeout import TimeoutMiddleware
from covet.middleware.trustedhost import TrustedHostMiddleware
from covet.sessions import RedisStore, SessionMiddleware, rotate

SECRET = "e2e-secret-key-0123456789abcdef"
redis_url = os.environ.get("MW_SESSION_REDIS_URL")
store = RedisStore(redis_url, prefix=os.environ["MW_SESSION_PREFIX"]) if redis_url else None

app = Covet(debug=False)

if os.environ.get("MW_ACCESS_LOG"):  # JSON lines, one per request, to a file the test reads
    handler = logging.FileHandler(os.environ["MW_ACCESS_LOG"])
    handler.setFormatter(logging.Formatter("%(message)s"))
    access_logger = logging.getLogger("covet.access")
    access_logger.addHandler(handler)
    access_logger.setLevel(logging.INFO)


@app.get("/health")
async def health() -> dict[str, bool]:
    return {"ok": True}


@app.get("/whoami")
async def whoami(request: Request) -> dict[str, object]:
    client = request.scope.get("client")
    return {
        "client": client[0] if client else None,
        "scheme": request.scope["scheme"],
        "request_id": request.scope.get("request_id"),
        "pid": os.getpid(),
    }


@app.get("/stream")
async def stream() -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"first chunk " * 10
        await asyncio.sleep(1.0)
        yield b"second chunk " * 10

    return StreamingResponse(chunks(), media_type="text/plain")


@app.get("/slow")
async def slow() -> dict[str, bool]:
    await asyncio.sleep(5)
    return {"finished": True}


@app.post("/upload")
@csrf_exempt
async def upload(request: Request) -> dict[str, int]:
    return {"size": len(await request.body())}


@app.post("/login")
async def login(request: Request) -> dict[str, object]:
    form = await request.form()
    rotate(request)
    request.session["user"] = form["user"]
    return {"user": form["user"]}


@app.get("/me")
async def me(request: Request) -> dict[str, object]:
    return {"user": request.session.get("user"), "csrf": get_csrf_token(request), "pid": os.getpid()}


@app.post("/hook")
@csrf_exempt
async def hook() -> dict[str, bool]:
    return {"hooked": True}


@app.websocket("/ws")
async def ws(websocket: WebSocket) -> None:
    await websocket.accept()
    text = await websocket.receive_text()
    user = websocket.scope["session"].get("user")
    await websocket.send_text(f"{text}:{user}:{websocket.scope.get('request_id') is not None}")
    await websocket.close()


# last added is outermost
app.add_middleware(CSRFMiddleware, secret_key=SECRET, trusted_origins=["https://spa.example"])
app.add_middleware(SessionMiddleware, secret_key=SECRET, store=store)
app.add_middleware(BodySizeLimitMiddleware, max_body_size=64 * 1024)
app.add_middleware(TimeoutMiddleware, timeout=1.5)
app.add_middleware(GZipMiddleware, minimum_size=100)
app.add_middleware(SecurityHeadersMiddleware)
app.add_middleware(CORSMiddleware, allow_origins=["https://spa.example"], allow_methods=["GET", "POST"], allow_credentials=True)
app.add_middleware(AccessLogMiddleware)
app.add_middleware(RequestIDMiddleware)
app.add_middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost"])
app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=os.environ.get("MW_TRUSTED", "127.0.0.1").split(","))
