"""The monthly token budget's month follows the centre's time zone, and one API process that
runs from one month into the next starts the new month's count at midnight there (the
admission remembers the month it is in; it must notice the month end)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from computeport.gateway.counters import MemoryCounters
from computeport.gateway.errors import GatewayError
from computeport.gateway.lookups import KeyInfo
from computeport.gateway.quotas import Quotas
from computeport.settings import Settings

# Hong Kong is UTC+8: its December starts at 16:00 UTC on 30 November.
LAST_NOVEMBER_MINUTE = datetime(2026, 11, 30, 15, 59, 30, tzinfo=UTC)
FIRST_DECEMBER_MINUTE = datetime(2026, 11, 30, 16, 0, 30, tzinfo=UTC)


def _key() -> KeyInfo:
    return KeyInfo(
        id=uuid.uuid4(),
        organisation_id=uuid.uuid4(),
        application="assistant",
        award_id=uuid.uuid4(),
        award_reference="AISS-2026-001",
        key_rpm=-1,
        key_tpm=-1,
        org_rpm=-1,
        org_tpm=-1,
        monthly_tokens=100,
        month_used=0,
    )


def test_a_new_month_in_the_centres_time_zone_starts_a_new_count() -> None:
    async def run() -> None:
        quotas = Quotas(MemoryCounters(), Settings(gateway_budget_timezone="Asia/Hong_Kong"))
        key = _key()
        await quotas.admit(key, 100, LAST_NOVEMBER_MINUTE)  # November's budget, all of it
        with pytest.raises(GatewayError, match=r"100 tokens in 2026-11\) is spent"):
            await quotas.admit(key, 1, LAST_NOVEMBER_MINUTE)
        await quotas.admit(key, 100, FIRST_DECEMBER_MINUTE)  # December's, whole again
        with pytest.raises(GatewayError, match=r"100 tokens in 2026-12\) is spent"):
            await quotas.admit(key, 1, FIRST_DECEMBER_MINUTE)
        with pytest.raises(GatewayError, match=r"2026-11\) is spent"):  # (a clock set back)
            await quotas.admit(key, 1, LAST_NOVEMBER_MINUTE)

    asyncio.run(run())
