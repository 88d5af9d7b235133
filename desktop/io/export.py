"""The directory out of the vault: XLSX for review rounds, CSV in the same columns, vCard 4.0 for phones.

XLSX has one sheet per organisation with every function and channel, the function's
last-verified date and the record ids (the external key), so that a corrected sheet imports back
and changes only what was corrected. CSV is the same columns in one file (UTF-8 with a byte
order mark and semicolons, which Swedish Excel opens as it is). vCard 4.0 (``vobject``) has one
card per function: FN (function, organisation), ORG, TITLE, TEL with types, EMAIL, URL, and a
NOTE with the description, the forum mandates and every channel with its label and note.

No spreadsheet may read an exported text as a formula: in XLSX every text is a text cell
(never a formula, and marked with Excel's quote prefix when it begins like one; see
xlsx_writer), in CSV a text
that begins with = + - @, a tab or a carriage return gets a leading "'" (OWASP's rule). Numbers
(priorities) and dates stay numbers and dates.

The file is written beside its final name and moved into place when complete (owner-only
permissions): a failed or cancelled export leaves no half file. An export is plaintext by
nature; saying so to the user is the caller's part.
"""

from __future__ import annotations

import csv
import os
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterator

from desktop.i18n import NP_, label, tr
from desktop.io.cells import csv_safe
from desktop.io.columns import EXPORT_COLUMNS, availability_label, kind_label, yes_no_label
from desktop.io.errors import Cancelled, IoError, check_cancel
from desktop.io.read import PROGRESS_EVERY, Progress
from desktop.io.xlsx_writer import XlsxWriter
from desktop.store.phones import format_phone
from sync.records import PHONE_CHANNEL_KINDS

EXPORT_FORMATS = ("xlsx", "csv", "vcf")
SHEET_NAME_MAX = 31  # Excel's limit
_SHEET_NAME_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})
_COLUMN_WIDTHS = (28, 32, 14, 48, 16, 12, 14, 18, 30, 24, 9, 12, 40, 38, 38)
_SWEDISH_ORDER = str.maketrans({"å": "{", "ä": "|", "ö": "}"})  # å, ä, ö after z, in that order

ROLE_LABELS: dict[str, tuple[str, str]] = {
    "convenor": NP_("value", "convenor"),
    "chair": NP_("value", "chair"),
    "member": NP_("value", "member"),
    "secretary": NP_("value", "secretary"),
    "observer": NP_("value", "observer"),
}
_TEL_TYPES = {"phone": ["work", "voice"], "mobile": ["work", "cell", "voice"], "satellite": ["work", "voice"]}


@dataclass(frozen=True)
class ExportResult:
    path: Path
    format: str
    organisations: int
    functions: int
    channels: int


def sort_key(text: str | None) -> str:
    """Swedish alphabetical order, case aside."""
    return (text or "").casefold().translate(_SWEDISH_ORDER)


@dataclass
class _Directory:
    """What an export holds: organisations, their functions, the functions' channels and mandates."""

    organisations: list[dict]
    functions: dict[str, list[dict]]  # organisation id -> functions
    channels: dict[str, list[dict]]  # function id -> channels in priority order
    mandates: dict[str, list[tuple[str, dict]]]  # function id -> (forum name, mandate fields)

    @classmethod
    def load(cls, store, organisation_ids: list[str] | None, with_mandates: bool) -> _Directory:
        organisations = [
            r for r in store.list("organisations")
            if organisation_ids is None or r["record_id"] in organisation_ids
        ]
        organisations.sort(key=lambda r: sort_key(r["fields"].get("name")))
        wanted = {r["record_id"] for r in organisations}
        functions: dict[str, list[dict]] = {}
        for record in store.list("functions"):
            owner = record["fields"].get("organisation_id")
            if owner in wanted:
                functions.setdefault(owner, []).append(record)
        for records in functions.values():
            records.sort(key=lambda r: sort_key(r["fields"].get("name")))
        function_ids = {r["record_id"] for records in functions.values() for r in records}
        channels: dict[str, list[dict]] = {}
        for record in store.list("channels"):
            fid = record["fields"].get("function_id")
            if fid in function_ids:
                channels.setdefault(fid, []).append(record)
        for records in channels.values():
            records.sort(key=lambda r: (
                r["fields"].get("priority") is None, r["fields"].get("priority") or 0,
                sort_key(r["fields"].get("value")),
            ))
        mandates: dict[str, list[tuple[str, dict]]] = {}
        if with_mandates:
            forums = {r["record_id"]: r["fields"].get("name") or "" for r in store.list("forums")}
            for record in store.list("mandates"):
                fid = record["fields"].get("function_id")
                if fid in function_ids:
                    forum = forums.get(record["fields"].get("forum_id"), "")
                    mandates.setdefault(fid, []).append((forum, record["fields"]))
        return cls(organisations, functions, channels, mandates)

    def count(self) -> tuple[int, int, int]:
        functions = sum(len(v) for v in self.functions.values())
        channels = sum(len(self.channels.get(f["record_id"], [])) for v in self.functions.values() for f in v)
        return len(self.organisations), functions, channels

    def row_count(self, organisation: dict) -> int:
        return sum(
            max(1, len(self.channels.get(f["record_id"], [])))
            for f in self.functions.get(organisation["record_id"], [])
        )

    def rows(self, organisation: dict) -> Iterator[list[Any]]:
        """The export's rows of one organisation: one per channel, one for a function without any."""
        org_name = organisation["fields"].get("name") or ""
        for function in self.functions.get(organisation["record_id"], []):
            f = function["fields"]
            verified = f.get("last_verified")
            head = [
                org_name, f.get("name"), f.get("short_name"), f.get("description"),
                availability_label(f.get("availability")) or None, yes_no_label(f.get("is_contact_point")) or None,
                date.fromisoformat(verified) if verified else None,
            ]
            channels = self.channels.get(function["record_id"]) or [None]
            for channel in channels:
                if channel is None:
                    tail: list[Any] = [None] * 6 + [function["record_id"], None]
                else:
                    c = channel["fields"]
                    tail = [
                        kind_label(c.get("kind")), shown_value(c.get("kind"), c.get("value")),
                        c.get("label"), c.get("priority"), yes_no_label(c.get("resilient")) or None,
                        c.get("note"), function["record_id"], channel["record_id"],
                    ]
                yield head + tail


def shown_value(kind: str | None, value: str | None) -> str | None:
    """A channel's value as a person reads it (Swedish numbers nationally: "070-174 06 05")."""
    if value and kind in PHONE_CHANNEL_KINDS:
        return format_phone(value)
    return value


def headers() -> list[str]:
    return [column.title() for column in EXPORT_COLUMNS]


def export_directory(
    store,
    fmt: str,
    out: Path | str,
    *,
    organisation_ids: list[str] | None = None,
    progress: Progress | None = None,
    cancel: Any = None,
) -> ExportResult:
    """Write the directory (every organisation, or those of ``organisation_ids``) to ``out``."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    out = Path(out)
    directory = _Directory.load(store, organisation_ids, with_mandates=fmt == "vcf")
    writer: Callable[[_Directory, Any, Progress | None, Any], None] = {
        "xlsx": _write_xlsx, "csv": _write_csv, "vcf": _write_vcf,
    }[fmt]
    try:
        handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    except OSError as exc:
        raise IoError("export.unwritable", path=str(out), reason=exc.strerror or type(exc).__name__) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            writer(directory, stream, progress, cancel)
        os.replace(temporary, out)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, Cancelled):
            raise Cancelled("export.cancelled") from None
        if isinstance(exc, OSError):
            raise IoError("export.unwritable", path=str(out), reason=exc.strerror or type(exc).__name__) from None
        raise
    organisations, functions, channels = directory.count()
    return ExportResult(out, fmt, organisations, functions, channels)


class _Progress:
    def __init__(self, directory: _Directory, progress: Progress | None, cancel: Any) -> None:
        self.total = sum(directory.row_count(o) for o in directory.organisations)
        self.done = 0
        self.progress = progress
        self.cancel = cancel

    def organisation(self) -> None:
        """At each organisation (a small export has fewer rows than a progress step)."""
        check_cancel(self.cancel, "export.cancelled")
        if self.progress:
            self.progress("export", self.done, self.total)

    def step(self) -> None:
        self.done += 1
        if self.done % PROGRESS_EVERY == 0:
            check_cancel(self.cancel, "export.cancelled")
            if self.progress:
                self.progress("export", self.done, self.total)


# --- XLSX --------------------------------------------------------------------------------------


def sheet_names(organisations: list[dict]) -> list[str]:
    """A valid, unique sheet name per organisation (Excel: 31 characters, no []:*?/\\)."""
    names: list[str] = []
    taken: set[str] = set()
    for organisation in organisations:
        fields = organisation["fields"]
        name = (fields.get("name") or "").translate(_SHEET_NAME_FORBIDDEN).strip("' ")
        if len(name) > SHEET_NAME_MAX and fields.get("short_name"):
            name = fields["short_name"].translate(_SHEET_NAME_FORBIDDEN).strip("' ")
        name = name[:SHEET_NAME_MAX].strip() or "Organisation"
        candidate, number = name, 2
        while candidate.casefold() in taken:
            suffix = f" ({number})"
            candidate = name[: SHEET_NAME_MAX - len(suffix)] + suffix
            number += 1
        taken.add(candidate.casefold())
        names.append(candidate)
    return names


def _write_xlsx(directory: _Directory, stream, progress: Progress | None, cancel: Any) -> None:
    counter = _Progress(directory, progress, cancel)
    book = XlsxWriter(stream)
    titles = headers()
    try:
        for organisation, name in zip(directory.organisations, sheet_names(directory.organisations)):
            counter.organisation()
            book.sheet(name, titles, _COLUMN_WIDTHS, rows=directory.row_count(organisation))
            for row in directory.rows(organisation):
                book.row(row)
                counter.step()
        if not directory.organisations:
            book.sheet("Samverka", titles, _COLUMN_WIDTHS, rows=0)
    except BaseException:
        book.abort()
        raise
    book.close()


# --- CSV ---------------------------------------------------------------------------------------


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        return csv_safe(value)
    if isinstance(value, date):
        return value.isoformat()
    return value  # a number: written as it is, and stays a number


def _write_csv(directory: _Directory, stream, progress: Progress | None, cancel: Any) -> None:
    import io

    counter = _Progress(directory, progress, cancel)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    writer = csv.writer(text, delimiter=";", quotechar='"', lineterminator="\r\n")
    writer.writerow([csv_safe(t) for t in headers()])
    for organisation in directory.organisations:
        counter.organisation()
        for row in directory.rows(organisation):
            writer.writerow([_csv_cell(v) for v in row])
            counter.step()
    text.flush()
    text.detach()


# --- vCard 4.0 ---------------------------------------------------------------------------------


def _write_vcf(directory: _Directory, stream, progress: Progress | None, cancel: Any) -> None:
    counter = _Progress(directory, progress, cancel)
    for organisation in directory.organisations:
        counter.organisation()
        for function in directory.functions.get(organisation["record_id"], []):
            card = vcard(organisation, function, directory.channels.get(function["record_id"], []),
                         directory.mandates.get(function["record_id"], []))
            stream.write(card.serialize().encode("utf-8"))
            counter.step()


def vcard(organisation: dict, function: dict, channels: list[dict], mandates: list[tuple[str, dict]]):
    """One function as a vCard 4.0 (a vobject component)."""
    import vobject

    org = organisation["fields"].get("name") or ""
    f = function["fields"]
    name = f.get("name") or ""
    card = vobject.vCard()
    card.add("version").value = "4.0"
    card.add("uid").value = f"urn:uuid:{function['record_id']}"
    card.add("fn").value = f"{name}, {org}" if org else name
    card.add("org").value = [org]
    card.add("title").value = name
    if f.get("short_name"):
        card.add("nickname").value = f["short_name"]
    for channel in channels:
        c = channel["fields"]
        kind, value = c.get("kind"), c.get("value") or ""
        pref = c.get("priority")
        if kind in PHONE_CHANNEL_KINDS:
            line = card.add("tel")
            if value.startswith("+"):
                line.value = f"tel:{value}"
                line.params["VALUE"] = ["uri"]
            else:
                line.value = value
            line.params["TYPE"] = list(_TEL_TYPES[kind])
        elif kind in ("email", "functional_mailbox"):
            line = card.add("email")
            line.value = value
            line.params["TYPE"] = ["work"]
        elif kind == "web":
            line = card.add("url")
            line.value = value
        else:
            continue  # Rakel, radio, other: not dialable; in the note
        if isinstance(pref, int) and 1 <= pref <= 100:
            line.params["PREF"] = [str(pref)]
    note = _note(f, channels, mandates)
    if note:
        card.add("note").value = note
    return card


def _note(function: dict, channels: list[dict], mandates: list[tuple[str, dict]]) -> str:
    parts: list[str] = []
    if function.get("description"):
        parts.append(function["description"])
    facts = []
    if function.get("availability"):
        facts.append(tr("Reachable: {when}", when=availability_label(function["availability"])))
    if function.get("is_contact_point"):
        facts.append(tr("Contact point (ISK) of the organisation"))
    if function.get("last_verified"):
        facts.append(tr("Last verified: {date}", date=function["last_verified"]))
    if facts:
        parts.append("\n".join(facts))
    if mandates:
        lines = [tr("Mandates:")]
        for forum, mandate in sorted(mandates, key=lambda m: sort_key(m[0])):
            role = label(ROLE_LABELS.get(mandate.get("role") or ""), mandate.get("role") or "")
            line = f"{forum} ({role})"
            if mandate.get("mandate"):
                line += f": {mandate['mandate']}"
            lines.append(f"– {line}")
        parts.append("\n".join(lines))
    if channels:
        lines = [tr("Channels:")]
        for channel in channels:
            c = channel["fields"]
            line = f"{kind_label(c.get('kind'))}: {shown_value(c.get('kind'), c.get('value'))}"
            if c.get("label"):
                line += f" ({c['label']})"
            if c.get("resilient"):
                line += " – " + tr("works during outages")
            if c.get("note"):
                line += f" – {c['note']}"
            lines.append(f"{c.get('priority') or '–'}. {line}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)
