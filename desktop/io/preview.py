"""The import preview in words: counts, refused rows (runs of lines as ranges), one line per change.

The CLI prints these lines; the window's import dialog can show the same. Everything is made
in the language in use when it is called.
"""

from __future__ import annotations

from typing import Any

from desktop.i18n import fill, ngettext, tr
from desktop.io.columns import COLUMNS_BY_ID, availability_label, fold, kind_label, yes_no_label
from desktop.io.export import shown_value
from desktop.io.messages import io_message
from desktop.io.plan import Change, ImportPlan, column_for_field


def plural(text: str, n: int) -> str:
    """A text from ngettext with its {n} filled in (the literals stay in the ngettext call, where
    the catalog's extractor finds them)."""
    return fill(text, {"n": n})


def count_words(counts: dict[str, int]) -> str:
    functions, channels = counts.get("functions", 0), counts.get("channels", 0)
    parts = [
        plural(ngettext("{n} function", "{n} functions", functions), functions),
        plural(ngettext("{n} channel", "{n} channels", channels), channels),
    ]
    if counts.get("organisations"):
        parts.insert(0, plural(ngettext("{n} organisation", "{n} organisations", counts["organisations"]), counts["organisations"]))
    return ", ".join(parts)


def preview_lines(plan: ImportPlan, *, changes_shown: int | None = None) -> list[str]:
    """The preview as lines of text: the file, the organisation, the columns, notes, counts, every
    refused row, and the changes (the first ``changes_shown``, or all)."""
    lines: list[str] = []
    say = lines.append
    table = plan.table

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
    say(tr("To create: {counts}.", counts=count_words(created)))
    say(tr("To update: {counts}.", counts=count_words(updated)))
    say(plural(ngettext("Unchanged: {n} row.", "Unchanged: {n} rows.", plan.unchanged_rows), plan.unchanged_rows))
    if plan.absent.get("functions") or plan.absent.get("channels"):
        say(tr("In the vault but not in the file (left as they are): {counts}.", counts=count_words(plan.absent)))
    if plan.refused:
        say(plural(ngettext("Refused: {n} row.", "Refused: {n} rows.", len(plan.refused)), len(plan.refused)))
        for where, reason in refused_lines(plan):
            say(f"  {where}: {reason}")
    shown = [c for c in plan.changes if c.collection != "organisations"]
    limit = len(shown) if changes_shown is None else changes_shown
    for change in shown[:limit]:
        say("  " + describe_change(change))
    if len(shown) > limit:
        hidden = len(shown) - limit
        say("  " + plural(ngettext("… and {n} more change.", "… and {n} more changes.", hidden), hidden))
    return lines


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
        return kind_label(value)
    if field == "value":
        return shown_value(kind, value) or "–"
    return str(value) if len(str(value)) <= 60 else str(value)[:57] + "…"


def change_subject(change: Change) -> str:
    """What a change is about: "Function “TiB”", "Channel 070-174 06 05 (Mobile) of “TiB”"."""
    kind, value = change.channel or (None, None)
    if change.collection == "functions":
        return tr("Function “{name}”", name=change.function_name)
    return tr("Channel {value} ({kind}) of “{function}”", value=_value("value", value, kind),
              kind=kind_label(kind), function=change.function_name)


def change_details(change: Change) -> str:
    """What an update changes, "Note: “a” → “b”; …" ("" for a create)."""
    if change.op == "create":
        return ""
    fields = change.fields
    kind = (change.channel or (None, None))[0]
    return "; ".join(
        f"{COLUMNS_BY_ID[column_for_field(name)].title() if column_for_field(name) in COLUMNS_BY_ID else name}: "
        f"{_value(name, change.before.get(name), kind)} → {_value(name, new, fields.get('kind', kind))}"
        for name, new in fields.items()
    )


def describe_change(change: Change) -> str:
    """One line: "+ Function “TiB”", "~ Channel 070-174 06 05 of “TiB”: Note: “a” → “b”"."""
    if change.op == "create":
        return f"+ {change_subject(change)}"
    return f"~ {change_subject(change)}: {change_details(change)}"
