"""Signed cookie sessions (no store), the signer and the Session object."""

from __future__ import annotations

import time

import pytest
from sess_helpers import SECRET, session_app

from covet.exceptions import ImproperlyConfigured
from covet.sessions import Session, SessionMiddleware, Signer
from covet.sessions.signing import b64decode, b64encode
from covet.testing import TestClient


def client(app=session_app, base_url: str = "http://testserver", **options: object) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(SessionMiddleware(app, secret_key=SECRET, **options), base_url=base_url)


def test_round_trip_and_cookie_flags() -> None:
    c = client()
    r = c.get("/set?user=alice&role=admin")
    set_cookie = r.headers["set-cookie"]
    assert set_cookie.startswith("session=")
    for flag in ("HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=1209600"):
        assert flag in set_cookie
    assert "Secure" not in set_cookie
    assert c.get("/get").json()["session"] == {"user": "alice", "role": "admin"}


def test_secure_flag_automatic_on_https() -> None:
    r = client(base_url="https://example.com").get("/set?a=1")
    assert "Secure" in r.headers["set-cookie"]
    r = client(secure=False, base_url="https://example.com").get("/set?a=1")
    assert "Secure" not in r.headers["set-cookie"]


def test_cookie_only_resent_when_modified() -> None:
    c = client()
    c.get("/set?a=1")
    assert "set-cookie" not in c.get("/get").headers
    assert "set-cookie" in c.get("/bump").headers


def test_rolling_resends_every_time() -> None:
    c = client(rolling=True)
    c.get("/set?a=1")
    assert "set-cookie" in c.get("/get").headers


def test_no_cookie_for_an_untouched_empty_session() -> None:
    r = client().get("/get")
    assert "set-cookie" not in r.headers
    assert r.json()["session"] == {}


def test_clear_deletes_the_cookie() -> None:
    c = client()
    c.get("/set?a=1")
    r = c.get("/clear")
    assert "Max-Age=0" in r.headers["set-cookie"]
    assert c.get("/get").json()["session"] == {}


@pytest.mark.parametrize(
    "forged",
    [
        "garbage",
        "a.b",
        "",
        "....",
        "eyJ0IjoxLCJkIjp7InVzZXIiOiJhZG1pbiJ9fQ.AAAA",
        "ü.ü",
        "x" * 5000,
    ],
)
def test_forged_cookie_gives_empty_session(forged: str) -> None:
    c = client()
    r = c.get("/get", headers={"cookie": f"session={forged}"})
    assert r.status_code == 200
    assert r.json()["session"] == {}


def test_tampered_payload_is_rejected() -> None:
    c = client()
    cookie = c.get("/set?user=bob").cookies["session"]
    payload, sig = cookie.split(".")
    data = b64decode(payload).replace(b"bob", b"eve")
    r = client().get("/get", headers={"cookie": f"session={b64encode(data)}.{sig}"})
    assert r.json()["session"] == {}


def test_other_secret_is_rejected_and_rotation_verifies_old_key() -> None:
    old = client().get("/set?user=bob").cookies["session"]
    other = TestClient(SessionMiddleware(session_app, secret_key="another-secret-key-0123456789"))
    assert other.get("/get", headers={"cookie": f"session={old}"}).json()["session"] == {}
    rotated = TestClient(SessionMiddleware(session_app, secret_key=["brand-new-secret-key-987654321", SECRET]))
    assert rotated.get("/get", headers={"cookie": f"session={old}"}).json()["session"] == {"user": "bob"}
    # new cookies are signed with the newest key only
    fresh = rotated.get("/set?x=1", headers={"cookie": f"session={old}"}).cookies["session"]
    assert TestClient(SessionMiddleware(session_app, secret_key="brand-new-secret-key-987654321")).get(
        "/get", headers={"cookie": f"session={fresh}"}
    ).json()["session"] == {"user": "bob", "x": "1"}


def test_max_age_enforced_on_read() -> None:
    signer = Signer(SECRET, salt="covet.sessions.cookie")
    token = signer.dumps({"user": "bob"})
    assert signer.loads(token, max_age=10) == {"user": "bob"}
    envelope_old = Signer(SECRET, salt="covet.sessions.cookie")
    original = time.time
    try:
        time.time = lambda: original() - 100  # type: ignore[assignment]
        stale = envelope_old.dumps({"user": "bob"})
    finally:
        time.time = original  # type: ignore[assignment]
    assert signer.loads(stale, max_age=10) is None
    r = client(max_age=10).get("/get", headers={"cookie": f"session={stale}"})
    assert r.json()["session"] == {}


def test_signer_salts_separate_purposes() -> None:
    token = Signer(SECRET, salt="a").sign(b"value")
    assert Signer(SECRET, salt="a").unsign(token) == b"value"
    assert Signer(SECRET, salt="b").unsign(token) is None


def test_non_dict_payload_is_ignored() -> None:
    token = Signer(SECRET, salt="covet.sessions.cookie").dumps(["not", "a", "dict"])
    assert client().get("/get", headers={"cookie": f"session={token}"}).json()["session"] == {}


def test_session_object_tracks_modification() -> None:
    s = Session({"a": 1})
    assert not s.modified and s.is_new
    assert s.get("a") == 1 and "a" in s and len(s) == 1
    s["b"] = 2
    assert s.modified
    s2 = Session({"a": 1})
    del s2["a"]
    assert s2.modified and s2.to_dict() == {}
    s3 = Session()
    s3.clear()
    assert not s3.modified
    s3.regenerate()
    assert s3.modified and s3.regenerate_requested


def test_oversized_cookie_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    r = client().get("/set?blob=" + "x" * 5000)
    assert r.status_code == 200
    assert any("over the 4096" in rec.getMessage() for rec in caplog.records)


async def test_websocket_reads_the_session() -> None:
    c = client()
    cookie = c.get("/set?user=carol").cookies["session"]
    seen: list[object] = []

    async def ws_app(scope, receive, send):  # type: ignore[no-untyped-def]
        seen.append(dict(scope["session"]))

    mw = SessionMiddleware(ws_app, secret_key=SECRET)
    await mw({"type": "websocket", "headers": [(b"cookie", f"session={cookie}".encode())]}, None, None)  # type: ignore[arg-type]
    assert seen == [{"user": "carol"}]


@pytest.mark.parametrize(
    "options",
    [
        {"secret_key": "short"},
        {"secret_key": []},
        {"secret_key": SECRET, "max_age": 0},
        {"secret_key": SECRET, "cookie_name": "bad name"},
        {"secret_key": SECRET, "samesite": "sometimes"},
        {"secret_key": SECRET, "samesite": "none", "secure": False},
        {"secret_key": SECRET, "path": "no-slash"},
        {"secret_key": SECRET, "store": object()},
    ],
)
def test_bad_configuration(options: dict[str, object]) -> None:
    with pytest.raises(ImproperlyConfigured):
        SessionMiddleware(session_app, **options)  # type: ignore[arg-type]
