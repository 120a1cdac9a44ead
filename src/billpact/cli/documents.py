"""Commands: packet NUMBER --out FILE.zip, packet verify FILE.zip, packets --period P --out DIR — audit packets;
and `write_documents`, behind `invoice --pdf/--ubl/--facturx/--pay-application` and `credit-note --pdf/...`.

`packet` is a group whose default command is `make`: `billpact packet INV-1 --out f.zip` is
`billpact packet make INV-1 --out f.zip`, and `billpact packet verify f.zip` is the check. Both
spellings the issue asks for work, the help lists both commands, and an invoice that happened to be
numbered "verify" can still be packed with `packet make verify`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from billpact.cli.app import app
from billpact.cli.common import DbOption, JsonOption, err, fail, out, print_json, progress_bar, unit_of_work
from billpact.documents import export
from billpact.documents import packet as packets_
from billpact.documents.data import Document
from billpact.documents.periods import parse_period
from billpact.invoices import service as invoices


class _MakeByDefault(TyperGroup):
    """A group whose first argument, when it names no subcommand, is an invoice for `make`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # Any: Typer's vendored click Context
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["make", *args]
        return super().parse_args(ctx, args)


packet_app = typer.Typer(cls=_MakeByDefault, no_args_is_help=True,
                         help="Audit packets: one zip per issued invoice with its documents, sources and hashes.")
app.add_typer(packet_app, name="packet")

OutFile = Annotated[Path, typer.Option("--out", help="The zip to write.")]


@packet_app.command("make")
def make(number: Annotated[str, typer.Argument(help="The invoice number.")], out_file: OutFile,
         as_json: JsonOption = False, db: DbOption = None) -> None:
    """Write an invoice's audit packet (the default: `billpact packet NUMBER --out FILE.zip`)."""
    with unit_of_work(db) as session:
        data = packets_.build_packet(session, invoices.find(session, number))
    export.write_file(out_file, data)
    omitted = packets_.read_manifest(data).get("omitted", [])
    if as_json:
        print_json({"invoice": number, "file": str(out_file), "size": len(data), "omitted": omitted})
        return
    out.print(f"packet of {number} written to {out_file} ({len(data)} bytes)", markup=False, highlight=False)
    for gap in omitted:
        out.print(f"  without {gap['name']}: {gap['reason']}", markup=False, highlight=False)


@packet_app.command("verify")
def verify(file: Annotated[Path, typer.Argument(help="The packet (zip) to check.")],
           as_json: JsonOption = False) -> None:
    """Recompute every file's SHA-256: exit 1 naming each file altered, missing or extra."""
    try:
        problems = packets_.verify_packet(file.read_bytes())
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")
        return
    if as_json:
        print_json({"file": str(file), "intact": not problems, "problems": problems})
    elif not problems:
        out.print(f"packet intact: {file}", markup=False, highlight=False)
    if problems:
        if not as_json:
            err.print(f"packet NOT intact: {file}\n" + "\n".join(f"  {p}" for p in problems),
                      markup=False, highlight=False)
        raise typer.Exit(1)


@app.command("packets")
def packets(period: Annotated[str, typer.Option(help="2026, 2026-Q1 or 2026-03: by invoice date.")],
            out_dir: Annotated[Path, typer.Option("--out", help="The folder to write the zips into.")],
            as_json: JsonOption = False, db: DbOption = None) -> None:
    """Write the audit packet of every invoice issued in a period, one zip per invoice."""
    written: list[str] = []
    with unit_of_work(db) as session:
        start, end = parse_period(period)
        found = packets_.issued_between(session, start, end)
        out_dir.mkdir(parents=True, exist_ok=True)
        with progress_bar("packets", enabled=not as_json) as tick:
            for done, invoice in enumerate(found, 1):
                path = out_dir / packets_.file_name(invoice)
                export.write_file(path, packets_.build_packet(session, invoice))
                written.append(str(path))
                tick(done, len(found))
    if as_json:
        print_json({"period": period, "from": start.isoformat(), "to": end.isoformat(), "written": written})
        return
    out.print(f"{len(written)} packet(s) written to {out_dir} (invoices dated {start} to {end})",
              markup=False, highlight=False)




def FileOption(help_: str) -> Any:
    return Annotated[Path | None, typer.Option(help=help_, dir_okay=False)]


PdfOption = FileOption("Write the PDF here.")
UblOption = FileOption("Write the Peppol BIS 3 UBL e-invoice (XML) here.")
FacturxOption = FileOption("Write the Factur-X PDF (EN 16931 CII XML embedded) here.")


def write_documents(document: Document, targets: dict[str, Path | None], extra: dict[Path, bytes] | None = None,
                    *, as_json: bool = False) -> bool:
    """Render every asked format first, then write them: a refusal (InvalidInput, exit 1) writes none.
    False when no file was asked for."""
    asked = {fmt: path for fmt, path in targets.items() if path is not None}
    files = {path: export.render(document, fmt) for fmt, path in asked.items()} | (extra or {})
    if not files:
        return False
    for path, data in files.items():
        export.write_file(path, data)
    if as_json:
        print_json({"written": [{"file": str(path), "size": len(data)} for path, data in files.items()]})
    else:
        for path, data in files.items():
            out.print(f"wrote {path} ({len(data)} bytes)", markup=False, highlight=False)
    return True
