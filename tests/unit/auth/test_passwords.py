from __future__ import annotations

import pytest

from covet.auth import PasswordHasher, hash_password, needs_rehash, verify_password
from covet.auth.passwords import MAX_PASSWORD_BYTES

FAST = PasswordHasher(ln=10)


def test_default_round_trip() -> None:
    hashed = hash_password("correct horse")
    assert hashed.startswith("$scrypt$ln=15,r=8,p=1$")
    assert verify_password("correct horse", hashed)
    assert not verify_password("correct hors", hashed)
    assert not needs_rehash(hashed)


def test_salt_is_random() -> None:
    assert FAST.hash("pw") != FAST.hash("pw")


def test_wrong_passwords() -> None:
    hashed = FAST.hash("Pässwörd")
    assert FAST.verify("Pässwörd", hashed)
    assert FAST.verify("Pässwörd".encode(), hashed)
    for wrong in ("", "pässwörd", "Pässwörd ", "Pässwörd\x00"):
        assert not FAST.verify(wrong, hashed)


def test_parameters_read_from_hash() -> None:
    hashed = FAST.hash("pw")
    assert PasswordHasher(ln=11).verify("pw", hashed)
    assert PasswordHasher(ln=11).needs_rehash(hashed)
    assert not FAST.needs_rehash(hashed)


@pytest.mark.parametrize(
    "hashed",
    [
        "",
        "plain",
        "$scrypt$ln=10,r=8,p=1$c2FsdA",
        "$scrypt$ln=10,r=8,p=1$!!!$aGFzaA",
        "$scrypt$ln=99,r=8,p=1$c2FsdA$aGFzaA",  # memory bomb refused
        "$scrypt$ln=10,r=0,p=1$c2FsdA$aGFzaA",
        "$md5$abc",
        "$argon2id$v=19$m=65536,t=3,p=4$garbage",
    ],
)
def test_malformed_hashes_never_verify(hashed: str) -> None:
    assert not FAST.verify("pw", hashed)
    assert FAST.needs_rehash(hashed) or hashed.startswith("$argon2")


def test_non_string_inputs() -> None:
    hashed = FAST.hash("pw")
    assert not FAST.verify(None, hashed)  # type: ignore[arg-type]
    assert not FAST.verify("pw", None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        FAST.hash(3)  # type: ignore[arg-type]


def test_nul_byte_refused() -> None:
    # PBKDF2's HMAC zero-pads the key: without the check "pw\0" would verify against "pw".
    with pytest.raises(ValueError, match="NUL"):
        FAST.hash("pw\x00")


def test_oversized_password() -> None:
    with pytest.raises(ValueError, match="longer"):
        FAST.hash("x" * (MAX_PASSWORD_BYTES + 1))
    assert not FAST.verify("x" * (MAX_PASSWORD_BYTES + 1), FAST.hash("x"))


def test_bad_configuration() -> None:
    with pytest.raises(ValueError):
        PasswordHasher(scheme="md5")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        PasswordHasher(ln=40)
    with pytest.raises(TypeError):
        PasswordHasher(time_cost=2)


def test_argon2_scheme() -> None:
    pytest.importorskip("argon2")
    hasher = PasswordHasher(scheme="argon2", time_cost=1, memory_cost=1024, parallelism=1)
    hashed = hasher.hash("pw")
    assert hashed.startswith("$argon2id$")
    assert hasher.verify("pw", hashed) and not hasher.verify("pX", hashed)
    assert not hasher.needs_rehash(hashed)
    assert hasher.needs_rehash(FAST.hash("pw"))
    assert hasher.verify("pw", FAST.hash("pw"))  # old scrypt hashes still verify
    assert FAST.verify("pw", hashed)  # and the scrypt hasher verifies argon2 hashes
    assert FAST.needs_rehash(hashed)


def test_argon2_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from covet.exceptions import MissingDependency

    monkeypatch.setitem(sys.modules, "argon2", None)
    with pytest.raises(MissingDependency) as info:
        PasswordHasher(scheme="argon2")
    assert "crypto" in str(info.value)


def test_cryptography_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from covet.auth import jwt
    from covet.exceptions import MissingDependency

    for name in [m for m in sys.modules if m == "cryptography" or m.startswith("cryptography.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "cryptography", None)
    with pytest.raises(MissingDependency):
        jwt.encode({"a": 1}, b"k", algorithm="RS256")
