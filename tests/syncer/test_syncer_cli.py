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


def edit_in_vault(data_dir, collection, record_id, fields):
    """An edit made in the vault between two commands (as the window would make it)."""
    opened = sessions.unlock_session(data_dir, PASSPHRASE)
    try:
        opened.store.update(collection, record_id, fields)
    finally:
        opened.close()


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

    edit_in_vault(vault_dir, "channels", cid, {"label": "mine"})
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
    assert "does not know this enrollment code" in capsys.readouterr().err


def test_refused_changes_conflicts_and_failures_read_in_swedish(vault_dir, server, device_factory,
                                                                 make_function, capsys, monkeypatch):
    from tests.test_i18n import _english_words

    monkeypatch.setenv("SAMVERKA_LANG", "sv")
    said: list[str] = []

    def out(*argv, code=0):
        try:
            returned = run(vault_dir, *argv)
        except SystemExit as exit_:  # argparse's answer to wrong usage
            returned = exit_.code
        assert returned == code, argv
        captured = capsys.readouterr()
        said.append(captured.out + captured.err)
        return captured.out + captured.err

    out("enroll", "--server", server.url, "--code", server.code("sbff"), "--name", "Laptop RCB")
    assert "medlem" in said[-1]  # the role in words
    sos = device_factory(server, "sos", name="Laptop TiB")
    fid, cid = make_function(sos.store, server.org_ids["sos"], "TiB SOS Alarm")
    sos.sync()
    out("sync")
    edit_in_vault(vault_dir, "channels", cid, {"note": "inte vårt"})  # SOS Alarm's channel
    text = out("sync")
    assert "avvisad: Kontaktväg ”070-174 06 10” – din organisation får inte göra den här ändringen" in text
    text = out("status")
    assert "Avvisade:          1" in text and "samverka rejected discard" in text
    listing = out("rejected")
    change_id = listing.split()[0]
    assert "din organisation får inte" in listing and len(change_id) == 8
    out("rejected", "retry", code=2)  # what to do, but not which
    out("rejected", "discard", "ffffffff", code=1)
    assert "Ingen avvisad ändring" in said[-1]
    text = out("rejected", "discard", change_id)
    assert "har serverns värden igen" in text
    assert "Inga avvisade ändringar" in out("rejected")
    opened = sessions.unlock_session(vault_dir, PASSPHRASE)
    try:
        assert opened.store.get("channels", cid)["fields"]["note"] is None
    finally:
        opened.close()

    # A conflict names the other device and its organisation, and the field by its label.
    other = device_factory(server, "sbff", name="Surfplatta RCB")
    rcb, channel = make_function(other.store, server.org_ids["sbff"], "RCB")
    other.sync()
    out("sync")
    edit_in_vault(vault_dir, "channels", channel, {"label": "vår"})
    other.store.update("channels", channel, {"label": "deras"})
    other.sync()
    out("sync")
    listing = out("conflicts")
    assert "fält etikett" in listing and "Surfplatta RCB, Storstockholms brandförsvar" in listing
    assert "den här enheten" in listing
    assert other.store.get_meta("sync.device_id") not in listing

    # A failed sync is what the status says, with when, also after the program ended.
    server.thread.stop()
    out("sync", code=1)
    text = out("status")
    [state] = [line for line in text.splitlines() if line.startswith("Läge:")]
    assert "går inte att nå" in text and "Misslyckades:" in text and "i fas" not in state
    for text in said:
        assert not _english_words(text), text


def _profile(tmp_path, server_url: str, ca_file) -> str:
    """An organisation profile (as an installer bakes it) naming this server and CA."""
    path = tmp_path / "sos-alarm.toml"
    path.write_text(
        'format = 1\n[organisation]\nname = "SOS Alarm"\nid = "2f50df03-40f6-513b-8f64-36a63d4f40b9"\n'
        f'slug = "sos-alarm"\n[server]\nurl = "{server_url}"\nca_pem = """{ca_file.read_text()}"""\n',
        encoding="utf-8",
    )
    return str(path)


def test_enroll_takes_the_server_and_the_ca_from_the_organisation_profile(tmp_path, vault_dir,
                                                                         server_factory, capsys, monkeypatch):
    files = make_tls_files(tmp_path)
    server = server_factory(ssl=files)
    assert run(vault_dir, "enroll", "--code", server.code("sos")) == 1  # no profile: say what to give
    assert "--server" in capsys.readouterr().err

    # The profile's CA is the only one trusted: a wrong one fails, naming the profile's file.
    wrong = _profile(tmp_path, server.url, files["other_ca"])
    monkeypatch.setenv("SAMVERKA_PROFILE", wrong)
    assert run(vault_dir, "enroll", "--code", server.code("sos")) == 1
    out, err = capsys.readouterr()
    assert f"From the organisation profile of SOS Alarm ({wrong}): the server {server.url} and its CA certificate." in out
    assert wrong in err and "Traceback" not in err

    profile = _profile(tmp_path, server.url, files["ca"])
    monkeypatch.setenv("SAMVERKA_PROFILE", profile)
    assert run(vault_dir, "enroll", "--code", server.code("sos"), "--name", "Laptop TiB") == 0
    out = capsys.readouterr().out
    assert f"({profile}): the server {server.url} and its CA certificate." in out and "SOS Alarm" in out
    assert run(vault_dir, "sync") == 0  # the CA it enrolled with is the one it syncs with


def test_enroll_with_a_server_of_its_own_still_takes_the_profile_s_ca(tmp_path, vault_dir,
                                                                      server_factory, capsys, monkeypatch):
    files = make_tls_files(tmp_path)
    server = server_factory(ssl=files)
    monkeypatch.setenv("SAMVERKA_PROFILE", _profile(tmp_path, "https://samverka.sosalarm.example", files["ca"]))
    assert run(vault_dir, "enroll", "--server", server.url, "--code", server.code("sos")) == 0
    out = capsys.readouterr().out
    assert ": its CA certificate." in out and "samverka.sosalarm.example" not in out
