"""Application code as a user writes it: models, queries, relations, handler markers.

Type-checked by tests/meta/test_user_typing.py with ``mypy --strict``: it must produce
no error, and each ``reveal_type`` the type written on its line's comment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from covet import Covet, Depends, Header, Query
from covet.db import Database
from covet.orm import Count, Field, ForeignKey, ManyToMany, Model, OneToOne, Q

if TYPE_CHECKING:
    from typing_extensions import reveal_type

db = Database("sqlite:///:memory:")
app = Covet()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class User(Model):
    id: int = Field(primary_key=True)
    email: str = Field(max_length=255, unique=True)
    name: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Profile(Model):
    user: OneToOne[User] = Field(related_name="profile")
    bio: str = Field(max_length=200, default="")


class Tag(Model):
    id: int = Field(primary_key=True)
    name: str = Field(max_length=50)


class Post(Model):
    id: int = Field(primary_key=True)
    author: ForeignKey[User] = Field(on_delete="cascade", related_name="posts")
    editor: ForeignKey[User] | None = Field(on_delete="set_null", related_name="edited")
    title: str = Field(max_length=200, index=True)
    tags: ManyToMany[Tag] = Field(related_name="posts")


async def queries() -> None:
    post = await Post.objects.get(id=1)
    reveal_type(post)  # Post
    reveal_type(post.title)  # str
    reveal_type(post.author)  # User
    reveal_type(post.author.email)  # str
    reveal_type(post.editor)  # User | None
    reveal_type(post.author_id)  # Any
    reveal_type(await Post.objects.filter(Q(title="a") | Q(title="b")).order_by("-id"))  # list[Post]
    reveal_type(await Post.objects.filter(title="x").first())  # Post | None
    reveal_type(await Post.objects.all()[0])  # Post
    reveal_type(Post.objects.all()[:10])  # QuerySet[Post]
    reveal_type(await Post.objects.count())  # int
    reveal_type(await Post.objects.get_or_create(title="x"))  # tuple[Post, bool]
    reveal_type(await Post.objects.values_list("id", flat=True))  # list[Any]
    reveal_type(await post.tags.all())  # list[Tag]
    reveal_type(await post.tags.filter(name="py").first())  # Tag | None
    reveal_type(await User.objects.annotate(n=Count("posts")).filter(n__gt=1))  # list[User]
    reveal_type(await User.objects)  # list[User]
    async for user in User.objects.filter(name=None):
        reveal_type(user)  # User
    profile = await Profile.objects.get(pk=1)
    reveal_type(profile.user.created_at)  # datetime
    user = User(email="a@b.c")
    await user.save()
    reveal_type(user.pk)  # Any


async def current_user(authorization: str = Header()) -> User:
    return await User.objects.get(email=authorization)


async def session() -> AsyncIterator[int]:
    yield 1


@app.get("/posts")
async def list_posts(
    limit: int = Query(10, ge=1, le=100),
    user: User = Depends(current_user),
    s: int = Depends(session),
) -> list[dict[str, object]]:
    rows = await Post.objects.filter(author=user).limit(limit)
    return [p.to_dict() for p in rows]
