"""Generated requests against contract/openapi.yaml, for both services: never a
500, every answer documented by the contract (schemathesis's default checks)."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (requirements-dev.txt)")
from hypothesis import HealthCheck, settings  # noqa: E402 (schemathesis brings hypothesis)

from tests.robustness.conftest import CONTRACT  # noqa: E402

schema = schemathesis.openapi.from_path(CONTRACT)


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_generated_requests_get_answers_the_contract_documents(case, service):
    case.call_and_validate(base_url=service.url, timeout=10)
