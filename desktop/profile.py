"""A per-organisation profile: which server to join, which CA to trust, and the organisation's defaults; read from TOML and checked against resources/profile.schema.json.

An installer bakes one profile into each organisation's build (ARCHITECTURE.md, "Profiles";
installer/build.py). At start the program takes ``SAMVERKA_PROFILE`` (a TOML file) when set,
else the build's baked profile, else none: standalone, the demo region offered. The window
takes the Profile: the first-run wizard presets the server address and the CA from it, and its
language, auto-lock and sync interval are the defaults until a person changes them in the
settings.

A profile is checked with ``jsonschema`` against the schema in resources/ (the frozen build
carries a copy) and its CA must parse as PEM certificates (``cryptography``); a broken one is a
``ProfileError`` whose text, in the user's language, names each key and what is wrong with it.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.i18n import N_, keyed, tr

DEFAULT_AUTO_LOCK_MINUTES = 15
DEFAULT_SYNC_INTERVAL_SECONDS = 300
PROFILE_FORMAT = 1
SCHEMA_FILE = "profile.schema.json"
PROFILE_ENV = "SAMVERKA_PROFILE"


@dataclass(frozen=True)
class Profile:
    organisation_name: str
    organisation_id: str | None = None
    server_url: str | None = None
    ca_pem: str | None = None  # the organisation's CA certificate, PEM text
    language: str | None = None  # "sv" or "en"; None: the user's setting or Swedish
    auto_lock_minutes: int = DEFAULT_AUTO_LOCK_MINUTES
    sync_interval_seconds: int = DEFAULT_SYNC_INTERVAL_SECONDS
    slug: str | None = None  # the organisation's short name in file names (archive, install folder)


# --- errors -----------------------------------------------------------------------------------

_MESSAGES: dict[str, str] = {
    "profile.unreadable": N_(
        "The organisation profile {file} cannot be read ({detail}). Ask your IT staff for a "
        "working installation."
    ),
    "profile.not_toml": N_(
        "The organisation profile {file} is not valid TOML: {detail}. Ask your IT staff for a "
        "corrected profile."
    ),
    "profile.invalid": N_(
        "The organisation profile {file} cannot be used:\n{problems}\nAsk your IT staff for a "
        "corrected profile."
    ),
}

# One line per problem; {key} is the key's dotted path (server.url), {value} what the file says.
_PROBLEMS: dict[str, str] = {
    "missing": N_("“{key}” is missing."),
    "unknown": N_("“{key}” is not a key a profile can have (misspelt?). Known here: {known}."),
    "type": N_("“{key}” must be {expected}, but it is {actual}."),
    "choice": N_("“{key}” must be one of {choices}, not {value}."),
    "range": N_("“{key}” must be a whole number from {minimum} to {maximum}, not {value}."),
    "empty": N_("“{key}” must not be empty."),
    "too_long": N_("“{key}” is longer than {limit} characters."),
    "format": N_(
        "“{key}” says {value}, but this version of Samverka reads profile format {expected}. "
        "Use a profile made for this version."
    ),
    "ca": N_(
        "“{key}” does not hold a readable PEM certificate: the text between “-----BEGIN "
        "CERTIFICATE-----” and “-----END CERTIFICATE-----” is damaged or cut short."
    ),
    "invalid": N_("“{key}” is not valid here."),
}

# What a key's pattern asks for, in words (a regular expression is no help to a person).
_PATTERN_HINTS: dict[str, str] = {
    "organisation.name": N_("“{key}” must not be blank."),
    "organisation.id": N_(
        "“{key}” must be the organisation's id on its server, a UUID such as "
        "5f0c8a4e-2b7d-4c1e-9a3f-6d2e8b1c4a7f, not {value}."
    ),
    "organisation.slug": N_(
        "“{key}” must be 2–40 lowercase letters a–z, digits and single hyphens (e.g. "
        "lansstyrelsen-stockholm), not {value}."
    ),
    "server.url": N_(
        "“{key}” must be an https:// address (http:// only on this computer), e.g. "
        "https://samverka.example.se, not {value}."
    ),
    "server.ca_pem": N_(
        "“{key}” must hold a certificate in PEM form (“-----BEGIN CERTIFICATE-----” …)."
    ),
}

_TYPE_WORDS: dict[str, str] = {
    "string": N_("text in quotes"),
    "integer": N_("a whole number"),
    "object": N_("a table"),
    "boolean": N_("true or false"),
    "number": N_("a number"),
    "array": N_("a list"),
}


def _type_word(name: str) -> str:
    return tr(_TYPE_WORDS.get(name, name))


def _actual_type(value: Any) -> str:
    if isinstance(value, bool):
        return _type_word("boolean")
    if isinstance(value, int):
        return _type_word("integer")
    if isinstance(value, float):
        return _type_word("number")
    if isinstance(value, str):
        return _type_word("string")
    if isinstance(value, dict):
        return _type_word("object")
    if isinstance(value, list):
        return _type_word("array")
    return tr("a date or time")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a profile: the key's dotted path, what kind of wrong, the details."""

    key: str
    kind: str
    values: tuple[tuple[str, Any], ...] = ()

    def text(self) -> str:
        values = dict(self.values)
        if self.kind == "pattern":
            return keyed(_PATTERN_HINTS, self.key, key=self.key, **values) if self.key in _PATTERN_HINTS \
                else keyed(_PROBLEMS, "invalid", key=self.key)
        if self.kind == "type":
            values = {**values, "expected": _type_word(values["expected"]), "actual": _actual_type(values["actual"])}
        return keyed(_PROBLEMS, self.kind, "invalid", key=self.key, **values)


class ProfileError(Exception):
    """A profile that cannot be used. ``str(error)`` is the text for a person (their language)."""

    def __init__(self, key: str, file: str, *, detail: str = "", problems: tuple[Problem, ...] = ()) -> None:
        self.key = key
        self.file = file
        self.detail = detail
        self.problems = problems
        super().__init__(key)

    def __str__(self) -> str:
        lines = "\n".join(f"• {problem.text()}" for problem in self.problems)
        return keyed(_MESSAGES, self.key, file=self.file, detail=self.detail, problems=lines)

    def __repr__(self) -> str:
        return f"ProfileError({self.key!r}, {self.file!r}, problems={[(p.key, p.kind) for p in self.problems]!r})"


# --- reading and checking -----------------------------------------------------------------------


def schema_path() -> Path:
    from desktop.resources import resources_dir

    return resources_dir() / SCHEMA_FILE


def _schema() -> dict[str, Any]:
    return json.loads(schema_path().read_text(encoding="utf-8"))


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "…"


def _problems(document: dict[str, Any], schema: dict[str, Any]) -> list[Problem]:
    """Every schema violation as a Problem, in the order of the keys (jsonschema does the checking)."""
    from jsonschema import Draft202012Validator

    found: dict[str, Problem] = {}  # one problem per key: the first is enough to act on
    for error in Draft202012Validator(schema).iter_errors(document):
        path = [str(part) for part in error.absolute_path]
        key = ".".join(path) or "(profile)"
        validator, limit, instance = error.validator, error.validator_value, error.instance
        subschema = error.schema if isinstance(error.schema, dict) else {}
        if validator == "required":
            for name in limit:
                if isinstance(instance, dict) and name not in instance:
                    missing = ".".join([*path, name])
                    found.setdefault(missing, Problem(missing, "missing"))
            continue
        if validator == "additionalProperties":
            known = sorted(subschema.get("properties", {}))
            for name in sorted(set(instance) - set(known)):
                unknown = ".".join([*path, name])
                found.setdefault(unknown, Problem(unknown, "unknown", (("known", ", ".join(known)),)))
            continue
        if validator == "type":
            problem = Problem(key, "type", (("expected", limit), ("actual", instance)))
        elif validator == "enum":
            problem = Problem(key, "choice", (("choices", ", ".join(map(str, limit))), ("value", _shown(instance))))
        elif validator in ("minimum", "maximum"):
            bounds = (("minimum", subschema.get("minimum")), ("maximum", subschema.get("maximum")), ("value", _shown(instance)))
            problem = Problem(key, "range", bounds)
        elif validator == "minLength":
            problem = Problem(key, "empty")
        elif validator == "maxLength":
            problem = Problem(key, "too_long", (("limit", limit),))
        elif validator == "pattern":
            problem = Problem(key, "pattern", (("value", _shown(instance)),))
        elif validator == "const":
            problem = Problem(key, "format", (("expected", limit), ("value", _shown(instance))))
        else:
            problem = Problem(key, "invalid")
        found.setdefault(problem.key, problem)
    return list(found.values())


_SECTIONS = ("format", "organisation", "server", "defaults")


def _in_file_order(problem: Problem) -> tuple[int, str]:
    """The sections in the order a profile is written, then the keys by name."""
    section = problem.key.split(".")[0]
    return (_SECTIONS.index(section) if section in _SECTIONS else len(_SECTIONS), problem.key)


def parse_certificates(pem: str) -> list[Any]:
    """The certificates in PEM text (``cryptography`` x509 objects); ValueError when none parse."""
    from cryptography import x509

    return x509.load_pem_x509_certificates(pem.encode("ascii", errors="replace"))


def profile_from_document(document: dict[str, Any], file: str) -> Profile:
    """A parsed TOML document checked against the schema and its CA parsed: the Profile, or a
    ProfileError naming every key that is wrong."""
    problems = _problems(document, _schema())
    ca_pem = document.get("server", {}).get("ca_pem") if isinstance(document.get("server"), dict) else None
    if isinstance(ca_pem, str) and not any(p.key == "server.ca_pem" for p in problems):
        try:
            parse_certificates(ca_pem)
        except ValueError:
            problems.append(Problem("server.ca_pem", "ca"))
    if problems:
        raise ProfileError("profile.invalid", file, problems=tuple(sorted(problems, key=_in_file_order)))
    organisation, server, defaults = document["organisation"], document["server"], document.get("defaults", {})
    return Profile(
        organisation_name=organisation["name"].strip(),
        organisation_id=organisation["id"].lower(),
        server_url=server["url"],
        ca_pem=ca_pem,
        language=defaults.get("language"),
        auto_lock_minutes=int(defaults.get("auto_lock_minutes", DEFAULT_AUTO_LOCK_MINUTES)),
        sync_interval_seconds=int(defaults.get("sync_interval_seconds", DEFAULT_SYNC_INTERVAL_SECONDS)),
        slug=organisation["slug"],
    )


def parse_profile(text: str, file: str = "profile.toml") -> Profile:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ProfileError("profile.not_toml", file, detail=str(error)) from None
    return profile_from_document(document, file)


def read_profile(path: Path | str) -> Profile:
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise ProfileError("profile.unreadable", str(path), detail=error.strerror or type(error).__name__) from None
    except UnicodeDecodeError:
        raise ProfileError("profile.not_toml", str(path), detail=tr("it is not UTF-8 text")) from None
    return parse_profile(text, str(path))


def startup_profile() -> Profile | None:
    """The profile this start uses: ``SAMVERKA_PROFILE`` when set, else the one baked into this
    frozen build, else None (standalone). Raises ProfileError for a broken one."""
    chosen = os.environ.get(PROFILE_ENV)
    if chosen:
        return read_profile(Path(chosen).expanduser())
    from desktop.resources import BAKED_PROFILE, baked_file

    baked = baked_file(BAKED_PROFILE)
    return read_profile(baked) if baked is not None else None
