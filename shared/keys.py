"""Public keys of the identity provider: which JWT algorithms a configured key can verify.

Its own module because both the settings (which check the key at start) and the token verifier use it.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key


def public_key_algorithms(pem: str, algorithms: list[str]) -> list[str]:
    """Which of ``algorithms`` a PEM public key can verify (RSA: RS*/PS*, EC: ES*).

    Raises ValueError when ``pem`` is no PEM public key."""
    try:
        key = load_pem_public_key(pem.encode())
    except (ValueError, TypeError) as error:
        raise ValueError(f"AIGOV_JWT_PUBLIC_KEY is not a PEM public key: {error}") from error
    if isinstance(key, rsa.RSAPublicKey):
        return [name for name in algorithms if name[:2] in ("RS", "PS")]
    if isinstance(key, ec.EllipticCurvePublicKey):
        return [name for name in algorithms if name.startswith("ES")]
    return []
