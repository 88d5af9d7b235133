"""Fixtures for activated mode: the syncer's real uvicorn server and devices, and a small region on it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.syncer.conftest import device_factory, server, server_factory  # noqa: F401  (fixtures)


@dataclass
class Region:
    """Länsstyrelsen (regional administrator) convenes forum F; SOS Alarm sits in it; the fire
    service SBFF does not. Each organisation's device is enrolled and synced."""

    server: object
    lst: object  # regional_admin device of Länsstyrelsen
    sos: object  # member device of SOS Alarm
    sbff: object  # member device of Storstockholms brandförsvar (not in the forum)
    lst_tib: str
    sos_vb: str
    sbff_rcb: str
    forum: str
    routine: str
    steps: list[str]

    def sync_all(self) -> None:
        for device in (self.lst, self.sos, self.sbff, self.lst, self.sos, self.sbff):
            device.sync()


def _function(device, org_id: str, name: str, short: str, numbers: list[tuple[str, str, bool]]) -> str:
    store = device.store
    with store.batch():
        function_id = store.create("functions", {"organisation_id": org_id, "name": name, "short_name": short})
        for priority, (kind, value, resilient) in enumerate(numbers, 1):
            store.create("channels", {"function_id": function_id, "kind": kind, "value": value,
                                      "priority": priority, "resilient": resilient})
    return function_id


@pytest.fixture
def region(server, device_factory) -> Region:  # noqa: F811
    lst = device_factory(server, "lst", "regional_admin", name="lst")
    sos = device_factory(server, "sos", name="sos")
    sbff = device_factory(server, "sbff", name="sbff")
    lst_tib = _function(lst, server.org_ids["lst"], "Tjänsteman i beredskap", "TiB",
                        [("mobile", "070-174 06 05", False), ("rakel", "ISSI 9990101", True)])
    sos_vb = _function(sos, server.org_ids["sos"], "Vakthavande befäl", "VB SOS",
                       [("phone", "070-174 06 63", False), ("rakel", "ISSI 9990121", True)])
    sbff_rcb = _function(sbff, server.org_ids["sbff"], "Räddningschef i beredskap", "RCB",
                         [("mobile", "070-174 06 82", False)])
    for device in (lst, sos, sbff, lst):
        device.sync()
    store = lst.store
    with store.batch():
        forum = store.create("forums", {"name": "Samverkanskonferens", "level": "coordinating",
                                        "convenor_function_id": lst_tib, "meeting_channel": "Telefonbrygga"})
        store.create("mandates", {"forum_id": forum, "function_id": sos_vb, "role": "member",
                                  "mandate": "Rapporterar SOS Alarms läge", "reports_back": "Till SOS ledning"})
        routine = store.create("routines", {"title": "Sammankalla i aktiverat läge", "forum_id": forum,
                                            "mode": "activated"})
        steps = [store.create("routine_steps", {"routine_id": routine, "position": f"a{n}", "text": text})
                 for n, text in enumerate(("Besluta om aktiverat läge", "Larma ut", "Öppna bryggan"))]
    result = Region(server, lst, sos, sbff, lst_tib, sos_vb, sbff_rcb, forum, routine, steps)
    result.sync_all()
    return result
