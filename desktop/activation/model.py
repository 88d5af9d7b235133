"""What an activation looks like to the window, the CLI and the printouts: immutable values, no Qt, no SQL.

``desktop.activation.service.ActivationService`` builds these from the store; a view paints
them and a printout lays them out. Times are ISO 8601 UTC strings as stored; ``*_ms`` values
are milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop.activation.situation import SituationReport
from desktop.views import ChannelRow

UNREACHED = frozenset({"not_tried", "no_answer"})  # who the call list still has to reach
ACKNOWLEDGED = frozenset({"reached", "attending", "declined"})  # the function answered


@dataclass(frozen=True)
class ActivationSummary:
    activation_id: str
    forum_id: str
    forum_name: str
    forum_level: str
    reason: str
    exercise: bool
    started_at: str
    ended_at: str | None
    started_by_function_id: str | None
    started_by: str  # "TiB, Länsstyrelsen Stockholm" or ""
    owner_org: str | None
    sequenced: bool  # the server has it (False: made here and not yet synced)

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True)
class CalloutEvent:
    event_id: str
    function_id: str
    status: str
    at: str
    note: str | None
    organisation_name: str  # whose officer recorded it
    sequenced: bool


@dataclass(frozen=True)
class CallListRow:
    function_id: str
    name: str  # "Tjänsteman i beredskap (TiB)"
    organisation_id: str
    organisation_name: str
    role: str  # the mandate's role; "convenor" for the forum's convenor
    mandate: str | None
    reports_back: str | None
    channels: tuple[ChannelRow, ...]  # priority order; ChannelRow.resilient flags reserve routes
    latest: CalloutEvent | None  # the latest call-out event for this function
    acknowledged_after_ms: int | None  # from the activation to the first answer (reached/attending/declined)

    @property
    def status(self) -> str:
        return self.latest.status if self.latest is not None else "not_tried"

    @property
    def unreached(self) -> bool:
        return self.status in UNREACHED

    @property
    def dial(self) -> str:
        """What Ctrl+C copies: the first channel as dialled."""
        return self.channels[0].dial if self.channels else ""


@dataclass(frozen=True)
class CallList:
    activation: ActivationSummary
    rows: tuple[CallListRow, ...]
    events: tuple[CalloutEvent, ...]  # every event, oldest first (the call-out timeline)
    now_ms: int
    elapsed_ms: int  # since the activation started (to its end, once ended)

    @property
    def unreached(self) -> tuple[CallListRow, ...]:
        return tuple(row for row in self.rows if row.unreached)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for row in self.rows:
            out[row.status] = out.get(row.status, 0) + 1
        return out


@dataclass(frozen=True)
class JournalEntry:
    entry_id: str
    at: str | None
    kind: str
    text: str
    author_function_id: str | None
    author: str  # "TiB, SOS Alarm" or ""
    organisation_name: str  # the writing organisation
    device_name: str  # the writing device, when the device directory knows it
    corrects: str | None
    corrected_by: tuple[str, ...]
    index: int | None  # its place in the server's order (None: not sequenced yet)
    hidden: bool  # another organisation's internal entry: only its place in the chain is known
    situation: SituationReport | None = None  # parsed, for a situation_report entry

    @property
    def sequenced(self) -> bool:
        return self.index is not None


@dataclass(frozen=True)
class JournalCheck:
    """The hash chain's state (sync.journal.verify) in words."""

    ok: bool
    sequenced: int
    unsequenced: int
    hidden: int
    head: str  # the last chain value checked (the genesis value for an empty journal)
    break_index: int | None
    break_entry_id: str | None
    reason: str | None  # sync.journal BREAK_* code
    text: str  # one line for a person


@dataclass(frozen=True)
class Journal:
    activation: ActivationSummary
    entries: tuple[JournalEntry, ...]  # sequenced in the server's order, then those not yet sent
    check: JournalCheck

    def threaded(self) -> list[tuple[JournalEntry, int]]:
        """Entries with their corrections right after them: (entry, depth), depth 1 = a correction."""
        by_id = {e.entry_id: e for e in self.entries}
        children: dict[str, list[JournalEntry]] = {}
        for entry in self.entries:
            if entry.corrects and entry.corrects in by_id:
                children.setdefault(entry.corrects, []).append(entry)
        out: list[tuple[JournalEntry, int]] = []

        def add(entry: JournalEntry, depth: int) -> None:
            out.append((entry, depth))
            for child in children.get(entry.entry_id, []):
                add(child, min(depth + 1, 1))

        for entry in self.entries:
            if not (entry.corrects and entry.corrects in by_id):
                add(entry, 0)
        return out


@dataclass(frozen=True)
class ChecklistStep:
    step_id: str
    position: str
    text: str
    responsible: str
    done: bool
    marked_at: str | None
    marked_by: str  # organisation of the latest mark
    note: str | None
    marks: int  # how many marks (ticks and unticks) the step has


@dataclass(frozen=True)
class Checklist:
    routine_id: str
    title: str
    mode: str
    owner: str  # the forum, or the organisation whose routine it is
    steps: tuple[ChecklistStep, ...]

    @property
    def done(self) -> int:
        return sum(1 for step in self.steps if step.done)


@dataclass(frozen=True)
class ReportBack:
    record_id: str
    organisation_id: str
    meeting_at: str | None
    at: str
    note: str | None
    sequenced: bool


@dataclass(frozen=True)
class ReportBackRow:
    organisation_id: str
    organisation_name: str
    reports: tuple[ReportBack, ...]  # oldest first

    def reported_for(self, meeting_at: str | None) -> ReportBack | None:
        """The report-back for that meeting (None: the latest of any)."""
        if meeting_at is None:
            return self.reports[-1] if self.reports else None
        return next((r for r in reversed(self.reports) if r.meeting_at == meeting_at), None)


@dataclass(frozen=True)
class ReportBacks:
    activation: ActivationSummary
    rows: tuple[ReportBackRow, ...]  # every member organisation of the forum
    meetings: tuple[str, ...]  # the meetings reported on, oldest first

    @property
    def latest_meeting(self) -> str | None:
        return self.meetings[-1] if self.meetings else None

    def reported(self, meeting_at: str | None = None) -> tuple[ReportBackRow, ...]:
        return tuple(r for r in self.rows if r.reported_for(meeting_at) is not None)

    def missing(self, meeting_at: str | None = None) -> tuple[ReportBackRow, ...]:
        return tuple(r for r in self.rows if r.reported_for(meeting_at) is None)


@dataclass(frozen=True)
class ActivationRecord:
    """Everything of one activation at once: the after-action record a printout lays out."""

    activation: ActivationSummary
    call_list: CallList
    checklists: tuple[Checklist, ...]
    journal: Journal
    report_backs: ReportBacks
