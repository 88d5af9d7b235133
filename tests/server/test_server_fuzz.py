"""Schema-driven fuzzing (schemathesis) of every endpoint: no input gives a 5xx or breaks the schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance
from server_support import make_region, start_server, stop_server


@pytest.fixture(scope="module")
def fuzz_target(backend):
    url = backend.new_url()
    server = start_server(url)
    region = make_region(server)
    yield server, region
    stop_server(server)
    backend.drop(url)


def _schema_from(server):
    return schemathesis.openapi.from_asgi("/openapi.json", server.client.app)


@pytest.mark.slow
def test_no_request_makes_a_server_error(fuzz_target):
    server, region = fuzz_target
    schema = _schema_from(server)
    for result in schema.get_all_operations():
        operation = result.ok()
        strategy = operation.as_strategy()

        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=strategy)
        def check(case):
            headers = {"Authorization": f"Bearer {region.lst_admin.token}"}
            response = case.call(headers=headers)
            assert response.status_code < 500, (case.method, case.path, response.text)
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
            if response.status_code >= 400:
                content_type = response.headers["content-type"]
                content_type = content_type[0] if isinstance(content_type, list) else content_type
                assert content_type.startswith("application/problem+json"), response.text

        check()
