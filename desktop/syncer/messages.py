"""The syncer's texts for people (errors, status, the sync CLI commands): keys to catalog strings."""

from __future__ import annotations

from typing import Any

from desktop.i18n import N_, keyed

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
        "The enrollment code was not accepted (wrong, already used or expired): {reason}. Ask "
        "your administrator for a new code."
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
        "This version of Samverka is too old for the server {server}: {reason} Update the "
        "program. Until then it works as usual without synchronisation."
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
    "syncer.refused": N_("The server {server} refused the request: {reason}"),
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
    "syncer.status.never": N_("never"),
    "syncer.sync_done": N_(
        "Synchronised: {pushed} sent, {pulled} received, {conflicts} new conflicts, "
        "{rejected} rejected."
    ),
    "syncer.rejected_line": N_("  rejected: {collection} {record} – {reason}"),
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
    "syncer.reason.unknown_field": N_("unknown field"),
    "syncer.reason.int": N_("a whole number is needed"),
    "syncer.reason.bool": N_("write yes or no"),
    "syncer.bad_value": N_("The value does not fit the field {field}: {reason}"),
}


def syncer_message(key: str, /, **kwargs: Any) -> str:
    """The text for ``key`` in the current language (desktop.i18n), its fields filled in."""
    return keyed(SYNCER_MESSAGES, key, "syncer.error", **kwargs)
