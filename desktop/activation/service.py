"""ActivationService: activate and end a forum, call it out, tick its routines, keep its journal, record report-backs.

The domain of activated mode over the Store, without Qt: the window calls it from a worker
thread (every Store call is thread-safe), the CLI directly. Every write is first asked of the
shared write rules through desktop.permissions (the server enforces the same table), and is an
ordinary store change that syncs later: all of it works offline.

Statuses, ticks, journal entries and report-backs are append-only records (SYNC.md rule 5): two
officers working in parallel add events and never overwrite each other; what a list shows is
the latest event of each function or step, by its time (then its id, so that every device
shows the same). The journal's order is the server's (sync.journal); entries not yet synced
follow, by time.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Iterable, Mapping, Sequence

from desktop.activation import situation as situation_mod
from desktop.activation.model import (
    ACKNOWLEDGED,
    ActivationRecord,
    ActivationSummary,
    CalloutEvent,
    CallList,
    CallListRow,
    Checklist,
    ChecklistStep,
    Journal,
    JournalCheck,
    JournalEntry,
    ReportBack,
    ReportBackRow,
    ReportBacks,
)
from desktop.activation.words import BREAK_TEXTS, ActivationError
from desktop.i18n import keyed, ngettext, tr
from desktop.permissions import local_actor, may_write
from desktop.store.filters import In
from desktop.views import channels_by_function, function_name
from sync import journal as chain
from sync.clock import format_time, parse_time
from sync.records import CALLOUT_STATUSES, LOG_KINDS

ACTIVATED_MODES = ("activated", "both")
_ROLE_ORDER = ("convenor", "chair", "secretary", "member", "observer")
META_DIRECTORY = "sync.directory"  # desktop.syncer.engine's device directory (device -> name)
META_LAST_SUCCESS = "sync.last_success"  # desktop.syncer.engine: the last successful sync


def _ms(text: str | None) -> int | None:
    try:
        return parse_time(text) if text else None
    except (TypeError, ValueError, OverflowError):
        return None


_DIGESTS: dict[chain.Entry, str] = {}  # an entry's whole content -> its digest (see RememberedEntry)
DIGESTS_KEPT = 20_000  # about ten journals of 2,000 entries (each kept with its text: a few MB)


class RememberedEntry(chain.Entry):
    """A journal entry whose digest is remembered by its whole content: the window checks the
    chain at every reload of a journal, and hashing 2,000 entries each time is most of that
    read. An altered entry is different content, so it is hashed afresh and the break found."""

    def digest(self) -> str:
        found = _DIGESTS.get(self)  # TypeError for content that is not text: _digest_or_none's case
        if found is None:
            found = super().digest()
            if len(_DIGESTS) >= DIGESTS_KEPT:
                _DIGESTS.clear()
            _DIGESTS[self] = found
        return found


class ActivationService:
    """Activated mode over one store. Cheap to make; holds no state of its own but the store."""

    def __init__(self, store: Any) -> None:
        self.store = store

    # --- time and who writes ------------------------------------------------------------------

    def now_ms(self) -> int:
        """The store's clock's idea of now: the wall clock corrected by the server's offset, so
        that times written on two devices compare."""
        return int(self.store.clock.physical_ms())

    def now(self) -> str:
        return format_time(self.now_ms())

    def own_organisation(self) -> str | None:
        """The enrolled device's organisation (None: a standalone vault)."""
        actor = local_actor(self.store)
        return actor.organisation_id if actor is not None else None

    def _ask(self, collection: str, op: str, record_id: str | None, fields: Mapping[str, Any]) -> None:
        permission = may_write(self.store, collection, op, record_id, dict(fields))
        if not permission:
            raise ActivationError("activation.refused", reason=permission.text)

    def may_activate(self, forum_id: str):
        """desktop.permissions.Permission: may this device activate the forum?"""
        return may_write(self.store, "activations", "create", None,
                         {"forum_id": forum_id, "reason": "-", "started_at": self.now()})

    def may_write_journal(self, activation_id: str):
        """May this device add call-out events, journal entries and ticks to the activation?"""
        return may_write(self.store, "log_entries", "create", None,
                         {"activation_id": activation_id, "at": self.now(), "kind": "information", "text": "-"})

    def may_end(self, activation_id: str):
        """May this device end the activation (set ``ended_at``)? The window's [Avsluta]."""
        return may_write(self.store, "activations", "update", activation_id, {"ended_at": self.now()})

    # --- activations ----------------------------------------------------------------------------

    def activate(
        self, forum_id: str, reason: str, *, exercise: bool = False, by_function_id: str | None = None
    ) -> str:
        """Put a forum in activated mode; returns the activation's id. Refused while the forum
        has an open activation here (end it first), and for anyone but the regional
        administrator and the forum's convenor organisation."""
        if not (reason or "").strip():
            raise ActivationError("activation.empty_reason")
        forum = self._forum(forum_id)
        for open_one in self.activations(forum_id=forum_id):
            if open_one.is_open:
                raise ActivationError(
                    "activation.already_open", forum=open_one.forum_name, reason=open_one.reason,
                    since=open_one.started_at, activation=open_one.activation_id[:8],
                )
        fields = {
            "forum_id": forum["record_id"], "reason": reason.strip(), "exercise": bool(exercise),
            "started_at": self.now(),
        }
        author = by_function_id or self.default_author(forum["record_id"])
        if author:
            fields["started_by_function_id"] = author
        self._ask("activations", "create", None, fields)
        return self.store.create("activations", fields)

    def end(self, activation_id: str, note: str | None = None, *, author_function_id: str | None = None) -> str:
        """End an activation: ``ended_at`` set and a closing journal entry, in one transaction.
        Returns the closing entry's id."""
        summary = self.summary(activation_id)
        if not summary.is_open:
            raise ActivationError("activation.already_ended", ended=summary.ended_at)
        ended = self.now()
        self._ask("activations", "update", activation_id, {"ended_at": ended})
        text = tr("The activation is ended.")
        if note and note.strip():
            text += " " + note.strip()
        entry = self._entry_fields(summary, text, "decision", author_function_id, None, at=ended)
        self._ask("log_entries", "create", None, entry)
        with self.store.batch():
            self.store.update("activations", activation_id, {"ended_at": ended})
            return self.store.create("log_entries", entry)

    def summary(self, activation_id: str) -> ActivationSummary:
        record = self.store.get("activations", activation_id)
        if record is None or record["deleted"]:
            raise ActivationError("activation.unknown_activation", text=activation_id)
        return self._summaries([record])[0]

    def activations(self, *, forum_id: str | None = None) -> list[ActivationSummary]:
        """Open activations first (newest first), then past ones (newest first)."""
        records = self.store.list("activations", **({"forum_id": forum_id} if forum_id else {}))
        summaries = self._summaries(records)
        summaries.sort(key=lambda s: s.started_at or "", reverse=True)
        summaries.sort(key=lambda s: not s.is_open)
        return summaries

    def open_for_my_organisation(self) -> list[ActivationSummary]:
        """Open activations of forums this device's organisation sits in (every open one for a
        standalone vault): what the window's banner and notification announce."""
        own = self.own_organisation()
        out = []
        for summary in self.activations():
            if not summary.is_open:
                continue
            if own is None or own in self.forum_organisations(summary.forum_id):
                out.append(summary)
        return out

    def _summaries(self, records: Sequence[Mapping[str, Any]]) -> list[ActivationSummary]:
        forums = {f["record_id"]: f["fields"] for f in self.store.get_many(
            "forums", [r["fields"].get("forum_id") for r in records])}
        starters = self._function_labels(r["fields"].get("started_by_function_id") for r in records)
        seqs = self._server_seqs("activations")
        out = []
        for record in records:
            fields = record["fields"]
            forum = forums.get(fields.get("forum_id") or "", {})
            out.append(ActivationSummary(
                activation_id=record["record_id"], forum_id=fields.get("forum_id") or "",
                forum_name=forum.get("name") or "", forum_level=forum.get("level") or "",
                reason=fields.get("reason") or "", exercise=bool(fields.get("exercise")),
                started_at=fields.get("started_at") or "", ended_at=fields.get("ended_at"),
                started_by_function_id=fields.get("started_by_function_id"),
                started_by=starters.get(fields.get("started_by_function_id") or "", ""),
                owner_org=record.get("owner_org"), sequenced=record["record_id"] in seqs,
            ))
        return out

    def elapsed_ms(self, summary: ActivationSummary) -> int:
        """Time since the activation started (to its end, once ended)."""
        started = _ms(summary.started_at)
        end = _ms(summary.ended_at) if summary.ended_at else self.now_ms()
        return max(0, (end or 0) - started) if started is not None else 0

    def _server_seqs(self, collection: str) -> set[str]:
        return {record_id for record_id, _seq in self.store.server_seqs(collection)}

    def _forum(self, forum_id: str) -> dict[str, Any]:
        forum = self.store.get("forums", forum_id)
        if forum is None or forum["deleted"]:
            raise ActivationError("activation.unknown_forum", text=forum_id)
        return forum

    # --- who sits in a forum --------------------------------------------------------------------

    def _members(self, forum_id: str) -> list[tuple[str, str, str | None, str | None]]:
        """(function_id, role, mandate, reports_back) of every member function and the convenor,
        each function once (its most senior role)."""
        forum = self.store.get("forums", forum_id)
        members: dict[str, tuple[str, str, str | None, str | None]] = {}
        convenor = forum["fields"].get("convenor_function_id") if forum and not forum["deleted"] else None
        for mandate in self.store.list("mandates", forum_id=forum_id):
            fields = mandate["fields"]
            function_id = fields.get("function_id")
            if not function_id:
                continue
            role = fields.get("role") or "member"
            known = members.get(function_id)
            if known is None or _rank(role) < _rank(known[1]):
                members[function_id] = (function_id, role, fields.get("mandate"), fields.get("reports_back"))
        if convenor:
            known = members.get(convenor)
            members[convenor] = (convenor, "convenor", known[2] if known else None, known[3] if known else None)
        return list(members.values())

    def forum_organisations(self, forum_id: str) -> list[str]:
        """The organisations sitting in a forum (a member function or the convenor), by name."""
        function_ids = [m[0] for m in self._members(forum_id)]
        orgs: dict[str, None] = {}
        for function in self.store.get_many("functions", function_ids):
            org = function["fields"].get("organisation_id")
            if org:
                orgs[org] = None
        names = self._names("organisations", orgs)
        return sorted(orgs, key=lambda o: names.get(o, "").casefold())

    def default_author(self, forum_id: str) -> str | None:
        """The function this device writes as in a forum: its organisation's member function
        there (the most senior role), else its organisation's contact point; None standalone."""
        own = self.own_organisation()
        if own is None:
            return None
        members = self._members(forum_id)
        functions = {f["record_id"]: f for f in self.store.get_many("functions", [m[0] for m in members])}
        mine = [m for m in members if (functions.get(m[0]) or {}).get("fields", {}).get("organisation_id") == own]
        if mine:
            return min(mine, key=lambda m: _rank(m[1]))[0]
        contact = [f for f in self.store.list("functions", organisation_id=own) if f["fields"].get("is_contact_point")]
        return contact[0]["record_id"] if contact else None

    # --- names ----------------------------------------------------------------------------------

    def _names(self, collection: str, ids: Iterable[str | None], field_name: str = "name") -> dict[str, str]:
        wanted = [i for i in dict.fromkeys(ids) if i]
        return {r["record_id"]: r["fields"].get(field_name) or "" for r in self.store.get_many(collection, wanted)}

    def _function_labels(self, ids: Iterable[str | None]) -> dict[str, str]:
        """function id -> "Tjänsteman i beredskap (TiB), SOS Alarm"."""
        functions = self.store.get_many("functions", [i for i in dict.fromkeys(ids) if i])
        orgs = self._names("organisations", (f["fields"].get("organisation_id") for f in functions))
        out = {}
        for function in functions:
            org = orgs.get(function["fields"].get("organisation_id") or "", "")
            name = function_name(function["fields"])
            out[function["record_id"]] = f"{name}, {org}" if org else name
        return out

    def _organisation_name(self, owner_org: str | None, names: dict[str, str]) -> str:
        """The writing organisation's name (``names`` caches the names, and this device's own
        organisation under "": a record not yet synced has no ``owner_org``)."""
        if "" not in names:
            names[""] = self.own_organisation() or ""
        owner = owner_org or names[""]
        if not owner:
            if "\0" not in names:  # said once per journal read, not once per entry
                names["\0"] = tr("this computer")
            return names["\0"]
        if owner not in names:
            names.update(self._names("organisations", [owner]))
        return names.get(owner, "")

    # --- call-out -------------------------------------------------------------------------------

    def forum_rows(self, forum_id: str) -> list[CallListRow]:
        """A forum's call list without call-out: every member function and the convenor, with
        organisation, role, mandate and channels in priority order (the printed call list)."""
        members = self._members(forum_id)
        functions = {f["record_id"]: f for f in self.store.get_many("functions", [m[0] for m in members])}
        org_names = self._names("organisations", (f["fields"].get("organisation_id") for f in functions.values()))
        channels = channels_by_function(self.store, list(functions))
        rows = []
        for function_id, role, mandate, reports_back in members:
            function = functions.get(function_id)
            if function is None:
                continue  # deleted since the mandate was given
            fields = function["fields"]
            rows.append(CallListRow(
                function_id=function_id, name=function_name(fields),
                organisation_id=fields.get("organisation_id") or "",
                organisation_name=org_names.get(fields.get("organisation_id") or "", ""),
                role=role, mandate=mandate, reports_back=reports_back,
                channels=tuple(channels.get(function_id, [])), latest=None, acknowledged_after_ms=None,
            ))
        rows.sort(key=lambda r: (r.role != "convenor", r.organisation_name.casefold(), r.name.casefold()))
        return rows

    def call_list(self, activation_id: str, *, now_ms: int | None = None) -> CallList:
        """The activation's call list: the forum's rows (``forum_rows``) with each function's
        latest call-out event and the time it took to answer."""
        summary = self.summary(activation_id)
        now = self.now_ms() if now_ms is None else now_ms
        rows = self.forum_rows(summary.forum_id)
        events = self.callout_events(activation_id, {r.organisation_id: r.organisation_name for r in rows})
        latest: dict[str, CalloutEvent] = {}
        first_answer: dict[str, int] = {}
        for event in events:  # oldest first
            latest[event.function_id] = event
            if event.status in ACKNOWLEDGED and event.function_id not in first_answer:
                at = _ms(event.at)
                if at is not None:
                    first_answer[event.function_id] = at
        started = _ms(summary.started_at) or now
        rows = [
            replace(row, latest=latest.get(row.function_id), acknowledged_after_ms=(
                max(0, first_answer[row.function_id] - started) if row.function_id in first_answer else None))
            for row in rows
        ]
        end = _ms(summary.ended_at) if summary.ended_at else now
        return CallList(summary, tuple(rows), tuple(events), now, max(0, (end or now) - started))

    def callout_events(self, activation_id: str, org_names: dict[str, str] | None = None) -> list[CalloutEvent]:
        """Every call-out event of the activation, oldest first (the timeline)."""
        names = dict(org_names or {})
        seqs = self._server_seqs("callout_events")
        records = self.store.list("callout_events", activation_id=activation_id)
        records.sort(key=lambda r: (r["fields"].get("at") or "", r["record_id"]))
        return [
            CalloutEvent(
                event_id=r["record_id"], function_id=r["fields"].get("function_id") or "",
                status=r["fields"].get("status") or "not_tried", at=r["fields"].get("at") or "",
                note=r["fields"].get("note"),
                organisation_name=self._organisation_name(r.get("owner_org"), names),
                sequenced=r["record_id"] in seqs,
            )
            for r in records
        ]

    def record_callout(self, activation_id: str, function_id: str, status: str, note: str | None = None) -> str:
        """One call-out event (an append-only record): this function is now ``status``."""
        if status not in CALLOUT_STATUSES:
            raise ActivationError("activation.unknown_status", text=status, choices=", ".join(CALLOUT_STATUSES))
        self.summary(activation_id)
        fields: dict[str, Any] = {"activation_id": activation_id, "function_id": function_id,
                                  "status": status, "at": self.now()}
        if note and note.strip():
            fields["note"] = note.strip()
        self._ask("callout_events", "create", None, fields)
        return self.store.create("callout_events", fields)

    # --- routines as checklists ------------------------------------------------------------------

    def checklist_routines(self, summary: ActivationSummary) -> list[dict[str, Any]]:
        """The routines an activation runs as checklists: the forum's routines for activated
        mode, then the convenor organisation's own routines for activated mode that belong to no
        forum (in the demo region: Länsstyrelsen's "Återrapportering", common to all forums)."""
        routines = [r for r in self.store.list("routines", forum_id=summary.forum_id)
                    if r["fields"].get("mode") in ACTIVATED_MODES]
        forum = self.store.get("forums", summary.forum_id)
        convenor = forum["fields"].get("convenor_function_id") if forum and not forum["deleted"] else None
        function = self.store.get("functions", convenor) if convenor else None
        convenor_org = function["fields"].get("organisation_id") if function and not function["deleted"] else None
        if convenor_org:
            routines += [
                r for r in self.store.list("routines", organisation_id=convenor_org)
                if not r["fields"].get("forum_id") and r["fields"].get("mode") in ACTIVATED_MODES
            ]
        return routines

    def checklists(self, activation_id: str) -> list[Checklist]:
        summary = self.summary(activation_id)
        routines = self.checklist_routines(summary)
        steps = self.store.list("routine_steps", routine_id=In([r["record_id"] for r in routines]))
        marks = self.store.list("checklist_marks", activation_id=activation_id)
        marks.sort(key=lambda r: (r["fields"].get("at") or "", r["record_id"]))
        latest: dict[str, Mapping[str, Any]] = {}
        counts: dict[str, int] = {}
        for mark in marks:
            step_id = mark["fields"].get("step_id") or ""
            latest[step_id] = mark
            counts[step_id] = counts.get(step_id, 0) + 1
        responsible = self._function_labels(s["fields"].get("responsible_function_id") for s in steps)
        org_names: dict[str, str] = {}
        by_routine: dict[str, list[ChecklistStep]] = {}
        for step in sorted(steps, key=lambda s: s["fields"].get("position") or ""):
            fields = step["fields"]
            mark = latest.get(step["record_id"])
            by_routine.setdefault(fields.get("routine_id") or "", []).append(ChecklistStep(
                step_id=step["record_id"], position=fields.get("position") or "",
                text=fields.get("text") or "",
                responsible=responsible.get(fields.get("responsible_function_id") or "", ""),
                done=bool(mark and mark["fields"].get("done")),
                marked_at=mark["fields"].get("at") if mark else None,
                marked_by=self._organisation_name(mark.get("owner_org"), org_names) if mark else "",
                note=mark["fields"].get("note") if mark else None,
                marks=counts.get(step["record_id"], 0),
            ))
        owners = self._names("organisations", (r["fields"].get("organisation_id") for r in routines))
        return [
            Checklist(
                routine_id=r["record_id"], title=r["fields"].get("title") or "",
                mode=r["fields"].get("mode") or "",
                owner=summary.forum_name if r["fields"].get("forum_id") else owners.get(r["fields"].get("organisation_id") or "", ""),
                steps=tuple(by_routine.get(r["record_id"], [])),
            )
            for r in routines
        ]

    def mark_step(self, activation_id: str, step_id: str, done: bool, note: str | None = None) -> str:
        """Tick (``done``) or untick a step: an append-only mark with time and author."""
        self.summary(activation_id)
        fields: dict[str, Any] = {"activation_id": activation_id, "step_id": step_id, "done": bool(done),
                                  "at": self.now()}
        if note and note.strip():
            fields["note"] = note.strip()
        self._ask("checklist_marks", "create", None, fields)
        return self.store.create("checklist_marks", fields)

    # --- the journal ----------------------------------------------------------------------------

    def _entry_fields(
        self, summary: ActivationSummary, text: str, kind: str, author_function_id: str | None,
        corrects: str | None, *, at: str | None = None,
    ) -> dict[str, Any]:
        if kind not in LOG_KINDS:
            raise ActivationError("activation.unknown_kind", text=kind, choices=", ".join(LOG_KINDS))
        if not (text or "").strip():
            raise ActivationError("activation.empty_text")
        fields: dict[str, Any] = {"activation_id": summary.activation_id, "at": at or self.now(),
                                  "kind": kind, "text": text.strip("\n")}
        author = author_function_id or self.default_author(summary.forum_id)
        if author:
            fields["author_function_id"] = author
        if corrects:
            fields["corrects"] = corrects
        return fields

    def write_entry(
        self, activation_id: str, text: str, *, kind: str = "information",
        author_function_id: str | None = None, corrects: str | None = None,
    ) -> str:
        """Append a journal entry; a correction names the entry it corrects (never an edit)."""
        summary = self.summary(activation_id)
        if corrects is not None:
            corrected = self.store.get("log_entries", corrects)
            if corrected is None or (corrected["fields"].get("activation_id") not in (None, activation_id)):
                raise ActivationError("activation.unknown_entry", text=corrects, activation=activation_id[:8])
        fields = self._entry_fields(summary, text, kind, author_function_id, corrects)
        self._ask("log_entries", "create", None, fields)
        return self.store.create("log_entries", fields)

    def write_situation_report(
        self, activation_id: str, report: situation_mod.SituationReport, *,
        author_function_id: str | None = None, corrects: str | None = None,
    ) -> str:
        """Save a situation report (lägesbild) as a ``situation_report`` entry."""
        if report.is_empty():
            raise ActivationError("activation.empty_text")
        return self.write_entry(activation_id, situation_mod.to_text(report), kind="situation_report",
                                author_function_id=author_function_id, corrects=corrects)

    def situation_template(self, activation_id: str) -> situation_mod.SituationReport:
        """An empty situation report with a place for each organisation of the forum."""
        summary = self.summary(activation_id)
        orgs = self.forum_organisations(summary.forum_id)
        names = self._names("organisations", orgs)
        return situation_mod.SituationReport(
            party_reports=tuple(situation_mod.PartyReport(names.get(o, ""), "") for o in orgs))

    def journal(self, activation_id: str) -> Journal:
        """The journal in the server's order (then entries not yet synced, by time), each entry
        with its corrections, and the hash chain checked."""
        summary = self.summary(activation_id)
        records = self.store.journal_records(summary.activation_id)
        authors = self._function_labels(r["fields"].get("author_function_id") for r in records)
        org_names: dict[str, str] = {}
        devices = self.store.get_meta(META_DIRECTORY) or {}
        corrected_by: dict[str, list[str]] = {}
        for record in records:
            target = record["fields"].get("corrects")
            if target:
                corrected_by.setdefault(target, []).append(record["record_id"])
        entries = []
        for record in records:
            fields = record["fields"]
            made: chain.Link | None = record["link"]
            node = (record.get("clock") or "")[20:]
            device = devices.get(node) if isinstance(devices, dict) else None
            kind = fields.get("kind") or ""
            entries.append(JournalEntry(
                entry_id=record["record_id"], at=fields.get("at"), kind=kind,
                text=fields.get("text") or "", author_function_id=fields.get("author_function_id"),
                author=authors.get(fields.get("author_function_id") or "", ""),
                organisation_name=self._organisation_name(record.get("owner_org"), org_names),
                device_name=(device or {}).get("name", "") if isinstance(device, dict) else "",
                corrects=fields.get("corrects"),
                corrected_by=tuple(corrected_by.get(record["record_id"], ())),
                index=made.index if made is not None else None, hidden=bool(record["deleted"]),
                situation=situation_mod.parse(fields.get("text") or "") if kind == "situation_report" else None,
            ))
        entries.sort(key=lambda e: (e.index is None, e.index or 0, e.at or "", e.entry_id))
        return Journal(summary, tuple(entries), self._check(summary.activation_id, records))

    def verify_journal(self, activation_id: str) -> JournalCheck:
        summary = self.summary(activation_id)
        return self._check(summary.activation_id, self.store.journal_records(summary.activation_id))

    @staticmethod
    def _check(activation_id: str, records: Sequence[Mapping[str, Any]]) -> JournalCheck:
        held = []
        for record in records:
            entry = None
            if not record["deleted"]:
                entry = RememberedEntry.of(record["record_id"], record.get("owner_org"), record.get("clock"),
                                           record["fields"])
            held.append(chain.Held(record["record_id"], record["link"], entry))
        result = chain.verify(activation_id, held)
        broken = result.first_break
        if broken is None and not result.sequenced:
            text = tr("No entry has been sequenced by a server yet, so there is no chain to check.")
        elif broken is None:
            text = ngettext(
                "The journal's chain is intact: {count} entry in the server's order, unchanged since it "
                "sequenced it.",
                "The journal's chain is intact: {count} entries in the server's order, unchanged "
                "since it sequenced them.", result.sequenced).format(count=result.sequenced)
        else:
            text = tr("The journal's chain is broken: {problem}.", problem=keyed(
                BREAK_TEXTS, broken.reason, "chain", index=broken.index))
        if result.unsequenced:
            count = len(result.unsequenced)
            text += " " + ngettext(
                "{count} entry is not sequenced yet (made offline; the server orders and chains it at "
                "the next synchronisation).",
                "{count} entries are not sequenced yet (made offline; the server orders and "
                "chains them at the next synchronisation).", count).format(count=count)
        return JournalCheck(
            ok=result.ok, sequenced=result.sequenced, unsequenced=len(result.unsequenced),
            hidden=len(result.hidden), head=result.head,
            break_index=broken.index if broken else None,
            break_entry_id=broken.record_id if broken else None,
            reason=broken.reason if broken else None, text=text,
        )

    # --- report-back ----------------------------------------------------------------------------

    def report_backs(self, activation_id: str) -> ReportBacks:
        """Which member organisations have reported back to their home organisation, per meeting."""
        summary = self.summary(activation_id)
        orgs = self.forum_organisations(summary.forum_id)
        seqs = self._server_seqs("report_backs")
        reports: dict[str, list[ReportBack]] = {}
        own = self.own_organisation()
        for record in sorted(self.store.list("report_backs", activation_id=activation_id),
                             key=lambda r: (r["fields"].get("at") or "", r["record_id"])):
            fields = record["fields"]
            org = fields.get("organisation_id") or record.get("owner_org") or own or ""
            reports.setdefault(org, []).append(ReportBack(
                record["record_id"], org, fields.get("meeting_at"), fields.get("at") or "",
                fields.get("note"), record["record_id"] in seqs,
            ))
        for org in reports:  # a report-back by an organisation that has left the forum stays shown
            if org not in orgs:
                orgs.append(org)
        names = self._names("organisations", orgs)
        rows = tuple(ReportBackRow(o, names.get(o, ""), tuple(reports.get(o, ()))) for o in orgs)
        meetings = sorted({r.meeting_at for rs in reports.values() for r in rs if r.meeting_at})
        return ReportBacks(summary, rows, tuple(meetings))

    def record_report_back(
        self, activation_id: str, *, meeting_at: str | None = None, note: str | None = None,
        organisation_id: str | None = None,
    ) -> str:
        """This device's organisation has reported back to its home organisation (after the
        meeting at ``meeting_at``). ``organisation_id`` names it where the device has none (a
        standalone vault); the rules refuse any organisation but the writer's own."""
        self.summary(activation_id)
        organisation = organisation_id or self.own_organisation()
        if not organisation:
            raise ActivationError("activation.refused", reason=tr(
                "Say which organisation reported back (this vault is not enrolled)."))
        fields: dict[str, Any] = {"activation_id": activation_id, "organisation_id": organisation, "at": self.now()}
        if meeting_at:
            fields["meeting_at"] = meeting_at
        if note and note.strip():
            fields["note"] = note.strip()
        self._ask("report_backs", "create", None, fields)
        return self.store.create("report_backs", fields)

    # --- everything at once ---------------------------------------------------------------------

    def record(self, activation_id: str, *, now_ms: int | None = None) -> ActivationRecord:
        """The whole activation: what the journal printout (the after-action record) shows."""
        return ActivationRecord(
            self.summary(activation_id), self.call_list(activation_id, now_ms=now_ms),
            tuple(self.checklists(activation_id)), self.journal(activation_id),
            self.report_backs(activation_id),
        )

    def last_synced(self) -> str | None:
        """When this device last synchronised successfully (ISO time), or None: never."""
        value = self.store.get_meta(META_LAST_SUCCESS)
        return value if isinstance(value, str) and value else None


def _rank(role: str) -> int:
    return _ROLE_ORDER.index(role) if role in _ROLE_ORDER else len(_ROLE_ORDER)
