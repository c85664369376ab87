"""Hello, CovetPy: a small notes API on SQLite with in-memory sessions and cache.

Run it:      python examples/hello/app.py        (then open http://127.0.0.1:8000/docs)
Or:          covet run examples.hello.app:app --reload
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone

from covet import Covet, HTTPException, Request, WebSocket
from covet.cache import MemoryCache, cached
from covet.db import Database
from covet.middleware import GZipMiddleware, RequestIDMiddleware, SessionMiddleware
from covet.orm import Field, Model

db = Database(os.environ.get("HELLO_DATABASE_URL", "sqlite:///hello.db"))
cache = MemoryCache(max_entries=1000)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Note(Model):
    id: int = Field(primary_key=True)
    title: str = Field(max_length=200)
    body: str = ""
    created_at: datetime = Field(default_factory=utcnow)


@dataclass
class NoteIn:
    title: str
    body: str = ""


app = Covet(title="Hello CovetPy", version="1.0.0", description="Notes on SQLite.")
app.add_middleware(GZipMiddleware, minimum_size=500)
app.add_middleware(SessionMiddleware, secret_key=os.environ.get("HELLO_SECRET", "dev-only-secret-change-me"))
app.add_middleware(RequestIDMiddleware)


@app.on_event("startup")
async def create_tables() -> None:
    await db.create_all()


@app.get("/")
async def hello(request: Request, name: str = "world") -> dict:
    """Greets you and counts your visits (kept in the session)."""
    visits = request.session.get("visits", 0) + 1
    request.session["visits"] = visits
    return {"message": f"Hello, {name}!", "visits": visits}


@app.get("/notes", tags=["notes"])
async def list_notes(limit: int = 20, offset: int = 0) -> list[dict]:
    notes = await Note.objects.order_by("-id").limit(min(limit, 100)).offset(offset).all()
    return [note.to_dict() for note in notes]


@app.post("/notes", status_code=201, tags=["notes"])
async def create_note(note: NoteIn) -> dict:
    created = await Note.objects.create(title=note.title, body=note.body)
    await cache.delete_by_tag("notes")
    return created.to_dict()


@app.get("/notes/{note_id:int}", tags=["notes"])
async def get_note(note_id: int) -> dict:
    note = await Note.objects.filter(id=note_id).first()
    if note is None:
        raise HTTPException(404, f"note {note_id} not found")
    return note.to_dict()


@app.delete("/notes/{note_id:int}", status_code=204, tags=["notes"])
async def delete_note(note_id: int) -> None:
    deleted = await Note.objects.filter(id=note_id).delete()
    if not deleted:
        raise HTTPException(404, f"note {note_id} not found")
    await cache.delete_by_tag("notes")


@cached(ttl=30, tags=["notes"], cache=cache)
async def note_stats() -> dict:
    return {"count": await Note.objects.count()}


@app.get("/stats", tags=["notes"])
async def stats() -> dict:
    """The number of notes (cached in memory for 30 s)."""
    return await note_stats()


@app.websocket("/ws/echo")
async def echo(ws: WebSocket) -> None:
    await ws.accept()
    async for text in ws.iter_text():
        await ws.send_text(text)


if __name__ == "__main__":
    from covet.server import run

    run(app, host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "8000")))
