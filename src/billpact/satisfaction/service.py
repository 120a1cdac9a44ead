"""Recording customer satisfaction scores (issue 7): one at a time (portal, API) or a survey's CSV export.

A client user scores only its own client's experience, and names only one of its own issued invoices:
another client's invoice answers like a missing one (404), so the portal never reveals what exists.
An import is all or nothing and names every bad line, as `billpact import` does.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from billpact.clients import repository as clients
from billpact.clients.models import Client
from billpact.errors import DomainError, InvalidInput, NotFound
from billpact.invoices.models import Invoice
from billpact.satisfaction.models import HIGHEST, LOWEST, SOURCES, SatisfactionScore
from billpact.users.models import User

COMMENT_LIMIT = 2000
COLUMNS = ("client", "score", "comment", "date")          # then, optionally, "invoice"
UNISSUED = ("draft", "void")


@dataclass(frozen=True, slots=True)
class Given:
    """One score as asked: who (a client code), what (1..5), and optionally about which invoice."""

    client: str
    score: int | str            # checked by `check_score` (a form sends text)
    comment: str | None = None
    invoice: str | None = None
    at: datetime | None = None


def check_score(value: object) -> int:
    """The score as an integer 1..5; anything else (2.5, "good", 0) is refused, naming the range."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or not LOWEST <= int(text) <= HIGHEST:
        raise InvalidInput([f"score: {value!r} is not a whole number from {LOWEST} to {HIGHEST}"], "score")
    return int(text)


def _comment(text: str | None) -> str | None:
    cleaned = (text or "").strip()
    if len(cleaned) > COMMENT_LIMIT:
        raise InvalidInput([f"comment: at most {COMMENT_LIMIT} characters"], "score")
    return cleaned or None


def own_invoice(session: Session, client: Client, number: str) -> Invoice:
    """An issued invoice of this client by its number; any other (another client's, a draft) is not found."""
    invoice = session.scalar(select(Invoice).where(Invoice.number == number, Invoice.client_pk == client.pk,
                                                   Invoice.status.not_in(UNISSUED)))
    if invoice is None:
        raise NotFound(f"no invoice {number!r} of {client.code}")
    return invoice


def record(session: Session, given: Given, *, by: str, source: str) -> SatisfactionScore:
    """Store one score after checking it: client known, score 1..5, the invoice the client's own."""
    if source not in SOURCES:
        raise InvalidInput([f"source: one of {', '.join(SOURCES)}"], "score")
    client = clients.by_code(session, given.client)
    invoice = own_invoice(session, client, given.invoice) if given.invoice else None
    score = SatisfactionScore(client_pk=client.pk, invoice_pk=invoice.pk if invoice else None,
                              score=check_score(given.score), comment=_comment(given.comment),
                              given_at=given.at or datetime.now(UTC), given_by=by, source=source)
    session.add(score)
    session.flush()
    return score


def by_user(session: Session, user: User, given: Given, *, source: str) -> SatisfactionScore:
    """A score recorded by a signed-in user: a client user's is always for its own client (naming another
    answers 404, as a missing one would); staff name the client."""
    if user.role == "client":
        own = session.get_one(Client, user.client_pk).code
        if given.client and given.client != own:
            raise NotFound(f"no client {given.client!r}")
        given = replace(given, client=own)
    elif not given.client:
        raise InvalidInput(["client: name the client the score is for"], "score")
    return record(session, given, by=f"user:{user.username}", source=source)


# ---------------------------------------------------------------- CSV import


def parse_csv(text: str) -> tuple[list[tuple[int, Given]], list[str]]:
    """The rows of `client,score,comment,date[,invoice]` (a header line first), and the problems found,
    each naming its line; a row is checked for shape here, against the database by `import_scores`."""
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    if header[:4] != list(COLUMNS) or header[4:] not in ([], ["invoice"]):
        return [], [f"line 1: the header must be {','.join(COLUMNS)}[,invoice], not {','.join(header)!r}"]
    rows: list[tuple[int, Given]] = []
    problems: list[str] = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        try:
            rows.append((reader.line_num, _row(row, len(header))))
        except InvalidInput as exc:
            problems.extend(f"line {reader.line_num}: {p}" for p in exc.problems)
    return rows, problems


def _row(row: Sequence[str], width: int) -> Given:
    if len(row) != width:
        raise InvalidInput([f"{len(row)} columns, expected {width}"])
    cells = [cell.strip() for cell in row]
    try:
        day = date.fromisoformat(cells[3])
    except ValueError:
        raise InvalidInput([f"date: {cells[3]!r} is not a date (YYYY-MM-DD)"]) from None
    return Given(client=cells[0], score=check_score(cells[1]), comment=_comment(cells[2]),
                 invoice=(cells[4] or None) if width > 4 else None, at=datetime.combine(day, time(12), UTC))


def import_scores(session: Session, text: str, *, by: str) -> list[SatisfactionScore]:
    """Every row of the CSV stored, or none and every problem (shape first, then clients and invoices)."""
    rows, problems = parse_csv(text)
    if not rows and not problems:
        problems = ["no scores in the file"]
    if problems:
        raise InvalidInput(problems, "satisfaction import")
    stored: list[SatisfactionScore] = []
    for line, given in rows:
        try:
            with session.begin_nested():
                stored.append(record(session, given, by=by, source="import"))
        except DomainError as exc:
            problems.append(f"line {line}: {exc.message}")
    if problems:
        raise InvalidInput(problems, "satisfaction import")
    return stored


# ---------------------------------------------------------------- reading


def listing(session: Session, *, client_pk: int | None = None, pks: Sequence[int] | None = None
            ) -> list[dict[str, Any]]:
    """The scores (every one, one client's, or those given), newest first, as the CLI and API show them."""
    query = (select(SatisfactionScore, Client.code, Invoice.number)
             .join(Client, Client.pk == SatisfactionScore.client_pk)
             .outerjoin(Invoice, Invoice.pk == SatisfactionScore.invoice_pk)
             .order_by(SatisfactionScore.given_at.desc(), SatisfactionScore.pk.desc()))
    if client_pk is not None:
        query = query.where(SatisfactionScore.client_pk == client_pk)
    if pks is not None:
        query = query.where(SatisfactionScore.pk.in_(pks))
    return [view(score, code, number) for score, code, number in session.execute(query)]


def view(score: SatisfactionScore, client: str, invoice: str | None) -> dict[str, Any]:
    return {"id": score.pk, "client": client, "invoice": invoice, "score": score.score, "comment": score.comment,
            "given_at": score.given_at.isoformat(), "given_by": score.given_by, "source": score.source}
