"""The activated mode's words: call-out statuses, journal kinds, chain states, errors — one catalog (desktop.i18n)."""

from __future__ import annotations

from typing import Any

from desktop.i18n import N_, NP_, in_language, keyed, label

STATUS_LABELS: dict[str, tuple[str, str]] = {
    "not_tried": NP_("call-out status", "not tried"),
    "no_answer": NP_("call-out status", "no answer"),
    "reached": NP_("call-out status", "reached"),
    "attending": NP_("call-out status", "attending"),
    "declined": NP_("call-out status", "declined"),
}

KIND_LABELS: dict[str, tuple[str, str]] = {
    "information": NP_("journal kind", "Information"),
    "decision": NP_("journal kind", "Decision"),
    "action": NP_("journal kind", "Action"),
    "situation_report": NP_("journal kind", "Situation report"),
    "other": NP_("journal kind", "Other"),
}

ROLE_LABELS: dict[str, tuple[str, str]] = {
    "convenor": NP_("mandate role", "convenor"),
    "chair": NP_("mandate role", "chair"),
    "member": NP_("mandate role", "member"),
    "secretary": NP_("mandate role", "secretary"),
    "observer": NP_("mandate role", "observer"),
}

EXERCISE = NP_("activation", "EXERCISE")  # "ÖVNING": on everything that belongs to an exercise

# The reasons (sync.journal BREAK_*) the chain breaks at an entry, for a person.
BREAK_TEXTS: dict[str, str] = {
    "content": N_(
        "entry {index} has been changed after the server sequenced it (its content no longer "
        "matches the server's hash)"
    ),
    "chain": N_("the chain value of entry {index} does not follow from the entry before it"),
    "missing": N_("entry {index} is missing (taken away, or not yet received: synchronise)"),
    "duplicate": N_("two entries claim place {index} in the journal"),
}

ERRORS: dict[str, str] = {
    "activation.error": N_("The activation could not be changed."),
    "activation.refused": N_("{reason}"),
    "activation.unknown_forum": N_(
        "No forum matches “{text}”. Give its name (or the beginning of it) or its id; "
        "“samverka search {text}” helps find it."
    ),
    "activation.ambiguous_forum": N_("“{text}” matches several forums: {names}. Be more specific."),
    "activation.unknown_activation": N_(
        "No activation matches “{text}”. “samverka activations” lists them with their ids."
    ),
    "activation.ambiguous_activation": N_(
        "“{text}” matches several activations: {names}. Give more of the id."
    ),
    "activation.unknown_function": N_(
        "No function on the call list matches “{text}”. “samverka callout {activation}” "
        "lists them."
    ),
    "activation.ambiguous_function": N_(
        "“{text}” matches several functions on the call list: {names}. Be more specific."
    ),
    "activation.unknown_organisation": N_("No organisation matches “{text}”."),
    "activation.ambiguous_organisation": N_("“{text}” matches several organisations: {names}. Be more specific."),
    "activation.unknown_step": N_(
        "There is no step “{text}”. Number a step as the checklist lists it, e.g. 1.3 "
        "(checklist 1, step 3)."
    ),
    "activation.unknown_entry": N_(
        "No journal entry of this activation matches “{text}”. “samverka log {activation}” "
        "lists them with their ids."
    ),
    "activation.ambiguous_entry": N_("“{text}” matches several journal entries. Give more of the id."),
    "activation.unknown_status": N_("Unknown status “{text}”. Use one of: {choices}."),
    "activation.unknown_kind": N_("Unknown kind of entry “{text}”. Use one of: {choices}."),
    "activation.already_open": N_(
        "{forum} is already activated since {since} (“{reason}”). End that activation first: "
        "samverka end {activation}"
    ),
    "activation.already_ended": N_("This activation was already ended at {ended}."),
    "activation.empty_text": N_("The entry has no text. Write what happened, was decided or done."),
    "activation.empty_reason": N_("Give a reason for the activation (what has happened)."),
    "activation.not_a_situation_report": N_(
        "Entry {entry} is not a situation report that this version can read."
    ),
    "activation.bad_time": N_(
        "“{text}” is not a time. Write e.g. 14:30, 2026-12-06 14:30 or 2026-12-06T13:30:00Z."
    ),
}


class ActivationError(Exception):
    """A mistake or a refusal a person can act on: ``key`` names the message (``ERRORS``),
    ``str()`` is it in the current language; nothing was written."""

    def __init__(self, key: str, **values: Any) -> None:
        self.key = key
        self.values = values
        super().__init__(self.text())

    def text(self) -> str:
        return keyed(ERRORS, self.key, "activation.error", **self.values)

    def __str__(self) -> str:
        return self.text()


def status_label(status: str | None) -> str:
    return label(STATUS_LABELS.get(status or "not_tried"), status or "")


def kind_label(kind: str | None) -> str:
    return label(KIND_LABELS.get(kind or ""), kind or "")


def role_label(role: str | None) -> str:
    return label(ROLE_LABELS.get(role or ""), role or "")


def exercise_word() -> str:
    return label(EXERCISE)


def elapsed_text(ms: int | None) -> str:
    """A duration as a duty officer reads it: "35 s", "4 min 10 s", "2 h 05 min"."""
    if ms is None:
        return ""
    seconds = max(0, int(ms)) // 1000
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


# In a call-out list the keys 1 2 3 4 mark these statuses (UI.md "Keyboard").
STATUS_KEYS = {"1": "no_answer", "2": "reached", "3": "attending", "4": "declined"}


def _code_of(text: str, table: dict[str, tuple[str, str]]) -> str | None:
    wanted = " ".join(text.split()).casefold()
    for code, marked in table.items():
        words = {code, code.replace("_", " ")}
        for lang in ("sv", "en"):
            with in_language(lang):
                words.add(label(marked).casefold())
        if wanted in words:
            return code
    return None


def status_from_text(text: str) -> str | None:
    """A call-out status from its code, its word in either language, or its key in a call-out
    list (1 no answer, 2 reached, 3 attending, 4 declined); None if unknown."""
    return STATUS_KEYS.get(text.strip()) or _code_of(text, STATUS_LABELS)


def kind_from_text(text: str) -> str | None:
    """A journal kind from its code or its word in either language; None if unknown."""
    return _code_of(text, KIND_LABELS)
