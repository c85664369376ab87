"""Registration, login, the current user and profiles (follow / unfollow)."""

from __future__ import annotations

from typing import Any

from covet import HTTPException, Router, ValidationError
from covet.auth import hash_password, needs_rehash, verify_password
from covet.concurrency import run_in_threadpool
from covet.db.exceptions import UniqueViolation

from .models import User
from .schemas import (
    LoginUserRequest,
    NewUserRequest,
    Profile,
    ProfileResponse,
    UpdateUserRequest,
    UserOut,
    UserResponse,
)
from .security import CurrentUser, OptionalUser, issue_token

router = Router(tags=["User and Authentication"])
profiles = Router(tags=["Profile"])

# Verified against when the email is unknown, so both failures cost the same time.
_DUMMY_HASH = hash_password("timing equaliser for unknown emails")


def user_out(user: User) -> UserResponse:
    return UserResponse(UserOut(user.email, issue_token(user), user.username, user.bio, user.image))


def taken(field: str) -> ValidationError:
    """The 422 Conduit clients expect for a duplicate username or email."""
    return ValidationError(
        [
            {
                "field": f"body.user.{field}",
                "message": "has already been taken",
                "code": "value_error",
            }
        ]
    )


async def ensure_free(email: str | None, username: str | None, exclude: int | None = None) -> None:
    others = User.objects.exclude(id=exclude) if exclude is not None else User.objects
    if email is not None and await others.filter(email=email).exists():
        raise taken("email")
    if username is not None and await others.filter(username=username).exists():
        raise taken("username")


@router.post("/users", status_code=201)
async def register(body: NewUserRequest) -> UserResponse:
    data = body.user
    email = data.email.lower()
    await ensure_free(email, data.username)
    # scrypt takes ~0.1 s of CPU: keep it off the event loop.
    password_hash = await run_in_threadpool(hash_password, data.password)
    try:
        user = await User.objects.create(
            email=email, username=data.username, password_hash=password_hash
        )
    except UniqueViolation as exc:  # a concurrent sign-up took it since ensure_free()
        raise taken("email" if "email" in str(exc) else "username") from None
    return user_out(user)


@router.post("/users/login")
async def login(body: LoginUserRequest) -> UserResponse:
    user = await User.objects.filter(email=body.user.email.lower()).first()
    stored = user.password_hash if user is not None else _DUMMY_HASH
    ok = await run_in_threadpool(verify_password, body.user.password, stored)
    if user is None or not ok:  # same work and answer whether or not the email exists
        raise HTTPException(401, "email or password is invalid")
    if needs_rehash(user.password_hash):
        user.password_hash = await run_in_threadpool(hash_password, body.user.password)
        await user.save(update_fields=["password_hash"])
    return user_out(user)


@router.get("/user")
async def get_current_user(user: CurrentUser) -> UserResponse:
    return user_out(user)


@router.put("/user")
async def update_current_user(body: UpdateUserRequest, user: CurrentUser) -> UserResponse:
    changes: dict[str, Any] = dict(body.user)
    if "email" in changes:
        changes["email"] = changes["email"].lower()
    await ensure_free(changes.get("email"), changes.get("username"), exclude=user.id)
    if "password" in changes:
        changes["password_hash"] = await run_in_threadpool(hash_password, changes.pop("password"))
    for name, value in changes.items():
        setattr(user, name, value)
    if changes:
        try:
            await user.save(update_fields=list(changes))
        except UniqueViolation as exc:
            raise taken("email" if "email" in str(exc) else "username") from None
    return user_out(user)


# --- profiles ---------------------------------------------------------------------------


async def get_user(username: str) -> User:
    user = await User.objects.filter(username=username).first()
    if user is None:
        raise HTTPException(404, f"profile {username!r} not found")
    return user


async def profile_of(user: User, viewer: User | None) -> ProfileResponse:
    following = viewer is not None and await viewer.following.filter(id=user.id).exists()
    return ProfileResponse(Profile(user.username, user.bio, user.image, following))


@profiles.get("/profiles/{username}")
async def get_profile(username: str, viewer: OptionalUser) -> ProfileResponse:
    return await profile_of(await get_user(username), viewer)


@profiles.post("/profiles/{username}/follow")
async def follow(username: str, viewer: CurrentUser) -> ProfileResponse:
    user = await get_user(username)
    if user.id == viewer.id:
        raise ValidationError(
            [{"field": "path.username", "message": "cannot follow yourself", "code": "value_error"}]
        )
    if not await viewer.following.filter(id=user.id).exists():
        await viewer.following.add(user)
    return ProfileResponse(Profile(user.username, user.bio, user.image, True))


@profiles.delete("/profiles/{username}/follow")
async def unfollow(username: str, viewer: CurrentUser) -> ProfileResponse:
    user = await get_user(username)
    await viewer.following.remove(user)
    return ProfileResponse(Profile(user.username, user.bio, user.image, False))
