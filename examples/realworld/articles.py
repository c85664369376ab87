"""Articles (CRUD, feed, filters, favourites), their comments, and tags."""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Annotated

from covet import HTTPException, Query, Response, Router
from covet.orm import Count, QuerySet

from .models import Article, Comment, Tag, User, db, utcnow
from .schemas import (
    ArticleListItem,
    ArticleOut,
    CommentOut,
    MultipleArticlesResponse,
    MultipleCommentsResponse,
    NewArticleRequest,
    NewCommentRequest,
    Profile,
    SingleArticleResponse,
    SingleCommentResponse,
    TagsResponse,
    UpdateArticleRequest,
)
from .security import CurrentUser, OptionalUser

router = Router(tags=["Articles"])
comments = Router(tags=["Comments"])
tags = Router(tags=["Tags"])

Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0)]


def timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as Conduit clients expect (``...T10:00:00.000Z``)."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:200] or "article"


async def unique_slug(title: str, exclude: int | None = None) -> str:
    slug = slugify(title)
    others = Article.objects.exclude(id=exclude) if exclude is not None else Article.objects
    while await others.filter(slug=slug).exists():
        slug = f"{slugify(title)}-{secrets.token_hex(3)}"
    return slug


# --- presenting articles: a constant number of queries for a whole page -------------------


async def present(articles: Sequence[Article], viewer: User | None) -> list[ArticleOut]:
    """Articles with ``author`` and ``tags`` loaded, as the API shows them to ``viewer``."""
    ids = [a.id for a in articles]
    counts: dict[int, int] = {}
    favorited: set[int] = set()
    following: set[int] = set()
    if ids:
        rows = (
            await Article.objects.filter(id__in=ids).values("id").annotate(n=Count("favorited_by"))
        )
        counts = {row["id"]: row["n"] for row in rows}
        if viewer is not None:
            favorited = set(await viewer.favorites.filter(id__in=ids).values_list("id", flat=True))
            authors = list({a.author_id for a in articles})
            following = set(
                await viewer.following.filter(id__in=authors).values_list("id", flat=True)
            )
    return [
        ArticleOut(
            slug=a.slug,
            title=a.title,
            description=a.description,
            body=a.body,
            tagList=sorted(tag.name for tag in a.tags),
            createdAt=timestamp(a.created_at),
            updatedAt=timestamp(a.updated_at),
            favorited=a.id in favorited,
            favoritesCount=counts.get(a.id, 0),
            author=Profile(
                a.author.username, a.author.bio, a.author.image, a.author_id in following
            ),
        )
        for a in articles
    ]


def with_relations(qs: QuerySet[Article]) -> QuerySet[Article]:
    return qs.select_related("author").prefetch_related("tags")


async def get_article(slug: str) -> Article:
    article = await with_relations(Article.objects.filter(slug=slug)).first()
    if article is None:
        raise HTTPException(404, f"article {slug!r} not found")
    return article


async def single(slug: str, viewer: User | None) -> SingleArticleResponse:
    (out,) = await present([await get_article(slug)], viewer)
    return SingleArticleResponse(out)


async def page(
    qs: QuerySet[Article], limit: int, offset: int, viewer: User | None
) -> MultipleArticlesResponse:
    total = await qs.count()
    articles = await with_relations(qs)[offset : offset + limit]
    items: list[ArticleListItem] = list(await present(articles, viewer))  # bodies are not sent
    return MultipleArticlesResponse(items, total)


# --- articles -----------------------------------------------------------------------------


@router.get("/articles")
async def list_articles(
    viewer: OptionalUser,
    tag: str | None = None,
    author: str | None = None,
    favorited: str | None = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> MultipleArticlesResponse:
    """Most recent articles first, filtered by tag, author or the user who favourited them."""
    qs = Article.objects.all()
    if tag:
        qs = qs.filter(tags__name=tag)
    if author:
        qs = qs.filter(author__username=author)
    if favorited:
        qs = qs.filter(favorited_by__username=favorited)
    return await page(qs, limit, offset, viewer)


@router.get("/articles/feed")
async def feed(
    viewer: CurrentUser, limit: Limit = 20, offset: Offset = 0
) -> MultipleArticlesResponse:
    """Articles by the users ``viewer`` follows."""
    followed = viewer.following.all().values_list("id", flat=True)
    return await page(Article.objects.filter(author_id__in=followed), limit, offset, viewer)


@router.get("/articles/{slug}")
async def read_article(slug: str, viewer: OptionalUser) -> SingleArticleResponse:
    return await single(slug, viewer)


@router.post("/articles", status_code=201)
async def create_article(body: NewArticleRequest, viewer: CurrentUser) -> SingleArticleResponse:
    data = body.article
    async with db.transaction():
        article = await Article.objects.create(
            slug=await unique_slug(data.title),
            title=data.title,
            description=data.description,
            body=data.body,
            author=viewer,
        )
        names = sorted(set(data.tagList))
        if names:
            await article.tags.set([(await Tag.objects.get_or_create(name=n))[0] for n in names])
    return await single(article.slug, viewer)


async def own_article(slug: str, viewer: User) -> Article:
    article = await get_article(slug)
    if article.author_id != viewer.id:
        raise HTTPException(403, "only the author may change this article")
    return article


@router.put("/articles/{slug}")
async def update_article(
    slug: str, body: UpdateArticleRequest, viewer: CurrentUser
) -> SingleArticleResponse:
    article = await own_article(slug, viewer)
    changes: dict[str, object] = dict(body.article)
    if "title" in changes and changes["title"] != article.title:
        changes["slug"] = await unique_slug(str(changes["title"]), exclude=article.id)
    if changes:
        changes["updated_at"] = utcnow()
        await Article.objects.filter(id=article.id).update(**changes)
    return await single(str(changes.get("slug", slug)), viewer)


@router.delete("/articles/{slug}")
async def delete_article(slug: str, viewer: CurrentUser) -> Response:
    article = await own_article(slug, viewer)
    await article.delete()
    return Response(status_code=200)


@router.post("/articles/{slug}/favorite")
async def favorite(slug: str, viewer: CurrentUser) -> SingleArticleResponse:
    article = await get_article(slug)
    if not await viewer.favorites.filter(id=article.id).exists():
        await article.favorited_by.add(viewer)
    return await single(slug, viewer)


@router.delete("/articles/{slug}/favorite")
async def unfavorite(slug: str, viewer: CurrentUser) -> SingleArticleResponse:
    article = await get_article(slug)
    await article.favorited_by.remove(viewer)
    return await single(slug, viewer)


# --- comments -----------------------------------------------------------------------------


async def comment_out(comment: Comment, following: set[int]) -> CommentOut:
    author = comment.author
    return CommentOut(
        id=comment.id,
        createdAt=timestamp(comment.created_at),
        updatedAt=timestamp(comment.updated_at),
        body=comment.body,
        author=Profile(author.username, author.bio, author.image, author.id in following),
    )


@comments.get("/articles/{slug}/comments")
async def list_comments(slug: str, viewer: OptionalUser) -> MultipleCommentsResponse:
    article = await get_article(slug)
    found = await Comment.objects.filter(article_id=article.id).select_related("author")
    following: set[int] = set()
    if viewer is not None and found:
        authors = list({c.author_id for c in found})
        following = set(await viewer.following.filter(id__in=authors).values_list("id", flat=True))
    return MultipleCommentsResponse([await comment_out(c, following) for c in found])


@comments.post("/articles/{slug}/comments")
async def add_comment(
    slug: str, body: NewCommentRequest, viewer: CurrentUser
) -> SingleCommentResponse:
    article = await get_article(slug)
    comment = await Comment.objects.create(body=body.comment.body, article=article, author=viewer)
    comment.author = viewer
    return SingleCommentResponse(await comment_out(comment, set()))


@comments.delete("/articles/{slug}/comments/{comment_id:int}")
async def delete_comment(slug: str, comment_id: int, viewer: CurrentUser) -> Response:
    article = await get_article(slug)
    comment = await Comment.objects.filter(id=comment_id, article_id=article.id).first()
    if comment is None:
        raise HTTPException(404, f"comment {comment_id} not found")
    if comment.author_id != viewer.id:
        raise HTTPException(403, "only the author may delete this comment")
    await comment.delete()
    return Response(status_code=200)


# --- tags ---------------------------------------------------------------------------------


@tags.get("/tags")
async def list_tags() -> TagsResponse:
    """Tags in use, most used first."""
    rows = await (
        Tag.objects.annotate(n=Count("articles")).filter(n__gt=0).order_by("-n", "name").limit(100)
    )
    return TagsResponse([t.name for t in rows])
