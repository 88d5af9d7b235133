"""A profile's CA in use: the first run enrolls with a real TLS server whose certificate that CA signed, and is refused by one it did not sign.

The CA and the server certificate are made at test time (tests/syncer/syncer_helpers.py): the
demo profiles' CA has no private key anywhere, so nothing can be signed by it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "syncer"))

from syncer_helpers import ServerThread, SyncServer, make_tls_files, prepare_server_db  # noqa: E402

from desktop.profile import parse_profile  # noqa: E402

PASSPHRASE = "korrekt häst batteri"


def profile_text(url: str, ca_pem: str) -> str:
    return f'''format = 1
[organisation]
name = "Länsstyrelsen Stockholm"
id = "759ee8ab-78e3-5774-b1ad-363c5d8298cb"
slug = "lansstyrelsen-stockholm"
[server]
url = "{url}"
ca_pem = """{ca_pem}"""
'''


@pytest.fixture
def tls_server(tmp_path: Path):
    from sync.server.app import create_app
    from sync.server.config import Settings

    files = make_tls_files(tmp_path)
    db_url, sessions, org_ids = prepare_server_db(tmp_path / "server.db")
    thread = ServerThread(create_app(Settings(db_url=db_url)), ssl_certfile=str(files["cert"]),
                          ssl_keyfile=str(files["key"])).start()
    try:
        yield SyncServer(thread.url, db_url, sessions, org_ids, thread), files
    finally:
        thread.stop()


def test_the_first_run_enrolls_with_the_ca_from_the_profile(tls_server, tmp_path: Path, monkeypatch) -> None:
    from desktop.app import FirstRun
    from desktop.syncer.errors import TlsError

    monkeypatch.setenv("SAMVERKA_FAST_KDF", "1")
    server, files = tls_server
    wrong = parse_profile(profile_text(server.url, files["other_ca"].read_text(encoding="ascii")))
    right = parse_profile(profile_text(server.url, files["ca"].read_text(encoding="ascii")))
    data_dir = tmp_path / "data"
    first_run = FirstRun(data_dir, wrong)
    first_run.create(PASSPHRASE)
    try:
        with pytest.raises(TlsError):
            first_run.enroll(wrong.server_url, server.code("lst"), ca_pem=wrong.ca_pem)
        first_run.profile = right
        enrolled = first_run.enroll(right.server_url, server.code("lst"), ca_pem=right.ca_pem)
        assert enrolled.organisation_name == "Länsstyrelsen Stockholm"
        assert first_run.session.enrolled
    finally:
        first_run.session.close()
    assert sorted(path.name for path in data_dir.iterdir()) == ["samverka.db", "vault.json"]  # no CA file left
