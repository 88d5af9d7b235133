"""The activated mode on the command line: activate, activations, callout, log, end, verify-journal, report-back, checklist, print.

Registered by one line in desktop/cli.py's build_parser (``add_commands``). Every command opens
the vault like the others (passphrase from the prompt or SAMVERKA_PASSPHRASE) and works
offline; what it writes syncs at the next ``samverka sync``. Activations, forums and
functions are named by a unique beginning of their id or by name (desktop.activation.lookup).
Everything that belongs to an exercise says so ("ÖVNING") on every line that names it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable

from desktop import cli
from desktop.activation import ActivationError, ActivationService, ActivationSummary, lookup
from desktop.activation.words import (
    elapsed_text,
    exercise_word,
    kind_from_text,
    kind_label,
    role_label,
    status_from_text,
    status_label,
)
from desktop.i18n import tr
from desktop.store import Store
from desktop.syncer.messages import when_text
from sync.records import LOG_KINDS


def _run(args: argparse.Namespace, work: Callable[[ActivationService], int | None]) -> int:
    """Open the vault, run ``work`` with the service; an ActivationError is the user's mistake."""
    outcome: list[int | None] = []

    def with_store(store: Store) -> None:
        try:
            outcome.append(work(ActivationService(store)))
        except ActivationError as error:
            raise cli.UserError(str(error)) from None

    cli.with_session(args, with_store)
    return outcome[0] if outcome and outcome[0] is not None else cli.EXIT_OK


def _activation(service: ActivationService, text: str) -> ActivationSummary:
    return lookup.find_activation(service.activations(), text)


def _exercise_prefix(summary: ActivationSummary) -> str:
    return f"[{exercise_word()}] " if summary.exercise else ""


def _headline(service: ActivationService, summary: ActivationSummary) -> str:
    state = (
        tr("open, {elapsed} since activation", elapsed=elapsed_text(service.elapsed_ms(summary)))
        if summary.is_open else tr("ended {when}", when=when_text(summary.ended_at))
    )
    return (
        f"{_exercise_prefix(summary)}{summary.activation_id[:8]}  {summary.forum_name} — {summary.reason}"
        f"  ({when_text(summary.started_at)}; {state})"
    )


def _author(service: ActivationService, summary: ActivationSummary, text: str | None) -> str | None:
    if not text:
        return None
    rows = service.call_list(summary.activation_id).rows
    return lookup.find_function(rows, text, summary.activation_id).function_id


# --- commands --------------------------------------------------------------------------------


def cmd_activate(args: argparse.Namespace) -> int:
    def work(service: ActivationService) -> None:
        forum_id = lookup.find_forum(service.store, args.forum)
        by = None
        if args.as_function:
            by = lookup.find_function(service.forum_rows(forum_id), args.as_function, forum_id).function_id
        activation_id = service.activate(forum_id, args.reason, exercise=args.exercise, by_function_id=by)
        summary = service.summary(activation_id)
        print(tr("Activated: {forum} — {reason}.", forum=summary.forum_name, reason=summary.reason)
              if not summary.exercise else
              tr("Activated as an EXERCISE: {forum} — {reason}.", forum=summary.forum_name, reason=summary.reason))
        print(tr("Activation {id}. Call the forum out with: samverka callout {id}", id=activation_id[:8]))

    return _run(args, work)


def cmd_activations(args: argparse.Namespace) -> int:
    def work(service: ActivationService) -> None:
        found = service.activations()
        if not found:
            print(tr("No activations. Activate a forum with: samverka activate FORUM --reason …"))
            return
        for summary in found:
            line = _headline(service, summary)
            if not summary.sequenced:
                line += "  " + tr("[not synced yet]")
            print(line)

    return _run(args, work)


def cmd_callout(args: argparse.Namespace) -> int:
    def work(service: ActivationService) -> None:
        summary = _activation(service, args.activation)
        if args.function is not None:
            if args.status is None:
                raise cli.UserError(tr(
                    "Give the status too: samverka callout {id} FUNCTION STATUS (1 no answer, "
                    "2 reached, 3 attending, 4 declined).", id=summary.activation_id[:8]))
            status = status_from_text(args.status)
            if status is None:
                raise ActivationError("activation.unknown_status", text=args.status, choices=", ".join(
                    f"{n} {status_label(s)}" for n, s in (("1", "no_answer"), ("2", "reached"),
                                                         ("3", "attending"), ("4", "declined"))))
            row = lookup.find_function(service.call_list(summary.activation_id).rows, args.function, summary.activation_id)
            service.record_callout(summary.activation_id, row.function_id, status, args.note)
            print(_exercise_prefix(summary) + tr("{function}, {organisation}: {status}.", function=row.name,
                                                 organisation=row.organisation_name, status=status_label(status)))
            return
        call_list = service.call_list(summary.activation_id)
        print(_headline(service, summary))
        counts = call_list.counts()
        print(tr("Call-out: {reached} of {total} reached; {unreached} still unreached.",
                 reached=sum(counts.get(s, 0) for s in ("reached", "attending", "declined")),
                 total=len(call_list.rows), unreached=len(call_list.unreached)))
        for number, row in enumerate(call_list.rows, 1):
            mark = "!" if row.unreached else " "
            answered = (" · " + tr("answered after {time}", time=elapsed_text(row.acknowledged_after_ms))
                        if row.acknowledged_after_ms is not None else "")
            print(f"{mark} {number:2d}. [{status_label(row.status)}] {row.name}, {row.organisation_name}"
                  f" ({role_label(row.role)}){answered}")
            for channel in row.channels[:3]:
                reserve = " ⚡ " + tr("reserve route") if channel.resilient else ""
                label = f" – {channel.label}" if channel.label else ""
                print(f"        {channel.priority or '-'} {channel.kind_label}: {channel.dial}{label}{reserve}")

    return _run(args, work)


def cmd_log(args: argparse.Namespace) -> int:
    def work(service: ActivationService) -> int | None:
        summary = _activation(service, args.activation)
        if args.text:
            kind = kind_from_text(args.kind)
            if kind is None:
                raise ActivationError("activation.unknown_kind", text=args.kind, choices=", ".join(
                    kind_label(k) for k in LOG_KINDS))
            corrects = None
            if args.corrects:
                corrects = lookup.find_entry(service.journal(summary.activation_id).entries, args.corrects,
                                             summary.activation_id).entry_id
            entry_id = service.write_entry(
                summary.activation_id, " ".join(args.text), kind=kind,
                author_function_id=_author(service, summary, args.as_function), corrects=corrects,
            )
            print(_exercise_prefix(summary) + tr("Journal entry {id} written ({kind}).", id=entry_id[:8],
                                                 kind=kind_label(kind)))
            return None
        if args.corrects:
            raise cli.UserError(tr("--corrects needs the text of the correcting entry."))
        journal = service.journal(summary.activation_id)
        print(_headline(service, summary))
        if not journal.entries:
            print(tr("The journal is empty. Write with: samverka log {id} TEXT --kind decision",
                     id=summary.activation_id[:8]))
        for entry, depth in journal.threaded():
            place = f"#{entry.index}" if entry.index is not None else tr("[not sequenced]")
            indent = "    ↳ " + tr("correction:") + " " if depth else ""
            if entry.hidden:
                print(f"{place} {entry.entry_id[:8]}  " + tr("(internal to another organisation)"))
                continue
            who = entry.author or entry.organisation_name
            print(f"{indent}{place} {entry.entry_id[:8]}  {when_text(entry.at)}  [{kind_label(entry.kind)}]  {who}")
            for line in entry.text.splitlines() or [""]:
                print(("      " if depth else "    ") + line)
            if entry.corrected_by:
                print("    " + tr("corrected by {ids}", ids=", ".join(i[:8] for i in entry.corrected_by)))
        print(journal.check.text)
        return None

    return _run(args, work)


def cmd_end(args: argparse.Namespace) -> int:
    def work(service: ActivationService) -> None:
        summary = _activation(service, args.activation)
        service.end(summary.activation_id, args.note)
        print(_exercise_prefix(summary) + tr("The activation of {forum} is ended.", forum=summary.forum_name))

    return _run(args, work)


def cmd_verify_journal(args: argparse.Namespace) -> int:
    def work(service: ActivationService) -> int:
        summary = _activation(service, args.activation)
        check = service.verify_journal(summary.activation_id)
        print(_headline(service, summary))
        print(check.text)
        if check.break_entry_id:
            print(tr("First broken entry: {id}.", id=check.break_entry_id))
        if check.hidden:
            print(tr("{count} entries are internal to another organisation: their place in the chain "
                     "is checked, their content cannot be.", count=check.hidden))
        print(tr("Chain head: {head}", head=check.head))
        return cli.EXIT_OK if check.ok else cli.EXIT_USER_ERROR

    return _run(args, work)


def cmd_report_back(args: argparse.Namespace) -> int:
    def work(service: ActivationService) -> None:
        summary = _activation(service, args.activation)
        if args.done:
            organisation = lookup.find_organisation(service.store, args.org) if args.org else None
            meeting = lookup.parse_time_text(args.meeting) if args.meeting else None
            service.record_report_back(summary.activation_id, meeting_at=meeting, note=args.note,
                                       organisation_id=organisation)
            print(_exercise_prefix(summary) + tr("Report-back recorded."))
        overview = service.report_backs(summary.activation_id)
        meeting = overview.latest_meeting
        print(_headline(service, summary))
        print(tr("Report-back after the meeting {when}:", when=when_text(meeting)) if meeting
              else tr("Report-back to the home organisations:"))
        for row in overview.rows:
            done = row.reported_for(meeting)
            state = tr("reported back {when}", when=when_text(done.at)) if done else tr("not reported back")
            print(f"  {'✓' if done else '✗'} {row.organisation_name}: {state}")

    return _run(args, work)


def cmd_checklist(args: argparse.Namespace) -> int:
    def work(service: ActivationService) -> None:
        summary = _activation(service, args.activation)
        lists = service.checklists(summary.activation_id)
        if args.step:
            step = lookup.find_step(lists, args.step)
            service.mark_step(summary.activation_id, step.step_id, not args.undo, args.note)
            lists = service.checklists(summary.activation_id)
        print(_headline(service, summary))
        for number, checklist in enumerate(lists, 1):
            print(f"{number}. {checklist.title} ({checklist.owner}) — {checklist.done}/{len(checklist.steps)}")
            for place, step in enumerate(checklist.steps, 1):
                tick = "[x]" if step.done else "[ ]"
                when = f"  ({when_text(step.marked_at)}, {step.marked_by})" if step.marked_at else ""
                print(f"   {number}.{place} {tick} {step.text}{when}")

    return _run(args, work)


def cmd_print(args: argparse.Namespace) -> int:
    from desktop.printing import print_calllist, print_directory, print_journal

    out = Path(args.out)

    def work(service: ActivationService) -> None:
        if args.what == "calllist":
            if not args.forum:
                raise cli.UserError(tr("Name the forum: samverka print calllist --forum NAME --out FILE.pdf"))
            pages = print_calllist(service, lookup.find_forum(service.store, args.forum), out)
        elif args.what == "journal":
            if not args.activation:
                raise cli.UserError(tr("Name the activation: samverka print journal --activation ID --out FILE.pdf"))
            pages = print_journal(service, _activation(service, args.activation).activation_id, out)
        else:
            pages = print_directory(service, out)
        print(tr("Written: {path} ({pages} pages).", path=out, pages=pages))

    return _run(args, work)


# --- the parser --------------------------------------------------------------------------


def _activation_argument(parser) -> None:
    parser.add_argument("activation", metavar="ACTIVATION", help=tr("the activation's id (or its beginning) or its forum"))


def add_commands(commands) -> None:
    """Add the activated mode's subcommands to samverka's parser."""
    activate = commands.add_parser("activate", help=tr("put a forum in activated mode"))
    activate.add_argument("forum", metavar=tr("FORUM"), help=tr("the forum's name or id"))
    activate.add_argument("--reason", required=True, metavar=tr("TEXT"), help=tr("what has happened"))
    activate.add_argument("--exercise", action="store_true", help=tr("an exercise, not a real event"))
    activate.add_argument("--as", dest="as_function", metavar=tr("FUNCTION"),
                          help=tr("the function activating it (default: your organisation's in the forum)"))
    activate.set_defaults(func=cmd_activate)

    commands.add_parser("activations", help=tr("list open and past activations")).set_defaults(func=cmd_activations)

    callout = commands.add_parser("callout", help=tr("the call list, or record one call-out status"))
    _activation_argument(callout)
    callout.add_argument("function", nargs="?", metavar=tr("FUNCTION"), help=tr("a function of the call list"))
    callout.add_argument("status", nargs="?", metavar=tr("STATUS"),
                         help=tr("1 no answer, 2 reached, 3 attending, 4 declined (or the word)"))
    callout.add_argument("--note", metavar=tr("TEXT"), help=tr("a note on the call"))
    callout.set_defaults(func=cmd_callout)

    log = commands.add_parser("log", help=tr("the activation's journal, or write an entry"))
    _activation_argument(log)
    log.add_argument("text", nargs="*", metavar=tr("TEXT"), help=tr("the entry to write"))
    log.add_argument("--kind", default="information", metavar=tr("KIND"),
                     help=tr("information, decision, action, situation_report or other"))
    log.add_argument("--corrects", metavar="ID", help=tr("the entry this one corrects (its id or beginning)"))
    log.add_argument("--as", dest="as_function", metavar=tr("FUNCTION"), help=tr("the author function"))
    log.set_defaults(func=cmd_log)

    end = commands.add_parser("end", help=tr("end an activation (a closing journal entry is added)"))
    _activation_argument(end)
    end.add_argument("--note", metavar=tr("TEXT"), help=tr("a closing note for the journal"))
    end.set_defaults(func=cmd_end)

    verify = commands.add_parser("verify-journal", help=tr("check the journal's hash chain"))
    _activation_argument(verify)
    verify.set_defaults(func=cmd_verify_journal)

    report = commands.add_parser("report-back", help=tr("who has reported back to their home organisation; record your own"))
    _activation_argument(report)
    report.add_argument("--done", action="store_true", help=tr("record that your organisation has reported back"))
    report.add_argument("--meeting", metavar=tr("TIME"), help=tr("the meeting reported on (e.g. 14:30)"))
    report.add_argument("--note", metavar=tr("TEXT"), help=tr("to whom, what"))
    report.add_argument("--org", metavar=tr("ORGANISATION"), help=tr("the organisation (only in a vault not enrolled)"))
    report.set_defaults(func=cmd_report_back)

    checklist = commands.add_parser("checklist", help=tr("the activation's routines as checklists; tick a step"))
    _activation_argument(checklist)
    checklist.add_argument("step", nargs="?", metavar=tr("STEP"), help=tr("the step to tick, e.g. 1.3"))
    checklist.add_argument("--undo", action="store_true", help=tr("untick the step instead"))
    checklist.add_argument("--note", metavar=tr("TEXT"), help=tr("a note on the step"))
    checklist.set_defaults(func=cmd_checklist)

    printing = commands.add_parser("print", help=tr("print to PDF: a forum's call list, the directory, a journal"))
    printing.add_argument("what", choices=("calllist", "directory", "journal"), metavar="calllist|directory|journal")
    printing.add_argument("--forum", metavar=tr("FORUM"), help=tr("the forum (calllist)"))
    printing.add_argument("--activation", metavar="ID", help=tr("the activation (journal)"))
    printing.add_argument("--out", required=True, metavar=tr("FILE"), help=tr("the PDF file to write"))
    printing.set_defaults(func=cmd_print)

