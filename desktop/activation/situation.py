"""The situation report (lägesbild): a structured form following the samverkanskonferens agenda, as journal text.

A situation report is saved as an ordinary ``situation_report`` journal entry whose ``text`` any
client can read as it is — headed sections, one per agenda point, the parties' reports under
the first — and this module parses back into its parts. The agenda (DOMAIN.md, "collaboration
conference"): each party reports (aktörsrapportering), information sharing, coordination needs,
the regional situation picture, and the next meeting.

The text, in the writer's language (the headings of both languages are recognised)::

    LÄGESBILD
    == Aktörsrapportering ==
    -- SOS Alarm --
    Hög belastning på 112 …
    -- Trafikverket --
    …
    == Informationsdelning ==
    …
    == Samordningsbehov ==
    …
    == Regional lägesbild ==
    …
    == Nästa möte ==
    …

A line of the content that starts with ``==``, ``--`` or a backslash is written with one more
backslash in front, and read back without it, so that no content can pass for a heading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from desktop.i18n import N_, in_language, tr

TITLE = N_("SITUATION REPORT")
SECTIONS: tuple[tuple[str, str], ...] = (
    ("party_reports", N_("Party reports")),
    ("information_sharing", N_("Information sharing")),
    ("coordination_needs", N_("Coordination needs")),
    ("regional_picture", N_("Regional situation picture")),
    ("next_meeting", N_("Next meeting")),
)
_LANGUAGES = ("sv", "en")


@dataclass(frozen=True)
class PartyReport:
    party: str  # the organisation (or function) reporting
    text: str


@dataclass(frozen=True)
class SituationReport:
    party_reports: tuple[PartyReport, ...] = field(default_factory=tuple)
    information_sharing: str = ""
    coordination_needs: str = ""
    regional_picture: str = ""
    next_meeting: str = ""

    def is_empty(self) -> bool:
        return not self.party_reports and not any(
            getattr(self, key).strip() for key, _ in SECTIONS[1:]
        )


def _escape(text: str) -> list[str]:
    lines = text.strip("\n").splitlines()
    return ["\\" + line if line.startswith(("==", "--", "\\")) else line for line in lines]


def _unescape(line: str) -> str:
    return line[1:] if line.startswith("\\") else line


def to_text(report: SituationReport) -> str:
    """The entry's text, with headings in the current language."""
    lines = [tr(TITLE)]
    for key, heading in SECTIONS:
        lines.append(f"== {tr(heading)} ==")
        if key == "party_reports":
            for party in report.party_reports:
                lines.append(f"-- {party.party.strip()} --")
                lines += _escape(party.text)
        else:
            lines += _escape(getattr(report, key))
    return "\n".join(lines)


def _headings() -> tuple[set[str], dict[str, str]]:
    titles: set[str] = set()
    sections: dict[str, str] = {}
    for lang in _LANGUAGES:
        with in_language(lang):
            titles.add(tr(TITLE))
            for key, heading in SECTIONS:
                sections[tr(heading)] = key
    return titles, sections


def parse(text: str) -> SituationReport | None:
    """The parts of a situation report's text, or None when the text is not one."""
    lines = text.splitlines()
    titles, sections = _headings()
    if not lines or lines[0].strip() not in titles:
        return None
    content: dict[str, list[str]] = {}
    parties: list[tuple[str, list[str]]] = []
    current: list[str] | None = None
    section: str | None = None
    for line in lines[1:]:
        stripped = line.strip()
        if stripped.startswith("== ") and stripped.endswith(" ==") and stripped[3:-3] in sections:
            section = sections[stripped[3:-3]]
            current = content.setdefault(section, [])
            continue
        if section == "party_reports" and stripped.startswith("-- ") and stripped.endswith(" --"):
            parties.append((stripped[3:-3], []))
            current = parties[-1][1]
            continue
        if current is None:
            return None  # text before the first heading: not written by this module
        current.append(_unescape(line))

    def joined(part: Iterable[str]) -> str:
        return "\n".join(part).strip("\n")

    return SituationReport(
        party_reports=tuple(PartyReport(name, joined(body)) for name, body in parties),
        **{key: joined(content.get(key, [])) for key, _ in SECTIONS[1:]},
    )
