"""The import and export's user-facing texts: stable keys to English source strings of the one catalog.

Errors and refused rows carry a key and its values; the text is made when a person reads it
(desktop.i18n.keyed), so it follows the language chosen after the error was made, and tests
and the window can branch on the key.
"""

from __future__ import annotations

from typing import Any, Callable

from desktop.i18n import N_, keyed, language

IO_MESSAGES: dict[str, str] = {
    # --- the file as a whole
    "io.error": N_("The import or export failed."),
    "file.missing": N_("The file {path} does not exist. Check the name and the folder."),
    "file.not_a_file": N_("{path} is a folder, not a file. Name the file to import."),
    "file.unreadable": N_(
        "The file {path} could not be read ({reason}). Check that you may read it and that "
        "no other program holds it."
    ),
    "file.empty": N_("The file {path} is empty."),
    "file.too_large": N_(
        "The file {path} is {size} MB; at most {max} MB are imported. A contact list is far "
        "smaller: check that it is the right file, or split it."
    ),
    "file.unknown_format": N_(
        "{path} is neither an Excel workbook (.xlsx) nor a CSV file. Save it from the "
        "spreadsheet program as .xlsx or as CSV and import that."
    ),
    "xlsx.encrypted": N_(
        "The workbook {path} is protected with a password, so it cannot be read. Open it in "
        "the spreadsheet program, remove the password, save it and import it again."
    ),
    "xlsx.legacy": N_(
        "{path} is in the old Excel 97–2003 format (.xls). Save it as an Excel workbook "
        "(.xlsx) and import that."
    ),
    "xlsx.other_zip": N_(
        "{path} is a zip archive but not an Excel workbook (an OpenDocument or Word file?). "
        "Save it as .xlsx or CSV and import that."
    ),
    "xlsx.corrupt": N_(
        "The workbook {path} is damaged and cannot be read ({reason}). Open it in the "
        "spreadsheet program, save it again and import that copy."
    ),
    "xlsx.unpacks_too_large": N_(
        "The workbook {path} unpacks to more than {max} MB. A contact list is far smaller: "
        "check that it is the right file."
    ),
    "xlsx.no_such_sheet": N_("The workbook {path} has no sheet called “{sheet}”. Its sheets: {sheets}."),
    "csv.binary": N_(
        "The file {path} holds binary data, so it is not a CSV file (or it is UTF-16 without "
        "a byte order mark). Save it from the spreadsheet program as “CSV UTF-8” and import "
        "that."
    ),
    "csv.encoding": N_(
        "The file {path} is neither UTF-8 nor Windows-1252 text ({detail}). Save it from the "
        "spreadsheet program as “CSV UTF-8” and import that, or name its encoding."
    ),
    "csv.encoding_given": N_(
        "The file {path} is not {encoding} text (byte {offset} does not fit). Name another "
        "encoding, or save the file as “CSV UTF-8”."
    ),
    "csv.field_too_long": N_(
        "Line {line} of {path} has a cell of more than {max} characters: this is not a contact "
        "list, or a quote mark is missing. Nothing was imported."
    ),
    "csv.malformed": N_(
        "Line {line} of {path} cannot be read as CSV ({reason}). Save the file again from the "
        "spreadsheet program."
    ),
    "table.too_many_rows": N_(
        "{path} has more than {max} rows. Samverka imports at most {max} rows at once (a "
        "whole region's directory is a few thousand): check that it is the right file, or "
        "split it."
    ),
    "table.empty": N_("{path} has no rows with data. Check that it is the right file."),
    "table.no_header": N_(
        "No header row found in {where}: none of its first {rows} rows names a column "
        "Samverka knows. The list needs at least a column “{function}”; the import guide "
        "lists every header, and a mapping file can name others."
    ),
    "table.duplicate_column": N_(
        "Two columns of {where} mean the same (“{first}” and “{second}”: {meaning}). Remove "
        "or rename one."
    ),
    "table.bad_header_row": N_(
        "The mapping file puts the header on row {row}, but {where} has no column Samverka "
        "knows there."
    ),
    # --- the mapping file
    "mapping.missing": N_("The mapping file {path} does not exist."),
    "mapping.syntax": N_(
        "The mapping file {path} is not valid TOML (line {line}, column {column}). Correct it "
        "and try again."
    ),
    "mapping.syntax_somewhere": N_("The mapping file {path} is not valid TOML. Correct it and try again."),
    "mapping.unknown_key": N_("The mapping file {path} has an unknown entry “{key}”. Allowed: {allowed}."),
    "mapping.unknown_column": N_(
        "The mapping file {path} maps “{header}” to “{target}”, which Samverka does not know. "
        "Use one of: {allowed}."
    ),
    "mapping.unknown_kind": N_(
        "The mapping file {path} maps “{text}” to the channel kind “{target}”, which Samverka "
        "does not know. Use one of: {allowed}."
    ),
    "mapping.bad_value": N_("In the mapping file {path}, “{key}” must be {expected}."),
    "mapping.unknown_encoding": N_("The mapping file {path} names the encoding “{encoding}”, which is unknown."),
    "mapping.expect_text": N_("text"),
    "mapping.expect_row": N_("a row number from 1"),
    "mapping.expect_delimiter": N_("one character"),
    # --- whose list it is
    "org.required": N_(
        "This vault is not connected to an organisation's server, so name the organisation the "
        "list belongs to (--org NAME). The import writes functions for that organisation only."
    ),
    "org.not_found": N_(
        "No organisation called “{requested}” in the vault. Check the name with samverka "
        "search; a vault not connected to a server can create it (--create-org)."
    ),
    "org.ambiguous": N_("“{requested}” could mean several organisations: {names}. Use the full name."),
    "org.not_synced": N_(
        "This device belongs to {organisation}, but that organisation's record is not in the "
        "vault yet. Synchronise first (samverka sync), then import."
    ),
    "org.other_than_device": N_(
        "This device imports only for its own organisation, {organisation}; “{requested}” is "
        "another. Leave out --org, or import on a device of that organisation."
    ),
    "org.create_enrolled": N_(
        "Organisations are created by the server's administrator; this device imports only "
        "for {organisation}."
    ),
    # --- the import as a whole
    "import.refused_rows": N_(
        "Nothing was imported, because rows were refused ({count}). Correct them and import "
        "again, or import the other rows and leave those out (--import-valid-rows)."
    ),
    "import.outdated": N_(
        "The vault changed after the preview was made. Nothing was imported; look at the new "
        "preview and import again."
    ),
    "import.cancelled": N_("The import was cancelled. Nothing was changed."),
    "export.cancelled": N_("The export was cancelled; no file was written."),
    "export.unwritable": N_(
        "The file {path} could not be written ({reason}). Check the folder and that you may "
        "write there."
    ),
    # --- one refused row
    "row.formula": N_(
        "The cell in column “{column}” holds a formula. Samverka imports values only: copy "
        "the column and paste it as values."
    ),
    "row.error_cell": N_("The cell in column “{column}” holds an error ({value}). Correct it in the spreadsheet."),
    "row.no_function": N_("No function name in column “{column}”. Every row needs the function it is about."),
    "row.too_long": N_("Column “{column}” holds {length} characters; at most {max} fit. Shorten the text."),
    "row.bad_phone": N_(
        "“{value}” in column “{column}” is not a valid phone number. Include the area code, "
        "e.g. 08-123 456 78 or +46 70 174 06 05."
    ),
    "row.bad_email": N_("“{value}” in column “{column}” is not an e-mail address."),
    "row.bad_kind": N_("“{value}” in column “{column}” is not a kind of channel. Use one of: {choices}."),
    "row.no_kind": N_(
        "“{value}” in column “{column}” does not say what kind of channel it is. Fill in the "
        "column “{kind_column}” (e.g. Mobil, E-post, Rakel)."
    ),
    "row.no_value": N_(
        "Column “{column}” says “{value}”, but the channel itself is empty. Fill in "
        "“{value_column}” or clear the kind."
    ),
    "row.bad_choice": N_("“{value}” in column “{column}” is not one of: {choices}."),
    "row.bad_yes_no": N_("“{value}” in column “{column}” must be yes or no."),
    "row.bad_number": N_("“{value}” in column “{column}” must be a whole number."),
    "row.bad_date": N_("“{value}” in column “{column}” is not a date. Write it as YYYY-MM-DD, e.g. 2026-03-01."),
    "row.bad_key": N_(
        "“{value}” in column “{column}” is not a Samverka ID. Leave the column as the export "
        "wrote it, or clear the cell to match by name."
    ),
    "row.other_organisation": N_("The row belongs to “{organisation}”; this import writes only for {allowed}."),
    # the shared rules' refusal ("Read-only: owned by Trafikverket."), desktop/permissions.py
    "row.not_allowed": N_("{reason}"),
    "row.function_key_unknown": N_(
        "The ID in column “{column}” names no function in this vault. Clear the cell to "
        "create the function anew, or use a sheet exported from this vault."
    ),
    "row.channel_key_unknown": N_(
        "The ID in column “{column}” names no channel in this vault. Clear the cell to create "
        "the channel anew, or use a sheet exported from this vault."
    ),
    "row.key_deleted": N_(
        "The record with the ID in column “{column}” has been deleted in Samverka. Clear the "
        "ID cells of the row to create it anew."
    ),
    "row.key_other_organisation": N_(
        "The record with the ID in column “{column}” belongs to {organisation}; this import "
        "writes only for {allowed}."
    ),
    "row.channel_emptied": N_(
        "The channel with the ID in column “{column}” has no value in this row. An import never "
        "deletes: put the value back, or delete the channel in Samverka."
    ),
    "row.channel_key_elsewhere": N_(
        "The channel with the ID in column “{column}” belongs to the function “{function}”, "
        "not to this row's function. Keep each row's ID cells together."
    ),
    "row.ambiguous_function": N_(
        "{organisation} has {count} functions called “{name}”. Add the column “{column}” from "
        "an export to say which one."
    ),
    "row.ambiguous_channel": N_(
        "The function “{function}” has {count} channels “{value}”. Add the column “{column}” "
        "from an export to say which one."
    ),
    "row.duplicate": N_("The same as {other}. Delete one of the two rows."),
    "row.contradicts": N_(
        "Column “{column}” says “{value}”, but {other} says “{earlier}” for the same "
        "{subject}. Make the rows agree."
    ),
    "row.same_channel_twice": N_("The channel “{value}” appears twice in this row."),
    # --- where in the file
    "where.line": N_("line {line}"),
    "where.sheet_line": N_("sheet “{sheet}”, line {line}"),
    "where.sheet": N_("the sheet “{sheet}”"),
    "where.lines": N_("lines {first}–{last}"),
    "where.sheet_lines": N_("sheet “{sheet}”, lines {first}–{last}"),
    "where.subject_function": N_("function"),
    "where.subject_channel": N_("channel"),
    # --- notes in the preview
    "notice.empty_sheet": N_("The sheet “{sheet}” is empty; skipped."),
    "notice.hidden_sheet": N_("The sheet “{sheet}” is hidden; skipped."),
    "notice.no_header_sheet": N_("The sheet “{sheet}” names no column Samverka knows; skipped."),
    "notice.rows_above_header": N_("{count} rows above the header of {where} were skipped."),
    "notice.ignored_columns": N_("Columns not imported: {columns}."),
    # --- what the file was
    "format.xlsx": N_("Excel workbook (.xlsx)"),
    "format.csv": N_("CSV, {delimiter}, {encoding}"),
    "delimiter.;": N_("separated by semicolons"),
    "delimiter.,": N_("separated by commas"),
    "delimiter.tab": N_("separated by tabs"),
    "delimiter.other": N_("separated by “{char}”"),
    "encoding.utf-8": N_("UTF-8"),
    "encoding.utf-8-sig": N_("UTF-8 with byte order mark"),
    "encoding.cp1252": N_("Windows-1252"),
    "encoding.utf-16": N_("UTF-16"),
    "encoding.other": N_("{encoding} (as named)"),
}


def io_message(key: str, /, **values: Any) -> str:
    """The text of ``key`` in the current language with its placeholders filled."""
    return keyed(IO_MESSAGES, key, "io.error", **values)


class Later:
    """A value of a message that is itself a text: made when the message is shown, so that it is
    in the language of that moment too (``Later(lambda: io_message("where.line", line=3))``)."""

    def __init__(self, make: Callable[[], str]) -> None:
        self._make = make

    def __str__(self) -> str:
        return self._make()

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return f"Later({self})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Later) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


def later(key: str, /, **values: Any) -> Later:
    """``io_message(key, **values)`` when it is shown."""
    return Later(lambda: io_message(key, **values))


def number(value: int | float) -> Later:
    """A count as the reader writes it: 1 048 576 in Swedish (no-break spaces), 1,048,576 in English."""

    def made() -> str:
        text = f"{value:,.0f}"
        return text if language() == "en" else text.replace(",", "\u00a0")

    return Later(made)
