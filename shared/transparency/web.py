"""The transparency endpoints of a service with a log, open without a token (they reveal no event content):
``GET /v1/log/checkpoint``, ``GET /v1/log/proof/inclusion`` and ``GET /v1/log/proof/consistency``."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import PlainTextResponse
from prometheus_client.core import GaugeMetricFamily
from pydantic import BaseModel, Field

from shared.i18n import N_, Msg
from shared.openapi_examples import OperationExamples
from shared.problems import NotFound, Unprocessable
from shared.settings import Settings
from shared.transparency.publish import Publisher, log_signer, parse_witnesses

NOTE_MEDIA_TYPE = "text/plain; charset=utf-8"
MAX_SIZE = 2**63 - 1  #: a PostgreSQL BIGINT: larger sizes are 422, not a database error


class InclusionProofOut(BaseModel):
    position: int = Field(description="The event's log position.")
    leaf_index: int = Field(description="Its leaf index in the Merkle tree (0-based; positions may skip).")
    tree_size: int
    leaf_hash: str = Field(description="SHA-256(0x00 ‖ canonical bytes of the event), hex.")
    hashes: list[str] = Field(description="RFC 9162 §2.1.3 inclusion path, hex, from the leaf up.")


class ConsistencyProofOut(BaseModel):
    from_: int = Field(alias="from", serialization_alias="from")
    to: int
    hashes: list[str] = Field(description="RFC 9162 §2.1.4 consistency proof, hex.")

    model_config = {"populate_by_name": True}


def install_publisher(app: FastAPI, settings: Settings, application: Any) -> Publisher:
    """The service's publisher, its readiness check and its metric; the caller runs it with its followers."""
    publisher = Publisher(application, log_signer(settings, application.name), parse_witnesses(settings.witnesses))
    app.state.publisher = publisher
    app.state.readiness_checks = [*getattr(app.state, "readiness_checks", []), publisher.readiness]

    def collect() -> list[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "aigov_transparency_consistent",
            "1 while the log extends the last checkpoint a witness cosigned, 0 when it does not (alarm)",
            labels=["log"],
        )
        gauge.add_metric([publisher.service], 1 if publisher.state.consistent else 0)
        return [gauge]

    app.state.metrics.collectors.append(collect)
    return publisher


def transparency_router(get_publisher: Callable[[Request], Publisher]) -> APIRouter:
    router = APIRouter(prefix="/v1/log", tags=["log"])

    @router.get(
        "/checkpoint",
        operation_id="get_log_checkpoint",
        summary="The latest C2SP checkpoint of this log, with the witness cosignatures collected for it",
        response_class=PlainTextResponse,
    )
    def checkpoint(request: Request) -> PlainTextResponse:
        return PlainTextResponse(get_publisher(request).latest(), media_type=NOTE_MEDIA_TYPE)

    @router.get(
        "/proof/inclusion",
        response_model=InclusionProofOut,
        operation_id="get_inclusion_proof",
        summary="Proof that the event at a position is in the tree of a given size",
    )
    def inclusion(
        request: Request,
        position: Annotated[int, Query(ge=1, le=MAX_SIZE, description="The event's log position.")],
        tree_size: Annotated[int, Query(ge=1, le=MAX_SIZE, description="Size of the checkpoint to prove against.")],
    ) -> InclusionProofOut:
        publisher = get_publisher(request)
        _within_head(publisher, tree_size, "query.tree_size")
        proof = publisher.reader.inclusion(position, tree_size)
        if proof is None:
            raise NotFound(
                Msg(
                    "No event at position {position} within the first {tree_size} leaves of this log.",
                    position=position,
                    tree_size=tree_size,
                )
            )
        return InclusionProofOut.model_validate(proof.as_dict())

    @router.get(
        "/proof/consistency",
        response_model=ConsistencyProofOut,
        operation_id="get_consistency_proof",
        summary="Proof that the tree of size `to` extends the tree of size `from`",
    )
    def consistency(
        request: Request,
        from_: Annotated[int, Query(alias="from", ge=0, le=MAX_SIZE, description="The older tree size.")],
        to: Annotated[int, Query(ge=0, le=MAX_SIZE, description="The newer tree size.")],
    ) -> ConsistencyProofOut:
        publisher = get_publisher(request)
        _within_head(publisher, to, "query.to")
        if from_ > to:
            raise Unprocessable(
                N_("`from` must not exceed `to`."),
                errors=[{"field": "query.from", "message": f"must be at most to ({to})", "type": "value_error"}],
            )
        hashes = publisher.reader.consistency(from_, to)
        return ConsistencyProofOut.model_validate({"from": from_, "to": to, "hashes": [h.hex() for h in hashes]})

    return router


def _within_head(publisher: Publisher, size: int, field: str) -> None:
    head = publisher.reader.size()
    if size > head:
        raise Unprocessable(
            Msg("The log has {head} leaves; no tree of size {size} exists yet.", head=head, size=size),
            errors=[{"field": field, "message": f"must be at most the tree size {head}", "type": "value_error"}],
        )


def example_note(service: str) -> str:
    """A genuine checkpoint with one log signature and one cosignature, from the fixed example keys of
    docs/verifying.md (Ed25519 is deterministic, so the document never changes)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from shared.transparency.note import Checkpoint, SignatureType, SignedCheckpoint, Signer

    log = Signer(f"aigov.localhost/{service}", SignatureType.ED25519, Ed25519PrivateKey.from_private_bytes(bytes(32)))
    witness_key = Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64)))
    witness = Signer("witness.aigov.localhost/local", SignatureType.COSIGNATURE_V1, witness_key)
    signed = SignedCheckpoint.sign(Checkpoint(log.name, 7, hashlib.sha256(service.encode()).digest()), log)
    return signed.note.with_signatures([witness.signature_line(signed.note.text, 1796256000)]).render()


def transparency_examples(service: str) -> dict[str, OperationExamples]:
    """Examples for the OpenAPI documents (illustrative hashes, not a real log)."""

    def digest(label: str) -> str:
        return hashlib.sha256(f"{service}:{label}".encode()).hexdigest()

    return {
        "get_log_checkpoint": OperationExamples(texts={"text/plain": example_note(service)}),
        "get_inclusion_proof": OperationExamples(
            response={
                "position": 5,
                "leaf_index": 4,
                "tree_size": 7,
                "leaf_hash": digest("leaf-4"),
                "hashes": [digest("0-5"), digest("1-3"), digest("2-0")],
            }
        ),
        "get_consistency_proof": OperationExamples(
            response={"from": 3, "to": 7, "hashes": [digest("0-2"), digest("0-3"), digest("1-0"), digest("2-1")]}
        ),
    }
