"""The users page: admin only; an added user (argon2-hashed by the users service) can sign in."""

from __future__ import annotations

from fastapi.testclient import TestClient

from billpact.users import service as users
from tests.web.support import as_user, csrf, sign_in, using

NEW_PASSWORD = "a long enough secret"


def test_only_admin_opens_the_users_page(web: TestClient) -> None:
    for name in ("bill", "ann", "pam", "vic", "cat"):
        assert as_user(web, name).get("/users").status_code == 403
    page = as_user(web, "ada").get("/users")
    assert page.status_code == 200 and "<td>cat</td><td>client</td><td>ACME</td>" in page.text
    assert '<input id="password" name="password" type="password"' in page.text


def test_admin_adds_a_user_who_can_then_sign_in(web: TestClient, db: str) -> None:
    page = as_user(web, "ada").get("/users").text
    form = {"username": "carla", "role": "client", "client": "BETA", "password": NEW_PASSWORD, "csrf": csrf(page)}
    done = web.post("/users", data=form)
    assert done.status_code == 303 and done.headers["location"] == "/users?added=carla"
    assert "<td>carla</td><td>client</td><td>BETA</td>" in web.get(done.headers["location"]).text
    with using(db) as session:
        assert users.find(session, "carla").password_hash.startswith("$argon2id$")
    web.cookies.clear()
    assert sign_in(web, "carla", NEW_PASSWORD) == 303
    assert web.get("/").headers["location"] == "/portal"


def test_a_refused_user_is_not_added(web: TestClient, db: str) -> None:
    page = as_user(web, "ada").get("/users").text
    for form, code, message in (({"role": "billing", "password": "short"}, 422, "at least 10 characters"),
                                ({"role": "client", "password": NEW_PASSWORD}, 422, "belongs to a client"),
                                ({"role": "root", "password": NEW_PASSWORD}, 422, "is not a role"),
                                ({"role": "client", "client": "NOPE", "password": NEW_PASSWORD}, 404, "no client")):
        refused = web.post("/users", data={"username": "dan", **form, "csrf": csrf(page)})
        assert refused.status_code == code and message in refused.text
    duplicate = web.post("/users", data={"username": "vic", "role": "viewer", "password": NEW_PASSWORD,
                                         "csrf": csrf(page)})
    assert duplicate.status_code == 409 and "already exists" in duplicate.text
    forged = {"username": "dan", "role": "admin", "password": NEW_PASSWORD}
    assert web.post("/users", data=forged).status_code == 403
    token = csrf(as_user(web, "bill").get("/payments").text)
    assert web.post("/users", data={**forged, "csrf": token}).status_code == 403
    with using(db) as session:
        assert "dan" not in {u.username for u in users.users(session)}
