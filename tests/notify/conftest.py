"""A real SMTP server for the mail tests (aiosmtpd on 127.0.0.1, a free port), and invoices to send.

The server is a fixture the test starts and stops, so a test can begin with nothing listening on
the port (an outage) and bring the server up later. Nothing in smtplib is mocked.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from click.testing import Result
from typer.testing import CliRunner

from billpact.cli.main import app
from billpact.config import SmtpSettings
from tests.conftest import EXAMPLES

SENDER = "Billing Desk <billing@example.com>"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Collector:
    """The aiosmtpd handler: keeps every message it accepts; refuses the recipients in `refuse`."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


class Mailbox:
    """An SMTP server on a fixed port that a test starts (and stops) when it wants."""

    def __init__(self) -> None:
        self.port = free_port()
        self.collector = Collector()
        self.controller: Controller | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.collector.messages

    def start(self, **options: Any) -> None:
        """Listen now; `options` go to aiosmtpd's SMTP (authenticator=…, auth_required=…)."""
        self.controller = Controller(self.collector, hostname="127.0.0.1", port=self.port, **options)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def settings(self, **changes: Any) -> SmtpSettings:
        return SmtpSettings(host="127.0.0.1", port=self.port, tls="none", sender=SENDER, timeout=5, **changes)

    def environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The same settings as BILLPACT_SMTP_* variables, for the commands."""
        for name, value in {"HOST": "127.0.0.1", "PORT": str(self.port), "TLS": "none", "FROM": SENDER,
                            "TIMEOUT": "5"}.items():
            monkeypatch.setenv(f"BILLPACT_SMTP_{name}", value)


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    """An SMTP server, not started yet: nothing listens on its port until `start()`."""
    for name in ("HOST", "PORT", "USER", "PASSWORD", "TLS", "FROM", "TIMEOUT"):
        monkeypatch.delenv(f"BILLPACT_SMTP_{name}", raising=False)
    box = Mailbox()
    try:
        yield box
    finally:
        box.stop()


def invoke(db: str, *args: str, code: int = 0) -> Result:
    """Run a command; stdout and stderr apart (`send --json` keeps its notes off stdout)."""
    result = CliRunner().invoke(app, [*args, "--db", db])
    assert result.exit_code == code, (args, result.output)
    return result


def run(db: str, *args: str, code: int = 0) -> Any:
    """Run a command; its JSON with --json."""
    result = invoke(db, *args, code=code)
    return json.loads(result.stdout) if "--json" in args else result


@pytest.fixture
def issued(db: str) -> str:
    """tm-basic billed through February and issued: INV-000001 and INV-000002, client ACME
    (ap@acme.example), no organization record."""
    run(db, "import", str(EXAMPLES / "tm-basic.yaml"))
    run(db, "bill", "--through", "2026-02-28", "--issue", "--json")
    return db
