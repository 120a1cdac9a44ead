"""Documents over the API: an invoice's or credit note's PDF, Peppol UBL and Factur-X, a progress
invoice's pay application, and a client's statement as PDF — the same files as the CLI writes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response

from billpact.api.deps import READ, DayQuery, SessionDep, allow
from billpact.api.routes.credit_notes import visible as visible_note
from billpact.api.routes.invoices import Reference, visible
from billpact.clients import repository as clients
from billpact.documents import export
from billpact.documents.data import credit_note_document, invoice_document
from billpact.documents.pay_application import pay_application, pay_application_pdf
from billpact.documents.statement_pdf import statement_pdf
from billpact.errors import NotFound
from billpact.payments import service as payments
from billpact.users.models import User

router = APIRouter(tags=["documents"])
Reader = Annotated[User, Depends(allow(*READ, "client"))]
BINARY = {"schema": {"type": "string", "format": "binary"}}
FILES: dict[int | str, dict[str, Any]] = {200: {"description": "The file (an attachment)",
                                                "content": {"application/pdf": BINARY, "application/xml": BINARY}}}
PDF: dict[int | str, dict[str, Any]] = {200: {"description": "The PDF (an attachment)",
                                              "content": {"application/pdf": BINARY}}}
InvoiceFile = Literal["pdf", "ubl", "facturx", "pay-application"]
NoteFile = Literal["pdf", "ubl", "facturx"]


def attachment(data: bytes, media_type: str, name: str) -> Response:
    return Response(data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/invoices/{reference}/files/{kind}", summary="An invoice's PDF, UBL, Factur-X or pay application",
            response_class=Response, responses=FILES)
def invoice_file(reference: Reference, kind: Annotated[InvoiceFile, Path()], session: SessionDep,
                 user: Reader) -> Response:
    invoice = visible(session, user, reference)
    if kind == "pay-application":
        return attachment(pay_application_pdf(pay_application(session, invoice)), "application/pdf",
                          f"{invoice.number or 'draft-' + str(invoice.pk)}-pay-application.pdf")
    document = invoice_document(session, invoice)
    return attachment(export.render(document, kind), export.FORMATS[kind][0], export.file_name(document, kind))


@router.get("/credit-notes/{number}/files/{kind}", summary="A credit note's PDF, UBL or Factur-X",
            response_class=Response, responses=FILES)
def credit_note_file(number: str, kind: Annotated[NoteFile, Path()], session: SessionDep, user: Reader) -> Response:
    document = credit_note_document(session, visible_note(session, user, number))
    return attachment(export.render(document, kind), export.FORMATS[kind][0], export.file_name(document, kind))


@router.get("/clients/{client}/statement/pdf", summary="A client's statement as PDF", response_class=Response,
            responses=PDF)
def statement_file(client: str, session: SessionDep, user: Reader, as_of: DayQuery = None) -> Response:
    found = clients.by_code(session, client)
    if user.role == "client" and found.pk != user.client_pk:
        raise NotFound(f"no client {client!r}")
    day = as_of or payments.today()
    return attachment(statement_pdf(session, client, day), "application/pdf", f"statement-{client}-{day}.pdf")
