"""Convergence across processes: three organisations' devices, N random operations through a network that drops, stalls and cuts, then one quiet round — and everyone holds the same.

The parent draws every operation from one seeded generator and sends it to the device process
that makes it (``reliability_client.serve_commands``): creating functions with a channel
(some internal to their organisation), updating fields others see, deleting, turning a
function internal and back, appending to the activation's journal, and concurrent overwrites —
LST and SOS (the regional administrator and the forum's convenor, the two that may write an
activation) each set the same field of an activation to a different value, both starting
from the same state, before either hears of the other. Devices sync now and then, all
through ``FaultyProxy``; their commands run side by side.

After a quiet round (the proxy heals; everyone syncs until nothing moves) the run checks that
each device holds exactly what the server holds for its organisation, record by record; that
every operation's effect is there; that each journal entry is there once; and that there is
exactly one conflict record per concurrent overwrite (each naming both values), and no other.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from reliability_client import DevicePlan, serve_commands
from reliability_region import (
    ClientProcesses,
    DeviceVault,
    Figures,
    Region,
    device_view,
    differences,
    journal_problems,
    make_region,
    server_database,
)
from syncer_proxy import Faults, FaultyProxy

EPISODE_FIELDS = ("reason", "ended_at")
MAX_PENDING = 16  # commands in flight to one device (keeps both pipes from filling)
ANSWER_WITHIN = 240  # seconds (a sync_until_ok through the faulty proxy takes a few)


@dataclass(frozen=True)
class ConvergenceSettings:
    operations: int = 1000
    seed: int = 1
    backend: str = "sqlite"
    sync_chance: float = 0.12
    faults: Faults = field(default_factory=lambda: Faults(
        refuse=0.03, cut_request=0.03, cut_response=0.05, stall=0.01, stall_seconds=0.5))
    weights: dict[str, float] = field(default_factory=lambda: {
        "create": 0.22, "update": 0.30, "delete": 0.07, "visibility": 0.05, "journal": 0.22,
        "overwrite": 0.08,
    })


@dataclass
class ConvergenceFigures(Figures):
    operations: Counter = field(default_factory=Counter)
    syncs: int = 0
    failed_syncs: int = 0
    proxy: dict[str, int] = field(default_factory=dict)
    overwrites: int = 0
    conflicts_expected: int = 0
    conflicts_on_server: int = 0
    conflicts_per_device: dict[str, int] = field(default_factory=dict)
    records_on_server: int = 0
    journal_entries: int = 0
    quiet_rounds: int = 0

    def measured(self) -> list[list[Any]]:
        return [
            ["operations", sum(self.operations.values())],
            *([f"… {kind}", count] for kind, count in sorted(self.operations.items())),
            ["syncs through the proxy", self.syncs], ["… failed (dropped, stalled, cut)", self.failed_syncs],
            *([f"proxy: {name}", count] for name, count in self.proxy.items()),
            ["concurrent overwrites", self.overwrites],
            ["conflict records expected", self.conflicts_expected],
            ["conflict records on the server", self.conflicts_on_server],
            *([f"conflict records on {name}", count] for name, count in self.conflicts_per_device.items()),
            ["records on the server", self.records_on_server],
            ["journal entries", self.journal_entries],
            ["quiet rounds until nothing moved", self.quiet_rounds],
        ]


class Worker:
    """One device's process and the commands in flight to it."""

    def __init__(self, processes: ClientProcesses, device: DeviceVault, log_path: Path) -> None:
        self.name = device.name
        self.connection, child = processes.context.Pipe()
        plan = DevicePlan(device.name, str(device.data_dir), device.passphrase, str(log_path))
        self.process = processes.start(serve_commands, plan, child, name=device.name)
        child.close()
        self.processes = processes
        self.in_flight: list[tuple] = []
        self.answers: list[tuple[tuple, tuple]] = []

    def send(self, *command: Any) -> None:
        if len(self.in_flight) >= MAX_PENDING:
            self._receive()
        self.connection.send(command)
        self.in_flight.append(command)

    def _receive(self) -> None:
        command = self.in_flight.pop(0)
        if not self.connection.poll(ANSWER_WITHIN):
            raise TimeoutError(f"{self.name}: no answer to {command[:2]} within {ANSWER_WITHIN} s")
        self.answers.append((command, self.connection.recv()))

    def settle(self) -> None:
        while self.in_flight:
            self._receive()

    def call(self, *command: Any) -> tuple:
        self.send(*command)
        self.settle()
        return self.answers[-1][1]

    def stop(self) -> int:
        """Ask the process to close its vault and end; killed if it does not answer."""
        try:
            self.call("stop")
        except (EOFError, OSError, TimeoutError):
            self.processes.run_for(self.process, 0)
        return self.processes.exitcode(self.process)


@dataclass
class Model:
    """What the generator has made, to pick valid operations and to know what must be there."""

    functions: dict[str, dict[str, str]] = field(default_factory=dict)  # device -> {id: visibility}
    channels: dict[str, dict[str, str]] = field(default_factory=dict)  # device -> {id: function}
    deleted: set[tuple[str, str]] = field(default_factory=set)
    last_value: dict[tuple[str, str, str], Any] = field(default_factory=dict)
    journal: dict[str, str] = field(default_factory=dict)  # entry id -> text
    episodes: list[tuple[str, str, Any, Any]] = field(default_factory=list)  # activation, field, lst's, sos's


class Convergence:
    def __init__(self, settings: ConvergenceSettings, region: Region, proxy: FaultyProxy, work: Path) -> None:
        self.settings = settings
        self.region = region
        self.proxy = proxy
        self.rng = random.Random(f"{settings.seed}-convergence")
        self.model = Model()
        self.operations: Counter[str] = Counter()
        self.quiet_rounds = 0
        self.quiet_problems: list[str] = []
        self.processes = ClientProcesses()
        self.workers = {name: Worker(self.processes, device, work / f"{name}.log")
                        for name, device in region.devices.items()}

    # --- the run ---

    def run(self) -> None:
        faults = self.settings.faults
        self.proxy.set_faults(Faults(**{**faults.__dict__, "seed": self.settings.seed}))
        kinds, weights = zip(*self.settings.weights.items())
        made = 0
        number = 0
        while made < self.settings.operations:
            number += 1
            kind = self.rng.choices(kinds, weights)[0]
            if kind == "overwrite":
                if self.settings.operations - made < 2:
                    continue
                self._overwrite(number)
                made += 2
                self.operations["concurrent overwrite (2 writes)"] += 2
                continue
            name = self.rng.choice(list(self.workers))
            kind = getattr(self, f"_{kind}")(name, f"{name} {number}")
            self.operations[kind] += 1
            made += 1
            if self.rng.random() < self.settings.sync_chance:
                self.workers[name].send("sync")
        for worker in self.workers.values():
            worker.settle()

    def _device(self, name: str) -> DeviceVault:
        return self.region.devices[name]

    def _live_functions(self, name: str) -> list[str]:
        return [f for f in self.model.functions.get(name, {}) if ("functions", f) not in self.model.deleted]

    def _live_channels(self, name: str) -> list[str]:
        return [c for c in self.model.channels.get(name, {}) if ("channels", c) not in self.model.deleted]

    def _create(self, name: str, token: str) -> str:
        import uuid

        function_id, channel_id = str(uuid.uuid4()), str(uuid.uuid4())
        visibility = "internal" if self.rng.random() < 0.2 else "regional"
        fields = {"organisation_id": self._device(name).organisation_id, "name": f"Funktion {token}",
                  "visibility": visibility}
        channel = {"function_id": function_id, "kind": "email", "value": f"k{token.replace(' ', '-')}@example.se"}
        self.workers[name].send("batch", [("create", "functions", function_id, fields),
                                          ("create", "channels", channel_id, channel)])
        self.model.functions.setdefault(name, {})[function_id] = visibility
        self.model.channels.setdefault(name, {})[channel_id] = function_id
        for key, value in fields.items():
            self.model.last_value[("functions", function_id, key)] = value
        for key, value in channel.items():
            self.model.last_value[("channels", channel_id, key)] = value
        return f"create ({visibility} function + channel)"

    def _update(self, name: str, token: str) -> str:
        functions, channels = self._live_functions(name), self._live_channels(name)
        if name == "lst" and self.rng.random() < 0.25:
            collection, record_id, key = "forums", self.region.forum, "agenda"
        elif functions and (not channels or self.rng.random() < 0.5):
            collection, record_id = "functions", self.rng.choice(functions)
            key = self.rng.choice(("short_name", "description"))
        elif channels:
            collection, record_id = "channels", self.rng.choice(channels)
            key = self.rng.choice(("note", "label"))
        else:
            return self._create(name, token)
        value = f"{key} {token}"
        self.workers[name].send("update", collection, record_id, {key: value})
        self.model.last_value[(collection, record_id, key)] = value
        return "update of a shared field"

    def _delete(self, name: str, token: str) -> str:
        functions, channels = self._live_functions(name), self._live_channels(name)
        if not functions and not channels:
            return self._create(name, token)
        if channels and (not functions or self.rng.random() < 0.7):
            collection, record_id = "channels", self.rng.choice(channels)
        else:
            collection, record_id = "functions", self.rng.choice(functions)
        self.workers[name].send("delete", collection, record_id)
        self.model.deleted.add((collection, record_id))
        return f"delete ({collection[:-1]})"

    def _visibility(self, name: str, token: str) -> str:
        functions = self._live_functions(name)
        if not functions:
            return self._create(name, token)
        function_id = self.rng.choice(functions)
        visibility = "regional" if self.model.functions[name][function_id] == "internal" else "internal"
        self.workers[name].send("update", "functions", function_id, {"visibility": visibility})
        self.model.functions[name][function_id] = visibility
        self.model.last_value[("functions", function_id, "visibility")] = visibility
        return f"visibility → {visibility}"

    def _journal(self, name: str, token: str) -> str:
        import uuid

        entry_id = str(uuid.uuid4())
        text = f"Journal {token}"
        # Some entries are internal: the others hold them hidden, in their place in the chain.
        visibility = "internal" if self.rng.random() < 0.15 else "regional"
        self.workers[name].send("create", "log_entries", entry_id, {
            "activation_id": self.rng.choice(self.region.activations),
            "at": "2026-11-27T10:00:00.000Z", "author_function_id": self._device(name).anchor,
            "kind": "information", "text": text, "visibility": visibility,
        })
        self.model.journal[entry_id] = text
        return f"journal append ({visibility})"

    def _overwrite(self, number: int) -> None:
        """LST and SOS both write one activation field from the same state, neither knowing."""
        lst, sos = self.workers["lst"], self.workers["sos"]
        lst.settle()
        sos.settle()
        for worker in (lst, sos, lst):  # both have pushed the last episode and heard its outcome
            self._sync_until_ok(worker)
        activation = self.rng.choice(self.region.activations)
        key = self.rng.choice(EPISODE_FIELDS)
        values = []
        for offset, worker in enumerate((lst, sos)):
            if key == "reason":
                value = f"Orsak {number} enligt {worker.name}"
            else:
                moment = dt.datetime(2026, 11, 28, tzinfo=dt.timezone.utc) + dt.timedelta(
                    milliseconds=number * 10 + offset)
                value = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
            worker.send("update", "activations", activation, {key: value})
            values.append(value)
        self.model.episodes.append((activation, key, *values))

    def _sync_until_ok(self, worker: Worker) -> dict:
        answer = worker.call("sync_until_ok", 60)
        if answer[0] != "ok":
            raise RuntimeError(f"{worker.name}: no sync got through: {answer}")
        return answer[1]

    # --- afterwards ---

    def quiet_round(self) -> None:
        self.proxy.set_faults(Faults())
        for rounds in range(1, 9):
            moved = 0
            for worker in self.workers.values():
                result = self._sync_until_ok(worker)
                moved += result["pushed"] + result["pulled"]
            self.quiet_rounds = rounds
            if not moved:
                return
        self.quiet_problems.append("the devices kept moving after 8 quiet rounds")

    def stop(self) -> None:
        try:
            for worker in self.workers.values():
                code = worker.stop()
                if code != 0:
                    self.quiet_problems.append(f"{worker.name}: the device process ended with {code}")
        finally:
            self.processes.close()

    def check(self) -> ConvergenceFigures:
        """The figures, and every problem found (after ``quiet_round`` and ``stop``)."""
        figures = self.figures = ConvergenceFigures(
            self.settings.seed, self.settings.backend, operations=Counter(self.operations),
            quiet_rounds=self.quiet_rounds, problems=list(self.quiet_problems))
        problems = figures.problems
        for worker in self.workers.values():
            for command, answer in worker.answers:
                if command[0] in ("sync", "sync_until_ok") and answer[0] == "ok":
                    if command[0] == "sync":
                        figures.syncs += 1
                        figures.failed_syncs += not answer[1][0]
                    else:
                        figures.syncs += 1 + answer[1]["failures"]
                        figures.failed_syncs += answer[1]["failures"]
                elif answer[0] != "ok" and command[0] != "stop":
                    problems.append(f"{worker.name}: {command[:3]} → {answer[0]}: {str(answer[1])[-1500:]}")
        stats = self.proxy.stats
        figures.proxy = {"connections": stats.connections, "refused": stats.refused,
                         "requests cut": stats.cut_request, "answers cut": stats.cut_response,
                         "stalled": stats.stalled}
        for name, device in self.region.devices.items():
            with device.opened() as (store, engine):
                if store.outbox_count() or engine.rejected() or store.quarantine_count():
                    problems.append(f"{name}: outbox {store.outbox_count()}, rejected "
                                    f"{[r.reason for r in engine.rejected()][:3]}, quarantined "
                                    f"{store.quarantine_count()}")
                problems.extend(f"{name}: {line}" for line in journal_problems(store, self.region))
                ours = device_view(store)
                figures.conflicts_per_device[name] = sum(
                    1 for (collection, _), state in ours.items() if collection == "conflicts" and not state[1])
            found = differences(ours, self.region.server_view(device.organisation_id))
            figures.device_differences += len(found)
            problems.extend(f"{name}: {line}" for line in found)
        self._check_effects()
        self._check_conflicts()
        return figures

    def _check_effects(self) -> None:
        figures, model = self.figures, self.model
        rows = {}
        for collection in ("functions", "channels", "forums", "log_entries", "activations", "conflicts"):
            for row in self.region.records(collection):
                rows[(collection, row.record_id)] = row
        figures.records_on_server = sum(1 for _ in self.region.server_view(self.region.org_ids["LST"]))
        for (collection, record_id, key), value in model.last_value.items():
            row = rows.get((collection, record_id))
            if row is None:
                figures.problems.append(f"{collection}/{record_id} is not on the server")
            elif (collection, record_id) in model.deleted:
                if not row.deleted:
                    figures.problems.append(f"{collection}/{record_id} was deleted, is not a tombstone")
            elif (key != "visibility" and row.value(key) != value) or (
                    key == "visibility" and (row.fields.get(key) or {}).get("value") != value):
                figures.problems.append(f"{collection}/{record_id} {key} is {row.value(key)!r}, not {value!r}")
        texts = Counter(row.value("text") for (collection, _), row in rows.items() if collection == "log_entries")
        figures.journal_entries = sum(texts.values())
        for entry_id, text in model.journal.items():
            if ("log_entries", entry_id) not in rows or texts[text] != 1:
                figures.problems.append(f"journal entry {text!r} is there {texts[text]} times")
        for text, count in texts.items():
            if count > 1:
                figures.problems.append(f"journal entry {text!r} is there {count} times")

    def _check_conflicts(self) -> None:
        figures = self.figures
        conflicts = [row for row in self.region.records("conflicts") if not row.deleted]
        figures.overwrites = len(self.model.episodes)
        figures.conflicts_expected = sum(1 for *_, a, b in self.model.episodes if a != b)
        figures.conflicts_on_server = len(conflicts)
        remaining = list(conflicts)
        for activation, key, first, second in self.model.episodes:
            matching = [row for row in remaining if row.value("record_id") == activation
                        and row.value("field") == key
                        and {row.value("kept_value"), row.value("other_value")} == {first, second}]
            if len(matching) != 1:
                figures.problems.append(f"overwrite of {key} on {activation} ({first!r} / {second!r}): "
                                        f"{len(matching)} conflict records")
            for row in matching:
                remaining.remove(row)
        for row in remaining:
            figures.problems.append(f"a conflict record no overwrite accounts for: {row.value('field')} "
                                    f"{row.value('kept_value')!r} / {row.value('other_value')!r}")
        for name, count in figures.conflicts_per_device.items():
            if count != figures.conflicts_expected:
                figures.problems.append(f"{name} holds {count} conflict records, "
                                        f"expected {figures.conflicts_expected}")


def run_convergence(settings: ConvergenceSettings, work: Path, *,
                    then: Callable[[Convergence], None] | None = None) -> ConvergenceFigures:
    """Set up a region behind a faulty proxy, run, settle, check; ``then(run)`` may look
    further before everything is stopped."""
    started = time.monotonic()
    proxies: list[FaultyProxy] = []

    def through_proxy(port: int) -> str:
        proxies.append(FaultyProxy(port).start())
        return proxies[-1].url

    with server_database(settings.backend, work) as db_url:
        try:
            region = make_region(work, db_url, client_url=through_proxy)
            try:
                run = Convergence(settings, region, proxies[0], work)
                try:
                    run.run()
                    run.quiet_round()
                finally:
                    run.stop()
                figures = run.check()
                if then is not None:
                    then(run)
            finally:
                region.close()
        finally:
            for proxy in proxies:
                proxy.stop()
    figures.wall_s = time.monotonic() - started
    return figures
