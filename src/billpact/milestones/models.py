"""Milestone tracking and project KPIs (issue 6).

Tracking sits beside billing, never in its way: a plan row holds what project managers forecast
(owner, planned and forecast dates, percent complete), while completion and acceptance stay in
`milestone_event`, the record billing reads, so the tracker and the invoices can never disagree.
Every change of a plan appends a `milestone_update` row (before/after, who, when, why), so the
history of slips survives the latest forecast. Project KPIs are a contract's own measures (a
target and a direction) with dated actuals.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billpact.db.base import Base, Scaled

DIRECTIONS = ("higher", "lower")


def KpiValue() -> Scaled:
    """KPI targets and actuals: exact to 4 decimal places, as amounts are."""
    return Scaled(4)


class MilestonePlan(Base):
    """The plan of one milestone term of a contract (its `id` in the contract's terms)."""

    __tablename__ = "milestone_plan"
    __table_args__ = (
        UniqueConstraint("contract_pk", "milestone"),
        CheckConstraint("percent_complete BETWEEN 0 AND 100", name="percent_complete"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_pk: Mapped[int] = mapped_column(ForeignKey("contract.pk"))
    milestone: Mapped[str] = mapped_column(String(100))
    owner: Mapped[str | None] = mapped_column(String(200))
    planned: Mapped[dt.date | None] = mapped_column(Date)
    forecast: Mapped[dt.date | None] = mapped_column(Date)
    percent_complete: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(200))


class MilestoneUpdate(Base):
    """One change of a plan: the fields changed as [before, after], who, when and the note."""

    __tablename__ = "milestone_update"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_pk: Mapped[int] = mapped_column(ForeignKey("milestone_plan.pk"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)     # field: [before, after]
    note: Mapped[str | None] = mapped_column(Text)


class ProjectKpi(Base):
    """A measure of a contract's project, with its target and whether higher or lower is better."""

    __tablename__ = "project_kpi"
    __table_args__ = (
        UniqueConstraint("contract_pk", "name"),
        CheckConstraint("direction IN ('higher', 'lower')", name="direction"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_pk: Mapped[int] = mapped_column(ForeignKey("contract.pk"))
    name: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(50))
    target: Mapped[Decimal] = mapped_column(KpiValue())
    direction: Mapped[str] = mapped_column(String(10))


class ProjectKpiActual(Base):
    """A KPI's measured value on a date (one per date: recording the date again corrects it)."""

    __tablename__ = "project_kpi_actual"
    __table_args__ = (UniqueConstraint("kpi_pk", "date"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    kpi_pk: Mapped[int] = mapped_column(ForeignKey("project_kpi.pk"))
    date: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[Decimal] = mapped_column(KpiValue())
    note: Mapped[str | None] = mapped_column(Text)
