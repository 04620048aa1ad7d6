"""The core's refusals and the HTTP statuses the edge gives them; what the edge makes of any error."""

from typing import Any

from aiohttp import web
from redis.exceptions import ConnectionError as RedisConnectionError

from common import errors
from common.web import MAX_BODY_BYTES, ApiError, middlewares, status_of


def test_the_edge_answers_every_kind_of_refusal_with_its_status():
    """The core raises kinds, common.web gives them statuses: a new kind must get one too."""
    kinds = [kind for kind in vars(errors).values() if isinstance(kind, type) and issubclass(kind, errors.Refusal)]
    statuses = {kind.__name__: status_of(kind("code", "message")) for kind in kinds if kind is not errors.Refusal}
    assert statuses == {"MalformedInput": 400, "InvalidInput": 422, "Conflict": 409}


async def test_the_edge_renders_every_error_as_the_envelope_with_the_request_id(aiohttp_client: Any):
    async def fail(request: web.Request) -> web.StreamResponse:
        raise FAILURES[request.match_info["kind"]]

    app = web.Application(middlewares=middlewares())
    app.router.add_route("*", "/fail/{kind}", fail)
    client = await aiohttp_client(app)
    expected = {
        "api": (422, "invalid_phone"),
        "refusal": (409, "already"),
        "http": (405, "method_not_allowed"),
        "redis": (503, "service_unavailable"),
        "bug": (500, "internal_error"),
    }
    for kind, (status, code) in expected.items():
        response = await client.get(f"/fail/{kind}", headers={"X-Request-Id": f"req-{kind}"})
        assert (response.status, (await response.json())["error"]["code"]) == (status, code), kind
        assert response.headers["X-Request-Id"] == f"req-{kind}"
    redirect = await client.get("/fail/redirect", allow_redirects=False)
    assert (redirect.status, redirect.headers["Location"]) == (302, "/elsewhere")
    too_big = await client.post("/fail/bug", data=b"x" * (MAX_BODY_BYTES + 1))
    assert (too_big.status, (await too_big.json())["error"]["code"]) == (413, "body_too_large")
    missing = await client.get("/nowhere")
    assert (missing.status, (await missing.json())["error"]["code"]) == (404, "not_found")


FAILURES: dict[str, Exception] = {
    "api": ApiError(422, "invalid_phone", "no"),
    "refusal": errors.Conflict("already", "it is done"),
    "http": web.HTTPMethodNotAllowed("GET", ["POST"]),
    "redis": RedisConnectionError("gone"),
    "bug": RuntimeError("a bug"),
    "redirect": web.HTTPFound("/elsewhere"),
}
