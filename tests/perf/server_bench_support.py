"""Shared pieces of the server benchmarks (bench_server.py, bench_reconnect_storm.py).

Databases (a SQLite file, or a throwaway PostgreSQL from scripts/pg-start), a real
`samverka-server serve` subprocess on 127.0.0.1, organisations and enrolled devices, and
change makers. Everything talks to 127.0.0.1 only.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from sync.clock import HybridClock  # noqa: E402
from sync.server import operations  # noqa: E402
from sync.server.db import make_engine, make_sessionmaker, upgrade, write_session  # noqa: E402

PG_BIN = Path("/usr/lib/postgresql/15/bin")
USER_AGENT = "Samverka/0.1.0 (benchmark)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def print_table(headers: list[str], rows: list[list[Any]]) -> None:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print("| " + " | ".join(c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(row, widths)) + " |")
    sys.stdout.flush()


def _numeric(text: str) -> bool:
    return text.replace(",", "").replace(".", "").replace(" ", "").replace("%", "").isdigit()


def machine() -> str:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({model}), Python {sys.version.split()[0]}"


# --- databases -------------------------------------------------------------------------------

class Postgres:
    """A throwaway PostgreSQL cluster (scripts/pg-start), stopped and removed by close()."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="samverka-pg.")
        out = subprocess.run(
            [str(ROOT / "scripts" / "pg-start"), self.dir], capture_output=True, text=True, check=False
        )
        if out.returncode != 0:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise SystemExit(f"PostgreSQL did not start:\n{out.stderr}")
        env = dict(
            line.removeprefix("export ").split("=", 1) for line in out.stdout.splitlines() if "=" in line
        )
        self.admin_url = env["SAMVERKA_TEST_PG_URL"]

    def new_database(self) -> str:
        from sqlalchemy import create_engine, text

        name = f"bench_{uuid.uuid4().hex[:12]}"
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.admin_url.rsplit("/", 1)[0] + "/" + name

    def close(self) -> None:
        subprocess.run([str(ROOT / "scripts" / "pg-stop"), self.dir], capture_output=True, check=False)


def postgres_available() -> bool:
    return (PG_BIN / "initdb").exists()


# --- the server ------------------------------------------------------------------------------

def add_backend_arguments(parser) -> None:
    """--backends / --pg / --no-pg, shared by the server benchmarks."""
    parser.add_argument("--backends", default=None, help="comma-separated: sqlite,postgresql")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--pg", action="store_true", help="include PostgreSQL (installs it if missing)")
    group.add_argument("--no-pg", action="store_true", help="SQLite only")


def chosen_backends(args) -> list[str]:
    if args.backends:
        return [b.strip() for b in args.backends.split(",") if b.strip()]
    if args.no_pg:
        return ["sqlite"]
    if args.pg or postgres_available():
        return ["sqlite", "postgresql"]
    print("(PostgreSQL binaries not found: SQLite only; --pg installs and includes it)")
    return ["sqlite"]


def backend_databases(names: list[str], work: Path) -> Iterator[tuple[str, str]]:
    """(backend, a fresh database URL) for each backend named: a SQLite file in ``work``, or a
    database in a throwaway PostgreSQL cluster that is stopped once its turn is over."""
    for name in names:
        if name == "sqlite":
            yield name, f"sqlite:///{work / 'server.db'}"
        elif name == "postgresql":
            pg = Postgres()
            try:
                yield name, pg.new_database()
            finally:
                pg.close()
        else:
            raise SystemExit(f"unknown backend {name!r}")


def init_database(db_url: str, orgs: list[tuple[str, bool]]) -> dict[str, str]:
    """Schema and organisations ((short, regional admin?)…); returns short → id."""
    engine = make_engine(db_url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    ids = {}
    with write_session(sessions) as session:
        for short, regional in orgs:
            org = operations.add_organisation(
                session, f"Organisation {short}", short, regional_admin=regional
            )
            ids[short] = org.id
    engine.dispose()
    return ids


def issue_codes(db_url: str, wanted: list[tuple[str, str]]) -> list[str]:
    """One enrollment code per (organisation short code, role)."""
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    with write_session(sessions) as session:
        codes = [operations.issue_code(session, short, role, 6 * 3_600_000).code for short, role in wanted]
    engine.dispose()
    return codes


SERVE_WITH_SYNCHRONOUS = (
    "import sys; import sync.server.db as db; db.SQLITE_SYNCHRONOUS = sys.argv[1]; "
    "from sync.server.cli import main; sys.exit(main(sys.argv[2:]))"
)


class ServeProcess:
    """`samverka-server serve` in its own process (the real command line, real uvicorn)."""

    def __init__(self, db_url: str, *, workers: int = 1, log: Path | None = None,
                 sqlite_synchronous: str | None = None, port: int | None = None) -> None:
        """``sqlite_synchronous``: run with another ``PRAGMA synchronous`` than the server's own
        (to measure what FULL costs); one worker only, which runs in this very process.
        ``port``: a given one (a server started again where its clients know it)."""
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log, "ab") if log else subprocess.DEVNULL
        serve = ["serve", "--db", db_url, "--host", "127.0.0.1", "--port", str(self.port),
                 "--workers", str(workers), "--log-level", "warning"]
        if sqlite_synchronous is None:
            command = [sys.executable, "-m", "sync.server.cli", *serve]
        else:
            if workers != 1:
                raise SystemExit("another PRAGMA synchronous needs --workers 1")
            command = [sys.executable, "-c", SERVE_WITH_SYNCHRONOUS, sqlite_synchronous, *serve]
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited with {self.process.returncode}")
            try:
                if requests.get(self.url + "/v1/health", timeout=1).ok:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        self.close()
        raise SystemExit("the server did not start within 60 s")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log is not subprocess.DEVNULL:
            self.log.close()


@dataclass
class Device:
    url: str
    token: str
    device_id: str
    org_id: str
    role: str
    clock: HybridClock = field(init=False)

    def __post_init__(self) -> None:
        self.clock = HybridClock(self.device_id)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "User-Agent": USER_AGENT}


def enroll(url: str, code: str, name: str, http: requests.Session | None = None) -> Device:
    http = http or requests.Session()
    response = http.post(
        url + "/v1/devices/enroll", json={"code": code, "device_name": name},
        headers={"User-Agent": USER_AGENT}, timeout=30,
    )
    response.raise_for_status()
    body = response.json()
    return Device(url, body["token"], body["device_id"], body["organisation"]["id"], body["role"])


# --- changes ---------------------------------------------------------------------------------

def change(device: Device, collection: str, fields: dict[str, Any], record_id: str | None = None,
           base: dict[str, str | None] | None = None) -> dict[str, Any]:
    return {
        "change_id": str(uuid.uuid4()),
        "collection": collection,
        "record_id": record_id or str(uuid.uuid4()),
        "op": "upsert",
        "fields": fields,
        "clock": device.clock.now(),
        "base": base if base is not None else {name: None for name in fields},
    }


def push_all(http: requests.Session, device: Device, changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Push ``changes`` in batches of 1,000 (setup work): every one must be applied (or a conflict)."""
    results: list[dict[str, Any]] = []
    for start in range(0, len(changes), 1000):
        response = http.post(device.url + "/v1/sync/push", json={"changes": changes[start:start + 1000]},
                             headers=device.headers, timeout=120)
        response.raise_for_status()
        results += response.json()["results"]
    bad = [r for r in results if r["status"] not in ("applied", "conflict")]
    if bad:
        raise SystemExit(f"setup push refused: {bad[0]}")
    return results


def directory_batch(device: Device, number: int, size: int, internal_every: int = 10) -> Iterator[dict[str, Any]]:
    """``size`` changes creating functions and their channels (1 function : 4 channels).

    Every ``internal_every``-th function (and its channels) is internal to the device's
    organisation, so a pull by another organisation turns those into tombstones.
    """
    made = 0
    function_number = number * size
    while made < size:
        function_number += 1
        visibility = "internal" if function_number % internal_every == 0 else "regional"
        function_id = str(uuid.uuid4())
        yield change(device, "functions", {
            "organisation_id": device.org_id,
            "name": f"Funktion {function_number:07d} i beredskap",
            "short_name": f"F{function_number}",
            "availability": "24/7",
            "description": "Larmas via SOS Alarm; ansvarar för samordning i länet.",
            "visibility": visibility,
        }, function_id)
        made += 1
        for c in range(4):
            if made >= size:
                break
            yield change(device, "channels", {
                "function_id": function_id,
                "kind": "mobile" if c else "phone",
                "value": f"+46701{function_number % 100000:05d}{c}",
                "label": "växel" if c else "direkt",
                "priority": c + 1,
                "resilient": c == 0,
                "visibility": visibility,
            })
            made += 1
