"""Contracts as written, their amendments, and the dated versions the billing SQL joins on."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billpact.db.base import Base


class Contract(Base):
    __tablename__ = "contract"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("client.pk"), index=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    currency: Mapped[str] = mapped_column(String(3))
    cycle: Mapped[str] = mapped_column(String(10))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date)                 # as last amended
    written: Mapped[dict[str, Any]] = mapped_column(JSON)          # the contract as imported (import format)
    closed_on: Mapped[date | None] = mapped_column(Date)


class ContractManager(Base):
    """A project manager of a contract: records its time, expenses, milestones and progress, reads its billing."""

    __tablename__ = "contract_manager"

    contract_pk: Mapped[int] = mapped_column(ForeignKey("contract.pk"), primary_key=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("app_user.pk"), primary_key=True, index=True)


class Amendment(Base):
    __tablename__ = "amendment"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_pk: Mapped[int] = mapped_column(ForeignKey("contract.pk"), index=True)
    effective: Mapped[date] = mapped_column(Date)
    written: Mapped[dict[str, Any]] = mapped_column(JSON)          # the amendment as imported


class ContractVersion(Base):
    """[valid_from, valid_until) of each rate version, so SQL can group entries by version."""

    __tablename__ = "contract_version"
    __table_args__ = (UniqueConstraint("contract_pk", "version_no"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_pk: Mapped[int] = mapped_column(ForeignKey("contract.pk"), index=True)
    version_no: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
