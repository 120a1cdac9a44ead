"""An API page of invoices is exactly its slice of the full list, with the full list's count (up to the
cap), for every filter and every caller's scope — the page is only read differently (issue 8), never answered
differently."""

from __future__ import annotations

from typing import Any

from bench.invoice_volume import build
from sqlalchemy import select

from billpact.clients.models import Client
from billpact.contracts.models import Contract
from billpact.db.session import make_engine, transaction
from billpact.invoices import listing, service
from billpact.invoices.models import Invoice

WINDOWS = ((50, 0), (7, 13), (100, 250), (10, 10_000))   # (limit, offset): first page, inside, the tail, past it


def _full(session: Any, wanted: listing.Wanted) -> list[Invoice]:
    """What the list showed before pages: every invoice `service.listing` finds, then the caller's scope."""
    found = service.listing(session, client=wanted.client, contract=wanted.contract, status=wanted.status)
    return [inv for inv in found if (wanted.contracts is None or inv.contract_pk in wanted.contracts)
            and (not wanted.numbered_only or inv.number is not None)]


def test_a_page_is_the_slice_of_the_full_list_for_every_filter(db: str) -> None:
    build(db, 300)
    engine = make_engine(db)
    try:
        with transaction(engine) as session:
            some = session.execute(select(Invoice.client_pk, Invoice.contract_pk).limit(1)).one()
            client = session.scalar(select(Client.code).where(Client.pk == some.client_pk))
            contract = session.scalar(select(Contract.code).where(Contract.pk == some.contract_pk))
            cases = [listing.Wanted(), listing.Wanted(client=client), listing.Wanted(contract=contract),
                     listing.Wanted(client=client, status="issued"), listing.Wanted(status="approved"),
                     listing.Wanted(client="NO-SUCH-CLIENT"), listing.Wanted(contracts={some.contract_pk}),
                     listing.Wanted(contracts=set()), listing.Wanted(client=client, numbered_only=True)]
            for wanted in cases:
                full = _full(session, wanted)
                for limit, offset in WINDOWS:
                    found = listing.page(session, wanted, limit, offset)
                    assert found.total == len(full), wanted
                    assert found.items == service.views(session, full[offset:offset + limit]), wanted
                    assert found.more == (offset + limit < len(full)), wanted
            everything = _full(session, listing.Wanted())
            assert len(everything) == 300   # the issued invoices; holds (zero records) are never listed
    finally:
        engine.dispose()


def test_past_the_cap_a_page_says_more_instead_of_counting(db: str) -> None:
    build(db, 40)
    engine = make_engine(db)
    try:
        with transaction(engine) as session:
            full = _full(session, listing.Wanted())
            n = len(full)
            for cap, limit, offset in ((n - 1, 10, 0), (n - 1, 10, n - 12), (10, 10, 25), (n, 10, n - 10)):
                found = listing.page(session, listing.Wanted(), limit, offset, cap=cap)
                assert found.total == (n if cap >= n else None)
                assert found.items == service.views(session, full[offset:offset + limit])
                assert found.more == (offset + limit < n)
            past = listing.page(session, listing.Wanted(), 10, n, cap=10)
            assert (past.items, past.total, past.more) == ([], None, False)
            drafts = [inv for inv in full if inv.number is None]
            for inv in full[:5] + drafts[:2]:
                reference = inv.number or str(inv.pk)
                assert listing.views(session, [listing.row(session, reference)]) == service.views(session, [inv])
    finally:
        engine.dispose()
