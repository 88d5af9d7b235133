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
from desktop.i18n import ngettext, tr
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
from desktop.io.columns import fold, yes_no_vocabulary
from desktop.io.plan import find_organisations
from desktop.io.preview import count_words, plural, preview_lines

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
                     created=count_words(result.created), updated=count_words(result.updated)))
            if result.left_out:
                print(plural(ngettext("{n} refused row was left out.", "{n} refused rows were left out.", result.left_out), result.left_out))

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


def print_preview(plan: ImportPlan, out=None) -> None:
    """The preview: the same for --dry-run and before an import."""
    for line in preview_lines(plan, changes_shown=CHANGES_SHOWN):
        print(line, file=out or sys.stdout)


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
        organisations = plural(ngettext("{n} organisation", "{n} organisations", result.organisations), result.organisations)
        counts = count_words({"functions": result.functions, "channels": result.channels})
        print(tr("Wrote {path}: {organisations}, {counts}.", path=result.path, organisations=organisations, counts=counts))
        print(tr("The file is not encrypted. Keep it safe, and delete it when it is no longer needed."))

    return _io(lambda: with_session(args, work) or EXIT_OK)
