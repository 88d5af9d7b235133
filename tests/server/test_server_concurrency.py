"""Order under concurrency: writer processes push to `samverka-server serve --workers 4` while a
reader pulls; the reader ends with every applied change exactly once (no cursor ever skips)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest
from server_support import start_serve, start_server, stop_serve, stop_server

WRITERS, PUSHES, BATCH = 4, 12, 15

WRITER = textwrap.dedent(
    """
    import json, sys, uuid, httpx
    from sync.clock import HybridClock
    base, token, device_id, org_id, pushes, batch = sys.argv[1:7]
    clock = HybridClock(device_id)
    applied = []
    with httpx.Client(base_url=base, headers={"Authorization": "Bearer " + token}, timeout=60) as client:
        for _ in range(int(pushes)):
            changes = [
                {"change_id": str(uuid.uuid4()), "collection": "functions", "record_id": str(uuid.uuid4()),
                 "op": "upsert", "fields": {"organisation_id": org_id, "name": "f"}, "clock": clock.now(),
                 "base": {}}
                for _ in range(int(batch))
            ]
            response = client.post("/v1/sync/push", json={"changes": changes})
            response.raise_for_status()
            for change, result in zip(changes, response.json()["results"]):
                assert result["status"] == "applied", result
                applied.append([change["record_id"], result["seq"]])
    print(json.dumps(applied))
    """
)


@pytest.mark.slow
def test_concurrent_pushes_to_four_workers_reach_a_reader_exactly_once(backend, tmp_path: Path):
    url = backend.new_url()
    setup = start_server(url)
    try:
        setup.org("SOS")
        codes = [setup.code("SOS") for _ in range(WRITERS + 1)]
    finally:
        stop_server(setup)

    env = {**os.environ, "SAMVERKA_SERVER_DB": url}
    log = open(tmp_path / "serve.log", "wb")
    server = None
    try:
        try:
            server, base = start_serve(url, ["--workers", "4"], log)
        except RuntimeError:
            pytest.fail("the server did not start: " + (tmp_path / "serve.log").read_text())

        devices = []
        for code in codes:
            response = httpx.post(f"{base}/v1/devices/enroll", json={"code": code, "device_name": "w"})
            assert response.status_code == 201, response.text
            devices.append(response.json())
        reader, writers_devices = devices[0], devices[1:]

        writers = [
            subprocess.Popen(
                [sys.executable, "-c", WRITER, base, d["token"], d["device_id"], d["organisation"]["id"],
                 str(PUSHES), str(BATCH)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
            )
            for d in writers_devices
        ]
        seen: list[tuple[str, int]] = []
        cursor = None
        headers = {"Authorization": f"Bearer {reader['token']}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            def pull_once() -> bool:
                nonlocal cursor
                params = {"limit": 37, **({"cursor": cursor} if cursor else {})}
                response = client.get("/v1/sync/pull", params=params)
                assert response.status_code == 200, response.text
                page = response.json()
                seen.extend((r["record_id"], r["seq"]) for r in page["records"] if r["collection"] == "functions")
                cursor = page["cursor"]
                return page["has_more"]

            while any(w.poll() is None for w in writers):
                pull_once()
            while pull_once():
                pass

        applied: list[tuple[str, int]] = []
        for writer in writers:
            out, err = writer.communicate(timeout=120)
            assert writer.returncode == 0, err.decode()
            applied += [tuple(item) for item in json.loads(out)]

        assert len(applied) == WRITERS * PUSHES * BATCH
        assert len({seq for _, seq in applied}) == len(applied)  # every change its own position
        assert sorted(seen) == sorted(applied)  # each exactly once, none skipped
    finally:
        stop_serve(server)
        log.close()
        backend.drop(url)
