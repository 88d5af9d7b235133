"""What runs inside a client process of the reliability suite: one life of a device (edits and syncs until it is killed) and a device driven by commands.

Both run in processes of their own (a multiprocessing forkserver with the program's modules
preloaded, so that a hundred lives do not each spend a second importing), open the vault with
its passphrase exactly as the CLI and the window do (``desktop.session``), edit through the
Store API and sync with the real ``SyncEngine`` over HTTP.

A life tells its parent what happened through an append-only events file, one JSON object a
line, written with a single ``write`` each: the parent reads it after the process is gone, and
a line cut by SIGKILL (no newline) is simply not there. The order of events says what is known:

- ``intent`` before an edit: what it will write (its records and values);
- ``made`` after the edit committed, with the outbox change ids it made;
- ``ack`` for every answer of the server that acknowledges a change (applied, duplicate,
  conflict), written when the answer arrives, before the client commits it;
- ``syncing`` and ``sync`` before and after each sync, ``rekey`` and ``rekeyed`` around a
  change of the database key (a new recovery key), ``rejected`` for a refusal (never
  expected here), ``done`` at a clean end, ``error`` with a traceback for anything unexpected.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.session import unlock_session
from desktop.syncer import engine as E
from desktop.syncer.client import SyncClient
from desktop.syncer.engine import SyncEngine
from desktop.syncer.errors import SyncError

# What the forkserver imports once, before it forks any client.
PRELOAD = [
    "desktop.session", "desktop.store", "desktop.syncer.engine", "desktop.syncer.client",
    "desktop.syncer.enroll", "sync.records", "sync.rules", "reliability_client",
]

SYNC_TIMEOUT = (1.0, 5.0)  # (connect, read) seconds: a dead server is noticed quickly


# --- events ----------------------------------------------------------------------------------

class Events:
    """The append-only events file of one life (see the module docstring)."""

    def __init__(self, path: Path | str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.started = time.monotonic()

    def __call__(self, event: str, /, **data: Any) -> None:
        at = round(time.monotonic() - self.started, 3)  # seconds into the life
        os.write(self.fd, (json.dumps({"e": event, "t": at, **data}, separators=(",", ":")) + "\n").encode())


def read_events(path: Path) -> list[dict[str, Any]]:
    """The complete lines of an events file (a line cut by the kill is left out)."""
    if not path.exists():
        return []
    text = path.read_text()
    lines = text.split("\n")[:-1]  # after the last newline: nothing, or a cut line
    return [json.loads(line) for line in lines if line]


class ListeningClient(SyncClient):
    """The real client, which also notes each answer for a pushed change in the events file."""

    events: Events | None = None

    def push(self, changes, *, body=None):
        response = super().push(changes, body=body)
        if self.events is not None:
            for result in response.results:
                if result.status == "rejected":
                    self.events("rejected", change=result.change_id, problem=dict(result.problem or {}))
                else:
                    self.events("ack", change=result.change_id, status=result.status, seq=result.seq)
        return response


def _to_own_files(log_path: Path | str) -> None:
    """stdout and stderr (the program's log) into this process's own log file."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    logging.basicConfig(level=logging.WARNING, format="%(process)d %(name)s %(levelname)s %(message)s",
                        force=True)


def sync_once(engine: SyncEngine) -> tuple[bool, dict[str, Any]]:
    """One sync; (succeeded, what it did or which error)."""
    try:
        report = engine.sync_now()
    except SyncError as error:
        return False, {"error": type(error).__name__, "key": error.key}
    return True, {"pushed": report.pushed, "pulled": report.pulled, "conflicts": report.conflicts,
                  "rejected": len(report.rejected), "quarantined": report.quarantined,
                  "resynced": report.resynced, "repaired": bool(report.repaired)}


# --- one life of a device (kill -9 loop) -----------------------------------------------------

@dataclass(frozen=True)
class LifePlan:
    """What one life of a device does; everything random comes from ``seed``."""

    device: str  # short name, part of every value it writes
    life: int
    data_dir: str
    passphrase: str
    seed: int
    edits: int  # at most this many edits, then a last sync and a clean exit
    events_path: str
    log_path: str
    activation_id: str  # the journal it appends to
    author_function_id: str  # its organisation's anchor function (never edited or deleted)
    sync_chance: float = 0.25
    pull_limit: int = 2000  # records a page (small: a pull of many pages, killed between them)
    push_max_changes: int = 1000  # changes a push (small: pushes of many batches)
    rekey_at: int | None = None  # before this edit: a new recovery key, which re-keys the database
    digest_interval: float = 0.0
    weights: dict[str, float] = field(default_factory=lambda: {
        "create": 0.25, "update": 0.35, "visibility": 0.05, "delete": 0.1, "journal": 0.25})


def life(plan: LifePlan) -> None:
    """A device's life: unlock, then edit and sync at random until done (or killed)."""
    _to_own_files(plan.log_path)
    events = Events(plan.events_path)
    try:
        _live(plan, events)
    except BaseException:
        events("error", error=traceback.format_exc())
        raise SystemExit(3)


def _live(plan: LifePlan, events: Events) -> None:
    rng = random.Random(plan.seed)
    session = unlock_session(Path(plan.data_dir), plan.passphrase)
    events("ready")
    store = session.store
    ListeningClient.events = events
    engine = SyncEngine(store, client_factory=ListeningClient, timeout=SYNC_TIMEOUT,
                        digest_interval=plan.digest_interval, pull_limit=plan.pull_limit,
                        push_max_changes=plan.push_max_changes)
    try:
        kinds, weights = zip(*plan.weights.items())
        for number in range(plan.edits):
            if number == plan.rekey_at:
                events("rekey")
                session.new_recovery_key(plan.passphrase)  # the key shown once is not kept
                events("rekeyed")
            kind = rng.choices(kinds, weights)[0]
            _edit(store, plan, events, rng, kind, f"{plan.device}.{plan.life}.{number}")
            if rng.random() < plan.sync_chance:
                _sync(engine, events)
        _sync(engine, events)
        events("done")
    finally:
        engine.close()
        session.close()


def _sync(engine: SyncEngine, events: Events) -> None:
    events("syncing")
    ok, what = sync_once(engine)
    events("sync", ok=ok, **what)


def own_records(store, device: str) -> tuple[list[dict], list[dict]]:
    """The live functions and channels this device made in earlier edits (never the anchors)."""
    functions = [f for f in store.list("functions") if (f["fields"]["name"] or "").startswith(f"rel {device}.")]
    channels = [c for c in store.list("channels", kind="email")
                if (c["fields"]["value"] or "").startswith(f"rel-{device}.")]
    return functions, channels


def _edit(store, plan: LifePlan, events: Events, rng: random.Random, kind: str, token: str) -> None:
    functions, channels = own_records(store, plan.device)
    if kind in ("update", "delete") and not (functions or channels) or kind == "visibility" and not functions:
        kind = "create"
    if kind == "create":
        function_id, channel_id = str(uuid.uuid4()), str(uuid.uuid4())
        org = store.get_meta(E.META_ORGANISATION_ID)
        records = [["functions", function_id], ["channels", channel_id]]
        events("intent", kind="create", token=token, records=records)
        with store.batch():
            store.create("functions", {"organisation_id": org, "name": f"rel {token}"},
                         record_id=function_id)
            store.create("channels", {"function_id": function_id, "kind": "email",
                                      "value": f"rel-{token}@example.se"}, record_id=channel_id)
    elif kind == "journal":
        entry_id = str(uuid.uuid4())
        records = [["log_entries", entry_id]]
        events("intent", kind="journal", token=token, records=records)
        store.create("log_entries", {
            "activation_id": plan.activation_id, "at": "2026-11-27T10:00:00.000Z",
            "author_function_id": plan.author_function_id, "kind": "information",
            "text": f"rel {token}",
        }, record_id=entry_id)
    elif kind in ("update", "visibility"):
        if kind == "visibility":  # its channels follow it (inherited visibility)
            collection, record = "functions", rng.choice(functions)
            name = "visibility"
            value = "regional" if record["fields"]["visibility"] == "internal" else "internal"
        else:
            collection, record = _pick(rng, functions, channels)
            name, value = _update_of(collection, rng, token)
        records = [[collection, record["record_id"]]]
        events("intent", kind="update", token=token, records=records, field=name, value=value)
        store.update(collection, record["record_id"], {name: value})
    else:
        collection, record = _pick(rng, functions, channels)
        records = [[collection, record["record_id"]]]
        events("intent", kind="delete", token=token, records=records)
        store.delete(collection, record["record_id"])
    events("made", token=token, changes=_change_ids(store, records))


def _pick(rng: random.Random, functions: list[dict], channels: list[dict]) -> tuple[str, dict]:
    if functions and (not channels or rng.random() < 0.5):
        return "functions", rng.choice(functions)
    return "channels", rng.choice(channels)


def _update_of(collection: str, rng: random.Random, token: str) -> tuple[str, Any]:
    """A field the device shares with everyone, set to a value no other edit writes."""
    if collection == "functions":
        return rng.choice([("short_name", f"s {token}"), ("description", f"d {token}")])
    return rng.choice([("note", f"n {token}"), ("label", f"l {token}")])


def _change_ids(store, records: list[list[str]]) -> list[str]:
    """The outbox change ids of the edit just committed (the last entry of each record)."""
    wanted = {record_id for _, record_id in records}
    last: dict[str, str] = {}
    for entry in store.outbox_pending(10**9):
        if entry.record_id in wanted:
            last[entry.record_id] = entry.change_id
    return [last[record_id] for _, record_id in records if record_id in last]


# --- a device driven by commands (convergence run) -------------------------------------------

@dataclass(frozen=True)
class DevicePlan:
    device: str
    data_dir: str
    passphrase: str
    log_path: str


def serve_commands(plan: DevicePlan, connection) -> None:
    """Open the vault, then carry out commands from ``connection`` until told to stop.

    Commands are tuples: ("create", collection, record_id, fields), ("batch", [commands]),
    ("update", collection, record_id, fields), ("delete", collection, record_id),
    ("sync",), ("sync_until_ok", attempts), ("stop",). Each gets one answer:
    ("ok", result) or ("sync-error", name) or ("error", traceback).
    """
    _to_own_files(plan.log_path)
    session = unlock_session(Path(plan.data_dir), plan.passphrase)
    store = session.store
    engine = SyncEngine(store, timeout=SYNC_TIMEOUT, digest_interval=0)
    try:
        while True:
            command = connection.recv()
            if command[0] == "stop":
                connection.send(("ok", None))
                return
            try:
                connection.send(("ok", _carry_out(store, engine, command)))
            except SyncError as error:
                connection.send(("sync-error", type(error).__name__))
            except Exception:
                connection.send(("error", traceback.format_exc()))
    finally:
        engine.close()
        session.close()


def _carry_out(store, engine: SyncEngine, command: tuple) -> Any:
    what = command[0]
    if what == "create":
        return store.create(command[1], command[3], record_id=command[2])
    if what == "update":
        return store.update(command[1], command[2], command[3])
    if what == "delete":
        return store.delete(command[1], command[2])
    if what == "batch":
        with store.batch():
            return [_carry_out(store, engine, part) for part in command[1]]
    if what == "sync":
        return sync_once(engine)
    if what == "sync_until_ok":
        failures = 0
        for _ in range(command[1]):
            ok, result = sync_once(engine)
            if ok:
                return {"failures": failures, **result}
            failures += 1
        raise SyncError(detail=f"no sync succeeded in {command[1]} attempts")
    raise ValueError(f"unknown command {what!r}")
