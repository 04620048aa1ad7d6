"""The OpenAPI document is valid OpenAPI 3.1, names every operation, and describes the sockets."""

from __future__ import annotations

import re
from pathlib import Path

from openapi_spec_validator import validate

from common.settings import from_env
from ingest.openapi import build_openapi
from notifier import handlers
from notifier.app import create_app as create_notifier

DOCUMENT = build_openapi("1.2.3")
README = Path(__file__).parents[2] / "README.md"


def test_the_document_is_valid_openapi():
    validate(DOCUMENT)  # raises on any violation of the specification


def test_every_operation_has_its_own_operation_id():
    ids = [operation.get("operationId") for item in DOCUMENT["paths"].values() for operation in item.values()]
    assert None not in ids
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][A-Za-z]+", operation_id) for operation_id in ids), ids


def test_the_notifiers_websockets_are_described():
    app = create_notifier(from_env({}))  # routes only: nothing connects before the app starts
    sockets = {
        route.resource.canonical
        for route in app.router.routes()
        if route.resource is not None and route.handler in (handlers.tenant_events, handlers.challenge_events)
    }
    assert set(DOCUMENT["x-websockets"]) == sockets
    assert DOCUMENT["x-websockets"]["/v1/events"]["frames"]["oneOf"][0] == {"$ref": "#/components/schemas/EventFrame"}
    assert "EventFrame" in DOCUMENT["components"]["schemas"]


def test_the_readme_lists_every_tenant_route():
    readme = README.read_text()
    for path, item in DOCUMENT["paths"].items():
        if path.startswith("/v1/") and not path.startswith("/v1/inbound"):
            for method in item:
                route = f"{method.upper()} {path.replace('{challenge_id}', '{id}')}"
                assert route in readme, route
