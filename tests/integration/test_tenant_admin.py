"""The operator's tenant commands: list, rotate and revoke API keys, and give a tenant its own numbers."""

from __future__ import annotations

import json
import os
from typing import Any

import msgspec
import pytest

from common.names import Names
from common.tenants import TenantRecord, TenantRegistry
from ingest.app import create_app as create_ingest
from tests.integration.conftest import (
    ACME_KEY,
    GLOBEX_KEY,
    OTHER_PHONE,
    PHONE,
    VIRTUAL_NUMBER,
    bearer,
    deployment_env,
    next_frame,
)
from tests.support.processes import run_revotp

OWN_NUMBER = "+15550100009"


async def _cli(namespace: str, *args: str) -> tuple[int, str, str]:
    """``revotp <args>`` as an operator runs it, against the test's namespace."""
    return await run_revotp({**os.environ, **deployment_env(namespace), "REVOTP_LOG_JSON": "1"}, *args)


async def _callback_secret(registry: TenantRegistry, tenant_id: str) -> str | None:
    record = await registry.get(tenant_id)
    assert record is not None
    return record.callback_secret


async def _status(ingest: Any, api_key: str) -> int:
    response = await ingest.post("/v1/challenges", json={"phone": PHONE}, headers=bearer(api_key))
    return int(response.status)


async def test_a_rotated_key_replaces_the_old_one_after_its_grace(deploy: Any, namespace: str):
    pipeline = await deploy()
    code, out, _ = await _cli(namespace, "tenant", "create", "initech")
    assert code == 0
    first = json.loads(out)["api_key"]
    code, out, _ = await _cli(namespace, "tenant", "rotate-key", "initech", "--grace-s", "600")
    assert code == 0
    second = json.loads(out)["api_key"]
    assert second != first
    assert (await _status(pipeline.ingest, first), await _status(pipeline.ingest, second)) == (201, 201)
    code, out, _ = await _cli(namespace, "tenant", "rotate-key", "initech")
    third = json.loads(out)["api_key"]
    statuses = [await _status(pipeline.ingest, key) for key in (first, second, third)]
    assert statuses == [401, 401, 201]
    # The notifier refuses a revoked key too.
    refused = await pipeline.notifier.get("/v1/events", headers=bearer(first))
    assert refused.status == 401


async def test_a_key_can_be_revoked_by_the_id_the_list_shows(deploy: Any, namespace: str):
    pipeline = await deploy()
    code, out, _ = await _cli(namespace, "tenant", "list")
    assert code == 0
    listing = {entry["tenant_id"]: entry for entry in map(json.loads, out.splitlines())}
    assert set(listing) == {"acme", "globex"}
    (key,) = listing["acme"]["api_keys"]
    assert ACME_KEY not in out
    assert key["kind"] == "bootstrap"
    code, _, _ = await _cli(namespace, "tenant", "revoke-key", "acme", key["id"])
    assert code == 0
    assert await _status(pipeline.ingest, ACME_KEY) == 401
    assert await _status(pipeline.ingest, GLOBEX_KEY) == 201
    code, _, err = await _cli(namespace, "tenant", "revoke-key", "acme", "nosuchkey")
    assert code == 1
    assert "no key" in err


async def test_a_bootstrap_key_replaces_the_tenants_earlier_bootstrap_key(deploy: Any, redis: Any, namespace: str):
    pipeline = await deploy()
    registry = TenantRegistry(redis, Names(namespace))
    _, out, _ = await _cli(namespace, "tenant", "rotate-key", "acme", "--grace-s", "600")
    issued = json.loads(out)["api_key"]
    await registry.bootstrap(("acme:key-acme-next",))
    assert await _status(pipeline.ingest, ACME_KEY) == 401
    assert await _status(pipeline.ingest, "key-acme-next") == 201
    # A key the operator issued is no bootstrap key: it stays.
    assert await _status(pipeline.ingest, issued) == 201


async def test_the_callback_secret_is_printed_once_at_create_and_at_each_rotation(
    deploy: Any, redis: Any, namespace: str
):
    await deploy()
    registry = TenantRegistry(redis, Names(namespace))
    code, out, _ = await _cli(namespace, "tenant", "create", "initech")
    assert code == 0
    created = json.loads(out)
    assert set(created) == {"tenant_id", "api_key", "callback_secret"}
    assert await _callback_secret(registry, "initech") == created["callback_secret"]
    code, out, _ = await _cli(namespace, "tenant", "rotate-callback-secret", "initech")
    assert code == 0
    rotated = json.loads(out)["callback_secret"]
    assert rotated not in (created["callback_secret"], created["api_key"])
    assert await _callback_secret(registry, "initech") == rotated
    _, listing, _ = await _cli(namespace, "tenant", "list")
    assert rotated not in listing
    code, _, err = await _cli(namespace, "tenant", "rotate-callback-secret", "nosuchtenant")
    assert (code, "no tenant" in err) == (1, True)


async def test_a_bootstrap_secret_is_the_tenants_from_that_start_on(deploy: Any, redis: Any, namespace: str):
    await deploy()
    registry = TenantRegistry(redis, Names(namespace))
    made = await _callback_secret(registry, "globex")  # its entry names none: revotp made one
    assert made is not None
    await registry.bootstrap((f"globex:{GLOBEX_KEY}",))
    assert await _callback_secret(registry, "globex") == made  # a restart keeps it
    await registry.bootstrap((f"globex:{GLOBEX_KEY}:whsec_globex-from-config",))
    assert await _callback_secret(registry, "globex") == "whsec_globex-from-config"


async def test_a_tenant_from_before_secrets_came_with_tenants_sees_its_first_one_once(
    deploy: Any, redis: Any, namespace: str
):
    pipeline = await deploy()
    names = Names(namespace)
    older = msgspec.json.encode(TenantRecord(name="globex", created_at=1))  # no callback_secret
    await redis.hset(names.tenants, "globex", older)
    refused = await pipeline.ingest.post(
        "/v1/challenges",
        json={"phone": PHONE, "callback_url": "https://hooks.example.com/revotp"},
        headers=bearer(GLOBEX_KEY),
    )
    assert (refused.status, (await refused.json())["error"]["code"]) == (422, "callbacks_not_configured")
    first = await (
        await pipeline.ingest.patch("/v1/tenant", json={"callback_url": None}, headers=bearer(GLOBEX_KEY))
    ).json()
    again = await (
        await pipeline.ingest.patch("/v1/tenant", json={"callback_url": None}, headers=bearer(GLOBEX_KEY))
    ).json()
    assert first["callback_secret"] == await _callback_secret(TenantRegistry(redis, names), "globex")
    assert "callback_secret" not in again


@pytest.mark.single_redis  # the untagged keys only ever existed on a single server
async def test_an_upgrade_keeps_the_registry_written_before_its_hash_tag(
    aiohttp_client: Any, redis: Any, namespace: str, settings: Any, cleanup: None
):
    registry = TenantRegistry(redis, Names(namespace))
    created = await registry.create("initech")
    await registry.set_numbers("initech", [OWN_NUMBER], shared_pool=(VIRTUAL_NUMBER,))
    for name in ("tenants", "api-keys", "number-owners"):  # as a version before the tag wrote them
        await redis.rename(f"{namespace}:{{registry}}:{name}", f"{namespace}:{name}")
    ingest = await aiohttp_client(create_ingest(settings))
    assert await _status(ingest, created.api_key) == 201
    assert await registry.number_owner(OWN_NUMBER) == "initech"
    assert not await redis.exists(f"{namespace}:tenants", f"{namespace}:api-keys", f"{namespace}:number-owners")


async def test_a_tenant_with_its_own_numbers_shares_none_with_others(deploy: Any, namespace: str):
    pipeline = await deploy(REVOTP_PREFETCH="1")
    code, _, err = await _cli(namespace, "tenant", "set-numbers", "globex", OWN_NUMBER)
    assert code == 0, err
    tenant = await (await pipeline.ingest.get("/v1/tenant", headers=bearer(GLOBEX_KEY))).json()
    assert tenant == {
        "id": "globex",
        "virtual_numbers": [OWN_NUMBER],
        "callback_url": None,
        "test_numbers": [],
        "allowed_sender_countries": [],
    }
    shared = await (await pipeline.ingest.get("/v1/tenant", headers=bearer(ACME_KEY))).json()
    assert shared == {
        "id": "acme",
        "virtual_numbers": [VIRTUAL_NUMBER],
        "callback_url": None,
        "test_numbers": [],
        "allowed_sender_countries": [],
    }
    acme_ws = await pipeline.ready_socket(ACME_KEY)
    globex_ws = await pipeline.ready_socket(GLOBEX_KEY)
    own = await pipeline.create(GLOBEX_KEY, max_attempts=1)
    assert own["virtual_number"] == OWN_NUMBER
    assert own["sms_uri"].startswith(f"sms:{OWN_NUMBER}?body=")
    pooled = await pipeline.create(ACME_KEY, max_attempts=1)
    assert pooled["virtual_number"] == VIRTUAL_NUMBER
    await pipeline.sms(own["code"], to=OWN_NUMBER)
    event = await next_frame(globex_ws)
    assert (event["challenge_id"], event["type"]) == (own["id"], "challenge.verified")
    # Globex's number is no number of Acme's: even Acme's code sent to it tells Acme nothing.
    await pipeline.sms(pooled["code"], to=OWN_NUMBER)
    control = await pipeline.create(ACME_KEY, phone=OTHER_PHONE)
    await pipeline.sms(control["code"], sender=OTHER_PHONE)
    assert (await next_frame(acme_ws))["challenge_id"] == control["id"]
    assert (await pipeline.get(pooled["id"]))["attempts"] == 0


async def test_set_numbers_refuses_a_pool_number_another_tenants_number_and_garbage(deploy: Any, namespace: str):
    await deploy()
    assert (await _cli(namespace, "tenant", "set-numbers", "globex", OWN_NUMBER))[0] == 0
    for number, reason in ((VIRTUAL_NUMBER, "shared pool"), (OWN_NUMBER, "globex"), ("BANK", "not a phone number")):
        code, _, err = await _cli(namespace, "tenant", "set-numbers", "acme", number)
        assert (code, reason in err) == (1, True), (number, err)
    assert (await _cli(namespace, "tenant", "set-numbers", "nosuchtenant", "+15550100008"))[0] == 1
    # Giving the numbers back: Globex uses the shared pool again, and the number is free.
    assert (await _cli(namespace, "tenant", "set-numbers", "globex"))[0] == 0
    assert (await _cli(namespace, "tenant", "set-numbers", "acme", OWN_NUMBER))[0] == 0
