"""C2SP signed notes (``signed-note``), checkpoints (``tlog-checkpoint``) and cosignatures (``tlog-cosignature``).

Byte for byte as the specifications say: a note is its text (ending in a newline), a blank line, then one
``— <key name> base64(key ID ‖ signature)`` line per signature. Ed25519 note signatures (type 0x01) sign the
text; Ed25519 cosignatures (type 0x04) sign ``cosignature/v1\\ntime <t>\\n`` followed by the checkpoint text,
and carry the 8-byte big-endian timestamp before the signature. Key IDs are
``SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]``. Public keys travel as vkeys: ``name+hex(key ID)+base64(type ‖ key)``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
import time
from dataclasses import dataclass
from enum import IntEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIGNATURE_PREFIX = "\u2014 "
COSIGNATURE_HEADER = b"cosignature/v1\n"


class SignatureType(IntEnum):
    """The signed-note signature type identifier bytes aigov uses."""

    ED25519 = 0x01
    COSIGNATURE_V1 = 0x04


class NoteError(ValueError):
    """A malformed note, checkpoint, signature or key."""


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(name: str, kind: SignatureType, key: Ed25519PublicKey) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + raw_public_key(key)).digest()[:4]


def _check_name(name: str) -> str:
    if not name or any(character.isspace() or character == "+" for character in name):
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")
    return name


@dataclass(frozen=True)
class Verifier:
    """A trusted public key: its name, signature type and Ed25519 key."""

    name: str
    kind: SignatureType
    key: Ed25519PublicKey

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.kind, self.key)

    def vkey(self) -> str:
        material = base64.b64encode(bytes([self.kind]) + raw_public_key(self.key)).decode()
        return f"{self.name}+{self.key_id.hex()}+{material}"

    @classmethod
    def from_vkey(cls, vkey: str) -> Verifier:
        try:
            name, hex_id, material = vkey.strip().split("+", 2)
            decoded = base64.b64decode(material, validate=True)
            key = Ed25519PublicKey.from_public_bytes(decoded[1:])
            verifier = cls(_check_name(name), SignatureType(decoded[0]), key)
        except (ValueError, IndexError, binascii.Error) as error:
            raise NoteError(f"not an Ed25519 vkey (name+keyid+base64): {vkey!r}") from error
        if verifier.key_id.hex() != hex_id.lower():
            raise NoteError(f"vkey {vkey!r}: its key ID does not match its name and key")
        return verifier


@dataclass(frozen=True)
class Signer:
    """A private key that signs notes (a log, type 0x01) or cosigns checkpoints (a witness, type 0x04)."""

    name: str
    kind: SignatureType
    key: Ed25519PrivateKey

    @property
    def verifier(self) -> Verifier:
        return Verifier(_check_name(self.name), self.kind, self.key.public_key())

    def signature_line(self, text: bytes, timestamp: int | None = None) -> str:
        if self.kind == SignatureType.ED25519:
            payload = self.key.sign(text)
        else:
            moment = int(time.time()) if timestamp is None else timestamp
            payload = struct.pack(">Q", moment) + self.key.sign(cosigned_message(text, moment))
        return f"{SIGNATURE_PREFIX}{self.name} {base64.b64encode(self.verifier.key_id + payload).decode()}\n"


def cosigned_message(text: bytes, timestamp: int) -> bytes:
    return COSIGNATURE_HEADER + f"time {timestamp}\n".encode() + text


@dataclass(frozen=True)
class SignatureLine:
    name: str
    key_id: bytes
    payload: bytes
    line: str


@dataclass(frozen=True)
class Note:
    """A note's text (with its final newline) and its signature lines, as received."""

    text: bytes
    signatures: tuple[SignatureLine, ...]

    @classmethod
    def parse(cls, raw: str | bytes) -> Note:
        data = raw.encode() if isinstance(raw, str) else raw
        try:
            decoded = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise NoteError("a note must be UTF-8") from error
        if any(ord(character) < 0x20 and character != "\n" for character in decoded):
            raise NoteError("a note must hold no control characters but newlines")
        split = decoded.rfind("\n\n")
        if split < 0 or not decoded.endswith("\n"):
            raise NoteError("a note is text, a blank line, then signature lines, each ending in a newline")
        text, lines = decoded[: split + 1], decoded[split + 2 :].splitlines(keepends=True)
        return cls(text.encode(), tuple(parse_signature_line(line) for line in lines))

    def render(self) -> str:
        return self.text.decode() + "\n" + "".join(signature.line for signature in self.signatures)

    def signed_by(self, verifier: Verifier) -> list[SignatureLine]:
        return [sig for sig in self.signatures if sig.name == verifier.name and sig.key_id == verifier.key_id]

    def verify(self, verifier: Verifier) -> int | None:
        """Check the signature of ``verifier``'s key: ``None`` for a note signature, the time for a cosignature.

        Raises ``NoteError`` if that key did not sign or its signature does not verify."""
        found = self.signed_by(verifier)
        if not found:
            raise NoteError(f"no signature by {verifier.name}")
        for signature in found:
            if not _valid(verifier, self.text, signature.payload):
                raise NoteError(f"the signature by {verifier.name} does not verify")
        if verifier.kind == SignatureType.COSIGNATURE_V1:
            return struct.unpack(">Q", found[0].payload[:8])[0]
        return None

    def with_signatures(self, lines: list[str]) -> Note:
        known = {signature.line for signature in self.signatures}
        extra = tuple(parse_signature_line(line) for line in lines if line not in known)
        return Note(self.text, self.signatures + extra)


def parse_signature_line(line: str) -> SignatureLine:
    if not line.startswith(SIGNATURE_PREFIX) or not line.endswith("\n"):
        raise NoteError(f"not a signature line: {line!r}")
    try:
        name, encoded = line[len(SIGNATURE_PREFIX) : -1].split(" ")
        blob = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error) as error:
        raise NoteError(f"not a signature line: {line!r}") from error
    if len(blob) < 5:
        raise NoteError(f"signature too short: {line!r}")
    return SignatureLine(_check_name(name), blob[:4], blob[4:], line)


def _valid(verifier: Verifier, text: bytes, payload: bytes) -> bool:
    try:
        if verifier.kind == SignatureType.ED25519:
            verifier.key.verify(payload, text)
        else:
            if len(payload) != 8 + 64:
                return False
            (timestamp,) = struct.unpack(">Q", payload[:8])
            verifier.key.verify(payload[8:], cosigned_message(text, timestamp))
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class Checkpoint:
    """The body of a C2SP checkpoint: origin, tree size and RFC 6962/9162 root hash."""

    origin: str
    size: int
    root: bytes

    def text(self) -> bytes:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n".encode()

    @classmethod
    def from_text(cls, text: bytes) -> Checkpoint:
        lines = text.decode().split("\n")
        if len(lines) < 4 or lines[-1] != "" or not all(lines[:-1]):
            raise NoteError("a checkpoint body is origin, size and root hash lines, each ending in a newline")
        origin, size, root = lines[0], lines[1], lines[2]
        if not size.isdigit() or (size != "0" and size.startswith("0")):
            raise NoteError(f"tree size {size!r} is not a decimal without leading zeroes")
        try:
            digest = base64.b64decode(root, validate=True)
        except binascii.Error as error:
            raise NoteError("root hash is not base64") from error
        if len(digest) != 32:
            raise NoteError("root hash is not 32 bytes")
        return cls(origin, int(size), digest)

    @property
    def root_b64(self) -> str:
        return base64.b64encode(self.root).decode()


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    note: Note

    @classmethod
    def parse(cls, raw: str | bytes) -> SignedCheckpoint:
        note = Note.parse(raw)
        return cls(Checkpoint.from_text(note.text), note)

    @classmethod
    def sign(cls, checkpoint: Checkpoint, signer: Signer) -> SignedCheckpoint:
        text = checkpoint.text()
        return cls(checkpoint, Note(text, (parse_signature_line(signer.signature_line(text)),)))

    def render(self) -> str:
        return self.note.render()


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise NoteError("not an Ed25519 private key")
    return key
