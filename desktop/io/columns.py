"""What the columns of a contact list mean: column ids, the Swedish and English headers, cell words, the mapping file.

A sheet holds one row per channel (the export's layout: "Typ" and "Kontaktväg" columns), or one
row per function with a column per kind of channel ("Telefon", "Mobil", "E-post", "Rakel" — the
layout most organisations keep), or both. Headers are recognised in Swedish and English after
folding case and dropping everything but letters and digits ("E-post" = "epost" = "E-POST:"); a
mapping file (TOML) names the headers a list uses that are not recognised, or overrides them.
"""

from __future__ import annotations

import codecs
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from desktop.i18n import LANGUAGES, NP_, in_language, label
from desktop.io.errors import MappingError
from desktop.store.messages import CHANNEL_KIND_LABELS
from sync.records import CHANNEL_KINDS

IGNORE = "ignore"

# What a column fills: a field of the function, a field of the row's channel, one channel of a
# kind per cell (the wide layout), the organisation, or a record id written by the export.
FUNCTION, CHANNEL, KIND, ORGANISATION, KEY = "function", "channel", "kind", "organisation", "key"


@dataclass(frozen=True)
class ColumnSpec:
    id: str  # the stable name used in mapping files
    header: tuple[str, str]  # NP_("column", …): the header the export writes, in the user's language
    level: str
    field: str | None = None  # the record field it fills
    synonyms: tuple[str, ...] = ()  # other headers recognised, in any language

    def title(self) -> str:
        return label(self.header)


def _column(id: str, header: tuple[str, str], level: str, field: str | None, *synonyms: str) -> ColumnSpec:
    return ColumnSpec(id, header, level, field, synonyms)


# The export's columns, in the export's order (the same list for XLSX and CSV).
EXPORT_COLUMNS: tuple[ColumnSpec, ...] = (
    _column("organisation", NP_("column", "Organisation"), ORGANISATION, None,
            "organisation", "organization", "org", "aktör", "organisationsnamn", "myndighet", "part"),
    _column("function", NP_("column", "Function"), FUNCTION, "name",
            "funktion", "funktionsnamn", "function name", "befattning", "roll", "role", "titel", "title"),
    _column("short_name", NP_("column", "Short name"), FUNCTION, "short_name",
            "kortnamn", "förkortning", "kortform", "short name", "abbreviation"),
    _column("description", NP_("column", "Description"), FUNCTION, "description",
            "beskrivning", "uppdrag", "description"),
    _column("availability", NP_("column", "Reachable"), FUNCTION, "availability",
            "nåbarhet", "tillgänglighet", "bemanning", "availability", "reachable"),
    _column("contact_point", NP_("column", "Contact point (ISK)"), FUNCTION, "is_contact_point",
            "kontaktpunkt", "isk", "contact point"),
    _column("last_verified", NP_("column", "Last verified"), FUNCTION, "last_verified",
            "senast verifierad", "verifierad", "senast kontrollerad", "kontrollerad", "last verified",
            "verified"),
    _column("kind", NP_("column", "Channel kind"), CHANNEL, "kind",
            "typ", "kontaktvägstyp", "kanaltyp", "slag", "kind", "type", "channel type"),
    _column("value", NP_("column", "Channel"), CHANNEL, "value",
            "kontaktväg", "värde", "nummer", "adress", "nummer eller adress", "nummer/adress", "value",
            "contact"),
    _column("label", NP_("column", "Label"), CHANNEL, "label", "benämning", "etikett", "label"),
    _column("priority", NP_("column", "Priority"), CHANNEL, "priority",
            "prioritet", "prio", "ordning", "priority", "order"),
    _column("resilient", NP_("column", "Works during outages"), CHANNEL, "resilient",
            "reserv", "robust", "fungerar vid strömavbrott", "fungerar vid avbrott", "resilient"),
    _column("note", NP_("column", "Note"), CHANNEL, "note",
            "anteckning", "kommentar", "anmärkning", "notering", "note", "notes", "comment"),
    _column("function_key", NP_("column", "Function ID"), KEY, None,
            "funktionsid", "funktionsnyckel", "function id", "function key"),
    _column("channel_key", NP_("column", "Channel ID"), KEY, None,
            "kontaktvägsid", "kontaktvägsnyckel", "channel id", "channel key"),
)

# Other words for each kind of channel: headers of the wide layout, and cells of "Typ".
KIND_WORDS: dict[str, tuple[str, ...]] = {
    "phone": ("telefon", "tfn", "tel", "telefonnummer", "fast telefon", "växel", "växelnummer",
              "direktnummer", "phone", "telephone", "phone number", "landline"),
    "mobile": ("mobil", "mobiltelefon", "mobilnummer", "jourmobil", "mobile", "mobile phone",
               "cell", "cell phone"),
    "rakel": ("rakel", "rakel issi", "issi", "rakelnummer", "talgrupp", "rakel talgrupp"),
    "satellite": ("satellittelefon", "sattelefon", "satellit", "satellite phone", "satphone"),
    "email": ("epost", "e-postadress", "mejl", "mejladress", "mail", "email", "e-mail",
              "email address"),
    "functional_mailbox": ("funktionsbrevlåda", "funktionsadress", "funktionsmejl",
                           "gruppbrevlåda", "functional mailbox", "shared mailbox"),
    "radio": ("radio", "radiokanal"),
    "web": ("webb", "webbplats", "webbsida", "hemsida", "web", "website", "url"),
    "other": ("annan kontaktväg", "övrig kontaktväg", "other channel"),
}
# "Övrigt"/"Other" as a header is more often a notes column than channels: recognised as a cell
# word of the kind column only (a mapping file can still map such a header to "other").
_KIND_HEADER_EXCLUDED = {"other": ("other", "övrigt")}

KIND_COLUMNS: tuple[ColumnSpec, ...] = tuple(
    ColumnSpec(kind, CHANNEL_KIND_LABELS[kind], KIND, None, KIND_WORDS[kind]) for kind in CHANNEL_KINDS
)
ALL_COLUMNS: tuple[ColumnSpec, ...] = EXPORT_COLUMNS + KIND_COLUMNS
COLUMNS_BY_ID: dict[str, ColumnSpec] = {spec.id: spec for spec in ALL_COLUMNS}

AVAILABILITY_LABELS: dict[str, tuple[str, str]] = {
    "24/7": NP_("value", "around the clock"),
    "office_hours": NP_("value", "office hours"),
    "on_call": NP_("value", "on call"),
}
AVAILABILITY_WORDS: dict[str, tuple[str, ...]] = {
    "24/7": ("24/7", "dygnet runt", "24h", "24 h", "alltid", "around the clock", "always"),
    "office_hours": ("office_hours", "kontorstid", "kontorstider", "dagtid", "office hours"),
    "on_call": ("on_call", "beredskap", "jour", "i beredskap", "on call"),
}
YES_NO_LABELS: dict[bool, tuple[str, str]] = {True: NP_("answer", "Yes"), False: NP_("answer", "No")}
YES_NO_WORDS: dict[bool, tuple[str, ...]] = {
    True: ("ja", "j", "yes", "y", "sant", "true", "x", "1"),
    False: ("nej", "n", "no", "falskt", "false", "0"),
}

_NOT_ALNUM = re.compile(r"[\W_]+")
_PARENTHESIS = re.compile(r"\(.*?\)|\[.*?\]")


def fold(text: object) -> str:
    """A header or cell word as it is compared: case folded, letters and digits only."""
    return _NOT_ALNUM.sub("", str(text).casefold())


def _translations(marked: tuple[str, str]) -> list[str]:
    words = []
    for lang in LANGUAGES:
        with in_language(lang):
            words.append(label(marked))
    return words


def _vocabulary(entries: Iterable[tuple[object, Iterable[str]]]) -> dict[str, object]:
    table: dict[str, object] = {}
    for meaning, words in entries:
        for word in words:
            key = fold(word)
            if key:
                table.setdefault(key, meaning)
    return table


@lru_cache(maxsize=None)
def header_vocabulary() -> dict[str, str]:
    """Folded header -> column id, for every header recognised without a mapping file."""
    entries: list[tuple[object, Iterable[str]]] = []
    for spec in ALL_COLUMNS:
        excluded = {fold(w) for w in _KIND_HEADER_EXCLUDED.get(spec.id, ())}
        words = [spec.id, *_translations(spec.header), *spec.synonyms]
        entries.append((spec.id, [w for w in words if fold(w) not in excluded]))
    return _vocabulary(entries)  # type: ignore[return-value]


@lru_cache(maxsize=None)
def kind_vocabulary() -> dict[str, str]:
    """Folded cell text of the kind column -> channel kind."""
    return _vocabulary(  # type: ignore[return-value]
        (kind, [kind, *_translations(CHANNEL_KIND_LABELS[kind]), *KIND_WORDS[kind],
                *_KIND_HEADER_EXCLUDED.get(kind, ())])
        for kind in CHANNEL_KINDS
    )


@lru_cache(maxsize=None)
def availability_vocabulary() -> dict[str, str]:
    return _vocabulary(  # type: ignore[return-value]
        (code, [*words, *_translations(AVAILABILITY_LABELS[code])])
        for code, words in AVAILABILITY_WORDS.items()
    )


@lru_cache(maxsize=None)
def yes_no_vocabulary() -> dict[str, bool]:
    return _vocabulary(  # type: ignore[return-value]
        (answer, [*words, *_translations(YES_NO_LABELS[answer])]) for answer, words in YES_NO_WORDS.items()
    )


def kind_label(kind: str | None) -> str:
    """A channel kind as a person reads it ("Mobil"). Not store.messages.channel_kind_label:
    that one leaves an in_language() block of its caller (in_language(None) resets the scope)."""
    return label(CHANNEL_KIND_LABELS.get(kind or ""), kind or "")


def availability_label(code: str | None) -> str:
    return label(AVAILABILITY_LABELS.get(code or ""), code or "")


def yes_no_label(answer: bool | None) -> str:
    return "" if answer is None else label(YES_NO_LABELS[bool(answer)])


# --- the mapping file ----------------------------------------------------------------------


@dataclass
class ColumnMapping:
    """What a mapping file says: headers to column ids, extra channel-kind words, how to read.

    ``columns`` keys are headers as the file writes them; a value is a column id or "ignore".
    """

    columns: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    sheet: str | None = None  # XLSX: read only this sheet (default: every visible sheet)
    header_row: int | None = None  # 1-based row of the headers (default: found in the first rows)
    encoding: str | None = None  # CSV: this encoding instead of detecting it
    delimiter: str | None = None  # CSV: this separator instead of detecting it

    def column_for(self, header: object) -> str | None:
        """The column id a header means (None: not recognised, or "ignore")."""
        folded = fold(header)
        if not folded:
            return None
        chosen = self._folded_columns().get(folded)
        if chosen is not None:
            return None if chosen == IGNORE else chosen
        known = header_vocabulary()
        found = known.get(folded)
        if found is None:  # "Rakel (ISSI)", "Mobil [jour]": the words outside the brackets
            bare = fold(_PARENTHESIS.sub("", str(header)))
            found = known.get(bare) if bare else None
        return found

    def kind_for(self, text: object) -> str | None:
        folded = fold(text)
        extra = {fold(k): v for k, v in self.kinds.items()}
        return extra.get(folded) or kind_vocabulary().get(folded)

    def _folded_columns(self) -> dict[str, str]:
        return {fold(header): target for header, target in self.columns.items()}


_READ_KEYS = ("sheet", "header_row", "encoding", "delimiter")
_TOP_KEYS = ("columns", "kinds", "read")


def load_mapping(path: Path | str) -> ColumnMapping:
    """Read and check a mapping file; MappingError names what is wrong and where."""
    path = Path(path)
    shown = str(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise MappingError("mapping.missing", path=shown) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError("file.unreadable", path=shown, reason=type(exc).__name__) from None
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"line (\d+), column (\d+)", str(exc))
        if where:
            raise MappingError("mapping.syntax", path=shown, line=where[1], column=where[2]) from None
        raise MappingError("mapping.syntax_somewhere", path=shown) from None
    _only(shown, document, _TOP_KEYS, "")
    columns = _text_table(shown, document.get("columns", {}), "columns")
    allowed = sorted([*COLUMNS_BY_ID, IGNORE])
    for header, target in columns.items():
        if target not in allowed:
            raise MappingError(
                "mapping.unknown_column", path=shown, header=header, target=target,
                allowed=", ".join(allowed),
            )
    kinds = _text_table(shown, document.get("kinds", {}), "kinds")
    for text, target in kinds.items():
        if target not in CHANNEL_KINDS:
            raise MappingError(
                "mapping.unknown_kind", path=shown, text=text, target=target,
                allowed=", ".join(CHANNEL_KINDS),
            )
    read = document.get("read", {})
    if not isinstance(read, dict):
        raise MappingError("mapping.bad_value", path=shown, key="read", expected=_expect("mapping.expect_text"))
    _only(shown, read, _READ_KEYS, "read.")
    mapping = ColumnMapping(columns=columns, kinds=kinds)
    for key in ("sheet", "encoding", "delimiter"):
        value = read.get(key)
        if value is not None and not isinstance(value, str):
            raise MappingError("mapping.bad_value", path=shown, key=f"read.{key}", expected=_expect("mapping.expect_text"))
    header_row = read.get("header_row")
    if header_row is not None and (type(header_row) is not int or header_row < 1):
        raise MappingError("mapping.bad_value", path=shown, key="read.header_row", expected=_expect("mapping.expect_row"))
    delimiter = read.get("delimiter")
    if delimiter is not None:
        delimiter = "\t" if delimiter in ("\\t", "tab") else delimiter
        if len(delimiter) != 1:
            raise MappingError("mapping.bad_value", path=shown, key="read.delimiter", expected=_expect("mapping.expect_delimiter"))
    encoding = read.get("encoding")
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise MappingError("mapping.unknown_encoding", path=shown, encoding=encoding) from None
    mapping.sheet, mapping.header_row = read.get("sheet"), header_row
    mapping.encoding, mapping.delimiter = encoding, delimiter
    return mapping


def _expect(key: str) -> Any:
    from desktop.io.messages import later

    return later(key)


def _only(path: str, table: dict, allowed: tuple[str, ...], prefix: str) -> None:
    for key in table:
        if key not in allowed:
            raise MappingError(
                "mapping.unknown_key", path=path, key=f"{prefix}{key}",
                allowed=", ".join(f"{prefix}{a}" for a in allowed),
            )


def _text_table(path: str, table: object, name: str) -> dict[str, str]:
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise MappingError("mapping.bad_value", path=path, key=name, expected=_expect("mapping.expect_text"))
    return {str(k): v.strip() for k, v in table.items()}


def _toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's, for the characters json.dumps escapes)."""
    import json

    return json.dumps(text, ensure_ascii=False)


def save_mapping(path: Path | str, mapping: ColumnMapping) -> None:
    """Write a mapping file that ``load_mapping`` reads back as ``mapping`` (for the window's dialog).

    It holds header names and settings only, never data from the list.
    """
    lines = ["# Samverka import mapping: which column of the list holds what (docs/IMPORT_EXPORT.md).", ""]
    lines.append("[columns]")
    lines += [f"{_toml_string(h)} = {_toml_string(t)}" for h, t in mapping.columns.items()]
    if mapping.kinds:
        lines += ["", "[kinds]"]
        lines += [f"{_toml_string(w)} = {_toml_string(k)}" for w, k in mapping.kinds.items()]
    read = {
        "sheet": mapping.sheet, "header_row": mapping.header_row,
        "encoding": mapping.encoding, "delimiter": mapping.delimiter,
    }
    if any(v is not None for v in read.values()):
        lines += ["", "[read]"]
        for key, value in read.items():
            if value is not None:
                lines.append(f"{key} = {value if isinstance(value, int) else _toml_string(value)}")
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
