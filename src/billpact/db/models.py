"""Every mapped table, imported in one place for Alembic and `init`."""

from billpact.audit.models import AuditHead, AuditRecord
from billpact.billing.models import BillingClaim, BillingRun, EntryLink
from billpact.clients.models import Client
from billpact.contracts.models import Amendment, Contract, ContractManager, ContractVersion
from billpact.credit_notes.models import CreditNote, CreditNoteLine
from billpact.db.base import Base
from billpact.events.models import (
    Budget,
    CostRate,
    Expense,
    MilestoneEvent,
    Payment,
    ProgressReport,
    Resale,
    RetainageRelease,
    TimeEntry,
)

# Project controls (issue 6): their tables register on Base.metadata when these modules are imported.
from billpact.fx import models as fx_models  # noqa: F401
from billpact.invoices.models import BilledItem, Invoice, InvoiceLine
from billpact.issue_log.models import BillingIssue, BillingIssueUpdate
from billpact.milestones import models as milestone_models  # noqa: F401
from billpact.notify.models import OutboxMessage
from billpact.organization.models import Organization, SeriesCounter
from billpact.payments.models import Allocation
from billpact.prebill import models as prebill_models  # noqa: F401
from billpact.reminders import models as reminder_models  # noqa: F401
from billpact.satisfaction import models as satisfaction_models  # noqa: F401
from billpact.timesheets import models as timesheet_models  # noqa: F401
from billpact.users.models import ApiToken, User

__all__ = [
    "Allocation",
    "Amendment",
    "ApiToken",
    "AuditHead",
    "AuditRecord",
    "Base",
    "BilledItem",
    "BillingClaim",
    "BillingIssue",
    "BillingIssueUpdate",
    "BillingRun",
    "Budget",
    "Client",
    "Contract",
    "ContractManager",
    "ContractVersion",
    "CostRate",
    "CreditNote",
    "CreditNoteLine",
    "EntryLink",
    "Expense",
    "Invoice",
    "InvoiceLine",
    "MilestoneEvent",
    "Organization",
    "OutboxMessage",
    "Payment",
    "ProgressReport",
    "Resale",
    "RetainageRelease",
    "SeriesCounter",
    "TimeEntry",
    "User",
]
