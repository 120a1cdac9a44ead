"""Settings: which database (flag, then BILLPACT_DB, then ./billpact.db)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from billpact.db.session import DEFAULT_URL


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BILLPACT_")

    db: str = DEFAULT_URL


def database_url(flag: str | None = None) -> str:
    return flag or Settings().db
