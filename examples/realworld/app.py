"""The RealWorld "Conduit" API (https://realworld-docs.netlify.app) on CovetPy.

    CONDUIT_DATABASE_URL=sqlite:///conduit.db CONDUIT_SECRET=change-me \\
        covet run examples.realworld.app:app
"""

from __future__ import annotations

import os

from covet import Covet, HTTPException, Request, ValidationError
from covet.middleware import CORSMiddleware
from covet.responses import JSONResponse

from . import articles, users
from .models import db

app = Covet(
    title="Conduit API",
    version="1.0.0",
    description="The RealWorld example API: users, profiles, articles, comments, tags.",
)
for router in (users.router, users.profiles, articles.router, articles.comments, articles.tags):
    app.include_router(router, prefix="/api")

app.add_middleware(
    CORSMiddleware,
    allow_origins=os.environ.get("CONDUIT_CORS_ORIGINS", "*").split(","),
    allow_methods=["GET", "POST", "PUT", "DELETE"],
    allow_headers=["Authorization", "Content-Type", "X-Requested-With"],
)


@app.on_event("startup")
async def create_tables() -> None:
    await db.create_all()  # a real deployment would run migrations instead


# Conduit clients read errors as {"errors": {"body": ["..."]}}.


@app.exception_handler(ValidationError)
async def validation_failed(request: Request, exc: ValidationError) -> JSONResponse:
    messages = [f"{d['field'].removeprefix('body.')}: {d['message']}" for d in exc.details]
    return JSONResponse({"errors": {"body": messages}}, status_code=422)


@app.exception_handler(HTTPException)
async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
    return JSONResponse(
        {"errors": {"body": [str(exc.detail)]}}, status_code=exc.status_code, headers=exc.headers
    )
