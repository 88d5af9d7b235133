"""The `samverka import` and `samverka export` subcommands: desktop/io on the command line.

`import FILE` reads the file, prints the preview (what is created, updated, left alone, and every
refused row with its line and reason) and imports it in one transaction; `--dry-run` prints the
same and changes nothing. `export` writes the directory as XLSX, CSV or vCard; an export is
plaintext, so it is never written inside the data folder (nothing readable may lie beside the
encrypted vault) and elsewhere only after a yes, or with `--yes`.
"""

from __future__ import annotations

import argparse
import codecs
import sys
from pathlib import Path
from typing import Any

from desktop.cli import EXIT_OK, EXIT_USER_ERROR, UserError, with_session
from desktop.i18n import ngettext, tr, fill
from desktop.io import (
    EXPORT_FORMATS,
    ColumnMapping,
    ImportPlan,
    IoError,
    apply_import,
    choose_organisation,
    export_directory,
    load_mapping,
    plan_import,
    read_table,
    save_mapping,
)
from desktop.io.columns import COLUMNS_BY_ID, availability_label, fold, yes_no_label, yes_no_vocabulary
from desktop.io.export import shown_value
from desktop.io.messages import io_message
from desktop.io.plan import Change, column_for_field, find_organisations
from desktop.store.messages import channel_kind_label

CHANGES_SHOWN = 50  # change lines in the preview; the counts above them are complete


def add_commands(commands: Any) -> None:
    """Register `import` and `export` on the CLI's subparsers."""
    imp = commands.add_parser("import", help=tr("import an organisation's contact list (XLSX or CSV)"))
    imp.add_argument("file", type=Path, metavar=tr("FILE"))
    imp.add_argument("--dry-run", action="store_true", help=tr("show what would change, and change nothing"))
    imp.add_argument("--map", type=Path, metavar=tr("MAPPING.toml"), help=tr("a mapping file that says which column holds what"))
    imp.add_argument("--org", metavar=tr("ORGANISATION"), help=tr("the organisation the list belongs to (needed when the vault is not connected to a server)"))
    imp.add_argument("--create-org", action="store_true", help=tr("create that organisation if the vault lacks it (vaults not connected to a server)"))
    imp.add_argument("--import-valid-rows", action="store_true", help=tr("import the rows that fit, and leave the refused ones out"))
    imp.add_argument("--encoding", metavar=tr("ENCODING"), help=tr("the CSV file's encoding, if it is not detected (e.g. cp1252, utf-8)"))
    imp.add_argument("--sheet", metavar=tr("SHEET"), help=tr("import only this sheet of the workbook"))
    imp.add_argument("--save-map", type=Path, metavar=tr("MAPPING.toml"), help=tr("write the columns as understood to a mapping file, to adjust"))
    imp.set_defaults(func=cmd_import)

    exp = commands.add_parser("export", help=tr("export the directory as XLSX, CSV or vCard"))
    exp.add_argument("--format", choices=EXPORT_FORMATS, help=tr("xlsx (review rounds), csv or vcf (phones); default: from the file name"))
    exp.add_argument("--org", action="append", metavar=tr("ORGANISATION"), help=tr("only this organisation (may be repeated)"))
    exp.add_argument("--out", type=Path, required=True, metavar=tr("FILE"), help=tr("the file to write"))
    exp.add_argument("--yes", action="store_true", help=tr("write the unencrypted file without asking"))
    exp.set_defaults(func=cmd_export)


def _io(work):
    """desktop.io's errors are the user's to fix: their message, and exit code 1."""
    try:
        return work()
    except IoError as error:
        raise UserError(str(error)) from None


# --- import ----------------------------------------------------------------------------------


def _mapping(args: argparse.Namespace) -> ColumnMapping:
    mapping = load_mapping(args.map) if args.map else ColumnMapping()
    if args.encoding:
        try:
            codecs.lookup(args.encoding)
        except LookupError:
            raise UserError(tr("Unknown encoding “{encoding}”. Use e.g. utf-8 or cp1252.", encoding=args.encoding)) from None
        mapping.encoding = args.encoding
    if args.sheet:
        mapping.sheet = args.sheet
    return mapping


def cmd_import(args: argparse.Namespace) -> int:
    def work() -> int:
        mapping = _mapping(args)
        table = read_table(args.file, mapping)  # a bad file is refused before the passphrase is asked
        outcome = EXIT_OK

        def with_store(store) -> None:
            nonlocal outcome
            from desktop.syncer.engine import META_ORGANISATION_ID

            organisation = choose_organisation(
                store, args.org, device_organisation=store.get_meta(META_ORGANISATION_ID), create=args.create_org,
            )
            plan = plan_import(store, table, organisation, mapping=mapping)
            print_preview(plan)
            if args.save_map:
                _save_map(args.save_map, plan, mapping)
            blocked = bool(plan.refused) and not args.import_valid_rows
            if args.dry_run:
                print(tr("Dry run: nothing was changed."))
                if blocked:
                    print(str(IoError("import.refused_rows", count=len(plan.refused))), file=sys.stderr)
                outcome = EXIT_USER_ERROR if blocked else EXIT_OK
                return
            if blocked:
                raise UserError(str(IoError("import.refused_rows", count=len(plan.refused))))
            if not plan.changes:
                print(tr("Nothing to change: the vault already holds what the file says."))
                return
            result = apply_import(store, plan, import_valid_rows=args.import_valid_rows)
            print(tr("Imported: {created} created, {updated} updated.",
                     created=_counts(result.created), updated=_counts(result.updated)))
            if result.left_out:
                print(_n(ngettext("{n} refused row was left out.", "{n} refused rows were left out.", result.left_out), result.left_out))

        with_session(args, with_store)
        return outcome

    return _io(work)


def _save_map(path: Path, plan: ImportPlan, mapping: ColumnMapping) -> None:
    columns = dict(mapping.columns)
    for sheet in plan.table.sheets:
        for header, column in sheet.columns:
            columns.setdefault(header, column)
    for header in plan.table.ignored_headers:
        columns.setdefault(header, "ignore")
    save_mapping(path, ColumnMapping(columns, mapping.kinds, mapping.sheet, mapping.header_row, mapping.encoding, mapping.delimiter))
    print(tr("The mapping is saved in {path}: adjust it and import with --map.", path=path))


def _n(text: str, n: int) -> str:
    """A text from ngettext with its {n} filled in (the literals stay in the ngettext call, where
    the catalog's extractor finds them)."""
    return fill(text, {"n": n})


def _counts(counts: dict[str, int]) -> str:
    functions, channels = counts.get("functions", 0), counts.get("channels", 0)
    parts = [
        _n(ngettext("{n} function", "{n} functions", functions), functions),
        _n(ngettext("{n} channel", "{n} channels", channels), channels),
    ]
    if counts.get("organisations"):
        parts.insert(0, _n(ngettext("{n} organisation", "{n} organisations", counts["organisations"]), counts["organisations"]))
    return ", ".join(parts)


def print_preview(plan: ImportPlan, out=None) -> None:
    """The preview as text: the same for --dry-run and before an import."""
    out = out or sys.stdout
    table = plan.table

    def say(text: str = "") -> None:
        print(text, file=out)

    say(tr("File: {path} ({format})", path=table.path, format=table.describe()))
    organisation = plan.organisation
    if organisation.create:
        say(tr("Organisation: {name} (new: it is created)", name=organisation.name))
    else:
        say(tr("Organisation: {name}", name=organisation.name))
    layouts: dict[tuple, list[str]] = {}
    for sheet in table.sheets:
        layouts.setdefault(tuple(sheet.columns), []).append(sheet.name or "")
    for columns, sheets in layouts.items():
        listed = ", ".join(
            header if fold(header) == fold(COLUMNS_BY_ID[column].title()) else f"{header} → {COLUMNS_BY_ID[column].title()}"
            for header, column in columns
        )
        if len(layouts) > 1:
            say(tr("Columns of {sheets}: {columns}", sheets=", ".join(f"“{s}”" for s in sheets), columns=listed))
        else:
            say(tr("Columns: {columns}", columns=listed))
    for notice in table.notice_texts():
        say(notice)
    created = {c: plan.count("create", c) for c in ("organisations", "functions", "channels")}
    updated = {c: plan.count("update", c) for c in ("functions", "channels")}
    say(tr("To create: {counts}.", counts=_counts(created)))
    say(tr("To update: {counts}.", counts=_counts(updated)))
    say(_n(ngettext("Unchanged: {n} row.", "Unchanged: {n} rows.", plan.unchanged_rows), plan.unchanged_rows))
    if plan.absent.get("functions") or plan.absent.get("channels"):
        say(tr("In the vault but not in the file (left as they are): {counts}.", counts=_counts(plan.absent)))
    if plan.refused:
        say(_n(ngettext("Refused: {n} row.", "Refused: {n} rows.", len(plan.refused)), len(plan.refused)))
        for where, reason in refused_lines(plan):
            say(f"  {where}: {reason}")
    shown = [c for c in plan.changes if c.collection != "organisations"]
    for change in shown[:CHANGES_SHOWN]:
        say("  " + describe_change(change))
    if len(shown) > CHANGES_SHOWN:
        say("  " + _n(ngettext("… and {n} more change.", "… and {n} more changes.", len(shown) - CHANGES_SHOWN), len(shown) - CHANGES_SHOWN))


def refused_lines(plan: ImportPlan) -> list[tuple[str, str]]:
    """(where, reason) of the refused rows; consecutive rows refused for the same reason as one range."""
    lines: list[tuple[str, str]] = []
    run: list = []

    def flush() -> None:
        if not run:
            return
        first, last = run[0].location, run[-1].location
        if first == last:
            where = first.describe()
        elif first.sheet is None:
            where = io_message("where.lines", first=first.line, last=last.line)
        else:
            where = io_message("where.sheet_lines", sheet=first.sheet, first=first.line, last=last.line)
        lines.append((where, run[0].reason()))
        run.clear()

    for refusal in plan.refused:
        if run and not (
            refusal.location.sheet == run[-1].location.sheet
            and refusal.location.line == run[-1].location.line + 1
            and (refusal.key, refusal.values) == (run[-1].key, run[-1].values)
        ):
            flush()
        run.append(refusal)
    flush()
    return lines


def _value(field: str, value: Any, kind: str | None = None) -> str:
    if value is None or value == "":
        return "–"
    if field == "availability":
        return availability_label(value)
    if field in ("is_contact_point", "resilient"):
        return yes_no_label(value)
    if field == "kind":
        return channel_kind_label(value)
    if field == "value":
        return shown_value(kind, value) or "–"
    return str(value) if len(str(value)) <= 60 else str(value)[:57] + "…"


def describe_change(change: Change) -> str:
    """One line: "+ Function “TiB”", "~ Channel 070-174 06 05 of “TiB”: Note: “a” → “b”"."""
    fields = change.fields
    kind, value = change.channel or (None, None)
    if change.collection == "functions":
        subject = tr("Function “{name}”", name=change.function_name)
    else:
        subject = tr("Channel {value} ({kind}) of “{function}”", value=_value("value", value, kind),
                     kind=channel_kind_label(kind), function=change.function_name)
    if change.op == "create":
        return f"+ {subject}"
    details = "; ".join(
        f"{COLUMNS_BY_ID[column_for_field(name)].title() if column_for_field(name) in COLUMNS_BY_ID else name}: "
        f"{_value(name, change.before.get(name), kind)} → {_value(name, new, fields.get('kind', kind))}"
        for name, new in fields.items()
    )
    return f"~ {subject}: {details}"


# --- export ----------------------------------------------------------------------------------


_SUFFIXES = {".xlsx": "xlsx", ".csv": "csv", ".vcf": "vcf", ".vcard": "vcf"}


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


def _confirm_plaintext(out: Path, yes: bool) -> None:
    warning = tr("The export is not encrypted: anyone who gets the file can read every name and number in it.")
    if yes:
        return
    if not sys.stdin.isatty():
        raise UserError(warning + " " + tr("Add --yes to write it from a script."))
    print(warning, file=sys.stderr)
    question = tr("Replace {path}? [y/N] ", path=out) if out.exists() else tr("Write {path}? [y/N] ", path=out)
    try:
        answer = input(question)
    except EOFError:
        answer = ""
    if yes_no_vocabulary().get(fold(answer)) is not True:
        raise UserError(tr("Nothing was written."))


def cmd_export(args: argparse.Namespace) -> int:
    out = args.out.expanduser().resolve()
    fmt = args.format or _SUFFIXES.get(out.suffix.lower())
    if fmt is None:
        raise UserError(tr("Say which format to write: --format xlsx, csv or vcf."))
    if out.is_dir():
        raise UserError(tr("{path} is a folder. Name the file to write.", path=out))
    if not out.parent.is_dir():
        raise UserError(tr("The folder {path} does not exist.", path=out.parent))
    if _inside(out, args.data_dir.expanduser().resolve()):
        raise UserError(tr(
            "An export is not encrypted, so it is not written inside the data folder {folder}, "
            "beside the vault. Choose another folder.", folder=args.data_dir,
        ))
    _confirm_plaintext(out, args.yes)

    def work(store) -> None:
        ids = None
        if args.org:
            ids = []
            for requested in args.org:
                found = find_organisations(store, requested)
                if not found:
                    raise UserError(tr("No organisation called “{requested}” in the vault. Check the name with samverka search.", requested=requested))
                if len(found) > 1:
                    raise IoError("org.ambiguous", requested=requested, names=", ".join(o.name for o in found))
                ids.append(found[0].record_id)
        result = export_directory(store, fmt, out, organisation_ids=ids)
        organisations = _n(ngettext("{n} organisation", "{n} organisations", result.organisations), result.organisations)
        counts = _counts({"functions": result.functions, "channels": result.channels})
        print(tr("Wrote {path}: {organisations}, {counts}.", path=result.path, organisations=organisations, counts=counts))
        print(tr("The file is not encrypted. Keep it safe, and delete it when it is no longer needed."))

    return _io(lambda: with_session(args, work) or EXIT_OK)
