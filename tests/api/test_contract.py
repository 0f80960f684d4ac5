"""Property-based tests of the OpenAPI contract (schemathesis): every operation, with
generated valid and invalid inputs, answers with a documented status and a body that
matches its documented schema; no input makes the server fail (5xx).

Runs against its own copy of the tiny store (generated calls create keys, ingest rows
and recompute analyses) with a bounded number of examples per operation and mode.
(schemathesis' lazy pytest loader does not work with pytest 9 yet, so the operations
are listed from the app's OpenAPI document and each gets its own hypothesis test.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import positive_data_acceptance  # noqa: E402

from communitok.api import create_app  # noqa: E402
from communitok.core.settings import Settings  # noqa: E402
from communitok.engine import open_engine  # noqa: E402

from .helpers import GENEROUS  # noqa: E402

# the operations, from an app that is never started (no store is opened)
_DOC = create_app(Settings(store=":memory:"), dashboard=False).openapi()
#: analyses that rewrite results run last, so every read is tried on the store as built
_LAST = ("/detect", "/build", "/classify-stored", "/forecast")
OPERATIONS = sorted(
    ((m.upper(), p) for p, ops in _DOC["paths"].items() for m in ops),
    key=lambda op: op[1].endswith(_LAST),
)
EXAMPLES = {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 4}
#: a batch upload's body is free-form (JSON lines, CSV, Parquet…): a schema-valid string
#: may still be an unreadable file, which is rightly a 422, not a 2xx
FREE_FORM = {("POST", "/v1/ingest/{table}")}


@pytest.fixture(scope="module")
def contract_app(fresh_settings: Any) -> Iterator[Any]:
    eng = open_engine(fresh_settings())
    app = create_app(eng, rate_limits=GENEROUS, anon_rate=(10_000.0, 10_000), dashboard=False)
    app.state.contract_key = app.state.api.keys.create("admin", "contract")[0]
    yield app
    eng.close()


@pytest.fixture(scope="module")
def api_schema(contract_app: Any) -> Any:
    return schemathesis.openapi.from_asgi("/v1/openapi.json", contract_app)


@pytest.mark.parametrize("mode", list(EXAMPLES), ids=lambda m: m.value)
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_api_contract(
    api_schema: Any, contract_app: Any, method: str, path: str, mode: Any
) -> None:
    op = api_schema[path][method]
    headers = {"Authorization": f"Bearer {contract_app.state.contract_key}"}

    @given(case=op.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES[mode], deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, excluded_checks=excluded)

    excluded = [positive_data_acceptance] if (method, path) in FREE_FORM else []

    try:
        run()
    except Unsatisfiable:
        if mode is GenerationMode.NEGATIVE:
            pytest.skip("no parameter to make invalid")
        raise
