"""The reliability suite's world: a real `samverka-server serve`, three organisations' enrolled vaults, and comparing a device with the server record by record.

A region is one server database (a SQLite file, or a fresh database on the PostgreSQL that
scripts/test starts), served by the real command line (``ServeProcess``), with organisations
LST (regional administrator), SOS and SBFF. Each has one device: a vault made by
``samverka init`` and enrolled by ``samverka enroll`` with a one-time code, both the real CLI in
a process of its own. Then, through the Store API, each organisation gets an anchor function;
LST makes a forum convened by SOS's function, mandates for all three, and activations with a
journal everyone may append to (the activation itself is written by LST and SOS).

``journal_problems`` checks each activation's journal on a device: its hash chain recomputed
from what the device holds, and every link equal to the server's.

``differences`` compares what a device holds with what the server holds as that device's
organisation may see it (``storage.record_out``: another organisation's internal record is a
tombstone): every record of every collection, its owner, tombstone flag, seq, and each field's
value and clock.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import multiprocessing.connection
import os
import secrets
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for folder in (HERE, ROOT / "tests" / "perf", ROOT / "tests" / "syncer", ROOT):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from server_bench_support import Postgres, ServeProcess, init_database, issue_codes  # noqa: E402
from sqlalchemy import select  # noqa: E402

from desktop.session import unlock_session  # noqa: E402
from desktop.syncer import engine as E  # noqa: E402
from desktop.syncer.engine import SyncEngine  # noqa: E402
from desktop.syncer.errors import SyncError  # noqa: E402
from sync import journal  # noqa: E402
from sync.records import COLLECTION_NAMES  # noqa: E402
from sync.server import storage  # noqa: E402
from sync.server.db import make_engine, make_sessionmaker, read_session  # noqa: E402
from sync.server.models import ChangeLog, Record  # noqa: E402

PG_ENV = "SAMVERKA_TEST_PG_URL"

# device name: (organisation short code, role)
DEVICES = {
    "lst": ("LST", "regional_admin"),
    "sos": ("SOS", "member"),
    "sbff": ("SBFF", "member"),
}
ACTIVATIONS = 2

@dataclass
class Figures:
    """What a run measured and every problem it found; ``rows()`` is its table."""

    seed: int
    backend: str
    device_differences: int = 0  # records a device holds otherwise than the server
    wall_s: float = 0.0
    problems: list[str] = field(default_factory=list)

    def rows(self) -> list[list[Any]]:
        return [["seed", self.seed], ["server database", self.backend], *self.measured(),
                ["records differing device/server", self.device_differences],
                ["wall time", f"{self.wall_s:.0f} s"]]

    def measured(self) -> list[list[Any]]:
        return []


# --- the server's database --------------------------------------------------------------------

@contextlib.contextmanager
def server_database(backend: str, work: Path) -> Iterator[str]:
    """A fresh, empty database URL: a SQLite file in ``work``, or a new database on the
    PostgreSQL named by SAMVERKA_TEST_PG_URL (else a throwaway cluster, scripts/pg-start),
    dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{work / 'server.db'}"
        return
    if backend != "postgresql":
        raise ValueError(f"unknown backend {backend!r}")
    from sqlalchemy import create_engine, text

    cluster = None
    admin_url = os.environ.get(PG_ENV)
    if not admin_url:
        cluster = Postgres()
        admin_url = cluster.admin_url
    name = f"reliability_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield admin_url.rsplit("/", 1)[0] + "/" + name
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
        if cluster is not None:
            cluster.close()


# --- client processes ---------------------------------------------------------------------------

class ClientProcesses:
    """Client processes forked from a forkserver that has imported the program once: each is a
    fresh process with its own vault and connections, started in milliseconds.

    multiprocessing's forkserver children are not safe to poll from several threads: every
    ``Process.start()`` polls all other children, and when two threads poll one child, one
    reads its exit status and the other finds the pipe at its end and reports 255. So every
    call that polls runs under one lock, and waiting happens outside it.
    """

    def __init__(self) -> None:
        from reliability_client import PRELOAD

        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload(PRELOAD)
        self.lock = threading.Lock()
        self.exitcode(self.start(int))  # starts the forkserver, which imports PRELOAD first

    def start(self, target, *args: Any, name: str | None = None):
        process = self.context.Process(target=target, args=args, name=name)
        with self.lock:
            process.start()
        return process

    def run_for(self, process, seconds: float) -> bool:
        """Let ``process`` run up to ``seconds``, then SIGKILL it; True if the kill was sent."""
        multiprocessing.connection.wait([process.sentinel], seconds)
        with self.lock:
            if not process.is_alive():
                return False
            process.kill()
            return True

    def exitcode(self, process) -> int:
        """Wait for the end; its exit code (-9: SIGKILL)."""
        multiprocessing.connection.wait([process.sentinel])
        with self.lock:
            process.join()
            return process.exitcode

    def close(self) -> None:
        """Stop the forkserver (it would otherwise wait, idle, until this process ends)."""
        from multiprocessing import forkserver

        stop = getattr(forkserver._forkserver, "_stop", None)
        if stop is not None:
            stop()


def cli_command(data_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "desktop", "--data-dir", str(data_dir), *args]


def cli_env(passphrase: str) -> dict[str, str]:
    return dict(os.environ, SAMVERKA_PASSPHRASE=passphrase, PYTHONDONTWRITEBYTECODE="1",
                SAMVERKA_LANG="en")


# --- the region ---------------------------------------------------------------------------------

@dataclass
class DeviceVault:
    name: str
    org: str  # short code
    role: str
    data_dir: Path
    passphrase: str
    organisation_id: str = ""
    device_id: str = ""
    anchor: str = ""  # its organisation's anchor function

    @contextlib.contextmanager
    def opened(self) -> Iterator[tuple[Any, SyncEngine]]:
        """The vault unlocked in this process, with an engine (closed afterwards)."""
        session = unlock_session(self.data_dir, self.passphrase)
        engine = SyncEngine(session.store, digest_interval=0)
        try:
            yield session.store, engine
        finally:
            engine.close()
            session.close()


@dataclass
class Region:
    db_url: str
    work: Path
    server: ServeProcess
    org_ids: dict[str, str]
    devices: dict[str, DeviceVault]
    forum: str = ""
    activations: list[str] = field(default_factory=list)
    server_kills: int = 0

    def __post_init__(self) -> None:
        self.engine = make_engine(self.db_url)
        self.sessions = make_sessionmaker(self.engine)

    @property
    def server_log(self) -> Path:
        return self.work / "server.log"

    def kill_server(self) -> None:
        """SIGKILL the server process (no shutdown of any kind)."""
        self.server.process.kill()
        self.server.process.wait()
        self.server.close()  # its log file

    def start_server_again(self) -> None:
        """The same command line on the same port (the devices know it by its URL)."""
        self.server = ServeProcess(self.db_url, log=self.server_log, port=self.server.port)

    def close(self) -> None:
        self.server.close()
        self.engine.dispose()

    # --- what the server holds ---

    def server_view(self, organisation_id: str) -> dict[tuple[str, str], tuple]:
        """Every record as this organisation may see it: (owner, deleted, seq, {field: (value, clock)})."""
        with read_session(self.sessions) as session:
            rows = session.execute(select(Record)).scalars().all()
            return {(r.collection, r.record_id): _state_out(storage.record_out(r, organisation_id))
                    for r in rows}

    def records(self, collection: str) -> list[Record]:
        with read_session(self.sessions) as session:
            return list(session.execute(select(Record).where(Record.collection == collection)).scalars())

    def journal_links(self, activation_id: str) -> dict[str, tuple[int, str, str]]:
        """The server's chain links of an activation's log entries: record id -> (index,
        entry hash, chain)."""
        links = {}
        for row in self.records("log_entries"):
            made = journal.Link.from_member(json.loads(row.journal)) if row.journal else None
            if made is not None and made.activation_id == activation_id:
                links[row.record_id] = (made.index, made.entry_hash, made.chain)
        return links

    def change_log(self) -> list[ChangeLog]:
        with read_session(self.sessions) as session:
            return list(session.execute(select(ChangeLog)).scalars())


def _state_out(record: dict[str, Any]) -> tuple:
    fields = {
        name: (state["value"], state["clock"])
        for name, state in (record["fields"] or {}).items() if state.get("value") is not None
    }
    return (record["owner_org"], bool(record["deleted"]), record["seq"], fields)


def device_view(store) -> dict[tuple[str, str], tuple]:
    """Every record a device holds, in the shape of ``Region.server_view``."""
    out: dict[tuple[str, str], tuple] = {}
    for name in COLLECTION_NAMES:
        seqs = dict(store.server_seqs(name))
        for record in store.list(name, include_deleted=True):
            record_id = record["record_id"]
            fields = {}
            if not record["deleted"]:
                clocks = store.clocks(name, record_id)
                fields = {n: (v, clocks.get(n)) for n, v in record["fields"].items() if v is not None}
            out[(name, record_id)] = (record["owner_org"], record["deleted"], seqs.get(record_id), fields)
    return out


def differences(ours: dict, theirs: dict, *, compacted: bool = False, limit: int = 12) -> list[str]:
    """Where a device's view and the server's differ, in words (at most ``limit`` lines).
    ``compacted``: a tombstone the server no longer holds may stay on the device."""
    found = []
    for key in sorted(set(ours) | set(theirs)):
        mine, server = ours.get(key), theirs.get(key)
        if mine == server or (compacted and server is None and mine[1]):
            continue
        if mine is None:
            found.append(f"{key}: missing on the device (server: {server})")
        elif server is None:
            found.append(f"{key}: only on the device ({mine})")
        else:
            parts = [f"{label} {a!r} != server {b!r}" for label, a, b in
                     zip(("owner", "deleted", "seq"), mine[:3], server[:3]) if a != b]
            for name in sorted(set(mine[3]) | set(server[3])):
                if mine[3].get(name) != server[3].get(name):
                    parts.append(f"{name}: {mine[3].get(name)!r} != server {server[3].get(name)!r}")
            found.append(f"{key}: " + "; ".join(parts))
    if len(found) > limit:
        found = found[:limit] + [f"… and {len(found) - limit} more"]
    return found


def journal_problems(store, region: Region) -> list[str]:
    """Each activation's journal on a device: every entry sequenced, the chain intact when
    recomputed from what the device holds, and every link the server's."""
    from desktop.activation.service import ActivationService

    problems = []
    for activation_id in region.activations:
        checked = ActivationService(store).verify_journal(activation_id)
        if not checked.ok or checked.unsequenced:
            problems.append(f"journal of {activation_id}: {checked.text}")
        records = store.journal_records(activation_id)
        ours = {r["record_id"]: (r["link"].index, r["link"].entry_hash, r["link"].chain)
                for r in records if r["link"] is not None}
        theirs = region.journal_links(activation_id)
        if ours != theirs:
            wrong = sorted(k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k))
            problems.append(f"journal of {activation_id}: {len(wrong)} links differ from the "
                            f"server's ({len(ours)} held, {len(theirs)} on the server), e.g. {wrong[:2]}")
    return problems


def sync_until_ok(engine: SyncEngine, attempts: int = 30):
    for _ in range(attempts - 1):
        try:
            return engine.sync_now()
        except SyncError:
            continue
    return engine.sync_now()


def make_region(work: Path, db_url: str, *, client_url=None) -> Region:
    """Server, organisations, enrolled vaults, anchors, a forum with activations.

    ``client_url(server_port)`` gives the URL devices enroll with (a proxy in front), else the
    server's own.
    """
    work.mkdir(parents=True, exist_ok=True)
    org_ids = init_database(db_url, [(org, role == "regional_admin") for org, role in DEVICES.values()])
    region = Region(db_url, work, None, org_ids, {})  # type: ignore[arg-type]
    region.server = ServeProcess(db_url, log=region.server_log)
    try:
        url = client_url(region.server.port) if client_url else region.server.url
        codes = issue_codes(db_url, list(DEVICES.values()))
        for (name, (org, role)), code in zip(DEVICES.items(), codes):
            region.devices[name] = DeviceVault(name, org, role, work / name, secrets.token_urlsafe(18))
        _enroll_all(region, url, codes)
        _anchor_and_forum(region)
    except BaseException:
        region.close()  # no server left running
        raise
    return region


def _enroll_all(region: Region, url: str, codes: list[str]) -> None:
    """`samverka init` and `samverka enroll` for every device, the devices side by side."""
    for step in ("init", "enroll"):
        running = []
        for device, code in zip(region.devices.values(), codes):
            args = ["init"] if step == "init" else ["enroll", "--server", url, "--code", code,
                                                     "--name", device.name]
            env = cli_env(device.passphrase) | {"SAMVERKA_FAST_KDF": "1"}
            running.append(subprocess.Popen(cli_command(device.data_dir, *args), env=env, cwd=ROOT,
                                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        for device, process in zip(region.devices.values(), running):
            out, err = process.communicate(timeout=120)
            if process.returncode != 0:
                raise RuntimeError(f"samverka {step} for {device.name} failed ({process.returncode}): {out}{err}")


def _anchor_and_forum(region: Region) -> None:
    devices = region.devices
    for device in devices.values():
        with device.opened() as (store, engine):
            device.organisation_id = store.get_meta(E.META_ORGANISATION_ID)
            device.device_id = store.get_meta(E.META_DEVICE_ID)
            sync_until_ok(engine)  # the organisations
            device.anchor = store.create("functions", {
                "organisation_id": device.organisation_id, "name": f"Ledningsfunktion {device.org}",
                "availability": "24/7",
            })
            sync_until_ok(engine)
    with devices["lst"].opened() as (store, engine):
        sync_until_ok(engine)
        with store.batch():
            region.forum = store.create("forums", {
                "name": "Regional samverkanskonferens", "level": "coordinating",
                "convenor_function_id": devices["sos"].anchor,
            })
            for device in devices.values():
                store.create("mandates", {
                    "forum_id": region.forum, "function_id": device.anchor,
                    "role": "convenor" if device.name == "sos" else "member",
                })
            region.activations = [
                store.create("activations", {
                    "forum_id": region.forum, "reason": f"Övning {number}",
                    "started_at": "2026-11-27T10:00:00.000Z",
                    "started_by_function_id": devices["lst"].anchor,
                })
                for number in range(ACTIVATIONS)
            ]
        sync_until_ok(engine)
    for device in devices.values():
        with device.opened() as (store, engine):
            sync_until_ok(engine)
