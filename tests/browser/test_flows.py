"""The web application in a real browser: Debian's chromium, headless, driven by Playwright.

A `billpact serve` process on a fresh SQLite database; the test signs in, imports the demo file,
previews and runs billing, approves and issues an invoice, records its payment, and checks that a
client user cannot open another client's invoice. Screenshots of the main pages are saved as test
artifacts (`BILLPACT_SCREENSHOTS`, default: pytest's temporary directory); `docs/screenshots/`
holds current ones (refresh: `BILLPACT_SCREENSHOTS=docs/screenshots pytest tests/browser`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from typer.testing import CliRunner

from tests.support import app, free_port, run

PASSWORD = "correct horse battery"
WIDTH, HEIGHT = 1280, 860


def chromium() -> str:
    """Debian's chromium (never a browser Playwright downloads): BILLPACT_CHROMIUM, else on the PATH."""
    path = os.environ.get("BILLPACT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "browser tests need Debian's chromium: apt-get install chromium (.ci/run does)"
    return path


def add_user(db: str, name: str, role: str, client: str | None = None) -> None:
    extra = ["--client", client] if client else []
    result = CliRunner().invoke(app, ["user", "add", name, "--role", role, *extra, "--password-stdin", "--db", db],
                                input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output


@pytest.fixture
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A served, empty database with an admin; the demo's import file beside it (one per test, so each
    test stands alone — also when pytest-xdist runs them on different workers)."""
    folder = tmp_path_factory.mktemp("site")
    db = f"sqlite:///{folder / 'billpact.db'}"
    run(db, "init")
    add_user(db, "admin", "admin")
    run(db, "demo", "--write", str(folder / "demo.yaml"))
    port = free_port()
    billpact = str(Path(sys.executable).with_name("billpact"))
    server = subprocess.Popen([billpact, "serve", "--port", str(port), "--db", db],
                              env={**os.environ, "BILLPACT_SECRET_KEY": "browser-tests"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                httpx.get(f"{url}/login")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("the server never answered")
        yield url, folder
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium(), headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("BILLPACT_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sign_in(page: Page, url: str, name: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def snap(page: Page, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


def test_the_billing_cycle_in_a_browser(site: tuple[str, Path], browser: Browser, shots: Path) -> None:
    url, folder = site
    page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
    sign_in(page, url, "admin")
    expect(page.get_by_role("heading", level=1)).to_contain_text("What needs attention today")

    page.goto(f"{url}/import")
    page.get_by_label("Import file (YAML or JSON)").set_input_files(str(folder / "demo.yaml"))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Imported")
    expect(page.locator("main")).to_contain_text("890")      # the demo's time entries
    snap(page, shots, "import")

    page.goto(f"{url}/billing")
    page.get_by_label("Bill through").fill("2026-01-31")
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.get_by_role("heading", level=2).first).to_contain_text("Preview")
    expect(page.locator("main")).to_contain_text("C-100")
    snap(page, shots, "billing-run-preview")
    page.goto(f"{url}/invoices?status=draft")
    expect(page.locator("main")).to_contain_text("None.")    # the preview created nothing
    page.goto(f"{url}/billing")
    page.get_by_label("Bill through").fill("2026-01-31")
    page.get_by_role("button", name="Create drafts", exact=True).click()
    expect(page.get_by_role("heading", level=2).first).to_contain_text("Created")

    page.goto(f"{url}/invoices?status=draft")
    snap(page, shots, "invoices")
    page.locator("tr", has_text="C-100").get_by_role("link").first.click()
    expect(page.locator("h1 small")).to_have_text("draft")
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator("h1 small")).to_have_text("approved")
    page.get_by_role("button", name="Issue", exact=True).click()
    expect(page.locator("h1 small")).to_have_text("issued")
    number = re.search(r"INV-\d{6}", page.locator("h1").inner_text())
    assert number, page.locator("h1").inner_text()
    snap(page, shots, "invoice")
    due = page.locator("tfoot tr", has_text="Amount due").locator("td").inner_text().split()[0].replace(",", "")

    page.goto(f"{url}/payments")
    page.get_by_label("Client").fill("ACME")
    page.get_by_label("Amount").fill(due)
    page.get_by_label("Invoice number (optional)").fill(number.group(0))
    page.get_by_label("Reference").fill("wire 4471")
    page.get_by_role("button", name="Record payment", exact=True).click()
    expect(page.locator("main")).to_contain_text("wire 4471")
    snap(page, shots, "payments")
    page.goto(f"{url}/invoices/{number.group(0)}")
    expect(page.locator("h1 small")).to_have_text("paid")

    page.goto(f"{url}/")
    snap(page, shots, "dashboard")
    page.goto(f"{url}/contracts/C-100")
    expect(page.get_by_role("heading", level=1)).to_contain_text("C-100")
    snap(page, shots, "contract")
    page.goto(f"{url}/issues")
    snap(page, shots, "issue-log")
    for path, heading, shot in (("/milestones", "Milestones", "milestones"), ("/costs", "Cost", "costs"),
                                ("/cycles", "Billing cycles", "cycles"), ("/timesheets", "Timesheet", "timesheets")):
        page.goto(f"{url}{path}")                     # project controls, on the demo firm's data
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        expect(page.locator("main")).to_contain_text("C-")
        snap(page, shots, shot)
    for path, heading, shot, charts in (("/reports/revenue", "Revenue", "revenue", True),
                                        ("/reports/receivables", "Receivables", "receivables", False),  # all paid
                                        ("/reports/kpis", "KPIs", "kpis", True),
                                        ("/reports/management?period=2026", "Management report",
                                         "management-report", True)):
        page.goto(f"{url}{path}")                     # the financial reports, with their charts
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        if charts:
            expect(page.locator("main svg").first).to_be_visible()
        snap(page, shots, shot)
    page.close()


def test_a_client_user_cannot_reach_another_clients_invoice(site: tuple[str, Path], browser: Browser,
                                                             shots: Path) -> None:
    url, folder = site
    db = f"sqlite:///{folder / 'billpact.db'}"
    run(db, "import", str(folder / "demo.yaml"))
    run(db, "bill", "--through", "2026-01-31", "--issue")
    issued = [inv["number"] for inv in run(db, "invoices", "--json") if inv["client"] == "ACME"]
    assert issued
    add_user(db, "acme-ap", "client", "ACME")
    add_user(db, "build-ap", "client", "BUILD")
    page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
    sign_in(page, url, "build-ap")
    expect(page).to_have_url(re.compile(r"/portal$"))
    for number in issued:   # ACME's: answered as if it did not exist
        page.goto(f"{url}/invoices/{number}")
        expect(page.locator("main")).to_contain_text("no invoice")
    page.goto(f"{url}/invoices")
    for number in issued:
        expect(page.locator("main")).not_to_contain_text(number)
    expect(page.get_by_role("link", name="Billing run")).to_have_count(0)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert httpx.get(f"{url}/billing", cookies=cookies, follow_redirects=False).status_code == 403
    page.close()

    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    sign_in(phone, url, "acme-ap")
    expect(phone.locator("main")).to_contain_text(issued[0])
    snap(phone, shots, "portal-phone")
    phone.goto(f"{url}/invoices/{issued[0]}")
    expect(phone.locator("h1")).to_contain_text(issued[0])
    phone.close()
