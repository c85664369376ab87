"""App served by uvicorn in the multi-process rate-limit test (configured by environment)."""

from __future__ import annotations

import os

from covet import Covet
from covet.ratelimit import RateLimitMiddleware, RedisBackend, rate_limit

app = Covet()
app.add_middleware(
    RateLimitMiddleware,
    limit=os.environ["RL_LIMIT"],
    algorithm="token_bucket",
    backend=RedisBackend(os.environ["RL_REDIS_URL"], prefix=os.environ["RL_PREFIX"]),
    exempt=["/health"],
)


@app.get("/health")
async def health() -> dict[str, int]:
    return {"pid": os.getpid()}


@app.get("/")
async def index() -> dict[str, int]:
    return {"pid": os.getpid()}


@app.get("/login")
@rate_limit("2/minute", algorithm="sliding_window")
async def login() -> dict[str, int]:
    return {"pid": os.getpid()}
