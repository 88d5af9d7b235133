"""The headless `samverka` command line: create and unlock the vault, load the demo, search, show.

Every subcommand that opens the vault reads the passphrase from a prompt, or from
``SAMVERKA_PASSPHRASE`` for scripts (never from argv, which other users can read); likewise
``SAMVERKA_NEW_PASSPHRASE`` and ``SAMVERKA_RECOVERY_KEY``. Each is removed from the environment
as soon as it is read, so that programs started later do not inherit it. A user's mistake ends
with a message that names it and says what to do, and a non-zero exit code; a traceback is
shown only with ``SAMVERKA_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
import traceback
from pathlib import Path
from typing import Callable, Sequence

import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import exc as sa_exc

from desktop import session as sessions
from desktop.__main__ import SMOKE_TEST  # __main__ runs the smoke test before importing this module
from desktop.i18n import LANGUAGES, N_, NP_, _, label, language_from_environment, set_language, tr
from desktop.store import Store, StoreError
from desktop.store import meta
from desktop.store.connection import damage_error, is_damage, silence_sqlcipher_log
from desktop.store.demo import load_demo
from desktop.store.messages import channel_kind_label, collection_label
from desktop.store.messages import message as store_message
from desktop.syncer.messages import field_label, role_label, syncer_message, when_text
from desktop.views import COLLECTION_NAMES, ChannelRow, field_word, find_record, open_record, value_label
from desktop import views
from desktop.vault import DATABASE_FILE, KdfParams, Vault, VaultError, calibrate_kdf
from desktop.store.store import META_SEARCH_OWN_ORG
from desktop.version import version_text

EXIT_OK = 0
EXIT_USER_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_INTERNAL = 70

SLOT_KINDS: dict[str, tuple[str, str]] = {
    "passphrase": NP_("key slot", "passphrase"),
    "recovery": NP_("key slot", "recovery key"),
    "": NP_("key slot", "unknown kind"),
}


class UserError(Exception):
    """A mistake the user can fix; the message says how."""


def _word(table: dict[str, tuple[str, str]], key: str) -> str:
    return label(table.get(key), key)


# --- passphrases -------------------------------------------------------------------------


def _terminal_available() -> bool:
    """Whether getpass can ask someone: it reads the terminal itself, also when stdin is a pipe
    (``echo "tib sos" | samverka`` in a terminal still asks for the passphrase there)."""
    if os.name != "posix":
        return sys.stdin.isatty()
    try:
        os.close(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY))
    except OSError:
        return False
    return True


def _ask(prompt: str, env_name: str = "SAMVERKA_PASSPHRASE") -> str:
    if not _terminal_available():
        raise UserError(tr(
            "No terminal to ask for the secret. Set {variable} for scripts.", variable=env_name
        ))
    return getpass.getpass(tr(prompt))


def _take_from_environment(name: str) -> str | None:
    """A secret from the environment, removed from it at once (child processes inherit it)."""
    return os.environ.pop(name, None)


def read_passphrase() -> str:
    from_env = _take_from_environment("SAMVERKA_PASSPHRASE")
    return from_env if from_env is not None else _ask(N_("Passphrase: "))


def read_recovery_key() -> str:
    from_env = _take_from_environment("SAMVERKA_RECOVERY_KEY")
    if from_env is not None:
        return from_env
    return _ask(N_("Recovery key: "), "SAMVERKA_RECOVERY_KEY")


def read_new_passphrase(env_name: str) -> str:
    from_env = _take_from_environment(env_name)
    if from_env is not None:
        return from_env
    first = _ask(N_("New passphrase: "), env_name)
    if _ask(N_("Repeat the passphrase: "), env_name) != first:
        raise UserError(tr("The passphrases differ. Try again."))
    return first


def choose_kdf() -> KdfParams:
    """Calibrated key-derivation parameters; OWASP's minimum when the test suite asks for speed.

    ``SAMVERKA_FAST_KDF=1`` exists for tests that start the CLI many times: the minimum is still
    OWASP's floor (19 MiB, t=2), so even a misused setting never gives a weak vault.
    """
    if os.environ.get("SAMVERKA_FAST_KDF") == "1":
        return KdfParams.minimum()
    print(tr("Measuring this computer's speed for key derivation …"), file=sys.stderr)
    return calibrate_kdf()


# --- subcommands -------------------------------------------------------------------------


def _unlock(data_dir: Path) -> sessions.Session:
    sessions.open_vault(data_dir)  # a missing or damaged file is said before the prompt
    return sessions.unlock_session(data_dir, read_passphrase())


def _create(data_dir: Path) -> sessions.Session:
    Vault.ensure_absent(data_dir)
    passphrase = read_new_passphrase("SAMVERKA_PASSPHRASE")
    created = sessions.create_session(data_dir, passphrase, kdf=choose_kdf())
    print(tr("New encrypted vault created in {path}.", path=data_dir))
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
    if store.get_meta(meta.DEMO):
        print(tr("The demo region is already in the vault; nothing changed."))
        return
    counts = load_demo(store)
    summary = ", ".join(f"{n} {collection_label(name)}" for name, n in counts.items() if n)
    print(tr("The demo region is loaded: {summary}.", summary=summary))


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
    """"070-174 06 05 (Mobil, jour)": the value, the kind, and the label when it adds something.

    A label that repeats the kind ("Funktionsbrevlåda") or starts with it ("Rakel,
    individnummer") stands in for the kind instead of following it."""
    kind_label = channel_kind_label(kind)
    if label and label.casefold().startswith(kind_label.casefold()):
        described = label
    else:
        described = f"{kind_label}, {label}" if label else kind_label
    return f"{shown_value} ({described})" + (" ⚡" if resilient else "")


def describe_channel_row(channel: ChannelRow) -> str:
    return describe_channel(channel.kind, channel.shown, channel.label, channel.resilient)


def _announce_indexing(store: Store) -> Callable[[], None]:
    """Say "indexing…" (on stderr) when a search or sync waits for the search index pass."""
    said: list[bool] = []

    def tell_once() -> None:
        if not said:
            said.append(True)
            print(store_message("search.indexing"), file=sys.stderr, flush=True)

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
        raise UserError(store_message("search.unknown_organisation", text=reference))
    return hits[0].record_id


def print_hits(store: Store, text: str, limit: int, own_org: str | None = None) -> None:
    unsubscribe = _announce_indexing(store)
    try:
        hits = store.search(text, limit=limit, own_org=own_org)
    finally:
        unsubscribe()
    if not hits:
        print(tr("No matches for “{text}”. Try fewer or shorter words.", text=text))
        return
    for number, hit in enumerate(hits, 1):
        line = f"{number:2d}. {hit.title}"
        if hit.subtitle:
            line += f" · {hit.subtitle}"
        for typed, word in hit.fuzzy_words:
            line += f"  ({store_message('search.fuzzy_match', typed=typed, word=word)})"
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


# --- show: the window's details (desktop/views.py) as lines -------------------------------


def _field_lines(values: Sequence[tuple[str, str | None]]) -> list[str]:
    """"  Kortnamn: TiB" for each value given; a text of several lines keeps its lines indented."""
    lines = []
    for name, value in values:
        if value:
            first, *rest = str(value).splitlines() or [""]
            lines.append(f"  {field_word(name)}: {first}")
            lines.extend(f"    {line}" for line in rest)
    return lines


def _function_words(ref: views.FunctionRef | None) -> str:
    """"Tjänsteman i beredskap (TiB), SOS Alarm"."""
    if ref is None:
        return "?"
    return f"{ref.name}, {ref.organisation_name}" if ref.organisation_name else ref.name


def _function_lines(detail: views.FunctionDetail) -> list[str]:
    lines = [f"  {detail.organisation_name}"]
    lines += _field_lines([
        ("short_name", detail.short_name),
        ("availability", value_label(detail.availability) if detail.availability else None),
        ("description", detail.description),
    ])
    for channel in detail.channels:
        lines.append(f"  {channel.priority or '-'}. {describe_channel_row(channel)}")
        if channel.note:
            lines.append(f"       {channel.note}")
    return lines


def _organisation_lines(detail: views.OrganisationDetail) -> list[str]:
    return [
        f"  {ref.name}" + (f" – {describe_channel_row(ref.best)}" if ref.best else "")
        for ref in detail.functions
    ]


def _forum_lines(detail: views.ForumDetail) -> list[str]:
    lines = _field_lines([
        ("level", value_label(detail.level)), ("purpose", detail.purpose), ("cadence", detail.cadence),
        ("meeting_channel", detail.meeting_channel), ("agenda", detail.agenda),
    ])
    for member in detail.members:
        lines.append(f"  [{member.role_label}] {_function_words(member.member)}: {member.mandate or ''}")
    return lines


def _routine_lines(detail: views.RoutineDetail) -> list[str]:
    lines = _field_lines([
        ("mode", value_label(detail.mode) if detail.mode else None), ("trigger", detail.trigger),
        ("version", detail.version), ("review_due", detail.review_due), ("body", detail.body),
    ])
    for number, step in enumerate(detail.steps, 1):
        who = f" – {_function_words(step.responsible)}" if step.responsible else ""
        lines.append(f"  {number}. {step.text}{who}")
    return lines


def show_lines(store: Store, reference: str) -> list[str]:
    """What ``samverka show`` prints: the record's detail as the window shows it, as lines."""
    found = find_record(store, reference)
    if found is None:
        raise UserError(tr("Found nothing called “{text}”. Search first with: samverka search", text=reference))
    collection, record_id = found
    if collection == "organisations":  # every function, not the window's first forty
        opened = views.Opened(views.organisation_detail(store, record_id, function_limit=None))
    else:
        opened = open_record(store, collection, record_id)
    detail = opened.detail
    if detail is None:
        raise UserError(tr("Found nothing called “{text}”. Search first with: samverka search", text=reference))
    if collection == "channels":
        channel = next(c for c in detail.channels if c.channel_id == opened.channel_id)
        lines = [
            f"{_word(COLLECTION_NAMES, 'channels')}: {channel.shown}", f"  {describe_channel_row(channel)}",
            f"{_word(COLLECTION_NAMES, 'functions')}: {detail.name}",
        ]
    else:
        title = detail.name if isinstance(detail, (views.FunctionDetail, views.OrganisationDetail, views.ForumDetail)) else detail.title
        lines = [f"{_word(COLLECTION_NAMES, collection)}: {title}"]
    if isinstance(detail, views.FunctionDetail):
        return lines + _function_lines(detail)
    if isinstance(detail, views.OrganisationDetail):
        return lines + _organisation_lines(detail)
    if isinstance(detail, views.ForumDetail):
        return lines + _forum_lines(detail)
    return lines + _routine_lines(detail)


def show_record(store: Store, reference: str) -> None:
    print("\n".join(show_lines(store, reference)))


def cmd_show(args: argparse.Namespace) -> int:
    with_session(args, lambda store: show_record(store, " ".join(args.reference)))
    return EXIT_OK


def cmd_passwd(args: argparse.Namespace) -> int:
    if args.recovery_key:
        return _reset_passphrase(args.data_dir)
    sessions.open_vault(args.data_dir)
    old = read_passphrase()
    # A wrong old passphrase fails here, before asking for a new one.
    opened = sessions.unlock_session(args.data_dir, old)
    try:
        new = read_new_passphrase("SAMVERKA_NEW_PASSPHRASE")
        opened.vault.change_passphrase(old, new, kdf=choose_kdf())
    finally:
        opened.close()
    print(tr("The passphrase is changed. The database did not need re-encrypting."))
    return EXIT_OK


def _reset_passphrase(data_dir: Path) -> int:
    """`passwd --recovery-key`: a forgotten passphrase replaced through the recovery key."""
    sessions.open_vault(data_dir)
    recovery_key = read_recovery_key()
    opened = sessions.unlock_session_with_recovery_key(data_dir, recovery_key)
    try:
        new = read_new_passphrase("SAMVERKA_NEW_PASSPHRASE")
        opened.reset_passphrase(recovery_key, new, kdf=choose_kdf())
    finally:
        opened.close()
    print(tr(
        "The passphrase is changed, and the database is re-encrypted under a new key: the "
        "old passphrase no longer opens it, not even with an old copy of vault.json. The "
        "recovery key still works."
    ))
    return EXIT_OK


def cmd_recovery_key(args: argparse.Namespace) -> int:
    sessions.open_vault(args.data_dir)
    passphrase = read_passphrase()
    opened = sessions.unlock_session(args.data_dir, passphrase)
    try:
        recovery_key = opened.new_recovery_key(passphrase)
    finally:
        opened.close()
    print(tr("Recovery key (shown only now – copy it down and keep it safe):"))
    print()
    print(f"    {recovery_key}")
    print()
    print(tr(
        "It unlocks the vault if the passphrase is forgotten. Any earlier key no longer "
        "works: the database is re-encrypted under a new key."
    ))
    return EXIT_OK


def _damaged_pages(problems: Sequence[str]) -> list[int]:
    pages = {int(number) for line in problems for number in re.findall(r"page (\d+)", line)}
    return sorted(pages)


def cmd_check(args: argparse.Namespace) -> int:
    """Read every page of the database and check the key-slot file; exit 1 when damaged."""
    opened = _unlock(args.data_dir)
    try:
        problems = opened.store.check_integrity()
        damaged_slots = opened.vault.damaged_slots()
    finally:
        opened.close()
    database = args.data_dir / DATABASE_FILE
    for slot in damaged_slots:
        kind = _word(SLOT_KINDS, slot.kind or "")
        print(tr("Damaged key slot in {path}: {kind}.", path=opened.vault.slot_path, kind=kind))
    if problems:
        pages = _damaged_pages(problems)
        shown = ", ".join(str(page) for page in pages[:20]) + (" …" if len(pages) > 20 else "")
        print(tr("The database {path} is damaged.", path=database))
        if pages:
            print(tr("Pages that cannot be read: {pages}.", pages=shown))
        print(tr(
            "What to do: delete nothing. Copy the folder {folder} somewhere safe, then restore "
            "samverka.db and vault.json from the same backup. If the vault is connected to a "
            "server, a new vault enrolled with a new code gets the shared data back (changes "
            "not yet sent are lost).", folder=args.data_dir,
        ))
    if damaged_slots and not problems:
        print(tr(
            "The database is intact. Make a new recovery key (samverka recovery-key) or a new "
            "passphrase (samverka passwd): that writes vault.json anew."
        ))
    if problems or damaged_slots:
        return EXIT_USER_ERROR
    print(tr("The database {path} and the key-slot file are intact.", path=database))
    return EXIT_OK


def cmd_start(args: argparse.Namespace) -> int:
    """No subcommand: open (or on first run create, with the demo region) and search.

    At a terminal: a search prompt, until an empty line. Without one (piped input): one search
    per input line, each answer under the line it answers. The desktop window takes this
    place when there is a display.
    """
    if not Vault.exists(args.data_dir):
        opened = _create(args.data_dir)
        _load_demo(opened.store)
    else:
        opened = _unlock(args.data_dir)
    try:
        if sys.stdin.isatty():
            _search_prompt(opened.store)
        else:
            _search_lines(opened.store, sys.stdin)
    finally:
        opened.close()
    return EXIT_OK


def _search_prompt(store: Store) -> None:
    print(tr("Search for a function, organisation, forum or routine. An empty line quits."))
    while True:
        try:
            text = input(tr("Search: ")).strip()
        except EOFError:
            break
        if not text:
            break
        print_hits(store, text, 10, own_organisation(store, None))


def _search_lines(store: Store, lines) -> None:
    for line in lines:
        text = line.strip()
        if text:
            print(tr("Search: ") + text)
            print_hits(store, text, 10, own_organisation(store, None))


# --- sync (desktop/syncer) ---------------------------------------------------------------


def _sync_errors(work: Callable[[], int]) -> int:
    """A sync failure is a message for the user (it names the server or file and what to do)."""
    from desktop.syncer.errors import SyncError

    try:
        return work()
    except SyncError as error:
        raise UserError(str(error)) from None


def _profile_file() -> str | None:
    """The file the organisation profile is read from, as desktop.profile.startup_profile
    chooses it: SAMVERKA_PROFILE, else the one baked into this frozen build."""
    from desktop.profile import PROFILE_ENV
    from desktop.resources import BAKED_PROFILE, baked_file

    chosen = os.environ.get(PROFILE_ENV)
    if chosen:
        return str(Path(chosen).expanduser())
    baked = baked_file(BAKED_PROFILE)
    return str(baked) if baked is not None else None


def _enroll_target(args: argparse.Namespace) -> tuple[str, str | None, str | None]:
    """(server, CA as PEM text, the CA's name) for ``enroll``: --server and --ca, each
    defaulting to the organisation profile's, and a line saying which profile gave what."""
    from desktop.profile import ProfileError, startup_profile

    if args.server and args.ca:
        return args.server, None, None
    try:
        profile = startup_profile()
    except ProfileError as error:
        raise UserError(str(error)) from None
    if profile is None:
        if not args.server:
            raise UserError(tr(
                "Name the organisation's server: samverka enroll --server URL --code CODE "
                "(this installation has no organisation profile that names it)."
            ))
        return args.server, None, None
    file = _profile_file()
    server, ca_pem, ca_name = args.server, None, None
    taken = []
    if not server:
        server = profile.server_url
        taken.append(tr("the server {server}", server=server))
    if not args.ca and profile.ca_pem:
        ca_pem, ca_name = profile.ca_pem, file
        taken.append(tr("its CA certificate"))
    if taken:
        print(tr(
            "From the organisation profile of {organisation} ({file}): {what}.",
            organisation=profile.organisation_name, file=file, what=tr(" and ").join(taken),
        ))
    return server, ca_pem, ca_name


def cmd_enroll(args: argparse.Namespace) -> int:
    from desktop.syncer.enroll import enroll

    server, ca_pem, ca_name = _enroll_target(args)

    def work(store: Store) -> None:
        enrolled = enroll(
            store, server, args.code, device_name=args.name, ca_file=args.ca, ca_pem=ca_pem, ca_name=ca_name,
        )
        print(syncer_message(
            "syncer.re_enrolled" if enrolled.again else "syncer.enrolled",
            server=enrolled.server_url, device=enrolled.device_id,
            organisation=enrolled.organisation_name, role=role_label(enrolled.role),
        ))

    return _sync_errors(lambda: with_session(args, work) or EXIT_OK)


def _print_sync_report(report) -> None:
    print(syncer_message(
        "syncer.sync_done", pushed=report.pushed, pulled=report.pulled,
        conflicts=report.conflicts, rejected=len(report.rejected),
    ))
    if report.repaired:
        print(syncer_message(
            "syncer.repaired", collections=", ".join(collection_label(c) for c in report.repaired)
        ))
    if report.restored:
        print(syncer_message("syncer.restored", count=report.restored))
    if report.quarantined:
        print(syncer_message("syncer.quarantine_hint", count=report.quarantined))


def _print_rejected(engine) -> None:
    for rejected in engine.rejected():
        print(syncer_message(
            "syncer.rejected_line", collection=_word(COLLECTION_NAMES, rejected.collection),
            title=rejected.title, reason=rejected.reason,
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
                print(syncer_message("syncer.open_conflicts_hint", count=status.conflicts_count))
        finally:
            unsubscribe()
            engine.close()

    return _sync_errors(lambda: with_session(args, work) or EXIT_OK)


def cmd_status(args: argparse.Namespace) -> int:
    from desktop.syncer.engine import SyncEngine

    def work(store: Store) -> None:
        engine = SyncEngine(store)
        status = engine.status()
        never = syncer_message("syncer.status.never")
        rows = [
            ("server", status.server_url or "–"),
            ("device", status.device_id or "–"),
            ("organisation", status.organisation or "–"),
            ("state", syncer_message(f"syncer.state.{status.state}")),
            ("outbox", status.outbox_count),
            ("rejected", status.rejected_count),
            ("conflicts", status.conflicts_count),
            ("last_success", when_text(status.last_success) if status.last_success else never),
        ]
        if status.quarantined_count:
            rows.insert(6, ("quarantined", status.quarantined_count))
        if status.last_error:
            if status.last_error_at:
                rows.append(("last_error_at", when_text(status.last_error_at)))
            rows.append(("last_error", status.last_error))
        for key, value in rows:
            print(syncer_message(f"syncer.status.{key}", value=value))
        if status.rejected_count:
            _print_rejected(engine)
            print(syncer_message("syncer.rejected_hint"))
        if status.quarantined_count:
            print(syncer_message("syncer.quarantine_hint", count=status.quarantined_count))

    return _sync_errors(lambda: with_session(args, work) or EXIT_OK)


def cmd_conflicts(args: argparse.Namespace) -> int:
    from desktop.syncer.conflicts import open_conflicts

    def work(store: Store) -> None:
        found = open_conflicts(store)
        if not found:
            print(syncer_message("syncer.no_conflicts"))
            return
        for view in found:
            print(syncer_message(
                "syncer.conflict_line", id=view.id, collection=_word(COLLECTION_NAMES, view.collection),
                title=view.record_title, field=view.field_label,
                kept=view.kept_value, kept_device=view.kept_device or "?", kept_when=view.kept_when or "?",
                other=view.other_value, other_device=view.other_device or "?",
                other_when=view.other_when or "?",
            ))

    return _sync_errors(lambda: with_session(args, work) or EXIT_OK)


def cmd_resolve(args: argparse.Namespace) -> int:
    from desktop.syncer.conflicts import resolve

    def work(store: Store) -> None:
        conflict, value = resolve(store, args.conflict, args.keep, args.note)
        print(syncer_message(
            "syncer.resolved", id=conflict["record_id"], field=field_label(conflict["fields"]["field"]),
            value=value,
        ))

    return _sync_errors(lambda: with_session(args, work) or EXIT_OK)


def cmd_rejected(args: argparse.Namespace) -> int:
    """List refused changes, or retry or discard one (by its id or the beginning of it)."""
    from desktop.store.store import DISCARD_NEEDS_PULL, DISCARD_REMOVED
    from desktop.syncer.engine import SyncEngine

    def work(store: Store) -> None:
        engine = SyncEngine(store)
        try:
            if args.action == "retry":
                change = engine.retry(args.change)
                print(syncer_message("syncer.retried", id=change.change_id[:8]))
            elif args.action == "discard":
                change, outcome = engine.discard(args.change)
                key = {
                    DISCARD_REMOVED: "syncer.discarded_removed",
                    DISCARD_NEEDS_PULL: "syncer.discarded_needs_pull",
                }.get(outcome, "syncer.discarded")
                print(syncer_message(key, id=change.change_id[:8], title=change.title))
            else:
                found = engine.rejected()
                if not found:
                    print(syncer_message("syncer.no_rejected"))
                    return
                for change in found:
                    print(syncer_message(
                        "syncer.rejected_entry", id=change.change_id[:8],
                        collection=_word(COLLECTION_NAMES, change.collection), title=change.title,
                        when=when_text(change.rejected_at), reason=change.reason,
                    ))
                print(syncer_message("syncer.rejected_hint"))
        finally:
            engine.close()

    return _sync_errors(lambda: with_session(args, work) or EXIT_OK)


# --- the parser --------------------------------------------------------------------------


# argparse's own words (usage, errors, the help option) go through the same catalog: argparse
# looks up its texts with a module-level gettext `_`, which is pointed at ours below.
ARGPARSE_TEXTS = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("the following arguments are required: %s"),
    N_("unrecognized arguments: %s"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
    N_("expected one argument"),
    N_("expected at least one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
)


def _translate_argparse() -> None:
    argparse._ = _  # type: ignore[attr-defined]


def build_parser() -> argparse.ArgumentParser:
    _translate_argparse()
    parser = argparse.ArgumentParser(
        prog="samverka",
        description=tr(
            "Samverka – contact channels, forums and routines for regional crisis "
            "collaboration, also without a network."
        ),
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None, metavar=tr("FOLDER"),
        help=tr("data folder (default: SAMVERKA_DATA_DIR or the system's data folder)"),
    )
    parser.add_argument(
        "--lang", choices=LANGUAGES,
        help=tr("language: sv or en (default: SAMVERKA_LANG, the window's setting, the organisation profile's, Swedish)"),
    )
    parser.add_argument("--version", action="version", version=version_text(), help=tr("show the version and exit"))
    parser.add_argument(
        SMOKE_TEST, action="store_true",
        help=tr("check this installation: the profile, the translations, and the window through a "
                "first run with a throwaway vault (nothing is kept); exit 1 and the reason when a step fails"),
    )
    commands = parser.add_subparsers(dest="command", metavar=tr("COMMAND"), title=tr("commands"))

    init = commands.add_parser("init", help=tr("create a new encrypted vault"))
    init.add_argument("--demo", action="store_true", help=tr("load the demo region at once"))
    init.set_defaults(func=cmd_init)

    commands.add_parser("demo", help=tr("load the demo region into the vault")).set_defaults(func=cmd_demo)

    search = commands.add_parser("search", help=tr("search for a function, organisation, forum or routine"))
    search.add_argument("text", nargs="+", metavar=tr("TEXT"))
    search.add_argument("--limit", type=int, default=10, metavar=tr("N"), help=tr("at most this many hits"))
    search.add_argument("--org", metavar=tr("ORGANISATION"), help=store_message("search.own_org_help"))
    search.set_defaults(func=cmd_search)

    show = commands.add_parser("show", help=tr("show a record with its channels, mandates or steps"))
    show.add_argument("reference", nargs="+", metavar=tr("ID_OR_TEXT"))
    show.set_defaults(func=cmd_show)

    passwd = commands.add_parser("passwd", help=tr("change the passphrase"))
    passwd.add_argument(
        "--recovery-key", action="store_true",
        help=tr("forgotten passphrase: unlock with the recovery key (asked for, or "
                "SAMVERKA_RECOVERY_KEY) and choose a new one"),
    )
    passwd.set_defaults(func=cmd_passwd)
    commands.add_parser(
        "recovery-key", help=tr("make a new recovery key (shown once)")
    ).set_defaults(func=cmd_recovery_key)
    commands.add_parser(
        "check", help=tr("check that the database and the key-slot file are intact")
    ).set_defaults(func=cmd_check)

    enroll = commands.add_parser("enroll", help=tr("connect the vault to the organisation's server (one-time code)"))
    enroll.add_argument(
        "--server", metavar="URL",
        help=tr("the server's address, https://… (default: the organisation profile's)"),
    )
    enroll.add_argument("--code", required=True, metavar=tr("CODE"), help=tr("the enrollment code from the administrator"))
    enroll.add_argument(
        "--ca", metavar=tr("FILE"),
        help=tr("the organisation's CA certificate (PEM; default: the organisation profile's)"),
    )
    enroll.add_argument("--name", metavar=tr("DEVICE_NAME"), help=tr("the device's name (default: the computer's name)"))
    enroll.set_defaults(func=cmd_enroll)

    commands.add_parser("sync", help=tr("synchronise now and say what happened")).set_defaults(func=cmd_sync)
    commands.add_parser("status", help=tr("the state of synchronisation")).set_defaults(func=cmd_status)
    commands.add_parser("conflicts", help=tr("list unresolved conflicts")).set_defaults(func=cmd_conflicts)
    resolve = commands.add_parser("resolve", help=tr("resolve a conflict (an ordinary change that syncs)"))
    resolve.add_argument("conflict", metavar="ID", help=tr("the conflict's id (or its beginning)"))
    resolve.add_argument(
        "--keep", required=True, metavar=tr("kept|other|VALUE"),
        help=tr("kept: keep the current value; other: bring back the other one; else: this value"),
    )
    resolve.add_argument("--note", metavar=tr("TEXT"), help=tr("a note on the resolution"))
    resolve.set_defaults(func=cmd_resolve)
    rejected = commands.add_parser(
        "rejected", help=tr("list changes the server refused; retry or discard one")
    )
    rejected.add_argument(
        "action", nargs="?", choices=("retry", "discard"), metavar="retry|discard",
        help=tr("retry: send it again; discard: return the record to the server's values"),
    )
    rejected.add_argument("change", nargs="?", metavar="ID", help=tr("the change's id (or its beginning)"))
    rejected.set_defaults(func=cmd_rejected)
    # Late: both modules import this one. Plain imports, so that PyInstaller sees them.
    from desktop.cli_activation import add_commands as add_activation_commands
    from desktop.cli_io import add_commands as add_io_commands

    add_io_commands(commands)  # import, export
    add_activation_commands(commands)  # activated mode
    return parser


def _language_from_argv(argv: Sequence[str]) -> str | None:
    """``--lang X`` before the parser exists, so that its help is already in that language."""
    for index, arg in enumerate(argv):
        if arg == "--lang" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def start_language(argv: Sequence[str]) -> str | None:
    """The language of this run, in the order desktop/i18n.py gives: --lang, else
    SAMVERKA_LANG (None: ``language()`` reads it), else the window's setting, else the
    organisation profile's (a broken profile is said by the command that needs it), else None."""
    chosen = _language_from_argv(argv)
    if chosen or language_from_environment():
        return chosen
    from desktop.profile import ProfileError, startup_profile
    from desktop.ui.settings import load_settings

    setting = load_settings().language
    if setting:
        return setting
    try:
        profile = startup_profile()
    except ProfileError:
        return None
    return profile.language if profile is not None else None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    set_language(start_language(argv))
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.smoke_test:
        if args.command:
            parser.error(tr("{option} takes no command", option=SMOKE_TEST))
        from desktop.smoke import run_smoke_test

        return run_smoke_test()
    if args.data_dir is None:
        args.data_dir = sessions.default_data_dir()
    command = getattr(args, "func", cmd_start)
    silence_sqlcipher_log()  # its lines would land on the terminal; errors are said in words
    if command is cmd_rejected and bool(args.action) != bool(args.change):
        parser.error(tr("give both what to do and the change's id: samverka rejected retry ID"))
    try:
        return command(args)
    except (UserError, VaultError, StoreError) as error:
        print(str(error), file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        sys.stderr.close()
        return EXIT_OK
    except KeyboardInterrupt:
        print(tr("Interrupted."), file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # the last line of defence: a message, never a bare traceback
        if isinstance(error, (sqlcipher.DatabaseError, sa_exc.DatabaseError)) and is_damage(error):
            # A damaged page read in the middle of a search or a sync: say so, not "unexpected".
            print(str(damage_error(args.data_dir / DATABASE_FILE, error)), file=sys.stderr)
            return EXIT_USER_ERROR
        if os.environ.get("SAMVERKA_DEBUG"):
            traceback.print_exc()
        print(tr("An unexpected error occurred ({error}). Your data is untouched. Run again with SAMVERKA_DEBUG=1 and report the output.", error=type(error).__name__), file=sys.stderr)
        return EXIT_INTERNAL
