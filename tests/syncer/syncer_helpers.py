"""Helpers for the syncer's end-to-end tests and benchmarks: a real uvicorn in a thread, TLS certificates."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerThread:
    """A real uvicorn serving ``app`` on 127.0.0.1 in a daemon thread (STYLE.md's recipe)."""

    def __init__(self, app, *, port: int | None = None, ssl_certfile: str | None = None,
                 ssl_keyfile: str | None = None) -> None:
        self.port = port or free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False,
            lifespan="on", ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile,
            timeout_keep_alive=30,
        )
        self.server = uvicorn.Server(config)
        self.server.install_signal_handlers = lambda: None  # type: ignore[method-assign]  # older uvicorn
        self.scheme = "https" if ssl_certfile else "http"
        self._thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    @property
    def url(self) -> str:
        host = "localhost" if self.scheme == "https" else "127.0.0.1"
        return f"{self.scheme}://{host}:{self.port}"

    def start(self, timeout: float = 20.0) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive():
                raise RuntimeError("uvicorn ended before it started")
            if time.monotonic() > deadline:
                raise TimeoutError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self.server.force_exit = True
            self._thread.join(5)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def make_tls_files(directory: Path, *, hostname: str = "localhost") -> dict[str, Path]:
    """A self-signed CA, a server certificate it signs for ``hostname``, and an unrelated CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.timezone.utc)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    def ca(common: str):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name(common)).issuer_name(name(common))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, key_cert_sign=True, crl_sign=True,
                    content_commitment=False, key_encipherment=False, data_encipherment=False,
                    key_agreement=False, encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return key, cert

    ca_key, ca_cert = ca("Samverka Test CA")
    _, other_cert = ca("Some Other CA")
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(name(hostname)).issuer_name(ca_cert.subject)
        .public_key(server_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(hostname), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    files = {
        "ca": directory / "ca.pem",
        "other_ca": directory / "other-ca.pem",
        "cert": directory / "server.pem",
        "key": directory / "server.key",
    }
    files["ca"].write_bytes(ca_cert.public_bytes(pem))
    files["other_ca"].write_bytes(other_cert.public_bytes(pem))
    files["cert"].write_bytes(server_cert.public_bytes(pem))
    files["key"].write_bytes(
        server_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return files


def preload_records(sessions, owner_org: str, organisation_id: str, functions: int,
                    channels_per_function: int = 1) -> int:
    """Bulk-insert functions and their channels straight into a server database (fixtures only).

    Each record's fields carry clocks of the server's own node, as `server_upsert` makes them;
    positions continue the server's sequence. Returns how many records were added.
    """
    import uuid as _uuid

    from sqlalchemy import insert, select, update

    from sync.server.db import write_session
    from sync.server.models import Position, Record

    node = "preload"
    wall = int(time.time() * 1000) - 60_000
    with write_session(sessions) as session:
        last = session.execute(select(Position.last).where(Position.id == 1)).scalar_one()
        rows = []
        counter = 0

        def clock() -> str:
            nonlocal counter
            counter += 1
            return f"{wall + counter // 90_000:013d}-{counter % 90_000:05d}-{node}"

        for number in range(functions):
            function_id = str(_uuid.uuid4())
            last += 1
            fields = {
                "organisation_id": organisation_id,
                "name": f"Funktion {number:06d} i beredskap",
                "short_name": f"F{number}",
                "availability": "24/7",
                "description": "Larmas via SOS Alarm; ansvarar för samordning i länet.",
            }
            rows.append(dict(
                collection="functions", record_id=function_id, owner_org=owner_org,
                visibility="regional", deleted=False, deleted_clock=None, deleted_at=None,
                fields={k: {"value": v, "clock": clock()} for k, v in fields.items()}, seq=last,
            ))
            for c in range(channels_per_function):
                last += 1
                fields = {
                    "function_id": function_id, "kind": "mobile",
                    "value": f"+4670174{(number * 7 + c) % 100:02d}{number % 100:02d}",
                    "label": "växel" if c else "direkt", "priority": c + 1, "resilient": c == 0,
                }
                rows.append(dict(
                    collection="channels", record_id=str(_uuid.uuid4()), owner_org=owner_org,
                    visibility="regional", deleted=False, deleted_clock=None, deleted_at=None,
                    fields={k: {"value": v, "clock": clock()} for k, v in fields.items()}, seq=last,
                ))
        for start in range(0, len(rows), 5000):
            session.execute(insert(Record), rows[start:start + 5000])
        session.execute(update(Position).where(Position.id == 1).values(last=last))
    return len(rows)


# --- a sync server with three organisations, and comparing devices ------------------------------

ORGS = {
    # short code: (name, regional admin)
    "lst": ("Länsstyrelsen Stockholm", True),
    "sos": ("SOS Alarm", False),
    "sbff": ("Storstockholms brandförsvar", False),
}


@dataclass
class SyncServer:
    url: str
    db_url: str
    sessions: object
    org_ids: dict[str, str]
    thread: ServerThread | None = None

    def code(self, org: str, role: str = "member") -> str:
        from sync.server import operations
        from sync.server.db import write_session

        with write_session(self.sessions) as session:
            return operations.issue_code(session, org, role, 3_600_000).code

    def revoke(self, device_id: str) -> None:
        from sync.server import operations
        from sync.server.db import write_session

        with write_session(self.sessions) as session:
            operations.revoke(session, device_id)

    def session(self):
        from sync.server.db import write_session

        return write_session(self.sessions)


def prepare_server_db(path: Path) -> tuple[str, object, dict[str, str]]:
    from sync.server import operations
    from sync.server.db import make_engine, make_sessionmaker, upgrade, write_session

    db_url = f"sqlite:///{path}"
    engine = make_engine(db_url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    org_ids = {}
    with write_session(sessions) as session:
        for short, (name, regional) in ORGS.items():
            org_ids[short] = operations.add_organisation(
                session, name, short, regional_admin=regional
            ).id
    return db_url, sessions, org_ids


def snapshot(store: Store, collections=("functions", "channels", "conflicts", "log_entries")) -> dict:
    """Every record's visible state (fields and tombstone flag), for comparing devices."""
    out = {}
    for name in collections:
        for record in store.list(name, include_deleted=True):
            out[(name, record["record_id"])] = (record["deleted"], None if record["deleted"] else record["fields"])
    return out



def put_raw_record(sessions, collection: str, record_id: str, fields: dict, owner_org: str, *,
                   deleted: bool = False, visibility: str = "regional") -> int:
    """Write one record state straight into a server's table at the next position, as a server
    (or a peer it trusted) gone wrong would hand it out; ``fields`` is {name: {value, clock}}
    and is stored as given. Returns the record's seq."""
    from sqlalchemy import select, update

    from sync.server.db import write_session
    from sync.server.models import Position, Record

    with write_session(sessions) as session:
        seq = session.execute(select(Position.last).where(Position.id == 1)).scalar_one() + 1
        row = session.get(Record, (collection, record_id))
        if row is None:
            session.add(Record(
                collection=collection, record_id=record_id, owner_org=owner_org,
                visibility=visibility, deleted=deleted, deleted_clock=None, deleted_at=None,
                fields=fields, seq=seq,
            ))
        else:
            row.fields, row.seq, row.deleted = fields, seq, deleted
        session.execute(update(Position).where(Position.id == 1).values(last=seq))
    return seq


def server_record(sessions, collection: str, record_id: str) -> dict:
    """{field: (value, clock)} of one record as the server holds it."""
    from sync.server.db import write_session
    from sync.server.models import Record

    with write_session(sessions) as session:
        row = session.get(Record, (collection, record_id))
        return {name: (state["value"], state["clock"]) for name, state in row.fields.items()}


def sync_in_a_child_killed_after(device, *, pages: int, pull_limit: int, slow_pull_s: float) -> None:
    """Close ``device``'s engine and store, run its sync in a child process (syncer_child.py)
    pulling pages of ``pull_limit``, and SIGKILL the child once it has applied ``pages`` pages."""
    device.engine.close()
    device.store.close()
    env = dict(os.environ, STORE_PATH=str(device.path), STORE_KEY=device.key.hex(), PULL_LIMIT=str(pull_limit),
               SLOW_PULL_S=str(slow_pull_s), PYTHONDONTWRITEBYTECODE="1")
    applied = 0
    child_script = Path(__file__).resolve().parent / "syncer_child.py"
    with subprocess.Popen([sys.executable, str(child_script)], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
        try:
            for line in child.stdout:
                if line.startswith("page"):
                    applied += 1
                    if applied == pages:
                        child.send_signal(signal.SIGKILL)
                        break
        finally:
            child.wait(20)
            errors = child.stderr.read()
    assert child.returncode == -signal.SIGKILL, errors
