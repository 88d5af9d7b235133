"""What the window's cold start leaves for later: requests, phonenumbers and rapidfuzz are imported at their first use (and work then), and unlocking derives the key before it imports the store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from desktop import session as sessions
from desktop.vault import KdfParams

ROOT = Path(__file__).resolve().parents[1]
PASSPHRASE = "korrekt häst batteri häftklammer"
LATER = ("requests", "phonenumbers", "rapidfuzz")


def run_fresh(code: str, *args: str) -> dict:
    """``code`` in a new interpreter (nothing imported yet); what it prints as JSON."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args], cwd=ROOT, capture_output=True, text=True,
        timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_first_screens_modules_leave_them_out_and_each_works_at_its_first_use() -> None:
    seen = run_fresh(f"""
        import json, socket, sys
        import desktop.app, desktop.session, desktop.store, desktop.syncer.engine
        import desktop.ui.unlock, desktop.ui.mainwindow
        later = {LATER!r}
        at_start = [name for name in later if name in sys.modules]

        from desktop.store.phones import format_phone, normalise_phone
        from desktop.store.search_words import Vocabulary
        from desktop.syncer.client import SyncClient
        from desktop.syncer.errors import Offline

        with socket.socket() as probe:  # a port nobody listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        try:
            SyncClient(f"http://127.0.0.1:{{port}}", timeout=(2, 2)).health()
            offline = False
        except Offline:
            offline = True
        print(json.dumps({{
            "at_start": at_start,
            "e164": normalise_phone("070-174 06 99"),
            "shown": format_phone("+46701740699"),
            "corrections": Vocabulary({{"polismyndigheten": 3, "polisen": 2}}).corrections("polsi"),
            "offline": offline,
            "after": [name for name in later if name in sys.modules],
        }}))
    """)
    assert seen["at_start"] == [], "imported with the first screen's modules"
    assert seen["e164"] == "+46701740699" and seen["shown"] == "070-174 06 99"
    assert "polis" in seen["corrections"]
    assert seen["offline"], "a refused connection is Offline (requests' errors mapped after the late import)"
    assert seen["after"] == list(LATER)


def test_unlocking_derives_the_key_before_it_imports_the_store(tmp_path: Path) -> None:
    sessions.create_session(tmp_path, PASSPHRASE, kdf=KdfParams.minimum()).close()
    seen = run_fresh("""
        import json, sys
        from pathlib import Path
        from desktop.vault.kdf import KdfParams

        store_loaded = []
        derive = KdfParams.derive

        def noting(self, secret, salt):
            store_loaded.append("desktop.store" in sys.modules)
            return derive(self, secret, salt)

        KdfParams.derive = noting
        from desktop import session as sessions

        opened = sessions.unlock_session(Path(sys.argv[1]), sys.argv[2])
        print(json.dumps({"store_loaded_at_derive": store_loaded, "open": not opened.store.closed}))
        opened.close()
    """, str(tmp_path), PASSPHRASE)
    assert seen["store_loaded_at_derive"] == [False], "the store's imports wait until the key is derived"
    assert seen["open"]
