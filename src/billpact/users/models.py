"""Users, their role, and API tokens (hashed at rest, revocable)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from billpact.db.base import Base

ROLES = ("admin", "billing", "approver", "project_manager", "viewer", "client")


class User(Base):
    __tablename__ = "app_user"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))       # argon2id
    role: Mapped[str] = mapped_column(String(20))
    client_pk: Mapped[int | None] = mapped_column(ForeignKey("client.pk"))   # client users: whose portal
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")   # since the last success
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))       # sign-in paused until


class ApiToken(Base):
    """A machine's credential: only its SHA-256 is stored; the token itself is shown once."""

    __tablename__ = "api_token"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("app_user.pk"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))               # shown in listings to tell tokens apart
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
