"""Adding users, checking passwords (argon2id) and API tokens (SHA-256 at rest).

Tokens are random (256 bits), so a fast hash is enough to store them: unlike
passwords they cannot be guessed from a dictionary. Passwords use argon2id
through argon2-cffi, the reference implementation's binding.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from billpact.audit import service as audit
from billpact.clients import repository as clients
from billpact.errors import Conflict, InvalidInput, NotFound
from billpact.users.models import ROLES, ApiToken, User

_hasher = PasswordHasher()
TOKEN_PREFIX = "bp_"  # noqa: S105 (a prefix that marks billpact tokens, not a secret)
MIN_PASSWORD = 10
LOCK_AFTER = 5                    # wrong passwords in a row pause a user's sign-in …
LOCK_FOR = timedelta(minutes=15)  # … for this long (or until `billpact user unlock`)


def add_user(session: Session, username: str, password: str, role: str, client: str | None = None) -> User:
    problems = []
    if not username.strip() or len(username) > 100:
        problems.append("username: 1 to 100 characters")
    if role not in ROLES:
        problems.append(f"--role: {role!r} is not a role ({', '.join(ROLES)})")
    if len(password) < MIN_PASSWORD:
        problems.append(f"password: at least {MIN_PASSWORD} characters")
    if role == "client" and not client:
        problems.append("--client: a client user belongs to a client (give its id)")
    if role != "client" and client:
        problems.append("--client: only client users belong to a client")
    if problems:
        raise InvalidInput(problems, f"user {username}")
    if session.scalar(select(User.pk).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists")
    client_pk = clients.by_code(session, client).pk if client else None
    user = User(username=username, password_hash=_hasher.hash(password), role=role, client_pk=client_pk,
                active=True, created_at=datetime.now(UTC))
    session.add(user)
    session.flush()
    audit.record(session, "user", username, "add", None, {"role": role, "client": client})
    return user


def check_password(session: Session, username: str, password: str) -> User | None:
    """The active user with this password, or None (the same answer for a wrong name or password, and
    for a paused sign-in, so answers tell an attacker nothing). After LOCK_AFTER wrong passwords in a
    row a user's sign-in is paused for LOCK_FOR, even with the right password: guessing stays slow
    whatever the number of processes, since the count is in the database."""
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True))
                          .with_for_update())
    now = datetime.now(UTC)
    if user is None or (user.locked_until is not None and _aware(user.locked_until) > now):
        _hasher.hash(password)  # spend the same time as a real check: no user enumeration by timing
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        _failed(session, user, now)
        return None
    user.failed_sign_ins, user.locked_until = 0, None
    return user


def _failed(session: Session, user: User, now: datetime) -> None:
    user.failed_sign_ins += 1
    if user.failed_sign_ins >= LOCK_AFTER:
        user.failed_sign_ins, user.locked_until = 0, now + LOCK_FOR
        audit.record(session, "user", user.username, "sign_in_paused", None,
                     {"until": user.locked_until.isoformat(), "after_failures": LOCK_AFTER})
    session.flush()


def _aware(moment: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; they were stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def unlock(session: Session, username: str) -> None:
    user = find(session, username)
    user.failed_sign_ins, user.locked_until = 0, None
    session.flush()
    audit.record(session, "user", username, "unlock")


def create_token(session: Session, username: str, name: str) -> tuple[ApiToken, str]:
    """A new token for the user: the row, and the token itself (shown once, never stored)."""
    user = find(session, username)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_pk=user.pk, name=name, token_hash=_digest(token), prefix=token[:10],
                   created_at=datetime.now(UTC))
    session.add(row)
    session.flush()
    audit.record(session, "api_token", row.pk, "create", None, {"user": username, "name": name,
                                                                 "prefix": row.prefix})
    return row, token


def revoke_token(session: Session, token_id: int) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"no API token {token_id}")
    if row.revoked_at is not None:
        raise Conflict(f"API token {token_id} was already revoked on {row.revoked_at:%Y-%m-%d %H:%M}")
    row.revoked_at = datetime.now(UTC)
    session.flush()
    audit.record(session, "api_token", row.pk, "revoke", None, {"prefix": row.prefix})
    return row


# Built once: every API request runs it (see invoices.listing on why that matters).
_BY_TOKEN = (select(User).join(ApiToken, ApiToken.user_pk == User.pk)
             .where(ApiToken.token_hash == bindparam("digest"), ApiToken.revoked_at.is_(None), User.active.is_(True)))


def user_for_token(session: Session, token: str) -> User | None:
    """The active user a live token belongs to, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    return session.scalar(_BY_TOKEN, {"digest": _digest(token)})


def find(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.pk)))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
