from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from covet.auth import jwt
from covet.auth.jwt import ExpiredToken, InvalidToken
from covet.exceptions import CovetError

KEY = "s3cret-key"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


HS256_HEADER = b64(b'{"alg":"HS256"}')


def forge(header: dict, payload: dict, signature: bytes = b"") -> str:
    return ".".join(
        (b64(json.dumps(header).encode()), b64(json.dumps(payload).encode()), b64(signature))
    )


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_round_trip(alg: str) -> None:
    token = jwt.encode({"sub": "42", "role": "admin"}, KEY, algorithm=alg)
    assert jwt.decode(token, KEY, algorithms=[alg]) == {"sub": "42", "role": "admin"}
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": alg, "typ": "JWT"}


def test_known_vector() -> None:
    # jwt.io's HS256 example, secret "your-256-bit-secret"
    token = (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0"
        "IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    )
    assert jwt.decode(token, "your-256-bit-secret") == {
        "sub": "1234567890",
        "name": "John Doe",
        "iat": 1516239022,
    }


def test_errors_are_covet_errors() -> None:
    assert issubclass(InvalidToken, CovetError)
    assert issubclass(ExpiredToken, InvalidToken)


def test_wrong_key() -> None:
    with pytest.raises(InvalidToken, match="signature"):
        jwt.decode(jwt.encode({"a": 1}, KEY), "other")


def test_tampered_payload_and_signature() -> None:
    head, _, sig = jwt.encode({"admin": False}, KEY).split(".")
    evil = b64(json.dumps({"admin": True}).encode())
    with pytest.raises(InvalidToken, match="signature"):
        jwt.decode(f"{head}.{evil}.{sig}", KEY)
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    with pytest.raises(InvalidToken):
        jwt.decode(f"{head}.{jwt.encode({'admin': False}, KEY).split('.')[1]}.{flipped}", KEY)


def test_alg_none_rejected() -> None:
    token = forge({"alg": "none", "typ": "JWT"}, {"sub": "1"})
    with pytest.raises(InvalidToken, match="not allowed"):
        jwt.decode(token + "x", KEY)
    with pytest.raises(InvalidToken):
        jwt.decode(token.rstrip("."), KEY)
    with pytest.raises(InvalidToken, match="Unsupported"):
        jwt.decode(token, KEY, algorithms=["none"])


def test_alg_not_in_allowed_list() -> None:
    token = jwt.encode({"a": 1}, KEY, algorithm="HS512")
    with pytest.raises(InvalidToken, match="not allowed"):
        jwt.decode(token, KEY, algorithms=["HS256"])
    with pytest.raises(InvalidToken):
        jwt.decode(token, KEY, algorithms=[])


@pytest.mark.parametrize("alg", [None, 5, ["HS256"], "hs256"])
def test_bad_alg_header_values(alg: object) -> None:
    token = forge({"alg": alg}, {"a": 1}, b"x" * 32)
    with pytest.raises(InvalidToken, match="not allowed"):
        jwt.decode(token, KEY)


def test_algorithm_confusion_public_key_as_hmac_secret() -> None:
    pem = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n"
    import hashlib
    import hmac

    signing_input = forge({"alg": "HS256"}, {"sub": "admin"}).rsplit(".", 1)[0]
    sig = hmac.new(pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(InvalidToken, match="PEM"):
        jwt.decode(f"{signing_input}.{b64(sig)}", pem, algorithms=["HS256", "RS256"])


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "..",
        "eyJhbGciOiJIUzI1NiJ9..sig",
        "eyJhbGciOiJIUzI1NiJ9.e30.a+b/",  # standard base64 alphabet
        "eyJhbGciOiJIUzI1NiJ9.e30.abcde",  # impossible length
        "eyJhbGciOiJIUzI1NiJ9=.e30.abcd",  # padding
        "bm90IGpzb24.e30.abcd",  # header not JSON
        "WzEsMl0.e30.abcd",  # header is a list
        "eyJhbGciOiJIUzI1NiJ9.e30.\u00e9\u00e9\u00e9\u00e9",
    ],
)
def test_malformed_tokens(token: str) -> None:
    with pytest.raises(InvalidToken):
        jwt.decode(token, KEY)


def test_non_canonical_base64_rejected() -> None:
    token = jwt.encode({"a": 1}, KEY)
    head, body, sig = token.split(".")
    # 43 chars carry 258 bits for 256: the last char's low bits must be zero
    last = sig[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = alphabet[alphabet.index(last) ^ 1]
    with pytest.raises(InvalidToken, match="canonical"):
        jwt.decode(f"{head}.{body}.{sig[:-1]}{twin}", KEY)


def test_payload_not_object_after_valid_signature() -> None:
    import hashlib
    import hmac

    signing_input = f"{HS256_HEADER}.{b64(b'[1,2]')}"
    sig = hmac.new(KEY.encode(), signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(InvalidToken, match="payload is not a JSON object"):
        jwt.decode(f"{signing_input}.{b64(sig)}", KEY)


def test_huge_token_rejected_before_parsing() -> None:
    with pytest.raises(InvalidToken, match="too long"):
        jwt.decode("a" * (jwt.MAX_TOKEN_LENGTH + 1), KEY)
    big = jwt.encode({"blob": "x" * 20_000}, KEY)
    with pytest.raises(InvalidToken, match="too long"):
        jwt.decode(big, KEY)


def test_deeply_nested_payload_is_invalid_not_crash() -> None:
    import hashlib
    import hmac

    nested = b"[" * 5000 + b"]" * 5000
    signing_input = f"{HS256_HEADER}.{b64(nested)}"
    sig = hmac.new(KEY.encode(), signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(InvalidToken):
        jwt.decode(f"{signing_input}.{b64(sig)}", KEY)


def test_expired() -> None:
    token = jwt.encode({"exp": int(time.time()) - 10}, KEY)
    with pytest.raises(ExpiredToken):
        jwt.decode(token, KEY)
    assert jwt.decode(token, KEY, leeway=60)["exp"] < time.time()


def test_datetime_claims_and_valid_exp() -> None:
    now = datetime.now(timezone.utc)
    token = jwt.encode({"exp": now + timedelta(minutes=5), "iat": now}, KEY)
    claims = jwt.decode(token, KEY)
    assert claims["exp"] == int((now + timedelta(minutes=5)).timestamp())


def test_nbf_and_iat_in_future() -> None:
    future = int(time.time()) + 100
    with pytest.raises(InvalidToken, match="not valid yet"):
        jwt.decode(jwt.encode({"nbf": future}, KEY), KEY)
    with pytest.raises(InvalidToken, match="future"):
        jwt.decode(jwt.encode({"iat": future}, KEY), KEY)
    assert jwt.decode(jwt.encode({"nbf": future}, KEY), KEY, leeway=200) == {"nbf": future}


@pytest.mark.parametrize("value", ["soon", True, None, [1]])
def test_non_numeric_exp(value: object) -> None:
    token = jwt.encode({"exp": value}, KEY)
    if value is None:
        assert jwt.decode(token, KEY) == {"exp": None}
    else:
        with pytest.raises(InvalidToken, match="number"):
            jwt.decode(token, KEY)


def test_audience() -> None:
    token = jwt.encode({"aud": ["api", "web"]}, KEY)
    assert jwt.decode(token, KEY, audience="api")["aud"] == ["api", "web"]
    assert jwt.decode(token, KEY, audience=["other", "web"])
    with pytest.raises(InvalidToken, match="audience does not match"):
        jwt.decode(token, KEY, audience="mobile")
    with pytest.raises(InvalidToken, match="none was expected"):
        jwt.decode(token, KEY)
    with pytest.raises(InvalidToken, match="no valid audience"):
        jwt.decode(jwt.encode({"sub": "1"}, KEY), KEY, audience="api")
    with pytest.raises(InvalidToken, match="no valid audience"):
        jwt.decode(jwt.encode({"aud": 3}, KEY), KEY, audience="api")


def test_issuer() -> None:
    token = jwt.encode({"iss": "covet"}, KEY)
    assert jwt.decode(token, KEY, issuer="covet")["iss"] == "covet"
    assert jwt.decode(token, KEY, issuer=["x", "covet"])
    with pytest.raises(InvalidToken, match="issuer"):
        jwt.decode(token, KEY, issuer="evil")


def test_crit_header_rejected() -> None:
    token = jwt.encode({"a": 1}, KEY, headers={"crit": ["exp"]})
    with pytest.raises(InvalidToken, match="critical"):
        jwt.decode(token, KEY)


def test_headers_cannot_override_alg() -> None:
    token = jwt.encode({"a": 1}, KEY, headers={"alg": "none", "kid": "k1"})
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["alg"] == "HS256" and header["kid"] == "k1"


def test_bad_keys_and_algorithms() -> None:
    with pytest.raises(InvalidToken, match="Unsupported"):
        jwt.encode({"a": 1}, KEY, algorithm="none")
    with pytest.raises(InvalidToken, match="non-empty"):
        jwt.encode({"a": 1}, "")
    token = jwt.encode({"a": 1}, b"bytes-key")
    assert jwt.decode(token.encode(), b"bytes-key") == {"a": 1}
    with pytest.raises(InvalidToken, match="ASCII"):
        jwt.decode("é.é.é".encode(), KEY)
