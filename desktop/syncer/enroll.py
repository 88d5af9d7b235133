"""Enrolling this vault as a device of an organisation: the one-time code in, the token kept encrypted.

Everything the enrollment gives (device id, token, organisation, role, server URL, the CA to
trust) goes into the encrypted store's meta table, never into a plain file. Afterwards the
store's clock uses the device id as its node id, as SYNC.md's HLC wants.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from desktop.syncer import engine as E
from desktop.syncer.client import Enrollment, SyncClient, normalise_server_url, read_ca_file
from desktop.syncer.errors import SyncError


@dataclass(frozen=True)
class Enrolled:
    server_url: str
    device_id: str
    organisation_id: str
    organisation_name: str
    role: str


def default_device_name() -> str:
    return (socket.gethostname() or "Samverka")[:200]


def enroll(
    store: Any,
    server_url: str,
    code: str,
    *,
    device_name: str | None = None,
    ca_file: str | Path | None = None,
    client_factory: Callable[..., SyncClient] = SyncClient,
    timeout: tuple[float, float] = (5.0, 30.0),
) -> Enrolled:
    """Enroll with ``code``; raises SyncError subclasses (EnrollmentRefused, TlsError, Offline …)."""
    if str(store.get_meta("demo")) in ("1", "True", "true"):
        raise SyncError("syncer.demo_vault")
    existing = store.get_meta(E.META_DEVICE_ID)
    if existing:
        raise SyncError(
            "syncer.already_enrolled", device=existing, server=store.get_meta(E.META_SERVER_URL)
        )
    url = normalise_server_url(server_url)
    ca_pem = read_ca_file(url, ca_file) if ca_file else None
    client = client_factory(url, ca_pem=ca_pem, ca_file=str(ca_file) if ca_file else None, timeout=timeout)
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
        store.set_meta(E.META_CA_NAME, str(ca_file) if ca_file else None)
        store.set_meta(E.META_UNAUTHORIZED, None)
        store.set_meta(E.META_LAST_ERROR, None)
        store.set_node_id(enrollment.device_id)
    if enrollment.server_time:
        store.observe_server_time(enrollment.server_time)
    return Enrolled(
        url, enrollment.device_id, enrollment.organisation_id, enrollment.organisation_name,
        enrollment.role,
    )
