"""Child process for the kill test: a slow paged pull that prints each committed page, until killed."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from desktop.store import Store  # noqa: E402
from desktop.syncer.client import SyncClient  # noqa: E402
from desktop.syncer.engine import SyncEngine  # noqa: E402


class SlowClient(SyncClient):
    def pull(self, cursor, limit=1000):
        page = super().pull(cursor, limit)
        time.sleep(float(os.environ.get("SLOW_PULL_S", "0.1")))
        return page


def main() -> None:
    store = Store.open(Path(os.environ["STORE_PATH"]), bytes.fromhex(os.environ["STORE_KEY"]))
    engine = SyncEngine(store, client_factory=SlowClient, pull_limit=int(os.environ["PULL_LIMIT"]))
    original = store.apply_pulled

    def apply_and_tell(records, cursor):
        original(records, cursor)  # committed when this returns
        print(f"page {len(records)} {cursor}", flush=True)

    store.apply_pulled = apply_and_tell
    report = engine.sync_now()
    print(f"done {report.pulled}", flush=True)


if __name__ == "__main__":
    main()
