"""An independent verifier written from docs/verifying.md alone: it imports nothing from aigov.

If the document is wrong or incomplete, this verifier and the code disagree and the tests say so."""

from __future__ import annotations

import base64
import hashlib
import struct
import uuid

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def leaf_bytes(position: int, originator_id: str, originator_version: int, topic: str, state: str) -> bytes:
    header = f"{position}\n{uuid.UUID(originator_id)}\n{originator_version}\n{topic}\n"
    return header.encode("utf-8") + state.encode("utf-8")


def h_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def h_node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def mth(leaves: list[bytes]) -> bytes:
    """MTH over leaf hashes, by the RFC's recursive definition."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return h_node(mth(leaves[:k]), mth(leaves[k:]))


def verify_inclusion(index: int, size: int, leaf_hash: bytes, path: list[bytes], root: bytes) -> bool:
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = h_node(p, r)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn // 2, sn // 2
        else:
            r = h_node(r, p)
        fn, sn = fn // 2, sn // 2
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, path: list[bytes]) -> bool:
    if first == second:
        return not path and first_root == second_root
    if first == 0:
        return not path
    if not path or first > second:
        return False
    if first & (first - 1) == 0:
        path = [first_root, *path]
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn, sn = fn // 2, sn // 2
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr, sr = h_node(c, fr), h_node(c, sr)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn // 2, sn // 2
        else:
            sr = h_node(sr, c)
        fn, sn = fn // 2, sn // 2
    return sn == 0 and fr == first_root and sr == second_root


def split_note(note: str) -> tuple[bytes, list[tuple[str, bytes]]]:
    text, _, signatures = note.rpartition("\n\n")
    lines = []
    for line in signatures.splitlines():
        assert line.startswith("\u2014 ")
        name, blob = line[2:].split(" ")
        lines.append((name, base64.b64decode(blob)))
    return (text + "\n").encode("utf-8"), lines


def key_id(name: str, kind: int, raw_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + raw_key).digest()[:4]


def verify_log_signature(note: str, name: str, raw_key: bytes) -> bool:
    text, signatures = split_note(note)
    for signer, blob in signatures:
        if signer == name and blob[:4] == key_id(name, 0x01, raw_key):
            try:
                Ed25519PublicKey.from_public_bytes(raw_key).verify(blob[4:], text)
            except Exception:  # noqa: BLE001
                return False
            return True
    return False


def verify_cosignature(note: str, name: str, raw_key: bytes) -> int | None:
    text, signatures = split_note(note)
    for signer, blob in signatures:
        if signer == name and blob[:4] == key_id(name, 0x04, raw_key):
            (timestamp,) = struct.unpack(">Q", blob[4:12])
            message = b"cosignature/v1\n" + f"time {timestamp}\n".encode() + text
            try:
                Ed25519PublicKey.from_public_bytes(raw_key).verify(blob[12:], message)
            except Exception:  # noqa: BLE001
                return None
            return timestamp
    return None


def checkpoint_fields(note: str) -> tuple[str, int, bytes]:
    text, _ = split_note(note)
    origin, size, root = text.decode().split("\n")[:3]
    return origin, int(size), base64.b64decode(root)
