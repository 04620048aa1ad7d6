"""Each tenant's ``allowed_sender_countries``, as the matcher applies it to every SMS.

An SMS from a phone of another country verifies nothing and costs nothing at that tenant: the
tenant is left out before its atomic step, so no attempt, no event and no seen marker. Every SMS
asks, so the tenants' settings are kept for ``REFRESH_S``: a change reaches every matcher
within that long.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from common.tenants import TenantRecord, TenantRegistry

REFRESH_S = 1.0


class SenderPolicy:
    def __init__(self, tenants: TenantRegistry, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._tenants = tenants
        self._clock = clock
        self._records: dict[str, tuple[float, TenantRecord | None]] = {}

    async def admitting(self, tenant_ids: Sequence[str], sender_e164: str) -> tuple[list[str], list[str]]:
        """(the tenants whose policy admits this sender, those whose policy refuses it)."""
        admitted: list[str] = []
        refused: list[str] = []
        for tenant_id in tenant_ids:
            record = await self._record(tenant_id)
            (admitted if record is None or record.admits_sender(sender_e164) else refused).append(tenant_id)
        return admitted, refused

    async def _record(self, tenant_id: str) -> TenantRecord | None:
        now = self._clock()
        cached = self._records.get(tenant_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        record = await self._tenants.get(tenant_id)
        self._records[tenant_id] = (now + REFRESH_S, record)
        return record
