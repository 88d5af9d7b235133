"""`samverka-server`: the server administrator's command line (init, org, enroll-code, devices, serve, compact, demo)."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from pathlib import Path
from typing import Callable, Sequence

from sqlalchemy.exc import DBAPIError, OperationalError

from sync.clock import format_time
from sync.records import ORGANISATION_KINDS
from sync.server import operations
from sync.server.config import ENV_DB, ENV_RETENTION_DAYS, Settings, default_db_url
from sync.server.db import (
    DatabaseUrlError,
    make_engine,
    make_sessionmaker,
    schema_is_current,
    upgrade,
    write_session,
)
from sync.server.operations import AdminError

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
DEMO_CODE_TTL = "7d"


class CliError(Exception):
    """A mistake the administrator can fix; printed without a traceback."""


def _out(text: str = "") -> None:
    print(text, flush=True)


def _engine(args: argparse.Namespace, *, need_schema: bool = True):
    url = args.db or default_db_url()
    try:
        engine = make_engine(url)
    except DatabaseUrlError as exc:
        raise CliError(str(exc)) from None
    if need_schema:
        try:
            ready = schema_is_current(engine)
        except OperationalError as exc:
            engine.dispose()
            raise CliError(f"cannot open the database: {_db_reason(exc)}") from None
        if not ready:
            engine.dispose()
            raise CliError("the database has no schema or an older one; run `samverka-server init` first")
    return engine


def _db_reason(exc: DBAPIError) -> str:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def _with_session(args: argparse.Namespace, work: Callable):
    engine = _engine(args)
    try:
        with write_session(make_sessionmaker(engine)) as session:
            return work(session)
    finally:
        engine.dispose()


# --- subcommands -----------------------------------------------------------------------------

def cmd_init(args: argparse.Namespace) -> int:
    engine = _engine(args, need_schema=False)
    try:
        before, after = upgrade(engine)
    except OperationalError as exc:
        raise CliError(f"cannot open the database: {_db_reason(exc)}") from None
    finally:
        engine.dispose()
    if before == after:
        _out(f"The database schema is up to date (revision {after}).")
    elif before is None:
        _out(f"Created the database schema (revision {after}).")
    else:
        _out(f"Upgraded the database schema from revision {before} to {after}.")
    return EXIT_OK


def cmd_org_add(args: argparse.Namespace) -> int:
    org = _with_session(
        args,
        lambda s: operations.add_organisation(
            s, args.name, args.short, kind=args.kind, regional_admin=args.regional_admin
        ),
    )
    flag = " (regional administrator)" if org.regional_admin else ""
    print(f"Added {org.name} [{org.short_name}]{flag}:", file=sys.stderr)
    _out(org.id)
    return EXIT_OK


def cmd_org_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from sync.server.models import Organisation

    rows = _with_session(
        args, lambda s: list(s.scalars(select(Organisation).order_by(Organisation.short_name)))
    )
    for org in rows:
        flag = "  regional administrator" if org.regional_admin else ""
        _out(f"{org.id}  {org.short_name:<20} {org.name}{flag}")
    if not rows:
        _out("No organisations yet; add one with `samverka-server org add NAME --short CODE`.")
    return EXIT_OK


def cmd_enroll_code(args: argparse.Namespace) -> int:
    ttl = operations.parse_ttl(args.ttl)
    issued = _with_session(args, lambda s: operations.issue_code(s, args.org, args.role, ttl))
    _out(
        f"One-time enrollment code for {issued.organisation.name} [{issued.organisation.short_name}] "
        f"as {issued.role}, valid until {format_time(issued.expires_at)}: {issued.code}"
    )
    return EXIT_OK


def cmd_devices_list(args: argparse.Namespace) -> int:
    rows = _with_session(args, lambda s: operations.list_devices(s, args.org))
    if not rows:
        _out("No devices enrolled" + (f" for {args.org}." if args.org else "."))
        return EXIT_OK
    _out(f"{'device id':<36}  {'org':<12} {'role':<14} {'status':<8} {'last seen':<24} name")
    for device, org in rows:
        status = "revoked" if device.revoked_at else "active"
        seen = format_time(device.last_seen_at) if device.last_seen_at else "never"
        _out(f"{device.id:<36}  {org.short_name:<12} {device.role:<14} {status:<8} {seen:<24} {device.name}")
    return EXIT_OK


def cmd_devices_revoke(args: argparse.Namespace) -> int:
    device = _with_session(args, lambda s: operations.revoke(s, args.device_id))
    _out(f"Revoked {device.name} ({device.id}); it gets 401 from now on.")
    return EXIT_OK


def cmd_compact(args: argparse.Namespace) -> int:
    days = args.older_than_days
    if days is None:
        days = int(os.environ.get(ENV_RETENTION_DAYS) or Settings.retention_days)
    def work(session):
        return operations.compact(session, days), operations.prune_audit(session, days)

    (removed, watermark), audit_rows = _with_session(args, work)
    _out(
        f"Removed {removed} tombstone(s) deleted more than {days} days ago; "
        f"cursors before position {watermark} now get 410 resync-required."
    )
    _out(f"Removed {audit_rows} audit row(s) older than {days} days.")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    engine = _engine(args, need_schema=False)
    try:
        upgrade(engine)
    except OperationalError as exc:
        raise CliError(f"cannot open the database: {_db_reason(exc)}") from None
    finally:
        engine.dispose()
    path = Path(args.file) if args.file else operations.DEMO_FILE
    ttl = operations.parse_ttl(DEMO_CODE_TTL)

    def work(session):
        orgs = operations.load_demo(session, path)
        regional = [o for o in orgs if o.regional_admin]
        others = [o for o in orgs if not o.regional_admin][:3]
        codes = [operations.issue_code(session, regional[0].id, "regional_admin", ttl)]
        codes += [operations.issue_code(session, o.id, "org_admin", ttl) for o in others]
        codes += [operations.issue_code(session, o.id, "member", ttl) for o in others[:1]]
        return orgs, codes

    orgs, codes = _with_session(args, work)
    _out(f"Loaded the demo region: {len(orgs)} organisations.")
    _out(f"Enrollment codes (one-time, valid until {format_time(codes[0].expires_at)}):")
    for issued in codes:
        _out(f"  {issued.organisation.short_name:<16} {issued.role:<15} {issued.code}")
    _out("Start the server with `samverka-server serve` (same --db).")
    return EXIT_OK


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve to any interface


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    url = args.db or default_db_url()
    if bool(args.tls_cert) != bool(args.tls_key):
        raise CliError("give both --tls-cert and --tls-key, or neither")
    if not args.tls_cert and not args.behind_proxy and not is_loopback(args.host):
        raise CliError(
            f"refusing to serve plain HTTP on {args.host}: every request carries a device token, "
            "which would cross the network unencrypted. Give --tls-cert and --tls-key, or, when a "
            "TLS reverse proxy in front of this server is the only way in, --behind-proxy "
            "(or listen on 127.0.0.1 behind it)"
        )
    _engine(args).dispose()  # fail here, in words, if the database is not ready
    for path in filter(None, (args.tls_cert, args.tls_key)):
        if not Path(path).is_file():
            raise CliError(f"no such file: {path}")
    if args.workers < 1:
        raise CliError("--workers must be at least 1")
    # Workers import the app themselves; the URL (which may hold a password) goes by environment.
    os.environ[ENV_DB] = url
    uvicorn.run(
        "sync.server.app:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        ssl_certfile=args.tls_cert,
        ssl_keyfile=args.tls_key,
        proxy_headers=False,
        server_header=False,
        log_level=args.log_level,
    )
    return EXIT_OK


# --- the parser ------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        metavar="URL",
        help=f"database URL (sqlite:///PATH or postgresql+psycopg://…); default ${ENV_DB} "
        "or a SQLite file in the user data folder",
    )
    parser = argparse.ArgumentParser(
        prog="samverka-server", description="Samverka sync server and its administration."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("init", parents=[common], help="create or upgrade the database schema")
    p.set_defaults(run=cmd_init)

    org = sub.add_parser("org", help="organisations").add_subparsers(dest="org_command", required=True)
    p = org.add_parser("add", parents=[common], help="add an organisation; prints its id")
    p.add_argument("name")
    p.add_argument("--short", required=True, metavar="CODE", help="short code, e.g. SOS")
    p.add_argument("--kind", choices=ORGANISATION_KINDS)
    p.add_argument("--regional-admin", action="store_true", help="a regional administrator (county board)")
    p.set_defaults(run=cmd_org_add)
    p = org.add_parser("list", parents=[common], help="list organisations")
    p.set_defaults(run=cmd_org_list)

    p = sub.add_parser("enroll-code", parents=[common], help="make a one-time enrollment code")
    p.add_argument("--org", required=True, metavar="CODE", help="organisation short code or id")
    p.add_argument("--role", required=True, choices=("member", "org_admin", "regional_admin"))
    p.add_argument("--ttl", default="24h", help="how long it is valid: 30m, 24h, 7d (default 24h)")
    p.set_defaults(run=cmd_enroll_code)

    devices = sub.add_parser("devices", help="enrolled devices").add_subparsers(
        dest="devices_command", required=True
    )
    p = devices.add_parser("list", parents=[common], help="list devices")
    p.add_argument("--org", metavar="CODE")
    p.set_defaults(run=cmd_devices_list)
    p = devices.add_parser("revoke", parents=[common], help="revoke a device (401 from then on)")
    p.add_argument("device_id")
    p.set_defaults(run=cmd_devices_revoke)

    p = sub.add_parser("serve", parents=[common], help="run the HTTP server")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--tls-cert", metavar="FILE")
    p.add_argument("--tls-key", metavar="FILE")
    p.add_argument(
        "--behind-proxy", action="store_true",
        help="plain HTTP on a non-loopback address is allowed: a TLS reverse proxy terminates TLS",
    )
    p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    p.set_defaults(run=cmd_serve)

    p = sub.add_parser("compact", parents=[common], help="drop tombstones older than the retention period")
    p.add_argument("--older-than-days", type=int, metavar="DAYS", help=f"default ${ENV_RETENTION_DAYS} or 180")
    p.set_defaults(run=cmd_compact)

    p = sub.add_parser("demo", parents=[common], help="initialise a server with the demo region")
    p.add_argument("--file", metavar="PATH", help="demo data (default resources/demo/region.json)")
    p.set_defaults(run=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (CliError, AdminError, DatabaseUrlError) as exc:
        print(f"samverka-server {args.command}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except DBAPIError as exc:
        print(f"samverka-server {args.command}: database error: {_db_reason(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `samverka-server devices list | head`
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
