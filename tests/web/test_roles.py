"""Every web page and action against every role: the roles it admits get through, the others get 403,
and a visitor who is not signed in is sent to the sign-in page (the web twin of tests/api's matrix)."""

from __future__ import annotations

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from billpact.web import pages
from tests.web.support import as_user, csrf

USERS = {"admin": "ada", "billing": "bill", "approver": "ann", "project_manager": "pam", "viewer": "vic",
         "client": "cat"}
STAFF = {"admin", "billing", "approver", "project_manager", "viewer"}
EVERYONE = {*STAFF, "client"}
READERS = STAFF - {"project_manager"}   # firm-wide reports
PUBLIC = {("GET", "/login"), ("POST", "/login"), ("POST", "/logout")}

# (method, path, form, roles admitted). Ids that name nothing answer 404 to the roles admitted.
MATRIX: list[tuple[str, str, dict[str, str], set[str]]] = [
    ("GET", "/", {}, EVERYONE),                       # a client is sent on to its portal
    ("GET", "/invoices", {}, EVERYONE),
    ("GET", "/invoices/INV-000001", {}, EVERYONE),
    ("GET", "/invoices/INV-000001/files/pdf", {}, EVERYONE),
    ("POST", "/invoices/999/approve", {}, {"admin", "approver"}),
    ("POST", "/invoices/999/issue", {}, {"admin", "billing"}),
    ("GET", "/contracts", {}, STAFF),
    ("GET", "/contracts/C-1", {}, STAFF),             # pam manages no contract: 404 for her
    ("GET", "/billing", {}, {"admin", "billing"}),
    ("POST", "/billing", {"through": "2026-02-28", "mode": "preview"}, {"admin", "billing"}),
    ("GET", "/import", {}, {"admin", "billing", "project_manager"}),
    ("POST", "/import", {}, {"admin", "billing", "project_manager"}),
    ("GET", "/payments", {}, EVERYONE),
    ("POST", "/payments", {"client": "", "amount": ""}, {"admin", "billing"}),
    ("GET", "/issues", {}, STAFF),
    ("POST", "/issues", {"kind": "other", "title": ""}, {"admin", "billing", "approver", "project_manager"}),
    ("GET", "/issues/999", {}, STAFF),
    ("POST", "/issues/999/update", {"note": "x"}, {"admin", "billing"}),
    ("POST", "/issues/999/resolve", {"resolution": "x"}, {"admin", "billing"}),
    ("POST", "/issues/999/reject", {"resolution": "x"}, {"admin", "billing"}),
    ("GET", "/users", {}, {"admin"}),
    ("POST", "/users", {"username": "", "role": "viewer", "password": ""}, {"admin"}),
    ("GET", "/portal", {}, {"client"}),
    ("POST", "/portal/questions", {"question": ""}, {"client"}),
    ("GET", "/portal/statement.pdf", {}, {"client"}),
    ("POST", "/invoices/999/waive", {"finding": "x", "reason": "y"}, {"admin", "billing", "approver"}),
    ("GET", "/milestones", {}, STAFF),
    ("POST", "/milestones/C-1/M1", {"percent": "5"}, {"admin", "billing", "project_manager"}),
    ("GET", "/costs", {}, STAFF),
    ("POST", "/costs/C-1/budget", {"labor_cost": "1"}, {"admin", "billing", "project_manager"}),
    ("GET", "/cycles", {}, STAFF),
    ("GET", "/notifications", {}, STAFF),
    ("POST", "/notifications/999/read", {}, STAFF),
    ("GET", "/reports", {}, READERS),
    ("GET", "/reports/revenue", {}, STAFF),
    ("GET", "/reports/receivables", {}, READERS),
    ("GET", "/reports/kpis", {}, READERS),
    ("GET", "/reports/management", {}, READERS),
    ("GET", "/reports/management.pdf", {}, READERS),
    ("GET", "/portal/satisfaction", {}, {"client"}),
    ("POST", "/portal/satisfaction", {"score": "4"}, {"client"}),
    ("GET", "/timesheets", {}, STAFF),
    ("POST", "/timesheets", {}, STAFF),
    ("POST", "/timesheets/submit", {}, STAFF),
    ("POST", "/timesheets/999/approve", {}, {"admin", "billing", "project_manager"}),
    ("POST", "/timesheets/999/reject", {"comment": "x"}, {"admin", "billing", "project_manager"}),
]
# The routes by their templates, to prove the matrix leaves none out.
TEMPLATES = {"/invoices/INV-000001": "/invoices/{reference}",
             "/invoices/INV-000001/files/pdf": "/invoices/{reference}/files/{kind}",
             "/invoices/999/approve": "/invoices/{reference}/{action}",
             "/invoices/999/issue": "/invoices/{reference}/{action}", "/contracts/C-1": "/contracts/{code}",
             "/issues/999": "/issues/{ref}", "/issues/999/update": "/issues/{ref}/update",
             "/issues/999/resolve": "/issues/{ref}/resolve", "/issues/999/reject": "/issues/{ref}/reject",
             "/invoices/999/waive": "/invoices/{reference}/waive", "/costs/C-1/budget": "/costs/{code}/budget",
             "/milestones/C-1/M1": "/milestones/{contract}/{milestone}",
             "/notifications/999/read": "/notifications/{ref}/read",
             "/timesheets/999/approve": "/timesheets/{entry_id}/approve",
             "/timesheets/999/reject": "/timesheets/{entry_id}/reject"}


def test_the_matrix_covers_every_page() -> None:
    routers = [pages.router, pages.prebill_pages.router, *(section.router for section in pages.SECTIONS)]
    found = {(method, route.path) for router in routers for route in router.routes
             if isinstance(route, APIRoute) for method in route.methods}
    covered = {(method, TEMPLATES.get(path, path)) for method, path, _form, _roles in MATRIX}
    assert found == covered | PUBLIC


def test_every_page_refuses_the_roles_it_should(web: TestClient) -> None:
    for role, name in USERS.items():
        as_user(web, name)
        token = csrf(web.get("/invoices").text)
        for method, path, form, admitted in MATRIX:
            if method == "GET":
                status = web.get(path).status_code
            else:
                status = web.post(path, data={**form, "csrf": token}).status_code
            if role in admitted:
                assert status not in (401, 403), (role, method, path, status)
                assert status < 500, (role, method, path, status)
            else:
                assert status == 403, (role, method, path, status)


def test_visitors_who_are_not_signed_in_are_sent_to_sign_in(web: TestClient) -> None:
    web.cookies.clear()
    for method, path, form, _roles in MATRIX:
        response = web.get(path) if method == "GET" else web.post(path, data=form)
        assert (response.status_code, response.headers.get("location")) == (303, "/login"), (method, path)
