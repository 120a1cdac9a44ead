"""SMTP settings from BILLPACT_SMTP_*: defaults, names in errors, no secret shown, the database untouched."""

from __future__ import annotations

import pytest

from billpact.config import Settings, SmtpSettings, database_url, smtp_settings
from billpact.errors import DomainError


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOST", "PORT", "USER", "PASSWORD", "TLS", "FROM", "TIMEOUT"):
        monkeypatch.delenv(f"BILLPACT_SMTP_{name}", raising=False)


def test_settings_come_from_the_environment_with_a_port_for_each_tls_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    assert smtp_settings().problems() == ["BILLPACT_SMTP_HOST is not set", "BILLPACT_SMTP_FROM is not set"]
    assert "BILLPACT_SMTP_PASSWORD is not" in " ".join(SmtpSettings(host="h", sender="a@b", user="u").problems())
    monkeypatch.setenv("BILLPACT_SMTP_HOST", "smtp.example.com")
    monkeypatch.setenv("BILLPACT_SMTP_FROM", "Billing <billing@example.com>")
    monkeypatch.setenv("BILLPACT_SMTP_PASSWORD", "s3cret-pw")
    settings = smtp_settings()
    assert (settings.tls, settings.effective_port, settings.timeout) == ("starttls", 587, 30.0)
    assert settings.sender == "Billing <billing@example.com>" and settings.problems() == []
    assert "s3cret-pw" not in repr(settings) and "s3cret-pw" not in str(settings)
    assert SmtpSettings(host="h", tls="ssl").effective_port == 465
    assert SmtpSettings(host="h", tls="none").effective_port == 25
    assert SmtpSettings(host="h", tls="none", port=2525).effective_port == 2525


def test_a_bad_value_names_its_variable_never_the_secret_and_leaves_the_database_setting_alone(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BILLPACT_SMTP_PASSWORD", "s3cret-pw")
    monkeypatch.setenv("BILLPACT_SMTP_PORT", "not-a-port")
    monkeypatch.setenv("BILLPACT_SMTP_TIMEOUT", "-1")
    with pytest.raises(DomainError) as refused:
        smtp_settings()
    assert "BILLPACT_SMTP_PORT" in refused.value.message and "BILLPACT_SMTP_TIMEOUT" in refused.value.message
    assert "s3cret-pw" not in refused.value.message and "not-a-port" not in refused.value.message
    monkeypatch.setenv("BILLPACT_DB", "sqlite:///elsewhere.db")
    assert Settings().db == database_url() == "sqlite:///elsewhere.db"  # mail settings never break it
