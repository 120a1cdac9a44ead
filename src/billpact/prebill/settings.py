"""The pre-bill review's thresholds, from the environment (as `billpact.config` reads its settings)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from billpact.errors import DomainError


class PrebillSettings(BaseSettings):
    """BILLPACT_PREBILL_DAILY_HOURS (12): hours of one person on one day above which a draft is flagged;
    BILLPACT_PREBILL_SPIKE_PERCENT (50): how far above the contract's median invoice a draft is flagged;
    BILLPACT_PREBILL_CAP_PERCENT (90): share of the not-to-exceed cap consumed from which a draft is flagged;
    BILLPACT_PREBILL_RECEIPTS (1): flag expenses without a receipt reference (0 for a firm whose expense
    records carry none — the spec's import format has no receipt field)."""

    model_config = SettingsConfigDict(env_prefix="BILLPACT_PREBILL_", extra="ignore")

    daily_hours: Decimal = Field(default=Decimal(12), gt=0)
    spike_percent: Decimal = Field(default=Decimal(50), ge=0)
    cap_percent: Decimal = Field(default=Decimal(90), gt=0)
    receipts: bool = True


def prebill_settings() -> PrebillSettings:
    """The thresholds; a bad value is a user error naming its variable."""
    try:
        return PrebillSettings()
    except ValidationError as exc:
        problems = [f"BILLPACT_PREBILL_{str(e['loc'][0]).upper()}: {e['msg']}" for e in exc.errors()]
        raise DomainError("pre-bill review settings are not valid: " + "; ".join(problems)) from None
