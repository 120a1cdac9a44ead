"""Security headers: every page and API answer says what a browser may load, frame and sniff."""

from __future__ import annotations

from fastapi.testclient import TestClient

from billpact.api.app import create_app


def test_pages_and_api_answers_carry_the_security_headers(db: str) -> None:
    app = create_app(db)
    with TestClient(app, follow_redirects=False) as client:
        for path in ("/login", "/api/v1/invoices", "/openapi.json"):
            headers = client.get(path).headers
            assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY", path
            assert "frame-ancestors 'none'" in headers["content-security-policy"], path
            assert "script-src 'none'" in headers["content-security-policy"], path
            assert "strict-transport-security" not in headers, path   # plain HTTP: no HSTS
        docs = client.get("/docs").headers
        assert "content-security-policy" not in docs and docs["x-frame-options"] == "DENY"
    with TestClient(app, base_url="https://billing.example") as client:
        assert client.get("/login").headers["strict-transport-security"].startswith("max-age=")
    app.state.engine.dispose()
