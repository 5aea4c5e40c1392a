"""Signed checkpoints: a log's head position and chain hash at a moment, signed with Ed25519.

The operator configures the private key (``AIGOV_CHECKPOINT_KEY_PATH``); the embedded default generates one
under ``var/``. Anyone holding the public key can check a checkpoint without our servers.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


@dataclass(frozen=True)
class Checkpoint:
    service: str
    head_position: int
    head_hash: str
    taken_at: str
    key_id: str
    signature: str = ""

    def payload(self) -> bytes:
        """The signed bytes: canonical JSON of everything but the signature."""
        fields = {key: value for key, value in asdict(self).items() if key != "signature"}
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def load_or_create_private_key(path: Path) -> Ed25519PrivateKey:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_public_key(pem: str | bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def sign(key: Ed25519PrivateKey, service: str, head_position: int, head_hash: str, taken_at: str) -> Checkpoint:
    unsigned = Checkpoint(service, head_position, head_hash, taken_at, key_id(key.public_key()))
    signature = base64.b64encode(key.sign(unsigned.payload())).decode()
    return Checkpoint(service, head_position, head_hash, taken_at, unsigned.key_id, signature)


def signature_valid(public_key: Ed25519PublicKey, checkpoint: Checkpoint) -> bool:
    try:
        public_key.verify(base64.b64decode(checkpoint.signature), checkpoint.payload())
    except (InvalidSignature, ValueError):
        return False
    return True
