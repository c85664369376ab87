"""The app served by the monitoring e2e tests: health checks, Prometheus metrics, a
SQLite database (``MON_DB`` is its file) and a few routes."""

from __future__ import annotations

import os

from covet import Covet, Router
from covet.db import Database
from covet.monitoring import HealthChecks, PrometheusMetrics

db = Database("sqlite:///" + os.environ["MON_DB"], alias="e2e")
app = Covet()


@app.get("/users/{user_id:int}")
async def get_user(user_id: int) -> dict[str, int]:
    await db.fetch_val("SELECT 1")
    return {"id": user_id, "pid": os.getpid()}


@app.post("/users", status_code=201)
async def create_user() -> dict[str, bool]:
    return {"created": True}


api = Router(prefix="/api")


@api.get("/items/{slug:slug}")
async def item(slug: str) -> dict[str, str]:
    return {"slug": slug}


app.include_router(api)
health = HealthChecks(app)
metrics = PrometheusMetrics(app)
