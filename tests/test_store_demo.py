"""The demo loader: keys become shared uuid5 ids, references resolve, everything goes through the
outbox, and loading twice does nothing."""

from __future__ import annotations

import json
import uuid

import pytest

from desktop.store import InvalidInput
from desktop.store.demo import demo_record_id, load_demo, resources_dir
from sync.records import DEMO_NAMESPACE

TINY = {
    "format": 1,
    "records": [
        {"collection": "organisations", "key": "org-sos", "fields": {"name": "SOS Alarm", "short_name": "SOS", "kind": "company"}},
        {"collection": "functions", "key": "fn-sos-tib", "fields": {"organisation_id": {"ref": "org-sos"}, "name": "Tjänsteman i beredskap", "short_name": "TiB", "availability": "24/7"}},
        {"collection": "channels", "key": "ch-sos-tib-1", "fields": {"function_id": {"ref": "fn-sos-tib"}, "kind": "mobile", "value": "070-174 06 05", "priority": 1}},
        {"collection": "channels", "key": "ch-sos-tib-2", "fields": {"function_id": {"ref": "fn-sos-tib"}, "kind": "rakel", "value": "ISSI 9990121 (fiktiv)", "priority": 2}},
        {"collection": "forums", "key": "forum-rsk", "fields": {"name": "Regional samverkanskonferens", "level": "coordinating", "convenor_function_id": {"ref": "fn-sos-tib"}}},
        {"collection": "organisations", "key": "org-lst", "fields": {"name": "Länsstyrelsen Stockholm", "visibility": "internal"}},
    ],
}


@pytest.fixture
def tiny_file(tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY, ensure_ascii=False), encoding="utf-8")
    return path


def test_tiny_demo_loads_through_the_outbox(store, tiny_file):
    counts = load_demo(store, tiny_file)
    assert counts == {"organisations": 2, "functions": 1, "channels": 2, "forums": 1}
    fn = demo_record_id("fn-sos-tib")
    assert fn == str(uuid.uuid5(DEMO_NAMESPACE, "fn-sos-tib"))
    assert store.get("functions", fn)["fields"]["organisation_id"] == demo_record_id("org-sos")
    assert store.get("channels", demo_record_id("ch-sos-tib-1"))["fields"]["value"] == "+46701740605"
    assert store.outbox_count() == 6
    assert store.get_meta("demo") is True
    [hit] = [h for h in store.search("tib sos") if h.collection == "functions"]
    assert hit.record_id == fn and hit.best_channel.value == "070-174 06 05"
    assert load_demo(store, tiny_file) == {}  # once only
    assert store.outbox_count() == 6


def test_broken_demo_file_loads_nothing(store, tmp_path):
    broken = {"format": 1, "records": [*TINY["records"][:2], {"collection": "channels", "key": "x", "fields": {"function_id": {"ref": "missing"}, "kind": "mobile", "value": "070-174 06 05"}}]}
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        load_demo(store, path)
    assert caught.value.key == "invalid.reference" and caught.value.field == "function_id"
    assert store.count("organisations") == 0 and store.outbox_count() == 0
    assert store.get_meta("demo") is None


def test_unknown_format_is_refused(store, tmp_path):
    path = tmp_path / "v9.json"
    path.write_text(json.dumps({"format": 9, "records": []}), encoding="utf-8")
    with pytest.raises(ValueError):
        load_demo(store, path)


def test_the_demo_region_loads(store):
    counts = load_demo(store)
    document = json.loads((resources_dir() / "demo" / "region.json").read_text(encoding="utf-8"))
    assert sum(counts.values()) == len(document["records"])
    assert store.outbox_count() == len(document["records"])
    assert store.search("räddn")
    assert any(h.collection == "functions" for h in store.search("tib"))
