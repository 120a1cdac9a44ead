"""Payments, their allocation to invoices, client credit, reversals and the client statement (spec §6).

Money that comes in (a payment) or is given back (a credit note) is a *source*;
an `Allocation` applies part of a source to one invoice. An invoice's open
balance is its amount due minus the live allocations to it; a client's
unapplied credit is what its sources hold beyond their live allocations.
Nothing here ever changes an invoice's amounts: only its status moves.
"""
