"""Applying an import plan to the store: all of it in one transaction, or nothing.

Inside the transaction (the store's lock is held, so nothing changes meanwhile) the store's
state is compared with the one the plan was made on; if anything was written since, the plan is
made again with the preview's seed, and if it differs from the preview nothing is written
(PlanOutdated). A cancel, a failure or a refused row the user did not choose
to leave out ends the transaction with nothing kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desktop.io.errors import PlanOutdated, RowsRefused, check_cancel
from desktop.io.plan import Change, ImportPlan, plan_import, state_token
from desktop.io.read import Progress

CHUNK = 2_000  # records per bulk_create: progress and cancel between chunks


@dataclass(frozen=True)
class ImportResult:
    created: dict[str, int]  # collection -> records created
    updated: dict[str, int]  # collection -> records updated
    left_out: int  # refused rows the user chose to leave out


def apply_import(
    store,
    plan: ImportPlan,
    *,
    import_valid_rows: bool = False,
    progress: Progress | None = None,
    cancel: Any = None,
) -> ImportResult:
    """Write ``plan`` (from prepare_import/plan_import) in one transaction.

    A plan with refused rows is refused (RowsRefused) unless ``import_valid_rows``: then the
    other rows go in and the refused ones are left out.
    """
    if plan.refused and not import_valid_rows:
        raise RowsRefused(count=len(plan.refused))
    creates = [c for c in plan.changes if c.op == "create"]
    updates = [c for c in plan.changes if c.op == "update"]
    total = len(plan.changes)
    with store.batch():
        if state_token(store) != plan.state:  # something was written since: is the plan still true?
            current = plan_import(store, plan.table, plan.organisation, seed=plan.seed, cancel=cancel)
            if not current.same_as(plan):
                raise PlanOutdated()
        done = 0
        for collection in ("organisations", "functions", "channels"):
            batch = [c for c in creates if c.collection == collection]
            for start in range(0, len(batch), CHUNK):
                check_cancel(cancel)
                chunk = batch[start : start + CHUNK]
                store.bulk_create(collection, [c.fields for c in chunk], record_ids=[c.record_id for c in chunk])
                done += len(chunk)
                if progress:
                    progress("write", done, total)
        for number, change in enumerate(updates, start=1):
            if number % 200 == 0:
                check_cancel(cancel)
                if progress:
                    progress("write", done + number, total)
            store.update(change.collection, change.record_id, change.fields)
        check_cancel(cancel)
    if progress:
        progress("write", total, total)
    return ImportResult(_count(creates), _count(updates), len(plan.refused))


def _count(changes: list[Change]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.collection] = counts.get(change.collection, 0) + 1
    return counts
