"""The demo region loader: resources/demo/region.json into a store, through the ordinary write API."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from desktop.resources import resources_dir  # the repository's, or the frozen build's copy
from desktop.store.store import META_DEMO, Store
from sync.records import DEMO_NAMESPACE  # keys become uuid5(DEMO_NAMESPACE, key) on both sides

DEMO_FORMAT = 1


def demo_record_id(key: str) -> str:
    return str(uuid.uuid5(DEMO_NAMESPACE, key))


def _resolve(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"ref"}:
        return demo_record_id(value["ref"])
    return value


def load_demo(store: Store, path: Path | str | None = None) -> dict[str, int]:
    """Load the demo data set; returns records created per collection.

    All in one transaction, every record through ``bulk_create`` (so the outbox holds each
    one, as if a person had typed it). Does nothing when demo data was loaded before.
    """
    path = Path(path) if path is not None else resources_dir() / "demo" / "region.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    if document.get("format") != DEMO_FORMAT:
        raise ValueError(f"{path}: unknown demo format {document.get('format')!r}")
    if store.get_meta(META_DEMO):
        return {}
    counts: Counter[str] = Counter()
    records = document["records"]
    with store.batch():
        # Runs of the same collection go in one bulk_create; file order keeps references valid.
        run: list[dict[str, Any]] = []
        for record in [*records, None]:
            if run and (record is None or record["collection"] != run[0]["collection"]):
                collection = run[0]["collection"]
                store.bulk_create(
                    collection,
                    [{k: _resolve(v) for k, v in r["fields"].items()} for r in run],
                    record_ids=[demo_record_id(r["key"]) for r in run],
                )
                counts[collection] += len(run)
                run = []
            if record is not None:
                run.append(record)
        store.set_meta(META_DEMO, True)
    return dict(counts)
