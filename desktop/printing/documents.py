"""What is printed, as HTML: a forum's call list, the directory as a binder, an activation's journal (the after-action record).

No Qt here: each builder reads through desktop.activation's service (and desktop.views)
and returns a ``PrintJob`` — its title, whether it belongs to an exercise, the data's freshness
and the body as HTML that ``QTextDocument`` lays out (desktop/printing/pages.py puts the title,
print date, freshness, page numbers and the exercise mark on every page). Every text goes
through the one catalog, in the language chosen when the job is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any, Iterable, Sequence

from desktop.activation import ActivationService, CallListRow, JournalEntry
from desktop.activation.situation import SECTIONS
from desktop.activation.words import elapsed_text, exercise_word, kind_label, role_label, status_label
from desktop.i18n import N_, tr
from desktop.store.messages import level_label
from desktop.syncer.messages import when_text
from desktop.views import ChannelRow, channels_by_function, forum_detail, forums_by_level, function_name
from sync.records import LEVELS


@dataclass(frozen=True)
class PrintJob:
    """One printout: ``html`` is the body; the rest goes on every page."""

    title: str
    html: str
    exercise: bool
    printed: str  # "Utskriven 2026-12-06 14:03"
    freshness: str  # "Senast synkad 2026-12-06 13:58" or "Aldrig synkad"
    exercise_mark: str  # "ÖVNING" (shown only for an exercise)

    def page_text(self, page: int, pages: int) -> str:
        return tr("Page {page} of {pages}", page=page, pages=pages)


def _job(service: ActivationService, title: str, html: str, exercise: bool = False) -> PrintJob:
    synced = service.last_synced()
    freshness = tr("Last synced {when}", when=when_text(synced)) if synced else tr("Never synced")
    printed = tr("Printed {when}", when=datetime.now().astimezone().strftime("%Y-%m-%d %H:%M"))
    return PrintJob(title, html, exercise, printed, freshness, exercise_word())


# --- pieces ------------------------------------------------------------------------------------

STYLE = """
<style>
h1 { font-size: 15pt; margin: 0 0 4pt 0; }
h2 { font-size: 12pt; margin: 10pt 0 3pt 0; }
h3 { font-size: 10.5pt; margin: 7pt 0 2pt 0; }
p { margin: 0 0 2pt 0; }
.muted { color: #444444; }
.mark { font-weight: bold; }
.entry { margin: 4pt 0 0 0; }
.correction { margin: 1pt 0 0 18pt; }
td, th { padding: 1pt 4pt 1pt 0; vertical-align: top; }
th { text-align: left; }
</style>
"""


def _e(text: Any) -> str:
    return escape(str(text or ""))


# Texts used inside f-strings below (where the catalog's extractor cannot see them).
_PRINTED_WORDS = (
    N_('Reserve route'),
    N_('No channel recorded: this function cannot be reached.'),
    N_('Mandate'),
    N_('Reports back'),
    N_('ACTIVATED since {when}: {reason}'),
    N_('Part 1: Forums by level'),
    N_('Part 2: Organisations and their functions'),
    N_('No functions recorded.'),
    N_('(contact point)'),
    N_('internal to another organisation'),
    N_('Correction of'),
    N_('corrected by {ids}'),
    N_('Integrity of the journal'),
    N_('Chain head: {head}'),
    N_('Call-out'),
    N_('Call-out timeline'),
    N_('No call-out recorded.'),
    N_('Checklists'),
    N_('Report-back to the home organisations'),
    N_('Journal'),
    N_('The journal is empty.'),
)


def _w(text: str, **values: Any) -> str:
    """A printed word: translated and escaped (its source text is in _PRINTED_WORDS)."""
    return _e(tr(text, **values))


def _lines(text: str) -> str:
    return "<br/>".join(_e(line) for line in (text or "").splitlines())


def _channel_cells(channel: ChannelRow) -> str:
    reserve = f" <span class='mark'>⚡ {_w('Reserve route')}</span>" if channel.resilient else ""
    extra = " · ".join(p for p in (channel.label or "", channel.note or "") if p)
    return (
        f"<td width='4%'>{_e(channel.priority or '–')}</td><td width='17%'>{_e(channel.kind_label)}</td>"
        f"<td width='38%'><b>{_e(channel.shown)}</b>{reserve}</td><td width='41%' class='muted'>{_e(extra)}</td>"
    )


def _channels_table(channels: Sequence[ChannelRow]) -> str:
    if not channels:
        return f"<p class='muted'>{_w('No channel recorded: this function cannot be reached.')}</p>"
    rows = "".join(f"<tr>{_channel_cells(c)}</tr>" for c in channels)
    return f"<table width='100%' cellspacing='0' cellpadding='1'>{rows}</table>"


def _member_block(row: CallListRow, number: int, status: str | None = None) -> str:
    head = f"{number}. {_e(row.name)} — {_e(row.organisation_name)} ({_e(role_label(row.role))})"
    if status:
        head += f" · <span class='mark'>[{_e(status)}]</span>"
    parts = [f"<h3>{head}</h3>"]
    if row.mandate:
        parts.append(f"<p><b>{_w('Mandate')}:</b> {_lines(row.mandate)}</p>")
    if row.reports_back:
        parts.append(f"<p><b>{_w('Reports back')}:</b> {_lines(row.reports_back)}</p>")
    parts.append(_channels_table(row.channels))
    return "".join(parts)


# --- a forum's call list -----------------------------------------------------------------------

def calllist_job(service: ActivationService, forum_id: str) -> PrintJob:
    """A forum's call list: every member function with organisation, role, mandate and every
    channel in priority order; the open activation, if any, with its call-out state."""
    detail = forum_detail(service.store, forum_id)
    if detail is None:
        from desktop.activation import ActivationError

        raise ActivationError("activation.unknown_forum", text=forum_id)
    open_now = next((a for a in service.activations(forum_id=forum_id) if a.is_open), None)
    rows: Iterable[CallListRow]
    status_of: dict[str, str] = {}
    if open_now is not None:
        rows = service.call_list(open_now.activation_id).rows
        status_of = {r.function_id: status_label(r.status) for r in rows}
    else:
        rows = service.forum_rows(forum_id)
    title = tr("Call list: {forum}", forum=detail.name)
    parts = [STYLE, f"<h1>{_e(title)}</h1>"]
    facts = [
        (tr("Level"), detail.level_label),
        (tr("Convenor"), f"{detail.convenor.name}, {detail.convenor.organisation_name}" if detail.convenor else ""),
        (tr("Meeting channel"), detail.meeting_channel),
        (tr("Cadence"), detail.cadence),
    ]
    parts += [f"<p><b>{_e(k)}:</b> {_e(v)}</p>" for k, v in facts if v]
    if open_now is not None:
        mark = f"{exercise_word()}: " if open_now.exercise else ""
        parts.append(f"<p class='mark'>{_e(mark)}{_w('ACTIVATED since {when}: {reason}', when=when_text(open_now.started_at), reason=open_now.reason)}</p>")
    for number, row in enumerate(rows, 1):
        parts.append(_member_block(row, number, status_of.get(row.function_id)))
    return _job(service, title, "".join(parts), bool(open_now and open_now.exercise))


# --- the directory as a binder -------------------------------------------------------------------

def directory_job(service: ActivationService) -> PrintJob:
    """The whole directory as a binder ("pärm"): part 1 by level → forum (purpose, convenor,
    members with role, mandate and channels), part 2 by organisation → function (channels)."""
    store = service.store
    title = tr("Directory binder")
    parts = [STYLE, f"<h1>{_e(title)}</h1>", f"<h2>{_w('Part 1: Forums by level')}</h2>"]
    by_level = forums_by_level(store)
    for level in LEVELS:
        forums = by_level.get(level, [])
        if not forums:
            continue
        parts.append(f"<h2>{_e(level_label(level))}</h2>")
        for forum in forums:
            detail = forum_detail(store, forum.forum_id)
            if detail is None:
                continue
            parts.append(f"<h3>{_e(detail.name)}</h3>")
            for key, value in ((tr("Purpose"), detail.purpose), (tr("Cadence"), detail.cadence),
                               (tr("Meeting channel"), detail.meeting_channel)):
                if value:
                    parts.append(f"<p><b>{_e(key)}:</b> {_lines(value)}</p>")
            for number, row in enumerate(service.forum_rows(forum.forum_id), 1):
                mandate = f" — {_e(row.mandate)}" if row.mandate else ""
                best = row.channels[0] if row.channels else None
                reach = f" · <b>{_e(best.shown)}</b> ({_e(best.kind_label)})" if best else ""
                parts.append(f"<p>{number}. {_e(row.name)}, {_e(row.organisation_name)} "
                             f"[{_e(role_label(row.role))}]{mandate}{reach}</p>")
    parts.append(f"<h2>{_w('Part 2: Organisations and their functions')}</h2>")
    organisations = store.list("organisations")
    organisations.sort(key=lambda o: (o["fields"].get("name") or "").casefold())
    functions = store.list("functions")
    channels = channels_by_function(store, [f["record_id"] for f in functions])
    by_org: dict[str, list[dict]] = {}
    for function in functions:
        by_org.setdefault(function["fields"].get("organisation_id") or "", []).append(function)
    for organisation in organisations:
        parts.append(f"<h2>{_e(organisation['fields'].get('name'))}</h2>")
        members = sorted(by_org.get(organisation["record_id"], []), key=lambda f: (f["fields"].get("name") or "").casefold())
        if not members:
            parts.append(f"<p class='muted'>{_w('No functions recorded.')}</p>")
        for function in members:
            fields = function["fields"]
            contact = f" <span class='mark'>{_w('(contact point)')}</span>" if fields.get("is_contact_point") else ""
            parts.append(f"<h3>{_e(function_name(fields))}{contact}</h3>")
            parts.append(_channels_table(channels.get(function["record_id"], [])))
    return _job(service, title, "".join(parts))


# --- an activation's journal (the after-action record) ------------------------------------------

def _entry_html(entry: JournalEntry, depth: int) -> str:
    css = "correction" if depth else "entry"
    place = f"#{entry.index}" if entry.index is not None else tr("not sequenced yet")
    if entry.hidden:
        return f"<p class='{css} muted'>{_e(place)} — {_w('internal to another organisation')}</p>"
    who = ", ".join(p for p in (entry.author or entry.organisation_name, entry.device_name) if p)
    head = (f"<b>{_e(place)}</b> {_e(when_text(entry.at))} · <b>{_e(kind_label(entry.kind))}</b> · "
            f"{_e(who)} · <span class='muted'>{_e(entry.entry_id[:8])}</span>")
    if depth:
        head = f"↳ <b>{_w('Correction of')} {_e((entry.corrects or '')[:8])}</b> · " + head
    if entry.corrected_by:
        head += f" · <i>{_w('corrected by {ids}', ids=', '.join(i[:8] for i in entry.corrected_by))}</i>"
    if entry.situation is not None:
        body = []
        report = entry.situation
        for key, heading in SECTIONS:
            if key == "party_reports":
                body.append(f"<b>{_e(tr(heading))}</b>")
                body += [f"<i>{_e(p.party)}:</i> {_lines(p.text)}" for p in report.party_reports]
            elif getattr(report, key):
                body.append(f"<b>{_e(tr(heading))}:</b> {_lines(getattr(report, key))}")
        text = "<br/>".join(body)
    else:
        text = _lines(entry.text)
    return f"<p class='{css}'>{head}<br/>{text}</p>"


def journal_job(service: ActivationService, activation_id: str) -> PrintJob:
    """An activation's after-action record: the activation, the chain's state, the call-out
    timeline and final state, the checklists, the report-backs and the whole journal."""
    record = service.record(activation_id)
    summary = record.activation
    title = tr("Journal: {forum}", forum=summary.forum_name)
    parts = [STYLE, f"<h1>{_e(title)}</h1>"]
    if summary.exercise:
        parts.append(f"<p class='mark'>{_e(exercise_word())}</p>")
    facts = [
        (tr("Reason"), summary.reason),
        (tr("Activated"), when_text(summary.started_at)),
        (tr("Activated by"), summary.started_by),
        (tr("Ended"), when_text(summary.ended_at) if summary.ended_at else tr("still open")),
        (tr("Duration"), elapsed_text(record.call_list.elapsed_ms)),
        (tr("Activation id"), summary.activation_id),
    ]
    parts += [f"<p><b>{_e(k)}:</b> {_e(v)}</p>" for k, v in facts if v]
    check = record.journal.check
    parts.append(f"<h2>{_w('Integrity of the journal')}</h2><p>{_e(check.text)}</p>")
    parts.append(f"<p class='muted'>{_w('Chain head: {head}', head=check.head)}</p>")

    parts.append(f"<h2>{_w('Call-out')}</h2><table cellspacing='0'>")
    parts.append("<tr>" + "".join(f"<th>{_e(h)}</th>" for h in (
        tr("Function"), tr("Organisation"), tr("Status"), tr("Answered after"))) + "</tr>")
    for row in record.call_list.rows:
        parts.append(f"<tr><td>{_e(row.name)}</td><td>{_e(row.organisation_name)}</td>"
                     f"<td>{_e(status_label(row.status))}</td><td>{_e(elapsed_text(row.acknowledged_after_ms))}</td></tr>")
    parts.append("</table>")
    names = {r.function_id: f"{r.name}, {r.organisation_name}" for r in record.call_list.rows}
    parts.append(f"<h3>{_w('Call-out timeline')}</h3>")
    if not record.call_list.events:
        parts.append(f"<p class='muted'>{_w('No call-out recorded.')}</p>")
    for event in record.call_list.events:
        note = f" — {_e(event.note)}" if event.note else ""
        parts.append(f"<p>{_e(when_text(event.at))} · {_e(names.get(event.function_id, event.function_id[:8]))}: "
                     f"<b>{_e(status_label(event.status))}</b> ({_e(event.organisation_name)}){note}</p>")

    parts.append(f"<h2>{_w('Checklists')}</h2>")
    for checklist in record.checklists:
        parts.append(f"<h3>{_e(checklist.title)} ({_e(checklist.owner)}) — {checklist.done}/{len(checklist.steps)}</h3>")
        for place, step in enumerate(checklist.steps, 1):
            tick = "☑" if step.done else "☐"
            when = f" <span class='muted'>({_e(when_text(step.marked_at))}, {_e(step.marked_by)})</span>" if step.marked_at else ""
            parts.append(f"<p>{tick} {place}. {_e(step.text)}{when}</p>")

    parts.append(f"<h2>{_w('Report-back to the home organisations')}</h2>")
    meeting = record.report_backs.latest_meeting
    for row in record.report_backs.rows:
        done = row.reported_for(meeting)
        state = tr("reported back {when}", when=when_text(done.at)) if done else tr("not reported back")
        parts.append(f"<p>{'✓' if done else '✗'} {_e(row.organisation_name)}: {_e(state)}</p>")

    parts.append(f"<h2>{_w('Journal')}</h2>")
    if not record.journal.entries:
        parts.append(f"<p class='muted'>{_w('The journal is empty.')}</p>")
    parts += [_entry_html(entry, depth) for entry, depth in record.journal.threaded()]
    return _job(service, title, "".join(parts), summary.exercise)
