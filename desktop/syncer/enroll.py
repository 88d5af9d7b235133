"""Enrolling this vault as a device of an organisation: the one-time code in, the token kept encrypted.

Everything the enrollment gives (device id, token, organisation, role, server URL, the CA to
trust) goes into the encrypted store's meta table, never into a plain file. Afterwards the
store's clock uses the device id as its node id, as SYNC.md's HLC wants, and unsent changes made
before are re-stamped in that id (the server refuses a clock that names another device).

A revoked device enrolls again with a new code from the same server: it becomes a new device
there, keeps its local data and unsent changes (re-stamped to the new id), and downloads
everything again at the next sync (its organisation, and so what it may see, may have changed).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from desktop.syncer import engine as E
from desktop.syncer.client import Enrollment, SyncClient, normalise_server_url, read_ca_file
from desktop.syncer.errors import SyncError, Unauthorized


@dataclass(frozen=True)
class Enrolled:
    server_url: str
    device_id: str
    organisation_id: str
    organisation_name: str
    role: str
    again: bool = False  # a revoked device enrolled anew


def default_device_name() -> str:
    return (socket.gethostname() or "Samverka")[:200]


def enroll(
    store: Any,
    server_url: str,
    code: str,
    *,
    device_name: str | None = None,
    ca_file: str | Path | None = None,
    ca_pem: str | None = None,
    ca_name: str | None = None,
    client_factory: Callable[..., SyncClient] = SyncClient,
    timeout: tuple[float, float] = (5.0, 30.0),
) -> Enrolled:
    """Enroll with ``code``; raises SyncError subclasses (EnrollmentRefused, TlsError, Offline …).

    The organisation's CA is ``ca_file``, or else ``ca_pem`` (PEM text, e.g. an organisation
    profile's) named ``ca_name`` in messages; neither: the system's trusted CAs."""
    if str(store.get_meta("demo")) in ("1", "True", "true"):
        raise SyncError("syncer.demo_vault")
    url = normalise_server_url(server_url)
    existing = store.get_meta(E.META_DEVICE_ID)
    if existing:
        enrolled_with = store.get_meta(E.META_SERVER_URL)
        if enrolled_with != url or not _revoked(store, client_factory, timeout):
            raise SyncError("syncer.already_enrolled", device=existing, server=enrolled_with)
    if ca_file:
        ca_pem, ca_name = read_ca_file(url, ca_file), str(ca_file)
    elif not ca_pem:
        ca_pem = ca_name = None
    client = client_factory(url, ca_pem=ca_pem, ca_file=ca_name, timeout=timeout)
    try:
        enrollment: Enrollment = client.enroll(code.strip(), device_name or default_device_name())
    finally:
        client.close()
    with store.batch(source="sync"):
        store.set_meta(E.META_SERVER_URL, url)
        store.set_meta(E.META_DEVICE_ID, enrollment.device_id)
        store.set_meta(E.META_TOKEN, enrollment.token)
        store.set_meta(E.META_ORGANISATION_ID, enrollment.organisation_id)
        store.set_meta(E.META_ORGANISATION_NAME, enrollment.organisation_name)
        store.set_meta(E.META_ROLE, enrollment.role)
        store.set_meta(E.META_CA_PEM, ca_pem)
        store.set_meta(E.META_CA_NAME, ca_name)
        store.set_meta(E.META_UNAUTHORIZED, None)
        store.set_meta(E.META_LAST_ERROR, None)
        store.set_meta(E.META_DIRECTORY_AT, None)
        if existing:
            store.set_meta(E.META_FULL_PULL, True)  # survives a crash before the next sync
        store.set_node_id(enrollment.device_id)
    if enrollment.server_time:
        store.observe_server_time(enrollment.server_time)
    return Enrolled(
        url, enrollment.device_id, enrollment.organisation_id, enrollment.organisation_name,
        enrollment.role, again=bool(existing),
    )


def _revoked(store: Any, client_factory: Callable[..., SyncClient], timeout) -> bool:
    """Does the server no longer accept this vault's device? (It said so at the last sync, or
    it says so now.) Other failures (offline, TLS) are raised: they are what to fix first."""
    if store.get_meta(E.META_UNAUTHORIZED):
        return True
    client = client_factory(
        store.get_meta(E.META_SERVER_URL), token=store.get_meta(E.META_TOKEN),
        ca_pem=store.get_meta(E.META_CA_PEM), ca_file=store.get_meta(E.META_CA_NAME),
        timeout=timeout,
    )
    try:
        client.me()
    except Unauthorized:
        store.set_meta(E.META_UNAUTHORIZED, True)
        return True
    finally:
        client.close()
    return False
