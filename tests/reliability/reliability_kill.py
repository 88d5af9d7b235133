"""kill -9 ×N: devices edit, sync and pull in processes killed at random moments (the server too), and afterwards nothing acknowledged is lost, nothing is there twice, and every device equals the server.

Each device runs one life after another (``reliability_client.life``, or now and then the real
``samverka sync`` command line); the parent kills the life with SIGKILL at a random moment —
while it opens the vault, edits, re-keys the database, pushes a batch or applies a pulled page
— or lets it end by itself. Lives pull in pages as small as 7 records and push in batches as
small as 5, so kills fall between them. Another thread kills the server with SIGKILL every few
seconds and starts it again on the same port; after every other restart `samverka-server
compact --older-than-days 0` drops every tombstone, so devices are sent to download everything
again (and are killed while they do). The three devices live side by side, so pushes and pulls
overlap.

Afterwards every device opens its vault (it must: "the vault always reopened") and syncs until
nothing moves, and then the ledger of the events files is held against the server:

- every change the server acknowledged to a client, and every edit whose commit the client
  saw, is in the server's change log exactly once and its effect is there (a created record
  with its value, a delete as a tombstone (or compacted away), an update's value unless a later
  edit of the same field replaced it);
- a change the server applied that no confirmed edit made belongs to an edit cut off by the
  kill before it could say "made", and to at most one of them (else: a duplicate);
- no record and no journal entry is there twice (values are unique per edit);
- every device holds exactly what the server holds for its organisation, record by record
  (tombstones the server has compacted may stay on a device).
"""

from __future__ import annotations

import multiprocessing.connection
import random
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from reliability_client import LifePlan, life, read_events
from reliability_region import (
    DeviceVault,
    Figures,
    Region,
    cli_command,
    cli_env,
    ClientProcesses,
    device_view,
    differences,
    journal_problems,
    make_region,
    server_database,
    sync_until_ok,
)

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class KillSettings:
    kills: int = 100  # client processes killed with SIGKILL
    seed: int = 1
    backend: str = "sqlite"
    server_uptime: tuple[float, float] = (0.5, 3.0)  # seconds from a server's start to its kill
    rekey_chance: float = 0.15  # lives that make a new recovery key (the database is re-keyed)
    compact_every: int = 2  # after the 1st, 3rd, … restart: drop every tombstone (devices resync)
    cli_share: float = 0.15  # lives that are `samverka sync` instead of the Store API
    max_delay: float = 1.2  # seconds after its vault opened a life is killed, at most
    open_kill_share: float = 0.15  # lives killed at a random moment from their start instead
    edits_per_life: tuple[int, int] = (5, 120)


@dataclass
class Life:
    device: str
    number: int
    kind: str  # "api" or "cli"
    killed: bool
    exitcode: int | None
    events: list[dict[str, Any]] = field(default_factory=list)
    output: str = ""


@dataclass
class KillFigures(Figures):
    lives: int = 0
    client_kills: int = 0
    cli_kills: int = 0
    kill_moments: Counter = field(default_factory=Counter)  # what a killed life was doing
    server_kills: int = 0
    compactions: int = 0
    resyncs: int = 0  # full downloads after 410 resync-required (a cursor older than a compaction)
    repairs: int = 0  # full downloads after a digest difference
    rekeys: int = 0
    clean_exits: int = 0
    edits_made: int = 0  # edits whose commit the client saw
    edits_cut: int = 0  # edits the kill interrupted (may or may not be there)
    edits_acknowledged: int = 0  # made edits whose every change the server acknowledged to the client
    answers_lost: int = 0  # acknowledgements the server sent that the client answered "duplicate" to later
    losses: int = 0
    duplicates: int = 0
    reopen_failures: int = 0

    def measured(self) -> list[list[Any]]:
        return [
            ["client lives", self.lives],
            ["kills of clients (SIGKILL)", self.client_kills],
            ["… of which `samverka sync`", self.cli_kills],
            *([f"… while {moment}", count] for moment, count in sorted(self.kill_moments.items())),
            ["kills of the server (SIGKILL)", self.server_kills],
            ["compactions (tombstones dropped: devices resync)", self.compactions],
            ["full downloads after 410 resync-required", self.resyncs],
            ["full downloads after a digest difference", self.repairs],
            ["database re-keyed (new recovery key)", self.rekeys],
            ["lives that ended by themselves", self.clean_exits],
            ["edits made (commit seen)", self.edits_made],
            ["edits cut by a kill", self.edits_cut],
            ["edits acknowledged to the client", self.edits_acknowledged],
            ["resends answered 'duplicate'", self.answers_lost],
            ["losses", self.losses], ["duplicates", self.duplicates],
            ["reopen failures", self.reopen_failures],
        ]


class KillLoop:
    def __init__(self, settings: KillSettings, region: Region, work: Path) -> None:
        self.settings = settings
        self.region = region
        self.work = work
        self.processes = ClientProcesses()
        self.lock = threading.Lock()
        self.client_kills = 0
        self.lives: dict[str, list[Life]] = defaultdict(list)
        self.failures: list[str] = []
        self.done = threading.Event()
        self.compactions = 0
        self.setup_changes = {row.change_id for row in region.change_log()}

    # --- the loop ---

    def run(self) -> None:
        threads = [threading.Thread(target=self._guard, args=(self._device_loop, device), name=device.name)
                   for device in self.region.devices.values()]
        threads.append(threading.Thread(target=self._guard, args=(self._server_killer,), name="server"))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self.region.server.process.poll() is not None:
            self.region.start_server_again()

    def _guard(self, work, *args) -> None:
        try:
            work(*args)
        except BaseException as error:  # noqa: BLE001  the others must stop too
            with self.lock:
                self.failures.append(f"{threading.current_thread().name}: {error!r}")
            self.done.set()

    def _counted_kill(self) -> None:
        with self.lock:
            self.client_kills += 1
            if self.client_kills >= self.settings.kills:
                self.done.set()

    def _device_loop(self, device: DeviceVault) -> None:
        rng = random.Random(f"{self.settings.seed}-{device.name}")
        number = 0
        while not self.done.is_set():
            number += 1
            if rng.random() < self.settings.cli_share:
                lived = self._cli_life(device, number, rng)
            else:
                lived = self._api_life(device, number, rng)
            with self.lock:
                self.lives[device.name].append(lived)
            if lived.killed:
                self._counted_kill()

    def _api_life(self, device: DeviceVault, number: int, rng: random.Random) -> Life:
        folder = self.work / "lives" / device.name
        folder.mkdir(parents=True, exist_ok=True)
        plan = LifePlan(
            device=device.name, life=number, data_dir=str(device.data_dir),
            passphrase=device.passphrase, seed=rng.getrandbits(32),
            edits=rng.randint(*self.settings.edits_per_life),
            events_path=str(folder / f"{number}.events"), log_path=str(folder / f"{number}.log"),
            activation_id=rng.choice(self.region.activations), author_function_id=device.anchor,
            digest_interval=rng.choice((0.0, 3600.0)),
            pull_limit=rng.choice((7, 40, 2000)), push_max_changes=rng.choice((5, 40, 1000)),
            rekey_at=rng.randint(0, 3) if rng.random() < self.settings.rekey_chance else None,
        )
        # Some lives die while the vault opens; the others at a random moment of their work.
        while_opening = rng.random() < self.settings.open_kill_share
        delay = rng.uniform(0, self.settings.max_delay)
        process = self.processes.start(life, plan, name=f"{device.name}-{number}")
        if not while_opening:
            _wait_until_ready(Path(plan.events_path), process)
        sent = self.processes.run_for(process, delay if not while_opening else delay / 3)
        exitcode = self.processes.exitcode(process)
        log = Path(plan.log_path)
        return Life(device.name, number, "api", sent and exitcode == -9, exitcode,
                    read_events(Path(plan.events_path)), log.read_text() if log.exists() else "")

    def _cli_life(self, device: DeviceVault, number: int, rng: random.Random) -> Life:
        delay = rng.uniform(0, self.settings.max_delay + 1.0)  # + the interpreter's start
        process = subprocess.Popen(cli_command(device.data_dir, "sync"), env=cli_env(device.passphrase),
                                   cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            output, _ = process.communicate(timeout=delay)
            killed = False
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
            killed = process.returncode == -9
        return Life(device.name, number, "cli", killed, process.returncode, output=output)

    def _server_killer(self) -> None:
        """Now and then (``server_uptime`` seconds after it started), the server is killed, and
        started again a moment later, until the clients' kills are done."""
        rng = random.Random(f"{self.settings.seed}-server")
        while not self.done.wait(rng.uniform(*self.settings.server_uptime)):
            self.region.kill_server()
            self.region.server_kills += 1
            time.sleep(rng.uniform(0, 0.5))
            self.region.start_server_again()
            if (self.region.server_kills - 1) % self.settings.compact_every == 0:
                self._compact()

    def _compact(self) -> None:
        """`samverka-server compact --older-than-days 0` beside the running server: every
        tombstone goes, and every device whose cursor is older downloads everything again."""
        done = subprocess.run([sys.executable, "-m", "sync.server.cli", "compact", "--older-than-days", "0",
                               "--db", self.region.db_url], cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"compact failed: {done.stdout}{done.stderr}")
        self.compactions += 1

    # --- afterwards ---

    def check(self) -> KillFigures:
        figures = KillFigures(self.settings.seed, self.settings.backend)
        problems = figures.problems
        problems.extend(self.failures)
        all_lives = [lived for lives in self.lives.values() for lived in lives]
        figures.lives = len(all_lives)
        figures.client_kills = sum(lived.killed for lived in all_lives)
        figures.cli_kills = sum(lived.killed and lived.kind == "cli" for lived in all_lives)
        figures.server_kills = self.region.server_kills
        figures.compactions = self.compactions
        figures.clean_exits = sum(not lived.killed for lived in all_lives)
        figures.rekeys = sum(1 for lived in all_lives for e in lived.events if e["e"] == "rekeyed")
        synced = [e for lived in all_lives for e in lived.events if e["e"] == "sync" and e["ok"]]
        figures.resyncs = sum(bool(e.get("resynced")) for e in synced)
        figures.repairs = sum(bool(e.get("repaired")) for e in synced)
        figures.kill_moments.update(moment(lived) for lived in all_lives if lived.killed and lived.kind == "api")
        for lived in all_lives:
            problem = self._life_problem(lived)
            if problem:
                figures.reopen_failures += problem[0]
                problems.append(problem[1])
        views = self._quiet_sync(figures)
        log = self.region.change_log()
        for device in self.region.devices.values():
            self._check_ledger(device, self.lives[device.name], log, figures)
        self._check_unique(figures)
        for device in self.region.devices.values():
            if device.name not in views:
                continue
            found = differences(views[device.name], self.region.server_view(device.organisation_id),
                                compacted=True)
            figures.device_differences += len(found)
            problems.extend(f"{device.name}: {line}" for line in found)
        return figures

    def _life_problem(self, lived: Life) -> tuple[int, str] | None:
        """(reopen failure?, what) for a life that ended wrong."""
        where = f"{lived.device} life {lived.number} ({lived.kind})"
        if lived.kind == "cli":
            if lived.killed or lived.exitcode == 0:
                return None
            # 1 is a message for a person; a sync that could not reach the server names it.
            if lived.exitcode == 1 and str(self.region.server.port) in lived.output:
                return None
            return (1, f"{where}: exit {lived.exitcode}: {lived.output.strip()[-800:]}")
        errors = [e for e in lived.events if e["e"] == "error"]
        rejected = [e for e in lived.events if e["e"] == "rejected"]
        if rejected:
            return (0, f"{where}: the server refused {rejected[0]}")
        if errors or (not lived.killed and lived.exitcode != 0):
            opened = any(e["e"] == "ready" for e in lived.events)
            detail = errors[0]["error"] if errors else lived.output[-800:]
            return (0 if opened else 1, f"{where}: exit {lived.exitcode}: {detail.strip()[-1500:]}")
        return None

    def _quiet_sync(self, figures: KillFigures) -> dict[str, dict]:
        """Every vault opens; syncs go round until nothing moves; each device's view."""
        views: dict[str, dict] = {}
        opened = {}
        stack = []
        try:
            for device in self.region.devices.values():
                try:
                    context = device.opened()
                    opened[device.name] = context.__enter__()
                    stack.append(context)
                except Exception as error:  # noqa: BLE001  counted and told
                    figures.reopen_failures += 1
                    figures.problems.append(f"{device.name}: the vault did not open afterwards: {error!r}")
            for _ in range(6):
                moved = 0
                for store, engine in opened.values():
                    report = sync_until_ok(engine)
                    moved += report.pushed + report.pulled
                    figures.resyncs += report.resynced
                    figures.repairs += bool(report.repaired)
                if not moved:
                    break
            for name, (store, engine) in opened.items():
                if store.outbox_count() or engine.rejected() or store.quarantine_count():
                    figures.problems.append(
                        f"{name}: outbox {store.outbox_count()}, rejected {len(engine.rejected())}, "
                        f"quarantined {store.quarantine_count()} after the quiet sync")
                damage = store.check_integrity()
                if damage:
                    figures.problems.append(f"{name}: integrity check: {damage[:3]}")
                figures.problems.extend(f"{name}: {line}" for line in journal_problems(store, self.region))
                views[name] = device_view(store)
        finally:
            for context in reversed(stack):
                context.__exit__(None, None, None)
        return views

    def _check_ledger(self, device: DeviceVault, lives: list[Life], log, figures: KillFigures) -> None:
        problems = figures.problems
        applied = {row.change_id: row for row in log
                   if row.device_id == device.device_id and row.change_id not in self.setup_changes}
        intents: list[dict] = []
        acked: set[str] = set()
        statuses: Counter[str] = Counter()
        for lived in lives:
            current: dict[str, dict] = {}
            for event in lived.events:
                if event["e"] == "intent":
                    event = dict(event, made=False, changes=[])
                    current[event["token"]] = event
                    intents.append(event)
                elif event["e"] == "made":
                    current[event["token"]].update(made=True, changes=event["changes"])
                elif event["e"] == "ack":
                    acked.add(event["change"])
                    statuses[event["status"]] += 1
        made = [i for i in intents if i["made"]]
        cut = [i for i in intents if not i["made"]]
        figures.edits_made += len(made)
        figures.edits_cut += len(cut)
        figures.edits_acknowledged += sum(bool(i["changes"]) and set(i["changes"]) <= acked for i in made)
        figures.answers_lost += statuses["duplicate"]
        must = acked | {change for i in made for change in i["changes"]}
        lost = sorted(must - set(applied))
        figures.losses += len(lost)
        problems.extend(f"{device.name}: change {c} acknowledged or made, not on the server" for c in lost[:5])
        # Changes applied that no made edit accounts for: at most one per record of a cut edit.
        room = Counter(record_id for i in cut for _, record_id in i["records"])
        for change_id, row in applied.items():
            if change_id in must:
                continue
            if room[row.record_id] > 0:
                room[row.record_id] -= 1
            else:
                figures.duplicates += 1
                problems.append(f"{device.name}: change {change_id} on {row.collection}/{row.record_id} "
                                "applied, but no edit accounts for it (a duplicate)")
        self._check_effects(device, intents, figures)

    def _check_effects(self, device: DeviceVault, intents: list[dict], figures: KillFigures) -> None:
        """What each edit wrote is there (or was replaced by a later edit of the same field)."""
        server = self.region.server_view(device.organisation_id)
        updates: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
        deleted = {tuple(i["records"][0]) for i in intents if i["kind"] == "delete"}
        for intent in intents:
            if intent["kind"] == "update":
                collection, record_id = intent["records"][0]
                updates[(collection, record_id, intent["field"])].append(intent)
                continue
            if intent["kind"] == "delete":
                state = server.get(tuple(intent["records"][0]))
                if intent["made"] and state is not None and not state[1]:
                    figures.losses += 1
                    figures.problems.append(f"{device.name}: delete {intent['records'][0]} is not there")
                continue
            expected = {"functions": ("name", f"rel {intent['token']}"),
                        "channels": ("value", f"rel-{intent['token']}@example.se"),
                        "log_entries": ("text", f"rel {intent['token']}")}
            for collection, record_id in intent["records"]:
                state = server.get((collection, record_id))
                if state is None:  # never pushed, or deleted and compacted away
                    if intent["made"] and (collection, record_id) not in deleted:
                        figures.losses += 1
                        figures.problems.append(f"{device.name}: created {collection}/{record_id} is not there")
                    continue
                name, value = expected[collection]
                if not state[1] and state[3].get(name, (None,))[0] != value:
                    figures.losses += 1
                    figures.problems.append(f"{device.name}: {collection}/{record_id} {name} is "
                                            f"{state[3].get(name)!r}, not {value!r}")
        for (collection, record_id, name), edits in updates.items():
            state = server.get((collection, record_id))
            if (collection, record_id) in deleted or state is None or state[1]:
                continue
            confirmed = [n for n, edit in enumerate(edits) if edit["made"]]
            allowed = {edit["value"] for edit in edits[confirmed[-1] if confirmed else 0:]}
            if not confirmed:
                allowed.add(None)
            held = state[3].get(name, (None,))[0]
            if held not in allowed:
                figures.losses += 1
                figures.problems.append(f"{device.name}: {collection}/{record_id} {name} is {held!r}, "
                                        f"expected one of {sorted(map(str, allowed))}")

    def _check_unique(self, figures: KillFigures) -> None:
        """No record, and no journal entry, carries the value of one edit twice."""
        for collection, name in (("functions", "name"), ("channels", "value"), ("log_entries", "text")):
            seen = Counter(
                (row.fields.get(name) or {}).get("value") for row in self.region.records(collection)
                if not row.deleted
            )
            for value, count in seen.items():
                if value and str(value).startswith("rel") and count > 1:
                    figures.duplicates += count - 1
                    figures.problems.append(f"{collection}: {value!r} is there {count} times")


def _wait_until_ready(events_path: Path, process, timeout: float = 60.0) -> None:
    """Until the life has opened its vault (or ended; its sentinel is waited on, never polled:
    see ClientProcesses)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if events_path.exists() and b'"e":"ready"' in events_path.read_bytes():
            return
        if multiprocessing.connection.wait([process.sentinel], 0.01):
            return


def moment(lived: Life) -> str:
    """What a killed life was doing, from its last event."""
    last = lived.events[-1]["e"] if lived.events else None
    return {None: "opening the vault", "intent": "committing an edit",
            "syncing": "syncing", "ack": "syncing", "rekey": "re-keying the database"}.get(last, "between steps")


def run_kill_loop(settings: KillSettings, work: Path, *,
                  then: Callable[[KillLoop], None] | None = None) -> KillFigures:
    """Set up a region, run the loop, check; the figures (with every problem found).
    ``then(loop)`` may look further before everything is stopped."""
    started = time.monotonic()
    with server_database(settings.backend, work) as db_url:
        region = make_region(work, db_url)
        try:
            loop = KillLoop(settings, region, work)
            try:
                loop.run()
                figures = loop.check()
                if then is not None:
                    then(loop)
            finally:
                loop.processes.close()
        finally:
            region.close()
    figures.wall_s = time.monotonic() - started
    return figures
