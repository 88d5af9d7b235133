"""The syncer's texts for people (errors, status, the sync CLI commands): keys to catalog strings.

The server's own words (a problem's ``detail``, in English) go to the log only; a person reads
the client's wording of each problem type (``problem_text``), with the field's label
(``field_label``) instead of its wire name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from desktop.i18n import N_, NP_, keyed, label, tr

SYNCER_MESSAGES: dict[str, str] = {
    "syncer.error": N_("Synchronisation failed."),
    "syncer.offline": N_(
        "The server {server} cannot be reached right now. Everything is kept locally and sent "
        "when the connection is back."
    ),
    "syncer.unauthorized": N_(
        "The server {server} no longer accepts this device (revoked or unknown). Your data is "
        "still readable here, and unsent changes are kept. Ask your organisation's "
        "administrator for a new enrollment code."
    ),
    "syncer.enroll_refused": N_(
        "The server does not know this enrollment code. Check it for typos, or ask your "
        "administrator for a new code."
    ),
    "syncer.enroll_used": N_(
        "This enrollment code has already been used or has expired. Ask your administrator "
        "for a new code."
    ),
    "syncer.rate_limited": N_(
        "The server {server} asks us to wait ({seconds} s) before trying again."
    ),
    "syncer.busy": N_(
        "The server {server} cannot answer right now. It will be tried again automatically."
    ),
    "syncer.resync_required": N_(
        "The server {server} requires a full download; unsent changes are kept."
    ),
    "syncer.client_too_old": N_(
        "This version of Samverka is too old for the server {server}. Update the program. "
        "Until then it works as usual without synchronisation."
    ),
    "syncer.client_too_old_version": N_(
        "This version of Samverka is too old for the server {server}, which needs version "
        "{version} or later. Update the program. Until then it works as usual without "
        "synchronisation."
    ),
    "syncer.tls": N_(
        "The server {server} could not be verified against the CA certificate in {ca}. Check "
        "that the address and the CA file are your organisation's; the connection was stopped "
        "and nothing was sent."
    ),
    "syncer.tls_no_ca": N_(
        "The server {server} could not be verified against the system's trusted certificates. "
        "Give your organisation's CA certificate with --ca FILE; the connection was stopped "
        "and nothing was sent."
    ),
    "syncer.tls_ca_unreadable": N_(
        "The CA file {ca} for the server {server} cannot be read or holds no PEM certificate."
    ),
    "syncer.protocol": N_(
        "The server {server} answered something this version does not understand. Try again "
        "later; if it persists, contact your administrator."
    ),
    "syncer.refused": N_("The server {server} refused the request: {reason}."),
    "syncer.response_too_large": N_(
        "The server {server} sent an answer larger than this program reads; it was not used. "
        "Try again later; if it persists, contact your administrator."
    ),
    "syncer.pull_stuck": N_(
        "The server {server} said there was more to download but did not move on, so the "
        "synchronisation was stopped. What was received is kept. Contact your administrator."
    ),
    "syncer.interrupted": N_(
        "The synchronisation started {when} was interrupted before it finished (the program "
        "was closed or stopped). Nothing is lost; synchronise again."
    ),
    "syncer.too_large": N_("The server {server} found the request too large."),
    "syncer.redirect": N_("The server {server} redirects to {location}. Check the server address."),
    "syncer.bad_url": N_("“{url}” is not a server address. Write it as https://server.example.org"),
    "syncer.insecure_url": N_(
        "“{url}” uses unencrypted http. Use https:// (http is accepted only for this "
        "computer)."
    ),
    "syncer.not_enrolled": N_(
        "The vault is not connected to a server. Enroll the device first: samverka enroll "
        "--server URL --code CODE"
    ),
    "syncer.already_running": N_("A synchronisation is already running."),
    "syncer.demo_vault": N_(
        "This vault holds the local demo region and stands alone; it cannot be connected to a "
        "server. Create a fresh vault for the server: samverka --data-dir NEW_FOLDER init. (A "
        "shared demo region on a server is what samverka-server demo is for.)"
    ),
    "syncer.already_enrolled": N_(
        "The vault is already enrolled as device {device} with {server}. Create a fresh vault "
        "for another enrollment: samverka --data-dir NEW_FOLDER init"
    ),
    "syncer.enrolled": N_(
        "The device is enrolled with {server} as {device} ({organisation}, role {role})."
    ),
    "syncer.re_enrolled": N_(
        "The device is enrolled again with {server} as {device} ({organisation}, role "
        "{role}). Local data and unsent changes are kept; everything is downloaded again at "
        "the next synchronisation."
    ),
    "syncer.state.offline": N_("offline"),
    "syncer.state.syncing": N_("syncing"),
    "syncer.state.idle": N_("up to date"),
    "syncer.state.error": N_("error"),
    "syncer.state.unauthorized": N_("device not authorised (revoked)"),
    "syncer.state.not_enrolled": N_("not enrolled"),
    "syncer.status.server": N_("Server:            {value}"),
    "syncer.status.device": N_("Device:            {value}"),
    "syncer.status.organisation": N_("Organisation:      {value}"),
    "syncer.status.state": N_("State:             {value}"),
    "syncer.status.outbox": N_("Unsent changes:    {value}"),
    "syncer.status.rejected": N_("Rejected:          {value}"),
    "syncer.status.conflicts": N_("Open conflicts:    {value}"),
    "syncer.status.last_success": N_("Last synced:       {value}"),
    "syncer.status.last_error": N_("Last error:        {value}"),
    "syncer.status.last_error_at": N_("Failed:            {value}"),
    "syncer.status.quarantined": N_("Set aside:         {value}"),
    "syncer.status.never": N_("never"),
    "syncer.sync_done": N_(
        "Synchronised: {pushed} sent, {pulled} received, {conflicts} new conflicts, "
        "{rejected} rejected."
    ),
    "syncer.rejected_line": N_("  rejected: {collection} “{title}” – {reason}"),
    "syncer.rejected_entry": N_("{id}  {collection} “{title}”, {when}\n    {reason}"),
    "syncer.rejected_hint": N_(
        "Send a change again with: samverka rejected retry ID. Return the record to the "
        "server's values with: samverka rejected discard ID"
    ),
    "syncer.no_rejected": N_("No rejected changes."),
    "syncer.rejected_not_found": N_(
        "No rejected change with id {id}. List them with: samverka rejected"
    ),
    "syncer.retried": N_("The change {id} will be sent again at the next synchronisation."),
    "syncer.discarded": N_("The change {id} is discarded; “{title}” holds the server's values again."),
    "syncer.discarded_removed": N_(
        "The change {id} is discarded. The record “{title}” never reached the server, so it "
        "is removed here too, with its other unsent changes."
    ),
    "syncer.discarded_needs_pull": N_(
        "The change {id} is discarded. “{title}” gets the server's values at the next "
        "synchronisation (everything is downloaded again once)."
    ),
    "syncer.quarantine_hint": N_(
        "{count} received records broke the rules and were set aside, unused. Tell your "
        "administrator."
    ),
    "syncer.restored": N_("{count} records differed from the server's values and were restored."),
    "syncer.repaired": N_(
        "The checksum differed for {collections}; everything was downloaded again."
    ),
    "syncer.open_conflicts_hint": N_("{count} open conflicts – list them with: samverka conflicts"),
    "syncer.no_conflicts": N_("No open conflicts."),
    "syncer.conflict_line": N_(
        "{id}  {collection} “{title}”, field {field}\n    kept:  {kept!r}  ({kept_device}, "
        "{kept_when})\n    other: {other!r}  ({other_device}, {other_when})"
    ),
    "syncer.conflict_not_found": N_("No conflict with id {id}. List them with: samverka conflicts"),
    "syncer.conflict_already_resolved": N_("The conflict {id} is already resolved."),
    "syncer.conflict_record_gone": N_(
        "The record in conflict has been deleted. Create a new record with the value to "
        "restore it, and resolve the conflict with --keep kept."
    ),
    "syncer.resolved": N_(
        "The conflict {id} is resolved ({field} = {value!r}); the change is sent at the next "
        "synchronisation."
    ),
    "syncer.this_device": N_("this device"),
    "syncer.unknown_device": N_("unknown device {id}"),
    "syncer.reason.unknown_field": N_("unknown field"),
    "syncer.reason.int": N_("a whole number is needed"),
    "syncer.reason.bool": N_("write yes or no"),
    "syncer.bad_value": N_("The value does not fit the field {field}: {reason}"),
}


# A problem type (SYNC.md's tokens) in words; ".field" variants name the field at fault.
PROBLEM_TEXTS: dict[str, str] = {
    "invalid": N_("the server did not accept the change"),
    "invalid.field": N_("the server did not accept the value of “{field}”"),
    "invalid.clock": N_(
        "the change was made before this device was enrolled; it is sent again in this "
        "device's name"
    ),
    "forbidden": N_("your organisation may not make this change"),
    "forbidden.field": N_("your organisation may not make this change (“{field}”)"),
    "not-found": N_("the record no longer exists on the server"),
    "clock-skew": N_(
        "this computer's clock was ahead of the server's; the change is sent again with the "
        "corrected time"
    ),
    "unauthorized": N_("the server does not accept this device"),
    "rate-limited": N_("too many attempts; wait a while"),
    "too-large": N_("the change is too large"),
    "resync-required": N_("the server needs a full download first"),
    "client-too-old": N_("this version of Samverka is too old for the server"),
    "unavailable": N_("the server is busy"),
    "server-error": N_("the server had an internal error"),
    "other": N_("the server refused it (code {status})"),
}

FIELD_LABELS: dict[str, tuple[str, str]] = {
    "organisation_id": NP_("field name", "organisation"),
    "name": NP_("field name", "name"),
    "short_name": NP_("field name", "short name"),
    "kind": NP_("field name", "kind"),
    "website": NP_("field name", "website"),
    "notes": NP_("field name", "notes"),
    "last_verified": NP_("field name", "last verified"),
    "description": NP_("field name", "description"),
    "availability": NP_("field name", "availability"),
    "is_contact_point": NP_("field name", "contact point"),
    "function_id": NP_("field name", "function"),
    "value": NP_("field name", "number or address"),
    "label": NP_("field name", "label"),
    "priority": NP_("field name", "priority"),
    "resilient": NP_("field name", "works in an outage"),
    "note": NP_("field name", "note"),
    "level": NP_("field name", "level"),
    "purpose": NP_("field name", "purpose"),
    "convenor_function_id": NP_("field name", "convenor"),
    "mode": NP_("field name", "mode"),
    "cadence": NP_("field name", "cadence"),
    "meeting_channel": NP_("field name", "meeting channel"),
    "agenda": NP_("field name", "agenda"),
    "forum_id": NP_("field name", "forum"),
    "role": NP_("field name", "role"),
    "mandate": NP_("field name", "mandate"),
    "reports_back": NP_("field name", "reports back to"),
    "title": NP_("field name", "title"),
    "trigger": NP_("field name", "trigger"),
    "body": NP_("field name", "text"),
    "version": NP_("field name", "version"),
    "review_due": NP_("field name", "review due"),
    "routine_id": NP_("field name", "routine"),
    "position": NP_("field name", "position"),
    "text": NP_("field name", "text"),
    "responsible_function_id": NP_("field name", "responsible function"),
    "reason": NP_("field name", "reason"),
    "exercise": NP_("field name", "exercise"),
    "started_at": NP_("field name", "started"),
    "ended_at": NP_("field name", "ended"),
    "started_by_function_id": NP_("field name", "started by"),
    "activation_id": NP_("field name", "activation"),
    "status": NP_("field name", "status"),
    "at": NP_("field name", "time"),
    "author_function_id": NP_("field name", "author"),
    "corrects": NP_("field name", "corrects"),
    "step_id": NP_("field name", "step"),
    "done": NP_("field name", "done"),
    "resolved": NP_("field name", "resolved"),
    "resolution_note": NP_("field name", "resolution note"),
    "visibility": NP_("field name", "visibility"),
    "record_id": NP_("field name", "record id"),
    "change_id": NP_("field name", "change id"),
    "clock": NP_("field name", "time stamp"),
    "fields": NP_("field name", "fields"),
}

ROLE_LABELS: dict[str, tuple[str, str]] = {
    "member": NP_("device role", "member"),
    "org_admin": NP_("device role", "organisation administrator"),
    "regional_admin": NP_("device role", "regional administrator"),
}


def syncer_message(key: str, /, **kwargs: Any) -> str:
    """The text for ``key`` in the current language (desktop.i18n), its fields filled in."""
    return keyed(SYNCER_MESSAGES, key, "syncer.error", **kwargs)


def field_label(name: Any) -> str:
    """A field's name as a person reads it ("kortnamn"), or the wire name if it has none."""
    text = str(name or "")
    return label(FIELD_LABELS.get(text.split(".")[0]), text)


def role_label(role: Any) -> str:
    return label(ROLE_LABELS.get(str(role)), str(role))


def problem_text(problem: Mapping[str, Any] | None, status: int | None = None) -> str:
    """A server's problem in the user's language: its type in words, with the field's label."""
    problem = problem or {}
    kind = problem.get("type")
    token = kind.rstrip("/").rsplit("/", 1)[-1] if isinstance(kind, str) else ""
    field = problem.get("field")
    if token == "invalid" and field == "clock":
        key = "invalid.clock"
    elif field and f"{token}.field" in PROBLEM_TEXTS:
        key = f"{token}.field"
    elif token in PROBLEM_TEXTS:
        key = token
    else:
        key = "other"
    return keyed(
        PROBLEM_TEXTS, key, "other", field=field_label(field),
        status=problem.get("status") or status or "?",
    )


def when_text(iso: str | None) -> str:
    """An ISO 8601 UTC time as this computer's local date and time to the minute."""
    if not iso:
        return tr("never")
    try:
        moment = datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return str(iso)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")
