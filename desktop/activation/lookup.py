"""Finding what a person names: a forum, an activation, a call-list function or a journal entry, by id beginning or name.

The CLI (and the window's command palette) accept a unique beginning of an id (at least four
characters) or words: a forum by its name, an activation by its forum's name (the open one
first), a function of the call list by its name, short name and organisation ("tib sos").
Every word must begin a word of the candidate, in any order, case and diacritics folded as a
person types them. No match, or more than one, is an ActivationError that says so.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any, Callable, Sequence, TypeVar

from desktop.activation.model import ActivationSummary, CallListRow, Checklist, ChecklistStep, JournalEntry
from desktop.activation.words import ActivationError
from sync.clock import format_time

T = TypeVar("T")
_ID_BEGINNING = re.compile(r"[0-9a-f][0-9a-f-]{3,35}\Z")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", _fold(text))


def _matches(query: str, haystack: str) -> bool:
    words = _words(haystack)
    wanted = _words(query)
    return bool(wanted) and all(any(w.startswith(q) for w in words) for q in wanted)


def _pick(
    text: str, candidates: Sequence[T], key: Callable[[T], str], names: Callable[[T], str],
    haystack: Callable[[T], str], unknown: str, ambiguous: str, **extra: Any,
) -> T:
    wanted = text.strip()
    folded = _fold(wanted)
    if _ID_BEGINNING.match(folded):
        by_id = [c for c in candidates if key(c).startswith(folded)]
        exact = [c for c in by_id if key(c) == folded]
        if exact or len(by_id) == 1:
            return (exact or by_id)[0]
        if len(by_id) > 1:
            raise ActivationError(ambiguous, text=wanted, names=", ".join(names(c) for c in by_id[:5]), **extra)
    exact = [c for c in candidates if _fold(names(c)) == folded]
    if len(exact) == 1:
        return exact[0]
    found = exact or [c for c in candidates if _matches(wanted, haystack(c))]
    if len(found) == 1:
        return found[0]
    if not found:
        raise ActivationError(unknown, text=wanted, **extra)
    raise ActivationError(ambiguous, text=wanted, names=", ".join(names(c) for c in found[:5]), **extra)


def find_forum(store: Any, text: str) -> str:
    """A forum's id from its id (or a unique beginning) or its name."""
    forums = store.list("forums")
    chosen = _pick(
        text, forums, key=lambda f: f["record_id"], names=lambda f: f["fields"].get("name") or "",
        haystack=lambda f: f["fields"].get("name") or "",
        unknown="activation.unknown_forum", ambiguous="activation.ambiguous_forum",
    )
    return chosen["record_id"]


def find_activation(summaries: Sequence[ActivationSummary], text: str) -> ActivationSummary:
    """An activation from its id (or a unique beginning), or its forum's name: the open one,
    else the latest."""
    try:
        return _pick(
            text, summaries, key=lambda s: s.activation_id, names=_activation_name,
            haystack=lambda s: s.forum_name, unknown="activation.unknown_activation",
            ambiguous="activation.ambiguous_activation",
        )
    except ActivationError as error:
        if error.key != "activation.ambiguous_activation" or _ID_BEGINNING.match(_fold(text.strip())):
            raise
        forums = {s.forum_id for s in summaries if _matches(text, s.forum_name)}
        if len(forums) != 1:
            raise
        # One forum, several activations: its open one, else its latest (summaries come open
        # first, newest first).
        return next(s for s in summaries if s.forum_id in forums)


def _activation_name(summary: ActivationSummary) -> str:
    return f"{summary.activation_id[:8]} {summary.forum_name} ({summary.started_at[:16].replace('T', ' ')})"


def find_function(rows: Sequence[CallListRow], text: str, activation_id: str) -> CallListRow:
    """A function of the call list from its id (or a unique beginning) or its name, short name
    and organisation ("tib sos")."""
    return _pick(
        text, rows, key=lambda r: r.function_id, names=lambda r: f"{r.name}, {r.organisation_name}",
        haystack=lambda r: f"{r.name} {r.organisation_name}",
        unknown="activation.unknown_function", ambiguous="activation.ambiguous_function",
        activation=activation_id[:8],
    )


def find_entry(entries: Sequence[JournalEntry], text: str, activation_id: str) -> JournalEntry:
    """A journal entry of the activation from its id (or a unique beginning)."""
    return _pick(
        text, entries, key=lambda e: e.entry_id, names=lambda e: e.entry_id[:8],
        haystack=lambda e: e.entry_id, unknown="activation.unknown_entry",
        ambiguous="activation.ambiguous_entry", activation=activation_id[:8],
    )


def find_organisation(store: Any, text: str) -> str:
    """An organisation's id from its id (or a unique beginning), name or short name."""
    organisations = store.list("organisations")
    chosen = _pick(
        text, organisations, key=lambda o: o["record_id"], names=lambda o: o["fields"].get("name") or "",
        haystack=lambda o: f'{o["fields"].get("name") or ""} {o["fields"].get("short_name") or ""}',
        unknown="activation.unknown_organisation", ambiguous="activation.ambiguous_organisation",
    )
    return chosen["record_id"]


def find_step(checklists: Sequence[Checklist], text: str) -> ChecklistStep:
    """A step by its place, "2.3" (checklist 2, step 3), as the checklist listing numbers them."""
    match = re.fullmatch(r"\s*(\d+)\.(\d+)\s*", text)
    if match:
        number, place = int(match.group(1)), int(match.group(2))
        if 1 <= number <= len(checklists) and 1 <= place <= len(checklists[number - 1].steps):
            return checklists[number - 1].steps[place - 1]
    raise ActivationError("activation.unknown_step", text=text)


def parse_time_text(text: str, *, now: datetime | None = None) -> str:
    """A time a person types, as stored (ISO 8601 UTC with milliseconds and Z): "14:30" (today,
    local time), "2026-12-06 14:30" (local time) or an ISO time with its zone."""
    wanted = text.strip()
    local_now = (now or datetime.now().astimezone()).astimezone()
    try:
        if re.fullmatch(r"\d{1,2}[:.]\d{2}", wanted):
            hour, minute = (int(p) for p in re.split(r"[:.]", wanted))
            moment = local_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        else:
            moment = datetime.fromisoformat(wanted.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=local_now.tzinfo)
    except ValueError:
        raise ActivationError("activation.bad_time", text=wanted) from None
    return format_time(int(moment.timestamp() * 1000))
