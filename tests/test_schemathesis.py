"""Property-based fuzzing of the three services from their own OpenAPI documents (schemathesis).

Every operation of every service gets generated requests, valid and invalid, from a caller holding every
role in a real ministry (so that no request stops at the door and the handlers themselves are exercised),
against the running services on SQLite and on PostgreSQL. What must hold for each response:
- never a server error (5xx other than a documented 503), whatever the input;
- the status code, the content type and the body are the ones the document declares (problem+json
  included), so clients generated from the document can trust it.

CI-sized: a bounded number of examples per operation; raise ``AIGOV_FUZZ_EXAMPLES`` for a deeper run.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.auth import ROLES
from tests.support import ServiceStack
from tests.support.scenarios import new_ministry

EXAMPLES = int(os.environ.get("AIGOV_FUZZ_EXAMPLES", "6"))
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)


SERVICES = ("registry", "risk", "reporting")


@pytest.fixture(scope="module")
def fuzz_headers(stack: ServiceStack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.token('fuzzer', list(ROLES), new_ministry(stack), name='Fuzzer')}"}


def fuzz(operation: Any, headers: dict[str, str]) -> None:
    """Run the generated cases of one operation; hypothesis shrinks a failure to its smallest request."""

    @given(case=operation.as_strategy())
    @FUZZ_SETTINGS
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_answers_generated_requests_as_documented(
    stack: ServiceStack, fuzz_headers: dict[str, str], service: str
) -> None:
    schema = schemathesis.openapi.from_url(stack.url(service) + "/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        try:
            fuzz(operation, fuzz_headers)
        except Exception as failure:  # noqa: BLE001 - collect every operation's failure, then fail once
            failures.append(f"{operation.method.upper()} {operation.path}: {failure}")
    assert operations >= 10
    assert not failures, "\n\n".join(failures)
