from __future__ import annotations

import pytest

from covet.auth import jwt
from covet.auth.jwt import InvalidToken

pytest.importorskip("cryptography")

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def pem_public(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_rs256_round_trip(rsa_key: rsa.RSAPrivateKey) -> None:
    private_pem = rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    token = jwt.encode({"sub": "1"}, private_pem, algorithm="RS256")
    assert jwt.decode(token, pem_public(rsa_key), algorithms=["RS256"]) == {"sub": "1"}
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(InvalidToken, match="signature"):
        jwt.decode(token, pem_public(other), algorithms=["RS256"])


def test_es256_round_trip_and_raw_signature(ec_key: ec.EllipticCurvePrivateKey) -> None:
    token = jwt.encode({"sub": "1"}, ec_key, algorithm="ES256")
    assert len(token.split(".")[2]) == 86  # 64 raw bytes, not DER
    assert jwt.decode(token, ec_key.public_key(), algorithms=["ES256"]) == {"sub": "1"}
    head, body, _ = token.split(".")
    with pytest.raises(InvalidToken, match="signature"):
        jwt.decode(f"{head}.{body}.AAAA", ec_key.public_key(), algorithms=["ES256"])


def test_hs256_token_against_rsa_public_key_is_rejected(rsa_key: rsa.RSAPrivateKey) -> None:
    public = pem_public(rsa_key)
    forged = jwt.encode({"sub": "admin"}, b"anything", algorithm="HS256")
    with pytest.raises(InvalidToken):
        jwt.decode(forged, public, algorithms=["RS256", "HS256"])


def test_wrong_key_type(rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey) -> None:
    with pytest.raises(InvalidToken, match="RSA private key"):
        jwt.encode({"a": 1}, ec_key, algorithm="RS256")
    token = jwt.encode({"a": 1}, rsa_key, algorithm="RS256")
    with pytest.raises(InvalidToken, match="RSA public key"):
        jwt.decode(token, ec_key.public_key(), algorithms=["RS256"])
    with pytest.raises(InvalidToken, match="PEM public key"):
        jwt.decode(token, b"not a pem", algorithms=["RS256"])
