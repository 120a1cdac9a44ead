"""What a billing run consumed of the time entries and expenses, one row per group.

A link covers the entries of one (contract, calendar period, role or category,
overtime or billable flag) with `after_pk < pk <= upto_pk` and a date in
[`valid_from`, `valid_until`) — the rate version they were priced with. A
later entry of the same group has a higher pk, so it is not covered and bills
on a later invoice: each entry is covered by exactly one live link, or none yet.
A credit note that releases a line marks its links `released_by`; the run then
offers those entries again and bills them under a new link naming the released
one (`rebills_pk`, same group and pk range), so history keeps both.
Imports and billing runs take the same lock (`billing.lock`), so no entry can
commit below a watermark a run has already read.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from billpact.db.base import Base

FAR = dt.date(9999, 12, 31)


class EntryLink(Base):
    __tablename__ = "entry_link"
    # Only the invoice index: the run reads links whole (GROUP BY per group), never one group at a time,
    # and a wider index would cost more to keep up than every read it could serve.
    __table_args__ = (Index("ix_entry_link_invoice", "invoice_pk"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(10))            # time | expense
    contract_pk: Mapped[int] = mapped_column(ForeignKey("contract.pk"))
    period_end: Mapped[dt.date] = mapped_column(Date)
    subject: Mapped[str] = mapped_column(String(100))           # role or category
    flag: Mapped[bool] = mapped_column(Boolean)                 # overtime, or billable
    version_no: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[dt.date] = mapped_column(Date)           # the rate version's date range
    valid_until: Mapped[dt.date] = mapped_column(Date)
    after_pk: Mapped[int] = mapped_column(Integer)              # entries above this pk ...
    upto_pk: Mapped[int] = mapped_column(Integer)               # ... up to this one
    entries: Mapped[int] = mapped_column(Integer)
    invoice_pk: Mapped[int | None] = mapped_column(ForeignKey("invoice.pk", ondelete="CASCADE"))
    line_pk: Mapped[int | None] = mapped_column(ForeignKey("invoice_line.pk", ondelete="SET NULL"))
    skip_reason: Mapped[str | None] = mapped_column(Text)       # consumed without billing, and why
    # A credit note released these entries (they bill again) ...
    released_by: Mapped[int | None] = mapped_column(ForeignKey("credit_note_line.pk"))
    # ... and this link bills them again: same group and pk range as the released link it names.
    rebills_pk: Mapped[int | None] = mapped_column(ForeignKey("entry_link.pk", ondelete="CASCADE"))


class BillingRun(Base):
    """A billing run shared by workers (`bill --workers N`, `bill --join RUN` on other hosts).

    The run only says what to bill (through which date) and which contracts; each worker claims
    contracts in batches (`BillingClaim`) and bills a batch in a transaction of its own.
    """

    __tablename__ = "billing_run"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    through: Mapped[dt.date] = mapped_column(Date)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    started_by: Mapped[str] = mapped_column(String(200))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class BillingClaim(Base):
    """One contract of a shared run: claimed with FOR UPDATE SKIP LOCKED, billed, then marked done.

    A worker that dies mid-batch rolls back, its row locks go with its connection, and the contracts
    are claimed again by a live worker: each contract is billed by exactly one committed batch.
    """

    __tablename__ = "billing_claim"
    # Claims are taken in contract order among the run's undone ones.
    __table_args__ = (Index("ix_billing_claim_open", "run_pk", "done_at", "contract_pk"),)

    run_pk: Mapped[int] = mapped_column(ForeignKey("billing_run.pk", ondelete="CASCADE"), primary_key=True)
    contract_pk: Mapped[int] = mapped_column(ForeignKey("contract.pk"), primary_key=True)
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    worker: Mapped[str | None] = mapped_column(String(200))     # host:pid of the worker that billed it
    created: Mapped[int | None] = mapped_column(Integer)        # invoices it created or rebuilt
