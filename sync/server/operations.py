"""What the server administrator does (organisations, codes, devices, compaction, the demo region), callable from code.

The CLI (sync.server.cli) is a thin shell over these; each raises ``AdminError`` with a sentence
for the administrator when asked for something impossible.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from sync.records import COLLECTIONS, DEMO_NAMESPACE, InvalidChange
from sync.server import auth, storage
from sync.server.models import Audit, Device, Organisation
from sync.server.timeutil import now_ms

DEMO_FILE = Path(__file__).resolve().parents[2] / "resources" / "demo" / "region.json"


class AdminError(Exception):
    """A request the administrator can fix; the message says how."""


@dataclass(frozen=True)
class IssuedCode:
    code: str
    expires_at: int
    organisation: Organisation
    role: str


def find_organisation(session: Session, code_or_id: str) -> Organisation:
    wanted = code_or_id.strip()
    org = session.scalars(
        select(Organisation).where(func.lower(Organisation.short_name) == wanted.lower())
    ).first()
    if org is None:
        org = session.get(Organisation, wanted.lower())
    if org is None:
        known = ", ".join(session.scalars(select(Organisation.short_name).order_by(Organisation.short_name)))
        raise AdminError(
            f"no organisation with short code or id {wanted!r}"
            + (f"; known: {known}" if known else "; add one with `samverka-server org add`")
        )
    return org


def add_organisation(
    session: Session,
    name: str,
    short_name: str,
    *,
    kind: str | None = None,
    regional_admin: bool = False,
    organisation_id: str | None = None,
    extra_fields: dict[str, Any] | None = None,
) -> Organisation:
    """A server organisation and its synced `organisations` record (same id, owned by itself)."""
    name, short_name = name.strip(), short_name.strip()
    if not name:
        raise AdminError("the organisation needs a name")
    if not re.fullmatch(r"[\w.&-]{1,100}", short_name):
        raise AdminError("the short code must be 1–100 letters, digits, '.', '-', '_' or '&', without spaces")
    clash = session.scalars(
        select(Organisation).where(func.lower(Organisation.short_name) == short_name.lower())
    ).first()
    if clash is not None:
        raise AdminError(f"an organisation with short code {short_name!r} already exists ({clash.name})")
    org_id = organisation_id or str(uuid.uuid4())
    fields: dict[str, Any] = {"name": name, "short_name": short_name}
    if kind:
        fields["kind"] = kind
    fields.update(extra_fields or {})
    feed = storage.Feed(session)
    try:
        storage.server_upsert(
            session, feed, storage.server_clock(session), "organisations", org_id, fields, org_id
        )
    except InvalidChange as exc:
        raise AdminError(f"the organisation's {exc.field or 'record'} is not valid: {exc.detail}") from None
    feed.close()
    org = Organisation(
        id=org_id, name=name, short_name=short_name, regional_admin=regional_admin, created_at=now_ms()
    )
    session.add(org)
    session.flush()
    return org


def parse_ttl(text: str) -> int:
    """'24h', '30m', '7d', '3600s' or plain hours → milliseconds."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", text.lower())
    if match is None or int(match.group(1)) == 0:
        raise AdminError(f"not a duration: {text!r}; write e.g. 30m, 24h or 7d")
    unit = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "": 3_600_000}[match.group(2)]
    ms = int(match.group(1)) * unit
    if ms > 30 * 86_400_000:
        raise AdminError("an enrollment code may live at most 30 days")
    return ms


def issue_code(session: Session, org_code: str, role: str, ttl_ms: int) -> IssuedCode:
    org = find_organisation(session, org_code)
    try:
        code, expires = auth.create_enrollment_code(session, org, role, ttl_ms, None)
    except ValueError as exc:
        raise AdminError(str(exc)) from None
    return IssuedCode(code, expires, org, role)


def list_devices(session: Session, org_code: str | None = None) -> list[tuple[Device, Organisation]]:
    query = select(Device, Organisation).join(Organisation, Organisation.id == Device.organisation_id)
    if org_code:
        query = query.where(Device.organisation_id == find_organisation(session, org_code).id)
    return [tuple(row) for row in session.execute(query.order_by(Organisation.short_name, Device.created_at))]


def revoke(session: Session, device_id: str) -> Device:
    device = session.get(Device, device_id.strip().lower())
    if device is None:
        raise AdminError(f"no device {device_id!r}; `samverka-server devices list` shows them")
    auth.revoke_device(session, device, None)
    return device


def _cutoff(retention_days: int) -> int:
    if retention_days < 0:
        raise AdminError("the retention period cannot be negative")
    return now_ms() - retention_days * 86_400_000


def compact(session: Session, retention_days: int) -> tuple[int, int]:
    """Drop tombstones older than the retention: (removed, new watermark)."""
    return storage.compact(session, _cutoff(retention_days))


def prune_audit(session: Session, retention_days: int) -> int:
    """Drop audit rows older than the retention; returns how many."""
    return session.execute(delete(Audit).where(Audit.at < _cutoff(retention_days))).rowcount


# --- the demo region -------------------------------------------------------------------------

def demo_id(key: str) -> str:
    return str(uuid.uuid5(DEMO_NAMESPACE, key))


def _resolve(value: Any, keys: dict[str, str], where: str) -> Any:
    if isinstance(value, dict) and set(value) == {"ref"}:
        key = value["ref"]
        if key not in keys:
            raise AdminError(f"{where}: refers to {key!r}, which no earlier record defines")
        return keys[key]
    return value


def load_demo(session: Session, path: Path = DEMO_FILE) -> list[Organisation]:
    """Load the demo region into an empty server; returns its organisations."""
    if session.scalar(select(func.count()).select_from(Organisation)):
        raise AdminError("this database already has organisations; give `demo` a new --db")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AdminError(f"the demo data is missing: {path}") from None
    except (OSError, ValueError) as exc:
        raise AdminError(f"the demo data cannot be read ({path}): {exc}") from None
    if not isinstance(data, dict) or data.get("format") != 1 or not isinstance(data.get("records"), list):
        raise AdminError(f"{path} is not demo data of format 1")

    items = data["records"]
    keys: dict[str, str] = {}
    for n, item in enumerate(items):
        if not isinstance(item, dict) or item.get("collection") not in COLLECTIONS or "key" not in item:
            raise AdminError(f"{path}: record {n} needs a known collection and a key")
        keys[item["key"]] = demo_id(item["key"])

    resolved: list[tuple[str, str, dict[str, Any]]] = []
    for n, item in enumerate(items):
        where = f"{path.name}: {item['collection']} {item['key']!r}"
        fields = {
            name: _resolve(value, keys, where) for name, value in (item.get("fields") or {}).items()
        }
        resolved.append((item["collection"], keys[item["key"]], fields))

    # Organisations first: the county board is the regional administrator.
    organisations: list[Organisation] = []
    for collection, record_id, fields in resolved:
        if collection != "organisations":
            continue
        short = fields.get("short_name") or re.sub(r"\W+", "", fields.get("name", ""))[:20]
        short = re.sub(r"[^\w.&-]+", "-", short).strip("-") or record_id[:8]
        extra = {k: v for k, v in fields.items() if k not in ("name", "short_name", "kind")}
        organisations.append(
            add_organisation(
                session, fields.get("name", short), short, kind=fields.get("kind"),
                regional_admin=fields.get("kind") == "county_board",
                organisation_id=record_id, extra_fields=extra,
            )
        )
    regional = [o for o in organisations if o.regional_admin]
    if not regional:
        raise AdminError(f"{path}: no organisation of kind county_board to be the regional administrator")
    county = regional[0].id

    owners: dict[str, str] = {o.id: o.id for o in organisations}
    fields_by_id = {record_id: fields for _c, record_id, fields in resolved}

    def owner_of(collection: str, fields: dict[str, Any]) -> str:
        if collection == "functions":
            return fields.get("organisation_id") or county
        if collection == "channels":
            return owners.get(fields.get("function_id"), county)
        if collection == "routines":
            if fields.get("forum_id"):
                return county
            return fields.get("organisation_id") or county
        if collection == "routine_steps":
            return owners.get(fields.get("routine_id"), county)
        if collection == "activations":
            convenor = fields_by_id.get(fields.get("forum_id"), {}).get("convenor_function_id")
            return owners.get(convenor, county)
        if collection in ("callout_events", "log_entries", "checklist_marks"):
            author = fields.get("author_function_id") or fields.get("function_id")
            return owners.get(author, county)
        return county  # forums, mandates, anything else the county board keeps

    feed = storage.Feed(session)
    clock = storage.server_clock(session)
    for collection, record_id, fields in resolved:
        if collection == "organisations":
            continue
        owner = owner_of(collection, fields)
        owners[record_id] = owner
        try:
            storage.server_upsert(session, feed, clock, collection, record_id, fields, owner)
        except InvalidChange as exc:
            raise AdminError(
                f"{path.name}: {collection} record {record_id}: {exc.field or ''} {exc.detail}"
            ) from None
    feed.close()
    return organisations
