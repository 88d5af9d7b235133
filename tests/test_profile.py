"""Organisation profiles: the demo profiles, a broken profile's message (which key, what is wrong, in the user's language), where a start finds its profile (SAMVERKA_PROFILE, a frozen build's baked one), and a frozen build's resources."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.i18n import in_language
from desktop.version import program_version
from desktop.profile import (
    PROFILE_ENV,
    Profile,
    ProfileError,
    parse_profile,
    read_profile,
    startup_profile,
)

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ROOT / "installer" / "profiles"
DEMO_CA = read_profile(PROFILES / "sos-alarm.toml").ca_pem

GOOD = f'''format = 1
[organisation]
name = "Polismyndigheten i Stockholms län"
id = "6A1B6C3E-1234-4ABC-9DEF-0123456789AB"
slug = "polisen-stockholm"
[server]
url = "https://samverka.polisen.example:8443"
ca_pem = """{DEMO_CA}"""
[defaults]
language = "en"
auto_lock_minutes = 10
sync_interval_seconds = 60
'''


def problems(error: ProfileError) -> list[tuple[str, str]]:
    return [(problem.key, problem.kind) for problem in error.problems]


def test_the_demo_profiles_are_two_organisations_of_the_demo_region() -> None:
    from desktop.store.demo import demo_record_id

    lst = read_profile(PROFILES / "lansstyrelsen-stockholm.toml")
    sos = read_profile(PROFILES / "sos-alarm.toml")
    assert (lst.organisation_name, lst.organisation_id, lst.slug) == (
        "Länsstyrelsen Stockholm", demo_record_id("org-lansstyrelsen"), "lansstyrelsen-stockholm")
    assert (sos.organisation_name, sos.organisation_id, sos.slug) == ("SOS Alarm", demo_record_id("org-sos"), "sos-alarm")
    assert lst.server_url.startswith("https://") and lst.language == "sv"
    assert (sos.auto_lock_minutes, sos.sync_interval_seconds) == (5, 120)


def test_the_demo_ca_is_a_ca_certificate_and_no_private_key_is_committed() -> None:
    from cryptography import x509

    from desktop.profile import parse_certificates

    (certificate,) = parse_certificates(DEMO_CA)
    assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    committed = subprocess.run(["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True).stdout.split()
    for name in committed:
        path = ROOT / name
        if path.is_file() and path.stat().st_size < 2_000_000 and path.suffix in ("", ".pem", ".key", ".toml", ".txt", ".py", ".json"):
            assert "PRIVATE KEY-----" not in path.read_text(encoding="utf-8", errors="replace").replace('"PRIVATE KEY-----"', ""), name


def test_a_good_profile_reads_into_the_window_s_profile() -> None:
    profile = parse_profile(GOOD)
    assert profile == Profile(
        organisation_name="Polismyndigheten i Stockholms län",
        organisation_id="6a1b6c3e-1234-4abc-9def-0123456789ab",
        server_url="https://samverka.polisen.example:8443",
        ca_pem=DEMO_CA,
        language="en",
        auto_lock_minutes=10,
        sync_interval_seconds=60,
        slug="polisen-stockholm",
    )


def test_defaults_may_be_left_out_and_a_public_ca_needs_no_pem() -> None:
    text = GOOD.split("[defaults]")[0]
    text = text[: text.index("ca_pem")]
    profile = parse_profile(text)
    assert (profile.ca_pem, profile.language, profile.auto_lock_minutes, profile.sync_interval_seconds) == (None, None, 15, 300)


def test_a_broken_profile_names_every_key_and_what_is_wrong_in_swedish() -> None:
    broken = (
        GOOD.replace("format = 1", "format = 2")
        .replace('slug = "polisen-stockholm"', 'slugg = "Polisen"')
        .replace("https://samverka.polisen.example:8443", "http://samverka.polisen.example")
        .replace('language = "en"', 'language = "de"')
        .replace("auto_lock_minutes = 10", "auto_lock_minutes = 0")
        .replace("sync_interval_seconds = 60", 'sync_interval_seconds = "60"')
    )
    with pytest.raises(ProfileError) as caught:
        parse_profile(broken, "polisen.toml")
    assert problems(caught.value) == [
        ("format", "format"),
        ("organisation.slug", "missing"),
        ("organisation.slugg", "unknown"),
        ("server.url", "pattern"),
        ("defaults.auto_lock_minutes", "range"),
        ("defaults.language", "choice"),
        ("defaults.sync_interval_seconds", "type"),
    ]
    with in_language("sv"):
        text = str(caught.value)
    assert text.startswith("Organisationsprofilen polisen.toml går inte att använda:")
    for line in (
        "• ”organisation.slug” saknas.",
        "• ”organisation.slugg” är ingen nyckel som en profil kan ha (felstavad?). Kända här: id, name, slug.",
        "• ”defaults.auto_lock_minutes” måste vara ett heltal från 1 till 240, inte 0.",
        "• ”defaults.language” måste vara ett av sv, en, inte \"de\".",
        "• ”defaults.sync_interval_seconds” måste vara ett heltal, men är text inom citattecken.",
    ):
        assert line in text.splitlines(), text
    assert "https://" in text and "format 1" in text
    with in_language("en"):
        assert "“organisation.slug” is missing." in str(caught.value)


def test_a_ca_that_is_not_a_certificate_is_said_to_be_one() -> None:
    damaged = DEMO_CA.replace(DEMO_CA.splitlines()[3], "not base64 at all")
    with pytest.raises(ProfileError) as caught:
        parse_profile(GOOD.replace(DEMO_CA, damaged))
    assert problems(caught.value) == [("server.ca_pem", "ca")]
    with in_language("en"):
        assert "does not hold a readable PEM certificate" in str(caught.value)
    with pytest.raises(ProfileError) as caught:
        parse_profile(GOOD.replace(DEMO_CA, "MIIB…"))
    assert problems(caught.value) == [("server.ca_pem", "pattern")]


def test_not_toml_and_unreadable_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile('format = 1\n[organisation\nname = "x"\n', "trasig.toml")
    assert caught.value.key == "profile.not_toml"
    with in_language("en"):
        assert "trasig.toml is not valid TOML" in str(caught.value) and "line 2" in str(caught.value)
    with pytest.raises(ProfileError) as caught:
        read_profile(tmp_path / "saknas.toml")
    assert caught.value.key == "profile.unreadable" and "saknas.toml" in str(caught.value)


def test_a_start_takes_samverka_profile_else_none(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv(PROFILE_ENV, raising=False)
    assert startup_profile() is None  # from source, no profile: standalone
    path = tmp_path / "p.toml"
    path.write_text(GOOD, encoding="utf-8")
    monkeypatch.setenv(PROFILE_ENV, str(path))
    assert startup_profile().organisation_name == "Polismyndigheten i Stockholms län"


def _frozen_bundle(tmp_path: Path, monkeypatch, profile_text: str | None) -> Path:
    """A folder laid out as a frozen build's _internal (the spec's datas), and sys made frozen."""
    bundle = tmp_path / "_internal"
    (bundle / "resources" / "demo").mkdir(parents=True)
    shutil.copy(ROOT / "resources" / "profile.schema.json", bundle / "resources")
    shutil.copy(ROOT / "resources" / "demo" / "region.json", bundle / "resources" / "demo")
    if profile_text is not None:
        (bundle / "resources" / "profile.toml").write_text(profile_text, encoding="utf-8")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    monkeypatch.delenv(PROFILE_ENV, raising=False)
    return bundle


def test_a_frozen_build_finds_its_baked_profile_and_schema_in_its_own_folder(monkeypatch, tmp_path: Path) -> None:
    from desktop.profile import schema_path
    from desktop.resources import resources_dir

    bundle = _frozen_bundle(tmp_path, monkeypatch, GOOD)
    assert resources_dir() == bundle / "resources" and schema_path() == bundle / "resources" / "profile.schema.json"
    assert startup_profile().slug == "polisen-stockholm"
    # the bundle's schema is the one checked against, not the repository's
    (bundle / "resources" / "profile.schema.json").write_text(
        (ROOT / "resources" / "profile.schema.json").read_text(encoding="utf-8").replace('"maximum": 240', '"maximum": 5'),
        encoding="utf-8")
    with pytest.raises(ProfileError) as caught:
        startup_profile()
    assert problems(caught.value) == [("defaults.auto_lock_minutes", "range")]


def test_a_frozen_build_without_a_profile_runs_standalone_with_the_demo_region(monkeypatch, tmp_path: Path, store) -> None:
    from desktop.store.demo import load_demo

    bundle = _frozen_bundle(tmp_path, monkeypatch, None)
    assert startup_profile() is None
    (bundle / "resources" / "demo" / "region.json").write_text(
        '{"format": 1, "records": [{"collection": "organisations", "key": "org-x", '
        '"fields": {"name": "Bara i paketet", "kind": "municipality"}}]}', encoding="utf-8")
    assert load_demo(store) == {"organisations": 1}  # the bundle's copy, not the repository's


def test_the_profile_s_language_and_auto_lock_are_the_settings_defaults(tmp_path: Path) -> None:
    from desktop.ui.settings import load_settings

    settings = load_settings(tmp_path / "settings.json", parse_profile(GOOD))
    assert (settings.language, settings.auto_lock_minutes) == ("en", 10)


def _run_program(env_extra: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", PROFILE_ENV)}
    env.update(PYTHONPATH=str(ROOT), **env_extra)
    return subprocess.run([sys.executable, "-m", "desktop", *args], capture_output=True, text=True, env=env,
                          timeout=120, stdin=subprocess.DEVNULL, cwd=ROOT)


@pytest.mark.end2end
def test_a_broken_profile_stops_the_start_with_its_message(tmp_path: Path) -> None:
    path = tmp_path / "trasig.toml"
    path.write_text(GOOD.replace("auto_lock_minutes = 10", "auto_lock_minutes = 999"), encoding="utf-8")
    done = _run_program({PROFILE_ENV: str(path)})
    assert done.returncode == 1
    assert "defaults.auto_lock_minutes" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.end2end
@pytest.mark.gui
def test_the_smoke_test_passes_from_source_with_a_profile(tmp_path: Path) -> None:
    done = _run_program({PROFILE_ENV: str(PROFILES / "sos-alarm.toml"), "HOME": str(tmp_path), "SAMVERKA_LANG": "en"},
                        "--smoke-test")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"Samverka smoke test ({program_version()}, from source)"
    assert any(line.startswith("  profile: SOS Alarm — server https://samverka.sosalarm.example") for line in lines)
    assert any("“tib sos” →" in line for line in lines) and lines[-1].startswith("Smoke test passed")
    assert not (tmp_path / ".local").exists()


@pytest.mark.end2end
def test_the_smoke_test_fails_on_a_broken_profile(tmp_path: Path) -> None:
    path = tmp_path / "trasig.toml"
    path.write_text(GOOD.replace('"en"', '"fi"'), encoding="utf-8")
    done = _run_program({PROFILE_ENV: str(path), "SAMVERKA_LANG": "en"}, "--smoke-test")
    assert done.returncode == 1
    assert "Smoke test FAILED at “profile”" in done.stderr and "defaults.language" in done.stderr


def test_a_frozen_build_is_the_version_it_was_built_as(monkeypatch, tmp_path: Path) -> None:
    """installer/build.py's --version, baked into build-info.json, is the running program's
    version everywhere (``samverka --version``, the User-Agent), not the package metadata the
    build copied in (pyproject.toml's, whatever the build was called)."""
    from desktop import version

    bundle = _frozen_bundle(tmp_path, monkeypatch, GOOD)
    (bundle / "resources" / "build-info.json").write_text(
        '{"version": "2026.3.1", "organisation": "Polismyndigheten i Stockholms län", '
        '"built_at": "2026-03-01T08:00:00+00:00", "commit": "abc1234"}', encoding="utf-8")
    version.build_info.cache_clear()
    version.program_version.cache_clear()
    try:
        assert version.program_version() == "2026.3.1" != _installed_version()
        assert version.user_agent() == "Samverka/2026.3.1"
        assert version.version_text() == (
            "Samverka 2026.3.1 (Polismyndigheten i Stockholms län, 2026-03-01T08:00:00+00:00, abc1234)")
    finally:
        version.build_info.cache_clear()
        version.program_version.cache_clear()
    monkeypatch.undo()
    assert version.program_version() == _installed_version()  # from source: the distribution's


def _installed_version() -> str:
    from importlib import metadata

    return metadata.version("samverka")
