"""Commands: user add/list, token create/list/revoke, serve — people and machines, and the web server."""

from __future__ import annotations

import os
import secrets
import sys
from typing import Annotated

import typer

from billpact.cli.app import app
from billpact.cli.common import DbOption, JsonOption, fail, out, print_json, unit_of_work
from billpact.config import database_url
from billpact.contracts import access
from billpact.users import service as users

user_app = typer.Typer(no_args_is_help=True, help="Users of the web application and the API, one role each.")
token_app = typer.Typer(no_args_is_help=True, help="API tokens: machines' credentials, hashed at rest, revocable.")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")


@user_app.command("add")
def user_add(username: Annotated[str, typer.Argument(help="Login name.")],
             role: Annotated[str, typer.Option(help="admin, billing, approver, project_manager, viewer or client.")],
             client: Annotated[str | None, typer.Option(help="For a client user: the client's id.")] = None,
             password_stdin: Annotated[bool, typer.Option("--password-stdin",
                                                          help="Read the password from standard input.")] = False,
             as_json: JsonOption = False, db: DbOption = None) -> None:
    """Add a user (the password is asked for, or read from stdin; it is stored as an argon2id hash)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with unit_of_work(db) as session:
        user = users.add_user(session, username, password, role, client)
        view = {"username": user.username, "role": user.role, "client": client}
    if as_json:
        print_json(view)
        return
    out.print(f"user {username} added ({role}{' of ' + client if client else ''})", markup=False)


@user_app.command("list")
def user_list(as_json: JsonOption = False, db: DbOption = None) -> None:
    """List users and their roles."""
    with unit_of_work(db) as session:
        views = [{"username": u.username, "role": u.role, "active": u.active} for u in users.users(session)]
    if as_json:
        print_json(views)
        return
    for v in views:
        out.print(f"{v['username']:<20} {v['role']:<16} {'active' if v['active'] else 'inactive'}", markup=False)


@user_app.command("assign")
def user_assign(username: Annotated[str, typer.Argument(help="A project_manager user.")],
                contracts: Annotated[list[str], typer.Argument(help="The contracts they manage.")],
                remove: Annotated[bool, typer.Option("--remove", help="Take the contracts away instead.")] = False,
                db: DbOption = None) -> None:
    """Make a project manager the manager of contracts: they record events on them and read their billing."""
    with unit_of_work(db) as session:
        for code in contracts:
            (access.unassign if remove else access.assign)(session, code, username)
    out.print(f"{username} {'no longer manages' if remove else 'manages'} {', '.join(contracts)}", markup=False)


@user_app.command("unlock")
def user_unlock(username: Annotated[str, typer.Argument(help="The user whose sign-in is paused.")],
                db: DbOption = None) -> None:
    """Let a user sign in again at once after too many wrong passwords paused their sign-in."""
    with unit_of_work(db) as session:
        users.unlock(session, username)
    out.print(f"{username} may sign in again", markup=False)


@token_app.command("create")
def token_create(username: Annotated[str, typer.Argument(help="Whose token (it acts with their role).")],
                 name: Annotated[str, typer.Option(help="What the token is for.")] = "api",
                 as_json: JsonOption = False, db: DbOption = None) -> None:
    """Create an API token; it is shown once, only its hash is kept."""
    with unit_of_work(db) as session:
        row, token = users.create_token(session, username, name)
        view = {"id": row.pk, "user": username, "name": name, "token": token}
    if as_json:
        print_json(view)
        return
    out.print(f"token {row.pk} for {username} ({name}) — shown once, keep it safe:\n{token}", markup=False)


@token_app.command("list")
def token_list(as_json: JsonOption = False, db: DbOption = None) -> None:
    """List tokens (their prefix only) and whether they are revoked."""
    with unit_of_work(db) as session:
        views: list[dict[str, object]] = [
            {"id": t.pk, "prefix": t.prefix, "name": t.name,
             "revoked": t.revoked_at.isoformat() if t.revoked_at else None} for t in users.tokens(session)]
    if as_json:
        print_json(views)
        return
    for v in views:
        revoked = f"revoked {v['revoked']}" if v["revoked"] else ""
        out.print(f"{v['id']!s:>4} {v['prefix']}…  {v['name']!s:<20} {revoked}", markup=False)


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="The token's id (from `token list`).")],
                 as_json: JsonOption = False, db: DbOption = None) -> None:
    """Revoke a token: it stops working at once."""
    with unit_of_work(db) as session:
        row = users.revoke_token(session, token_id)
        view = {"id": row.pk, "revoked": row.revoked_at.isoformat() if row.revoked_at else None}
    if as_json:
        print_json(view)
        return
    out.print(f"token {token_id} revoked")


@app.command()
def serve(host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port.")] = 8000,
          workers: Annotated[int, typer.Option(min=1, max=64, help="Server processes sharing the port.")] = 1,
          db: DbOption = None) -> None:
    """Serve the REST API (/api/v1, OpenAPI at /docs) and the web pages on the configured database."""
    import uvicorn

    from billpact.api.app import create_app, settle_heap
    from billpact.cli.common import engine_for

    engine_for(db).dispose()  # refuses a missing SQLite file with the usual message
    if not 1 <= port <= 65535:
        fail(f"--port: {port} is not a port")
    if workers == 1:
        application = create_app(database_url(db))
        settle_heap()
        uvicorn.run(application, host=host, port=port, log_level="info")
        return
    # Several processes: each imports the app from BILLPACT_DB and signs sessions with one shared key.
    os.environ["BILLPACT_DB"] = database_url(db)
    os.environ.setdefault("BILLPACT_SECRET_KEY", secrets.token_urlsafe(32))
    # A worker imports the whole app before it answers the supervisor's ping: give it time on a busy host.
    uvicorn.run("billpact.api.asgi:app", host=host, port=port, workers=workers, log_level="info",
                timeout_worker_healthcheck=60)
