"""The sync subcommands of `samverka`: enroll, sync, status, conflicts, resolve."""

from __future__ import annotations

import os

import pytest
from syncer_helpers import make_tls_files

from desktop import cli
from desktop import session as sessions
from desktop.vault import KdfParams

PASSPHRASE = "korrekt häst batteri häftklammer"


@pytest.fixture
def vault_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SAMVERKA_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("SAMVERKA_LANG", "en")
    data_dir = tmp_path / "vault"
    sessions.create_session(data_dir, PASSPHRASE, kdf=KdfParams.minimum()).close()
    return data_dir


def run(data_dir, *argv):
    # The CLI takes the passphrase out of the environment once read (vault_dir's monkeypatch
    # restores the environment afterwards).
    os.environ["SAMVERKA_PASSPHRASE"] = PASSPHRASE
    return cli.main(["--data-dir", str(data_dir), *argv])


def test_enroll_sync_status_conflicts_resolve(tmp_path, vault_dir, server, device_factory,
                                             make_function, capsys, monkeypatch):
    assert run(vault_dir, "status") == 0
    assert "not enrolled" in capsys.readouterr().out
    assert run(vault_dir, "sync") == 1
    assert "samverka enroll" in capsys.readouterr().err

    assert run(vault_dir, "enroll", "--server", server.url, "--code", server.code("sos"),
               "--name", "Laptop TiB") == 0
    out = capsys.readouterr().out
    assert "SOS Alarm" in out and "member" in out
    assert not list(vault_dir.glob("*.json")) or all(
        "token" not in p.read_text() for p in vault_dir.glob("*.json"))  # nothing in plain files

    other = device_factory(server, "sos", name="other")
    fid, cid = make_function(other.store, server.org_ids["sos"], "TiB SOS Alarm")
    other.sync()
    assert run(vault_dir, "sync") == 0
    assert "received" in capsys.readouterr().out

    opened = sessions.unlock_session(vault_dir, PASSPHRASE)
    try:
        opened.store.update("channels", cid, {"label": "mine"})
    finally:
        opened.close()
    other.store.update("channels", cid, {"label": "theirs"})
    other.sync()
    assert run(vault_dir, "sync") == 0
    assert "1 new conflicts" in capsys.readouterr().out

    assert run(vault_dir, "status") == 0
    status = capsys.readouterr().out
    assert "Open conflicts:    1" in status and "Unsent changes:    0" in status
    assert "up to date" in status

    assert run(vault_dir, "conflicts") == 0
    listing = capsys.readouterr().out
    assert "'mine'" in listing and "'theirs'" in listing and "label" in listing
    conflict_id = listing.split()[0]
    assert run(vault_dir, "resolve", conflict_id[:8], "--keep", "mine", "--note", "checked") == 0
    assert "resolved" in capsys.readouterr().out
    assert run(vault_dir, "resolve", conflict_id, "--keep", "kept") == 1
    assert "already resolved" in capsys.readouterr().err
    assert run(vault_dir, "sync") == 0
    other.sync()
    assert other.store.get("channels", cid)["fields"]["label"] == "mine"
    assert run(vault_dir, "conflicts") == 0
    assert "No open conflicts" in capsys.readouterr().out

    # A second enrollment of the same vault is refused with a way forward.
    assert run(vault_dir, "enroll", "--server", server.url, "--code", server.code("sos")) == 1
    assert "--data-dir" in capsys.readouterr().err


def test_enroll_with_a_wrong_ca_is_a_clear_message_not_a_traceback(tmp_path, vault_dir,
                                                                   server_factory, capsys):
    files = make_tls_files(tmp_path)
    server = server_factory(ssl=files)
    code = server.code("sos")
    assert run(vault_dir, "enroll", "--server", server.url, "--code", code,
               "--ca", str(files["other_ca"])) == 1
    err = capsys.readouterr().err
    assert server.url in err and str(files["other_ca"]) in err and "Traceback" not in err
    assert run(vault_dir, "enroll", "--server", server.url, "--code", code,
               "--ca", str(files["ca"])) == 0


def test_enroll_refuses_the_demo_vault(vault_dir, server, capsys):
    assert run(vault_dir, "demo") == 0
    capsys.readouterr()
    assert run(vault_dir, "enroll", "--server", server.url, "--code", server.code("sos")) == 1
    err = capsys.readouterr().err
    assert "init" in err and "samverka-server demo" in err


def test_wrong_code_is_named(vault_dir, server, capsys):
    assert run(vault_dir, "enroll", "--server", server.url, "--code", "AAAA-BBBB-CCCC-DDDD") == 1
    assert "not accepted" in capsys.readouterr().err
