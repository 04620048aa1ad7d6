"""Every Redis key and AMQP name, derived from the namespace in one place.

Keys that one atomic step touches together carry the same hash tag ``{t:<tenant>}`` so that
they live in one Redis Cluster slot; the few global keys are only read or written on their own.
"""

from __future__ import annotations

import re

TENANT_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")

SMS_ROUTING_KEY = "sms"


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

    # --- Redis: global -----------------------------------------------------------------------
    @property
    def tenants(self) -> str:
        """Hash tenant id → tenant record (JSON)."""
        return f"{self.namespace}:tenants"

    @property
    def api_keys(self) -> str:
        """Hash sha256(api key) → key record (JSON: tenant, kind, expiry)."""
        return f"{self.namespace}:api-keys"

    @property
    def number_owners(self) -> str:
        """Hash virtual number → the tenant that owns it (numbers not in the shared pool)."""
        return f"{self.namespace}:number-owners"

    @property
    def server_key(self) -> str:
        """The generated secret used when ``REVOTP_SECRET_KEY`` is unset (dev only)."""
        return f"{self.namespace}:server-key"

    @property
    def deadlines(self) -> str:
        """Sorted set ``<tenant>/<challenge id>`` scored by expires_at (ms), read by sweepers."""
        return f"{self.namespace}:deadlines"

    @property
    def part_deadlines(self) -> str:
        """Sorted set of part assemblies scored by the time they are judged even if incomplete."""
        return f"{self.namespace}:part-deadlines"

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
        """Hash of the challenges opened for this sender and number: ``<tenant>/<id>`` → "".

        The atomic step reads the tenant's own challenges from it and skips those that ended;
        cancels and the sweeper remove what ended, and the key expires after its last deadline.
        """
        return f"{self.namespace}:r:{phone}:{virtual_number}"

    def judgement(self, phone: str, virtual_number: str, provider: str, provider_message_id: str) -> str:
        """The tenants one SMS was first judged against. Its hash tag is the route key itself,
        so the step that reads the route and writes this record stays in one cluster slot."""
        return f"{self.namespace}:sms:{{{self.route(phone, virtual_number)}}}:{provider}:{provider_message_id}"

    # --- Redis: per tenant (one cluster slot each) -------------------------------------------
    def _tenant(self, tenant_id: str) -> str:
        return f"{self.namespace}:{{t:{tenant_id}}}"

    def challenge(self, tenant_id: str, challenge_id: str) -> str:
        """The challenge's record (``StoredRecord``); the atomic step reads its id after ``:c:``."""
        return f"{self._tenant(tenant_id)}:c:{challenge_id}"

    def events(self, tenant_id: str) -> str:
        """The tenant's event log (a stream): the outbox the notifier reads."""
        return f"{self._tenant(tenant_id)}:events"

    def seen(self, tenant_id: str, provider: str, sender: str, provider_message_id: str) -> str:
        """Marks a provider message (provider + id + sender) as applied to this tenant's challenges.

        The sender is part of it: gateways that number their SMS reuse ids across senders."""
        return f"{self._tenant(tenant_id)}:seen:{provider}:{sender}:{provider_message_id}"

    def idempotency(self, tenant_id: str, key: str) -> str:
        return f"{self._tenant(tenant_id)}:idem:{key}"

    @staticmethod
    def deadline_member(tenant_id: str, challenge_id: str) -> str:
        """``<tenant>/<challenge id>``: names a challenge in the deadline index and its route."""
        return f"{tenant_id}/{challenge_id}"

    @staticmethod
    def parse_deadline_member(member: str) -> tuple[str, str]:
        tenant_id, _, challenge_id = member.partition("/")
        return tenant_id, challenge_id
