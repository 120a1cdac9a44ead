"""Commands: packet NUMBER --out FILE.zip, packet verify FILE.zip, packets --period P --out DIR — audit packets.

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
from billpact.documents import packet as packets_
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
    out_file.write_bytes(data)
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
                path.write_bytes(packets_.build_packet(session, invoice))
                written.append(str(path))
                tick(done, len(found))
    if as_json:
        print_json({"period": period, "from": start.isoformat(), "to": end.isoformat(), "written": written})
        return
    out.print(f"{len(written)} packet(s) written to {out_dir} (invoices dated {start} to {end})",
              markup=False, highlight=False)


