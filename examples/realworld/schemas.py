"""Request and response bodies, in the spec's envelopes (``{"user": {...}}``, ...)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, TypedDict

from covet.handlers import MaxLen, MinLen, Pattern

Username = Annotated[str, MinLen(1), MaxLen(100), Pattern(r"^[A-Za-z0-9_.-]+$")]
Email = Annotated[str, MaxLen(255), Pattern(r"^[^@\s]+@[^@\s]+$")]
Password = Annotated[str, MinLen(1), MaxLen(256)]
Text = Annotated[str, MinLen(1)]


# --- users ------------------------------------------------------------------------------


@dataclass
class NewUser:
    username: Username
    email: Email
    password: Password


@dataclass
class NewUserRequest:
    user: NewUser


@dataclass
class LoginUser:
    email: Email
    password: Password


@dataclass
class LoginUserRequest:
    user: LoginUser


class UpdateUser(TypedDict, total=False):
    """Only the keys sent change; ``bio`` and ``image`` may be set to null."""

    email: Email
    username: Username
    password: Password
    bio: str | None
    image: Annotated[str, MaxLen(1000)] | None


@dataclass
class UpdateUserRequest:
    user: UpdateUser


@dataclass
class UserOut:
    email: str
    token: str
    username: str
    bio: str | None
    image: str | None


@dataclass
class UserResponse:
    user: UserOut


# --- profiles ---------------------------------------------------------------------------


@dataclass
class Profile:
    username: str
    bio: str | None
    image: str | None
    following: bool


@dataclass
class ProfileResponse:
    profile: Profile


# --- articles ---------------------------------------------------------------------------


@dataclass
class NewArticle:
    title: Annotated[str, MinLen(1), MaxLen(255)]
    description: Text
    body: Text
    tagList: Annotated[list[Annotated[str, MinLen(1), MaxLen(100)]], MaxLen(20)] = field(
        default_factory=list
    )


@dataclass
class NewArticleRequest:
    article: NewArticle


class UpdateArticle(TypedDict, total=False):
    title: Annotated[str, MinLen(1), MaxLen(255)]
    description: Text
    body: Text


@dataclass
class UpdateArticleRequest:
    article: UpdateArticle


@dataclass
class ArticleListItem:
    """An article in a list: everything but the body (the spec leaves it out of lists)."""

    slug: str
    title: str
    description: str
    tagList: list[str]
    createdAt: str
    updatedAt: str
    favorited: bool
    favoritesCount: int
    author: Profile


@dataclass
class ArticleOut(ArticleListItem):
    """One article, with its body. In a ``list[ArticleListItem]`` the body is not sent."""

    body: str


@dataclass
class SingleArticleResponse:
    article: ArticleOut


@dataclass
class MultipleArticlesResponse:
    articles: list[ArticleListItem]
    articlesCount: int


# --- comments and tags ------------------------------------------------------------------


@dataclass
class NewComment:
    body: Text


@dataclass
class NewCommentRequest:
    comment: NewComment


@dataclass
class CommentOut:
    id: int
    createdAt: str
    updatedAt: str
    body: str
    author: Profile


@dataclass
class SingleCommentResponse:
    comment: CommentOut


@dataclass
class MultipleCommentsResponse:
    comments: list[CommentOut]


@dataclass
class TagsResponse:
    tags: list[str]
