"""Signed receipts: each verification's proof, checked offline with a JWS library of its own
against the JWKS fetched over HTTP, bound to the context the user approved, and revocable."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto import jwk, jws
from redis.asyncio import Redis

from common.names import Names
from tests.integration.conftest import ACME_KEY, GLOBEX_KEY, Pipeline, bearer, deployment_env, next_frame
from tests.integration.provider_requests import PUBLIC_URL
from tests.support.processes import run_revotp

CONTEXT = "Confirm payment of 500 EUR to Shop"


async def verified_with_receipt(pipeline: Pipeline, **fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    ws = await pipeline.ready_socket()
    challenge = await pipeline.create(**fields)
    await pipeline.sms(challenge["code"])
    frame = await next_frame(ws)
    assert frame["type"] == "challenge.verified"
    assert frame["method"] == "code"
    return challenge, frame


async def keys_over_http(pipeline: Pipeline) -> jwk.JWKSet:
    response = await pipeline.ingest.get("/.well-known/jwks.json")
    assert response.status == 200
    return jwk.JWKSet.from_json(await response.text())


def checked(receipt: str, keys: jwk.JWKSet) -> dict[str, Any]:
    """The claims of a receipt whose signature a key of the set verifies (jwcrypto raises otherwise)."""
    token = jws.JWS()
    token.deserialize(receipt)
    key = keys.get_key(token.jose_header["kid"])
    assert key is not None, "the JWKS publishes the key that signed"
    token.verify(key)
    return dict(json.loads(token.payload))


async def test_a_receipt_verifies_offline_and_is_bound_to_the_context(pipeline: Pipeline):
    challenge, frame = await verified_with_receipt(pipeline, context=CONTEXT, external_id="order-42")
    claims = checked(frame["receipt"], await keys_over_http(pipeline))
    ctx = base64.urlsafe_b64encode(hashlib.sha256(CONTEXT.encode()).digest()).rstrip(b"=").decode()
    assert claims == {
        "iss": PUBLIC_URL,
        "aud": "acme",
        "sub": challenge["id"],
        "jti": claims["jti"],
        "iat": claims["iat"],
        "phone": challenge["phone"],
        "virtual_number": challenge["virtual_number"],
        "method": "code",
        "external_id": "order-42",
        "ctx": ctx,
    }
    verified = await pipeline.get(challenge["id"])
    assert claims["iat"] * 1000 <= _ms(verified["verified_at"]) < (claims["iat"] + 1) * 1000
    header = json.loads(base64.urlsafe_b64decode(frame["receipt"].split(".")[0] + "=="))
    assert header["alg"] in ("EdDSA", "ES256")
    assert header["kid"] in {
        key["kid"] for key in json.loads((await keys_over_http(pipeline)).export(private_keys=False))["keys"]
    }


async def test_a_tampered_receipt_fails(pipeline: Pipeline):
    _, frame = await verified_with_receipt(pipeline, context=CONTEXT)
    header, payload, signature = frame["receipt"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["ctx"] = (
        base64.urlsafe_b64encode(hashlib.sha256(b"Confirm payment of 5000 EUR").digest()).rstrip(b"=").decode()
    )
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(jws.InvalidJWSSignature):
        checked(f"{header}.{forged_payload}.{signature}", await keys_over_http(pipeline))


async def test_a_revoked_receipt_is_listed_and_only_for_its_tenant(pipeline: Pipeline):
    challenge, frame = await verified_with_receipt(pipeline)
    jti = checked(frame["receipt"], await keys_over_http(pipeline))["jti"]
    path = f"/v1/challenges/{challenge['id']}/revoke-receipt"
    assert (await pipeline.ingest.post(path, headers=bearer(GLOBEX_KEY))).status == 404
    first = await pipeline.ingest.post(path, headers=bearer(ACME_KEY))
    assert first.status == 200
    again = await pipeline.ingest.post(path, headers=bearer(ACME_KEY))
    assert await again.json() == await first.json(), "revoking again answers the same"
    listed = await (await pipeline.ingest.get("/v1/receipts/revoked", headers=bearer(ACME_KEY))).json()
    assert [entry["jti"] for entry in listed["revoked"]] == [jti]
    other = await (await pipeline.ingest.get("/v1/receipts/revoked", headers=bearer(GLOBEX_KEY))).json()
    assert other == {"revoked": []}


async def test_only_a_verified_challenge_has_a_receipt_to_revoke(pipeline: Pipeline):
    pending = await pipeline.create()
    response = await pipeline.ingest.post(f"/v1/challenges/{pending['id']}/revoke-receipt", headers=bearer(ACME_KEY))
    assert response.status == 409
    assert (await response.json())["error"]["code"] == "challenge_not_verified"


async def test_a_configured_p256_key_signs_es256_and_old_keys_stay_published(deploy: Any):
    first = await deploy()  # a generated Ed25519 key (dev)
    _, earlier = await verified_with_receipt(first)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    rotated = await deploy(matchers=0, REVOTP_RECEIPT_KEY=pem.decode())
    keys = await keys_over_http(rotated)
    assert checked(earlier["receipt"], keys)["sub"], "a receipt signed before the rotation still verifies"
    published = json.loads(keys.export(private_keys=False))["keys"]
    assert {key["alg"] for key in published} == {"EdDSA", "ES256"}


def _ms(iso: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(iso).timestamp() * 1000)


async def test_an_operator_lists_and_forgets_receipt_keys(pipeline: Pipeline, namespace: str):
    env = {**os.environ, **deployment_env(namespace)}
    code, out, _ = await run_revotp(env, "receipt-keys", "list")
    (key,) = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert "d" not in key, "never the private part"
    assert (await run_revotp(env, "receipt-keys", "forget", key["kid"]))[:2] == (
        0,
        json.dumps({"forgotten": key["kid"]}) + "\n",
    )
    assert json.loads(await (await pipeline.ingest.get("/.well-known/jwks.json")).text()) == {"keys": []}
    assert (await run_revotp(env, "receipt-keys", "forget", key["kid"]))[0] == 1


async def test_a_key_id_that_begins_with_a_dash_can_be_forgotten(pipeline: Pipeline, namespace: str, redis: Redis):
    # A key id is base64url: one key in 64 has an id that begins with '-', which the command
    # line must still take as the id, not as an option.
    kid = "-" + base64.urlsafe_b64encode(os.urandom(12)).decode()[:15]
    await redis.hset(Names(namespace).receipt_keys, kid, json.dumps({"kid": kid, "kty": "OKP"}))
    env = {**os.environ, **deployment_env(namespace)}
    listed = [json.loads(line)["kid"] for line in (await run_revotp(env, "receipt-keys", "list"))[1].splitlines()]
    assert kid in listed
    code, out, err = await run_revotp(env, "receipt-keys", "forget", kid)
    assert (code, out) == (0, json.dumps({"forgotten": kid}) + "\n"), err
    assert not await redis.hexists(Names(namespace).receipt_keys, kid)
