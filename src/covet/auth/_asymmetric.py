"""RS256 and ES256 signatures through ``cryptography`` (imported here, lazily)."""

from __future__ import annotations

from typing import Any

from covet.exceptions import MissingDependency

__all__ = ("sign", "verify")


def _lib() -> Any:
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
        from cryptography.hazmat.primitives.asymmetric.utils import (
            decode_dss_signature,
            encode_dss_signature,
        )
    except ImportError:
        raise MissingDependency("cryptography", "crypto") from None
    return (
        InvalidSignature,
        hashes,
        serialization,
        ec,
        padding,
        rsa,
        decode_dss_signature,
        encode_dss_signature,
    )


def _invalid(message: str) -> Exception:
    from covet.auth.jwt import InvalidToken

    return InvalidToken(message)


def _private(algorithm: str, key: Any) -> Any:
    _, _, serialization, ec, _, rsa, _, _ = _lib()
    if isinstance(key, str):
        key = key.encode()
    if isinstance(key, bytes):
        key = serialization.load_pem_private_key(key, password=None)
    wanted = rsa.RSAPrivateKey if algorithm == "RS256" else ec.EllipticCurvePrivateKey
    if not isinstance(key, wanted):
        raise _invalid(f"{algorithm} needs a {'RSA' if algorithm == 'RS256' else 'EC'} private key")
    return key


def _public(algorithm: str, key: Any) -> Any:
    _, _, serialization, ec, _, rsa, _, _ = _lib()
    if isinstance(key, str):
        key = key.encode()
    if isinstance(key, bytes):
        try:
            key = serialization.load_pem_public_key(key)
        except ValueError:
            raise _invalid(f"{algorithm} needs a PEM public key") from None
    if isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        key = key.public_key()
    wanted = rsa.RSAPublicKey if algorithm == "RS256" else ec.EllipticCurvePublicKey
    if not isinstance(key, wanted):
        raise _invalid(f"{algorithm} needs a {'RSA' if algorithm == 'RS256' else 'EC'} public key")
    if algorithm == "ES256" and key.curve.name != "secp256r1":
        raise _invalid("ES256 needs a P-256 key")
    return key


def sign(algorithm: str, data: bytes, key: Any) -> bytes:
    """Sign ``data`` with a private key (PEM bytes/str or a ``cryptography`` key)."""
    _, hashes, _, ec, padding, _, decode_dss, _ = _lib()
    private = _private(algorithm, key)
    if algorithm == "RS256":
        return bytes(private.sign(data, padding.PKCS1v15(), hashes.SHA256()))
    r, s = decode_dss(private.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")  # JWS uses raw r||s (RFC 7518 3.4)


def verify(algorithm: str, data: bytes, signature: bytes, key: Any) -> bool:
    """Whether ``signature`` over ``data`` verifies with the public key."""
    invalid_signature, hashes, _, ec, padding, _, _, encode_dss = _lib()
    public = _public(algorithm, key)
    try:
        if algorithm == "RS256":
            public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            if len(signature) != 64:
                return False
            der = encode_dss(
                int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            )
            public.verify(der, data, ec.ECDSA(hashes.SHA256()))
    except invalid_signature:
        return False
    return True
