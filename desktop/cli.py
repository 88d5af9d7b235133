"""The headless `samverka` command line: create and unlock the vault, load the demo, search, show.

Every subcommand that opens the vault reads the passphrase from a prompt, or from
``SAMVERKA_PASSPHRASE`` for scripts (never from argv, which other users can read). A user's
mistake ends with a message that names it and says what to do, and a non-zero exit code; a
traceback is shown only with ``SAMVERKA_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import traceback
from pathlib import Path
from typing import Callable, Sequence

from desktop import session as sessions
from desktop.messages import set_language, tr
from desktop.store import Store, StoreError, format_phone
from desktop.store.demo import load_demo
from desktop.store.messages import channel_kind_label, collection_label
from desktop.store.store import META_SEARCH_OWN_ORG
from desktop.vault import KdfParams, Vault, VaultError, calibrate_kdf
from sync.records import PHONE_CHANNEL_KINDS

EXIT_OK = 0
EXIT_USER_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_INTERNAL = 70

COLLECTION_NAMES = {
    "organisations": {"sv": "Aktör", "en": "Organisation"},
    "functions": {"sv": "Funktion", "en": "Function"},
    "channels": {"sv": "Kontaktväg", "en": "Channel"},
    "forums": {"sv": "Forum", "en": "Forum"},
    "routines": {"sv": "Rutin", "en": "Routine"},
}


FIELD_LABELS = {
    "short_name": {"sv": "Kortnamn", "en": "Short name"},
    "availability": {"sv": "Nås", "en": "Reachable"},
    "description": {"sv": "Beskrivning", "en": "Description"},
    "level": {"sv": "Nivå", "en": "Level"},
    "purpose": {"sv": "Syfte", "en": "Purpose"},
    "cadence": {"sv": "Mötesrytm", "en": "Cadence"},
    "meeting_channel": {"sv": "Mötesväg", "en": "Meeting channel"},
    "agenda": {"sv": "Dagordning", "en": "Agenda"},
    "mode": {"sv": "Läge", "en": "Mode"},
    "trigger": {"sv": "Utlösande", "en": "Trigger"},
    "version": {"sv": "Version", "en": "Version"},
    "review_due": {"sv": "Ses över senast", "en": "Review due"},
    "body": {"sv": "Text", "en": "Text"},
}
VALUE_NAMES = {
    "24/7": {"sv": "dygnet runt", "en": "around the clock"},
    "office_hours": {"sv": "kontorstid", "en": "office hours"},
    "on_call": {"sv": "beredskap (jour)", "en": "on call"},
    "directing": {"sv": "regionalt inriktande", "en": "regional direction"},
    "coordinating": {"sv": "regionalt samordnande", "en": "regional coordination"},
    "executive": {"sv": "verkställande", "en": "executive"},
    "ordinary": {"sv": "ordinarie läge", "en": "ordinary mode"},
    "activated": {"sv": "aktiverat läge", "en": "activated mode"},
    "both": {"sv": "ordinarie och aktiverat läge", "en": "ordinary and activated mode"},
    "convenor": {"sv": "sammankallande", "en": "convenor"},
    "chair": {"sv": "ordförande", "en": "chair"},
    "member": {"sv": "ledamot", "en": "member"},
    "secretary": {"sv": "sekreterare", "en": "secretary"},
    "observer": {"sv": "observatör", "en": "observer"},
}


class UserError(Exception):
    """A mistake the user can fix; the message says how."""


def _word(table: dict[str, dict[str, str]], key: str) -> str:
    from desktop.messages import language

    return table.get(key, {}).get(language(), key)


# --- passphrases -------------------------------------------------------------------------


def _ask(prompt_key: str) -> str:
    if not sys.stdin.isatty():
        raise UserError(tr("cli.no_tty"))
    return getpass.getpass(tr(prompt_key))


def read_passphrase() -> str:
    from_env = os.environ.get("SAMVERKA_PASSPHRASE")
    return from_env if from_env is not None else _ask("cli.passphrase_prompt")


def read_new_passphrase(env_name: str) -> str:
    from_env = os.environ.get(env_name)
    if from_env is not None:
        return from_env
    first = _ask("cli.new_passphrase_prompt")
    if _ask("cli.repeat_passphrase_prompt") != first:
        raise UserError(tr("cli.passphrases_differ"))
    return first


def choose_kdf() -> KdfParams:
    """Calibrated key-derivation parameters; OWASP's minimum when the test suite asks for speed.

    ``SAMVERKA_FAST_KDF=1`` exists for tests that start the CLI many times: the minimum is still
    OWASP's floor (19 MiB, t=2), so even a misused setting never gives a weak vault.
    """
    if os.environ.get("SAMVERKA_FAST_KDF") == "1":
        return KdfParams.minimum()
    print(tr("cli.kdf_calibrating"), file=sys.stderr)
    return calibrate_kdf()


# --- subcommands -------------------------------------------------------------------------


def _unlock(data_dir: Path) -> sessions.Session:
    return sessions.unlock_session(data_dir, read_passphrase())


def _create(data_dir: Path) -> sessions.Session:
    Vault.ensure_absent(data_dir)
    passphrase = read_new_passphrase("SAMVERKA_PASSPHRASE")
    created = sessions.create_session(data_dir, passphrase, kdf=choose_kdf())
    print(tr("cli.created", path=data_dir))
    return created


def cmd_init(args: argparse.Namespace) -> int:
    opened = _create(args.data_dir)
    try:
        if args.demo:
            _load_demo(opened.store)
    finally:
        opened.close()
    return EXIT_OK


def _load_demo(store: Store) -> None:
    if store.get_meta("demo") == "1":
        print(tr("cli.demo_already"))
        return
    counts = load_demo(store)
    summary = ", ".join(f"{n} {collection_label(name)}" for name, n in counts.items() if n)
    print(tr("cli.demo_loaded", summary=summary))


def cmd_demo(args: argparse.Namespace) -> int:
    with_session(args, _load_demo)
    return EXIT_OK


def with_session(args: argparse.Namespace, work: Callable[[Store], None]) -> None:
    opened = _unlock(args.data_dir)
    try:
        work(opened.store)
    finally:
        opened.close()


def describe_channel(kind: str, shown_value: str, label: str | None, resilient: bool = False) -> str:
    text = f"{shown_value} ({channel_kind_label(kind)}"
    text += f", {label})" if label else ")"
    return text + (" ⚡" if resilient else "")


def describe_channel_record(channel: dict) -> str:
    shown = channel["value"]
    if channel["kind"] in PHONE_CHANNEL_KINDS:
        shown = format_phone(shown)
    return describe_channel(channel["kind"], shown, channel.get("label"), bool(channel.get("resilient")))


def _announce_indexing(store: Store) -> Callable[[], None]:
    """Say "indexing…" (on stderr) when a search or sync waits for the search index pass."""
    said: list[bool] = []

    def tell_once() -> None:
        if not said:
            said.append(True)
            print(tr("search.indexing"), file=sys.stderr, flush=True)

    if store.index_status().state != "ready":  # a search now runs the pass first
        tell_once()
    return store.subscribe_index(lambda status: status.state == "indexing" and tell_once())


def own_organisation(store: Store, reference: str | None) -> str | None:
    """The organisation whose hits rank first: ``--org`` (a name, short name or id), else the
    vault's setting META_SEARCH_OWN_ORG (for a demo vault), else None (the store then uses the
    organisation the device is enrolled for)."""
    if reference is None:
        reference = store.get_meta(META_SEARCH_OWN_ORG)
        if not isinstance(reference, str) or not reference.strip():
            return None
    wanted = reference.strip().lower()
    for org in store.list("organisations"):
        fields = org["fields"]
        if wanted in (org["record_id"], (fields.get("short_name") or "").lower(), (fields.get("name") or "").lower()):
            return org["record_id"]
    hits = [
        h for h in store.search(reference, limit=5, own_org="")
        if h.collection == "organisations" and h.match != "fuzzy"
    ]
    if not hits:
        raise UserError(tr("search.unknown_organisation", text=reference))
    return hits[0].record_id


def print_hits(store: Store, text: str, limit: int, own_org: str | None = None) -> None:
    unsubscribe = _announce_indexing(store)
    try:
        hits = store.search(text, limit=limit, own_org=own_org)
    finally:
        unsubscribe()
    if not hits:
        print(tr("cli.no_hits", text=text))
        return
    for number, hit in enumerate(hits, 1):
        line = f"{number:2d}. {hit.title}"
        if hit.subtitle:
            line += f" · {hit.subtitle}"
        for typed, word in hit.fuzzy_words:
            line += f"  ({tr('search.fuzzy_match', typed=typed, word=word)})"
        print(line)
        if hit.best_channel is not None:
            best = hit.best_channel
            print(f"      {describe_channel(best.kind, best.value, best.label)}")
        else:
            print(f"      [{_word(COLLECTION_NAMES, hit.collection)}]")


def cmd_search(args: argparse.Namespace) -> int:
    text = " ".join(args.text)
    with_session(args, lambda store: print_hits(store, text, args.limit, own_organisation(store, args.org)))
    return EXIT_OK


def _flat(record: dict | None) -> dict | None:
    """A stored record as one flat dict of its fields plus record_id and deleted."""
    if record is None:
        return None
    return {**record["fields"], "record_id": record["record_id"], "deleted": record["deleted"]}


def _get(store: Store, collection: str, record_id: str) -> dict | None:
    return _flat(store.get(collection, record_id))


def _live(store: Store, collection: str, **equals: str) -> list[dict]:
    return [_flat(r) for r in store.list(collection, **equals) if not r["deleted"]]


def _find(store: Store, reference: str) -> tuple[str, dict]:
    for collection in COLLECTION_NAMES:
        try:
            record = _get(store, collection, reference)
        except StoreError:
            record = None
        if record is not None and not record["deleted"]:
            return collection, record
    hits = store.search(reference, limit=1)
    if not hits:
        raise UserError(tr("cli.not_found", text=reference))
    return hits[0].collection, _get(store, hits[0].collection, hits[0].record_id)


def _channels_of(store: Store, function_id: str) -> list[dict]:
    channels = _live(store, "channels", function_id=function_id)
    return sorted(channels, key=lambda c: (c.get("priority") or 99, c["value"]))


def _name_of(store: Store, collection: str, record_id: str | None, field: str = "name") -> str:
    record = _get(store, collection, record_id) if record_id else None
    return (record.get(field) or "") if record else ""


def _print_fields(record: dict, keys: Sequence[str]) -> None:
    for key in keys:
        value = record.get(key)
        if value:
            shown = _word(VALUE_NAMES, value) if isinstance(value, str) else value
            print(f"  {_word(FIELD_LABELS, key)}: {shown}")


def show_record(store: Store, reference: str) -> None:
    collection, record = _find(store, reference)
    print(f"{_word(COLLECTION_NAMES, collection)}: {record.get('name') or record.get('title') or record.get('value')}")
    if collection == "channels":
        print(f"  {describe_channel_record(record)}")
        record = _get(store, "functions", record["function_id"])
        collection = "functions"
    if collection == "functions":
        print(f"  {_name_of(store, 'organisations', record['organisation_id'])}")
        _print_fields(record, ("short_name", "availability", "description"))
        for channel in _channels_of(store, record["record_id"]):
            print(f"  {channel.get('priority') or '-'}. {describe_channel_record(channel)}")
            if channel.get("note"):
                print(f"       {channel['note']}")
    elif collection == "organisations":
        for function in _live(store, "functions", organisation_id=record["record_id"]):
            channels = _channels_of(store, function["record_id"])
            best = f" – {describe_channel_record(channels[0])}" if channels else ""
            print(f"  {function['name']}{best}")
    elif collection == "forums":
        _print_fields(record, ("level", "purpose", "cadence", "meeting_channel", "agenda"))
        for mandate in _live(store, "mandates", forum_id=record["record_id"]):
            function = _name_of(store, "functions", mandate["function_id"])
            print(f"  [{_word(VALUE_NAMES, mandate['role'])}] {function}: {mandate.get('mandate') or ''}")
    elif collection == "routines":
        _print_fields(record, ("mode", "trigger", "version", "review_due", "body"))
        steps = _live(store, "routine_steps", routine_id=record["record_id"])
        for number, step in enumerate(sorted(steps, key=lambda s: s["position"]), 1):
            who = _name_of(store, "functions", step.get("responsible_function_id"))
            print(f"  {number}. {step['text']}" + (f" ({who})" if who else ""))


def cmd_show(args: argparse.Namespace) -> int:
    with_session(args, lambda store: show_record(store, " ".join(args.reference)))
    return EXIT_OK


def cmd_passwd(args: argparse.Namespace) -> int:
    vault = Vault.open(args.data_dir)
    old = read_passphrase()
    vault.unlock(old)  # a wrong old passphrase fails here, before asking for a new one
    new = read_new_passphrase("SAMVERKA_NEW_PASSPHRASE")
    vault.change_passphrase(old, new, kdf=choose_kdf())
    print(tr("cli.passphrase_changed"))
    return EXIT_OK


def cmd_recovery_key(args: argparse.Namespace) -> int:
    vault = Vault.open(args.data_dir)
    recovery_key = vault.add_recovery_key(read_passphrase())
    print(tr("cli.recovery_key_intro"))
    print()
    print(f"    {recovery_key}")
    print()
    print(tr("cli.recovery_key_outro"))
    return EXIT_OK


def cmd_start(args: argparse.Namespace) -> int:
    """No subcommand: open (or on first run create, with the demo region) and search interactively.

    The desktop window takes this place when it lands.
    """
    if not Vault.exists(args.data_dir):
        opened = _create(args.data_dir)
        _load_demo(opened.store)
    else:
        opened = _unlock(args.data_dir)
    try:
        if not sys.stdin.isatty():
            build_parser().print_help()
            return EXIT_OK
        print(tr("cli.interactive_intro"))
        while True:
            try:
                text = input(tr("cli.search_prompt")).strip()
            except EOFError:
                break
            if not text:
                break
            print_hits(opened.store, text, 10, own_organisation(opened.store, None))
    finally:
        opened.close()
    return EXIT_OK


# --- sync (desktop/syncer) ---------------------------------------------------------------


def _sync_errors(work: Callable[[], int]) -> int:
    """A sync failure is a message for the user (it names the server or file and what to do)."""
    from desktop.syncer.errors import SyncError

    try:
        return work()
    except SyncError as error:
        raise UserError(str(error)) from None


def cmd_enroll(args: argparse.Namespace) -> int:
    from desktop.syncer.enroll import enroll

    def work(store: Store) -> None:
        enrolled = enroll(
            store, args.server, args.code, device_name=args.name, ca_file=args.ca
        )
        print(tr(
            "syncer.enrolled", server=enrolled.server_url, device=enrolled.device_id,
            organisation=enrolled.organisation_name, role=enrolled.role,
        ))

    return _sync_errors(lambda: with_session(args, work) or EXIT_OK)


def _print_sync_report(report) -> None:
    print(tr(
        "syncer.sync_done", pushed=report.pushed, pulled=report.pulled,
        conflicts=report.conflicts, rejected=len(report.rejected),
    ))
    if report.repaired:
        print(tr("syncer.repaired", collections=", ".join(report.repaired)))


def _print_rejected(engine) -> None:
    for rejected in engine.rejected():
        print(tr(
            "syncer.rejected_line", collection=_word(COLLECTION_NAMES, rejected.collection),
            record=rejected.record_id, reason=rejected.reason,
        ))


def cmd_sync(args: argparse.Namespace) -> int:
    from desktop.syncer.engine import SyncEngine

    def work(store: Store) -> None:
        engine = SyncEngine(store)
        unsubscribe = _announce_indexing(store)
        try:
            _print_sync_report(engine.sync_now())
            _print_rejected(engine)
            status = engine.status()
            if status.conflicts_count:
                print(tr("syncer.open_conflicts_hint", count=status.conflicts_count))
        finally:
            unsubscribe()
            engine.close()

    return _sync_errors(lambda: with_session(args, work) or EXIT_OK)


def cmd_status(args: argparse.Namespace) -> int:
    from desktop.syncer.engine import SyncEngine

    def work(store: Store) -> None:
        engine = SyncEngine(store)
        status = engine.status()
        never = tr("syncer.status.never")
        rows = [
            ("server", status.server_url or "–"),
            ("device", status.device_id or "–"),
            ("organisation", status.organisation or "–"),
            ("state", tr(f"syncer.state.{status.state}")),
            ("outbox", status.outbox_count),
            ("rejected", status.rejected_count),
            ("conflicts", status.conflicts_count),
            ("last_success", status.last_success or never),
        ]
        if status.last_error:
            rows.append(("last_error", status.last_error))
        for key, value in rows:
            print(tr(f"syncer.status.{key}", value=value))
        if status.rejected_count:
            _print_rejected(engine)

    return _sync_errors(lambda: with_session(args, work) or EXIT_OK)


def cmd_conflicts(args: argparse.Namespace) -> int:
    from desktop.syncer.conflicts import open_conflicts

    def work(store: Store) -> None:
        found = open_conflicts(store)
        if not found:
            print(tr("syncer.no_conflicts"))
            return
        for view in found:
            print(tr(
                "syncer.conflict_line", id=view.id, collection=_word(COLLECTION_NAMES, view.collection),
                title=view.record_title, field=view.field,
                kept=view.kept_value, kept_device=view.kept_device or "?", kept_when=view.kept_when or "?",
                other=view.other_value, other_device=view.other_device or "?",
                other_when=view.other_when or "?",
            ))

    return _sync_errors(lambda: with_session(args, work) or EXIT_OK)


def cmd_resolve(args: argparse.Namespace) -> int:
    from desktop.syncer.conflicts import resolve

    def work(store: Store) -> None:
        conflict, value = resolve(store, args.conflict, args.keep, args.note)
        print(tr("syncer.resolved", id=conflict["record_id"], field=conflict["fields"]["field"], value=value))

    return _sync_errors(lambda: with_session(args, work) or EXIT_OK)


# --- the parser --------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="samverka",
        description="Samverka – kontaktvägar, forum och rutiner för regional krissamverkan, även utan nät.",
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None,
        help="datamapp (standard: SAMVERKA_DATA_DIR eller systemets datamapp)",
    )
    parser.add_argument("--lang", choices=("sv", "en"), help="språk / language")
    commands = parser.add_subparsers(dest="command", metavar="KOMMANDO")

    init = commands.add_parser("init", help="skapa ett nytt krypterat valv")
    init.add_argument("--demo", action="store_true", help="läs in demoregionen direkt")
    init.set_defaults(func=cmd_init)

    commands.add_parser("demo", help="läs in demoregionen i valvet").set_defaults(func=cmd_demo)

    search = commands.add_parser("search", help="sök funktion, aktör, forum eller rutin")
    search.add_argument("text", nargs="+")
    search.add_argument("--limit", type=int, default=10)
    search.add_argument("--org", metavar="AKTÖR", help=tr("search.own_org_help"))
    search.set_defaults(func=cmd_search)

    show = commands.add_parser("show", help="visa en post med dess kontaktvägar, mandat eller steg")
    show.add_argument("reference", nargs="+", metavar="ID_ELLER_TEXT")
    show.set_defaults(func=cmd_show)

    commands.add_parser("passwd", help="byt lösenfras").set_defaults(func=cmd_passwd)
    commands.add_parser(
        "recovery-key", help="skapa en ny återställningsnyckel (visas en gång)"
    ).set_defaults(func=cmd_recovery_key)

    enroll = commands.add_parser("enroll", help="koppla valvet till organisationens server (engångskod)")
    enroll.add_argument("--server", required=True, metavar="URL", help="serverns adress, https://…")
    enroll.add_argument("--code", required=True, metavar="KOD", help="registreringskoden från administratören")
    enroll.add_argument("--ca", metavar="FIL", help="organisationens CA-certifikat (PEM)")
    enroll.add_argument("--name", metavar="ENHETSNAMN", help="enhetens namn (standard: datorns namn)")
    enroll.set_defaults(func=cmd_enroll)

    commands.add_parser("sync", help="synkronisera nu och visa vad som hände").set_defaults(func=cmd_sync)
    commands.add_parser("status", help="synkroniseringens läge").set_defaults(func=cmd_status)
    commands.add_parser("conflicts", help="lista olösta konflikter").set_defaults(func=cmd_conflicts)
    resolve = commands.add_parser("resolve", help="lös en konflikt (blir en vanlig ändring som synkas)")
    resolve.add_argument("conflict", metavar="ID", help="konfliktens id (eller början av det)")
    resolve.add_argument(
        "--keep", required=True, metavar="kept|other|VÄRDE",
        help="kept: behåll nuvarande värde; other: ta tillbaka det andra; annars: detta värde",
    )
    resolve.add_argument("--note", metavar="TEXT", help="en anteckning om lösningen")
    resolve.set_defaults(func=cmd_resolve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.lang:
        set_language(args.lang)
    if args.data_dir is None:
        args.data_dir = sessions.default_data_dir()
    command = getattr(args, "func", cmd_start)
    try:
        return command(args)
    except (UserError, VaultError, StoreError) as error:
        print(str(error), file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        sys.stderr.close()
        return EXIT_OK
    except KeyboardInterrupt:
        print(tr("cli.interrupted"), file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # the last line of defence: a message, never a bare traceback
        if os.environ.get("SAMVERKA_DEBUG"):
            traceback.print_exc()
        print(tr("cli.internal_error", error=type(error).__name__), file=sys.stderr)
        return EXIT_INTERNAL
