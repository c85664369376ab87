"""Conduit's tables: users (who follow each other), articles, tags, favourites, comments."""

from __future__ import annotations

import os
from datetime import datetime, timezone

from covet.db import Database
from covet.orm import Field, ForeignKey, ManyToMany, Model

db = Database(os.environ.get("CONDUIT_DATABASE_URL", "sqlite:///conduit.db"), alias="conduit")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class User(Model):
    id: int = Field(primary_key=True)
    email: str = Field(max_length=255, unique=True)
    username: str = Field(max_length=100, unique=True)
    password_hash: str = Field(max_length=255)
    bio: str | None = None
    image: str | None = Field(default=None, max_length=1000)
    following: ManyToMany[User] = Field(related_name="followers")

    class Meta:
        table = "conduit_user"
        database = "conduit"


class Article(Model):
    id: int = Field(primary_key=True)
    slug: str = Field(max_length=255, unique=True)
    title: str = Field(max_length=255)
    description: str = ""
    body: str = ""
    author: ForeignKey[User] = Field(on_delete="cascade", related_name="articles")
    tags: ManyToMany[Tag] = Field(related_name="articles")
    favorited_by: ManyToMany[User] = Field(related_name="favorites")
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)

    class Meta:
        table = "conduit_article"
        database = "conduit"
        ordering = ["-created_at", "-id"]


class Tag(Model):
    id: int = Field(primary_key=True)
    name: str = Field(max_length=100, unique=True)

    class Meta:
        table = "conduit_tag"
        database = "conduit"


class Comment(Model):
    id: int = Field(primary_key=True)
    body: str
    article: ForeignKey[Article] = Field(on_delete="cascade", related_name="comments")
    author: ForeignKey[User] = Field(on_delete="cascade", related_name="comments")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Meta:
        table = "conduit_comment"
        database = "conduit"
        ordering = ["-created_at", "-id"]
