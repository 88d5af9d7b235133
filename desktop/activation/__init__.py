"""Activated mode (aktiverat läge), without Qt: activations, call-out, checklists, journal with its hash chain, report-back.

The window and the CLI use ``ActivationService`` (service.py) over an open Store; what it
returns are the immutable values in model.py. ``situation`` reads and writes the situation
report's text; ``lookup`` finds what a person names; ``words`` holds the texts.
"""

from desktop.activation.model import (
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
from desktop.activation.service import ActivationService
from desktop.activation.situation import PartyReport, SituationReport
from desktop.activation.words import ActivationError

__all__ = [
    "ActivationError",
    "ActivationRecord",
    "ActivationService",
    "ActivationSummary",
    "CallList",
    "CallListRow",
    "CalloutEvent",
    "Checklist",
    "ChecklistStep",
    "Journal",
    "JournalCheck",
    "JournalEntry",
    "PartyReport",
    "ReportBack",
    "ReportBackRow",
    "ReportBacks",
    "SituationReport",
]
