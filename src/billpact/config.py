"""Settings: which database (flag, then BILLPACT_DB, then ./billpact.db) and how to send mail.

The SMTP settings live in their own class: a mistake in a BILLPACT_SMTP_* variable must
not stop the commands that never send mail (every command reads the database URL).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from billpact.db.session import DEFAULT_URL
from billpact.errors import DomainError


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BILLPACT_")

    db: str = DEFAULT_URL


def database_url(flag: str | None = None) -> str:
    return flag or Settings().db


class ControlSettings(BaseSettings):
    """Internal controls: BILLPACT_FOUR_EYES=1 — whoever approved a draft may not also issue it."""

    model_config = SettingsConfigDict(env_prefix="BILLPACT_")

    four_eyes: bool = False


def four_eyes() -> bool:
    try:
        return ControlSettings().four_eyes
    except ValidationError:
        raise DomainError("BILLPACT_FOUR_EYES: give 1 or 0 (true or false)") from None


TlsMode = Literal["none", "starttls", "ssl"]
DEFAULT_PORTS: dict[str, int] = {"none": 25, "starttls": 587, "ssl": 465}


class SmtpSettings(BaseSettings):
    """Where invoice email goes: BILLPACT_SMTP_HOST, _PORT, _USER, _PASSWORD, _TLS, _FROM, _TIMEOUT.

    No host means mail is not configured: messages wait in the outbox until it is. The password
    is a SecretStr, so it never shows in a repr, a log line or an error message.
    """

    model_config = SettingsConfigDict(env_prefix="BILLPACT_SMTP_", populate_by_name=True, extra="ignore")

    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)   # None: 25, 587 or 465 by `tls`
    user: str | None = None
    password: SecretStr | None = None
    tls: TlsMode = "starttls"
    # `from` is a Python keyword: the field is `sender`, the variable BILLPACT_SMTP_FROM.
    sender: str | None = Field(default=None, validation_alias="BILLPACT_SMTP_FROM", max_length=300)
    timeout: float = Field(default=30.0, gt=0)

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.tls]

    def problems(self) -> list[str]:
        """What stops delivery, in the variables' names (empty when mail can be sent)."""
        found = []
        if not self.host:
            found.append("BILLPACT_SMTP_HOST is not set")
        if not self.sender:
            found.append("BILLPACT_SMTP_FROM is not set")
        if self.user and self.password is None:
            found.append("BILLPACT_SMTP_USER is set but BILLPACT_SMTP_PASSWORD is not")
        return found


def smtp_settings() -> SmtpSettings:
    """The SMTP settings from the environment; a bad value is a user error naming the variable
    (never its value: it could be the password)."""
    try:
        return SmtpSettings()
    except ValidationError as exc:
        problems = [f"{_variable(str(e['loc'][0]))}: {e['msg']}" for e in exc.errors()]
        raise DomainError("mail settings are not valid: " + "; ".join(problems)) from None


def _variable(field: str) -> str:
    """The environment variable behind a settings field (the `sender` field is BILLPACT_SMTP_FROM)."""
    if field.startswith("BILLPACT_"):
        return field
    return "BILLPACT_SMTP_" + ("FROM" if field == "sender" else field.upper())
