"""A small blog API on the ORM: models as schemas, relations, prefetching, aggregates.

BLOG_DATABASE_URL=sqlite:///blog.db covet run examples.blog.app:app
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from covet import Covet, HTTPException
from covet.db import Database
from covet.orm import Count, F, Field, ForeignKey, ManyToMany, Model

db = Database(os.environ.get("BLOG_DATABASE_URL", "sqlite:///blog.db"))
app = Covet(title="Blog")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Author(Model):
    id: int = Field(primary_key=True)
    email: str = Field(max_length=255, unique=True)
    name: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow)

    class Meta:
        table = "blog_author"


class Post(Model):
    id: int = Field(primary_key=True)
    author: ForeignKey[Author] = Field(on_delete="cascade", related_name="posts")
    title: str = Field(max_length=200, index=True)
    body: str = ""
    views: int = 0
    tags: ManyToMany[Tag] = Field(related_name="posts")

    class Meta:
        table = "blog_post"
        ordering = ["-id"]


class Tag(Model):
    name: str = Field(max_length=50, unique=True)

    class Meta:
        table = "blog_tag"


if TYPE_CHECKING:  # the schemas are made at run time; their bodies are validated dicts
    AuthorIn = dict[str, Any]
    PostIn = dict[str, Any]
else:
    AuthorIn = Author.schema(include={"email", "name"}, name="AuthorIn")
    PostIn = Post.schema(include={"author_id", "title", "body"}, name="PostIn")


@app.on_event("startup")
async def create_tables() -> None:
    await db.create_all()


@app.post("/authors", status_code=201)
async def create_author(body: AuthorIn) -> Author:
    return await Author.objects.create(**body)


@app.get("/authors")
async def list_authors() -> list[dict]:
    rows = await Author.objects.annotate(n_posts=Count("posts")).order_by("name")
    return [a.to_dict(include={"id", "name", "n_posts"}) for a in rows]


@app.post("/posts", status_code=201)
async def create_post(body: PostIn, tags: str = "") -> dict:
    if not await Author.objects.filter(pk=body["author_id"]).exists():
        raise HTTPException(404, "author not found")
    post = await Post.objects.create(**body)
    for name in filter(None, (t.strip() for t in tags.split(","))):
        tag, _ = await Tag.objects.get_or_create(name=name)
        await post.tags.add(tag)
    return post.to_dict()


@app.get("/posts/{post_id:int}")
async def read_post(post_id: int) -> dict:
    try:
        post = await Post.objects.select_related("author").prefetch_related("tags").get(pk=post_id)
    except Post.DoesNotExist:
        raise HTTPException(404, "post not found") from None
    await Post.objects.filter(pk=post_id).update(views=F("views") + 1)
    return post.to_dict()


@app.get("/posts")
async def list_posts(tag: str | None = None, q: str | None = None, limit: int = 20) -> list[dict]:
    qs = Post.objects.select_related("author")
    if tag:
        qs = qs.filter(tags__name=tag)
    if q:
        qs = qs.filter(title__icontains=q)
    posts = await qs.limit(max(1, min(limit, 100)))
    return [p.to_dict(include={"id", "title", "author", "views"}) for p in posts]
