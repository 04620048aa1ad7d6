"""Every Redis key and AMQP name, derived from the namespace in one place.

Keys that one atomic step touches together carry the same hash tag ``{t:<tenant>}`` so that
they live in one Redis Cluster slot. The registry (tenants, API keys, number owners) shares the
tag ``{registry}``: an operator's change checks and writes several of them in one transaction.
The other global keys are only read or written on their own.
"""

from __future__ import annotations

import re
import zlib

from common.challenge_ids import CHALLENGE_ID_PREFIX, id_bytes, id_of_bytes

TENANT_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")

SMS_ROUTING_KEY = "sms"

# Fixed for a deployment: changing it strands every route written before.
ROUTE_BUCKETS = 4096
# The code index (challenge.sender_mismatch): one set of bucket hashes per window of expiries,
# each dropped by Redis once its window ended, so nothing needs removing.
CODE_INDEX_BUCKETS = 4096
CODE_INDEX_WINDOW_MS = 300_000
# A code tag (Keyring.code_tag): 32 bits, hex. The bucket of the code index takes 12 of them, a
# field's prefix the rest: a tag shared by chance costs the takeover lookup one read, because
# it checks each challenge's code hash before saying anything.
CODE_TAG_CHARS = 8
DEVICE_MARK = "/device"
# A code index field as written before ``code_index_field``'s form: a 16-character tag, then the
# id's 26 characters without ``ch_``.
_EARLIER_TAG_CHARS = 16
_EARLIER_CODE_INDEX_FIELD = _EARLIER_TAG_CHARS + 26


class Names:
    """Names for one deployment (``REVOTP_NAMESPACE``)."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    # --- AMQP -------------------------------------------------------------------------------
    @property
    def inbound_exchange(self) -> str:
        return f"{self.namespace}.inbound"

    @property
    def inbound_queue(self) -> str:
        return f"{self.namespace}.inbound.sms"

    @property
    def dead_letter_exchange(self) -> str:
        return f"{self.namespace}.dead"

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.namespace}.inbound.sms.dead"

    @property
    def callbacks_exchange(self) -> str:
        return f"{self.namespace}.callbacks"

    @property
    def callbacks_queue(self) -> str:
        """Callback deliveries due now: one message per event and target (quorum)."""
        return f"{self.namespace}.callbacks"

    def callback_retry_queue(self, delay_ms: int) -> str:
        """Deliveries waiting ``delay_ms`` before their next attempt, then back to the callbacks queue."""
        return f"{self.namespace}.callbacks.retry.{delay_ms}ms"

    # --- Redis: global -----------------------------------------------------------------------
    @property
    def tenants(self) -> str:
        """Hash tenant id → tenant record (JSON)."""
        return f"{self.namespace}:{{registry}}:tenants"

    @property
    def api_keys(self) -> str:
        """Hash sha256(api key) → key record (JSON: tenant, kind, expiry)."""
        return f"{self.namespace}:{{registry}}:api-keys"

    @property
    def number_owners(self) -> str:
        """Hash virtual number → the tenant that owns it (numbers not in the shared pool)."""
        return f"{self.namespace}:{{registry}}:number-owners"

    @property
    def callbacks_relay(self) -> str:
        """The lease of the one callbacks process that turns event logs into deliveries."""
        return f"{self.namespace}:callbacks-relay"

    @property
    def server_key(self) -> str:
        """The generated secret used when ``REVOTP_SECRET_KEY`` is unset (dev only)."""
        return f"{self.namespace}:server-key"

    @property
    def receipt_key(self) -> str:
        """The generated receipt signing key used when ``REVOTP_RECEIPT_KEY`` is unset (dev only)."""
        return f"{self.namespace}:receipt-key"

    @property
    def receipt_keys(self) -> str:
        """Hash kid → public JWK of every key that signed receipts: the JWKS."""
        return f"{self.namespace}:receipt-keys"

    def expiry_slots(self, bucket: int) -> str:
        """One bucket of the sorted set ``<tenant>/<expiry slot>`` of the slots holding
        challenges, scored by the slot's end (ms): what the sweepers have still to expire
        (``common/spread_index.py``)."""
        return f"{self.namespace}:expiry-slots:{bucket}"

    def part_deadlines(self, bucket: int) -> str:
        """One bucket of the sorted set of part assemblies, scored by the time they are judged
        even if incomplete."""
        return f"{self.namespace}:part-deadlines:{bucket}"

    def parts(self, provider: str, sender: str, recipient: str, reference: str, total: int) -> str:
        """The parts received so far of one long SMS."""
        return f"{self.namespace}:parts:{provider}:{sender}:{recipient}:{reference}:{total}"

    def rate(self, kind: str, number: str, window: int) -> str:
        """A rate-limit counter: SMS to a virtual number in one window."""
        return f"{self.namespace}:rate:{kind}:{number}:{window}"

    # --- Redis: per sender (one cluster slot each: what ingest's admission step touches) ------
    def _sender(self, sender: str) -> str:
        return f"{self.namespace}:{{s:{sender}}}"

    def sender_rate(self, sender: str, window: int) -> str:
        """Distinct SMS from one sender in one rate-limit window."""
        return f"{self._sender(sender)}:rate:{window}"

    def admission(self, sender: str, provider: str, provider_message_id: str) -> str:
        """Ingest's decision on one SMS (provider + id + sender), so its retries count once."""
        return f"{self._sender(sender)}:admitted:{provider}:{provider_message_id}"

    def nonce(self, provider: str, nonce: str) -> str:
        """A provider's signature nonce seen once, with the fingerprint of its request."""
        return f"{self.namespace}:nonce:{provider}:{nonce}"

    def route(self, phone: str, virtual_number: str) -> str:
        """The hash holding this sender and number's route, one of ``ROUTE_BUCKETS``.

        A route (field ``route_field``) lists the challenges opened for a sender and number,
        space-separated ``<tenant>/<id>``. The atomic step reads the tenant's own challenges
        from it and skips those that ended; cancels and the sweeper remove what ended. Routes
        share buckets because one small hash per sender would cost more than its content.
        """
        bucket = zlib.crc32(self.route_field(phone, virtual_number).encode()) % ROUTE_BUCKETS
        return f"{self.namespace}:r:{bucket}"

    @staticmethod
    def route_field(phone: str, virtual_number: str) -> str:
        return f"{phone}:{virtual_number}"

    def judgement(self, phone: str, virtual_number: str, provider: str, provider_message_id: str) -> str:
        """The tenants one SMS was first judged against. Its hash tag is the route's bucket, so
        the step that reads the route and writes this record stays in one cluster slot."""
        route = self.route(phone, virtual_number)
        return f"{self.namespace}:sms:{{{route}}}:{phone}:{virtual_number}:{provider}:{provider_message_id}"

    # --- Redis: per tenant (one cluster slot each) -------------------------------------------
    def _tenant(self, tenant_id: str) -> str:
        return f"{self.namespace}:{{t:{tenant_id}}}"

    def challenges(self, tenant_id: str, slot: int) -> str:
        """Hash challenge id → record (``StoredRecord``) of the tenant's challenges expiring in
        one slot (``common/challenge_ids.py``); it expires whole, its retention after."""
        return f"{self._tenant(tenant_id)}:c:{slot}"

    def events(self, tenant_id: str) -> str:
        """The tenant's event log (a stream): the outbox the notifier reads."""
        return f"{self._tenant(tenant_id)}:events"

    def seen(self, tenant_id: str, provider: str, sender: str, provider_message_id: str) -> str:
        """Marks a provider message (provider + id + sender) as applied to this tenant's challenges.

        The sender is part of it: gateways that number their SMS reuse ids across senders."""
        return f"{self._tenant(tenant_id)}:seen:{provider}:{sender}:{provider_message_id}"

    def callback_cursor(self, tenant_id: str) -> str:
        """The last event of the tenant's log turned into callback deliveries."""
        return f"{self._tenant(tenant_id)}:callback-cursor"

    def callback_status(self, tenant_id: str) -> str:
        """Hash: the last failed delivery's error and time, and how many were given up."""
        return f"{self._tenant(tenant_id)}:callback-status"

    def code_index(self, window: int, tag: str) -> str:
        """The hash whose fields (``code_index_field``; value: the tenant) are the challenges
        expiring in ``window`` whose code on their number has the keyed tag ``tag``."""
        return f"{self.namespace}:code-index:{window}:{int(tag[:8], 16) % CODE_INDEX_BUCKETS}"

    @staticmethod
    def code_index_field(tag: str, challenge_id: str) -> bytes:
        """A challenge in the code index: its tag (hex), then its id's 16 bytes, found by the tag
        as a prefix. 24 bytes instead of 42 as text: every pending challenge has one."""
        return tag.encode() + id_bytes(challenge_id)

    @staticmethod
    def challenge_in_code_index(field: bytes) -> str:
        """The challenge id of a code index field: ``code_index_field``'s, or the earlier form
        (a 64-bit hex tag, then the id without ``ch_``) until its window expires."""
        if len(field) == _EARLIER_CODE_INDEX_FIELD:
            return CHALLENGE_ID_PREFIX + field[_EARLIER_TAG_CHARS:].decode()
        return id_of_bytes(field[CODE_TAG_CHARS:])

    def mismatch_seen(self, tenant_id: str, provider: str, sender: str, provider_message_id: str) -> str:
        """Marks a provider message as signaled to this tenant as a sender mismatch (once)."""
        return f"{self._tenant(tenant_id)}:mismatch:{provider}:{sender}:{provider_message_id}"

    def devices(self, tenant_id: str) -> str:
        """Hash device id → the tenant's enrolled device (phone, label, sealed TOTP secret)."""
        return f"{self._tenant(tenant_id)}:devices"

    def device_phones(self, tenant_id: str) -> str:
        """Hash phone → the space-separated ids of the tenant's devices enrolled for it."""
        return f"{self._tenant(tenant_id)}:device-phones"

    def device_step(self, tenant_id: str, device_id: str, step: int) -> str:
        """Set once a TOTP time step of a device verified a challenge: a code verifies once."""
        return f"{self._tenant(tenant_id)}:device-step:{device_id}:{step}"

    def device_challenges(self, tenant_id: str, device_id: str) -> str:
        """Set of the challenge ids opened for a device, canceled with it when it is removed."""
        return f"{self._tenant(tenant_id)}:device-challenges:{device_id}"

    def revoked_receipts(self, tenant_id: str) -> str:
        """Hash jti → when the tenant revoked that receipt (ms)."""
        return f"{self._tenant(tenant_id)}:revoked-receipts"

    def funnel(self, tenant_id: str, day: str) -> str:
        """Hash step → count of the tenant's funnel on one UTC day (``common/funnel.py``)."""
        return f"{self._tenant(tenant_id)}:funnel:{day}"

    def idempotency(self, tenant_id: str, key: str) -> str:
        return f"{self._tenant(tenant_id)}:idem:{key}"

    @staticmethod
    def tenant_member(tenant_id: str, member: str | int) -> str:
        """``<tenant>/<challenge id>`` in a route, ``<tenant>/<expiry slot>`` in ``expiry_slots``."""
        return f"{tenant_id}/{member}"

    @staticmethod
    def route_member(tenant_id: str, challenge_id: str, *, device: bool) -> str:
        """A challenge on its route; ``/device`` marks a device-bound one, so the matcher looks
        up enrolled devices only for SMS that a device-bound challenge waits for."""
        return f"{tenant_id}/{challenge_id}{DEVICE_MARK if device else ''}"

    @staticmethod
    def parse_tenant_member(member: str) -> tuple[str, str]:
        tenant_id, _, rest = member.partition("/")
        return tenant_id, rest
