"""What the window reads and how it draws it: values as dialled, details of the demo region, contrast of both themes."""

from __future__ import annotations

import pytest

from desktop.store.demo import demo_record_id, load_demo
from desktop import views
from desktop.ui.theme import DARK, LIGHT, contrast_ratio


@pytest.mark.parametrize(("kind", "value", "dialled", "link"), [
    ("mobile", "+46701740699", "070-174 06 99", "tel:+46701740699"),
    ("phone", "+4687891000", "08-789 10 00", "tel:+4687891000"),
    ("rakel", "ISSI 9990199 (fiktiv)", "9990199", None),
    ("rakel", "STH-SAMV-1 (fiktiv talgrupp)", "STH-SAMV-1", None),
    ("functional_mailbox", "tib@sosalarm.example", "tib@sosalarm.example", "mailto:tib@sosalarm.example"),
    ("web", "https://lansstyrelsen.example", "https://lansstyrelsen.example", "https://lansstyrelsen.example"),
    ("radio", "Kanal 7", "Kanal 7", None),
])
def test_a_channel_is_copied_as_dialled(kind, value, dialled, link) -> None:
    assert views.dial_value(kind, value) == dialled
    assert views.channel_link(kind, value) == link


@pytest.fixture
def demo(store):
    load_demo(store)
    return store


def test_a_functions_detail_has_its_channels_in_priority_order_and_its_mandates(demo) -> None:
    detail = views.function_detail(demo, demo_record_id("fn-sos-tib"))
    assert detail.title == "Tjänsteman i beredskap (TiB)" and detail.organisation_name == "SOS Alarm"
    assert [c.priority for c in detail.channels] == [1, 2, 3]
    assert detail.channels[1].resilient and detail.channels[1].dial == "9990199"
    opened = views.open_record(demo, "channels", demo_record_id("ch-sos-tib-2"))
    assert opened.detail.function_id == detail.function_id and opened.channel_id == demo_record_id("ch-sos-tib-2")
    lst = views.function_detail(demo, demo_record_id("fn-lst-tib"))
    assert lst.mandates and all(m.forum_name for m in lst.mandates)


def test_forums_are_grouped_by_the_three_levels_with_members_and_their_best_channel(demo) -> None:
    levels = views.forums_by_level(demo)
    assert list(levels) == ["directing", "coordinating", "executive"]
    assert all(levels[level] for level in levels)
    forum = views.forum_detail(demo, demo_record_id("forum-samverkanskonferens"))
    assert forum.convenor.name.startswith("Tjänsteman i beredskap") and forum.convenor.best is not None
    assert forum.members and all(m.member and m.role_label for m in forum.members)
    assert forum.members[0].role == "convenor", "the convenor first"


def test_routines_group_by_owner_and_narrow_to_a_mode(demo) -> None:
    everything = views.routine_groups(demo)
    activated = views.routine_groups(demo, "activated")
    count = lambda groups: sum(len(g.routines) for g in groups)  # noqa: E731
    assert count(activated) < count(everything)
    assert all(r.mode in ("activated", "both", None) for g in activated for r in g.routines)
    routine = views.routine_detail(demo, demo_record_id("routine-sammankalla-aktiverat"))
    assert [s.position for s in routine.steps] == sorted(s.position for s in routine.steps)
    assert routine.steps[0].responsible.organisation_name == "Länsstyrelsen Stockholm"


def test_directory_lines_warn_about_functions_with_one_channel(demo) -> None:
    orgs = views.organisations(demo)
    names = [o.name for o in orgs]
    assert names == sorted(names, key=str.casefold) and len(names) == 21
    sos = next(o for o in orgs if o.name == "SOS Alarm")
    ids = views.function_ids(demo, sos.organisation_id)
    assert len(ids) == sos.function_count
    lines = views.function_rows(demo, ids)
    tib = lines[demo_record_id("fn-sos-tib")]
    assert tib.channel_count == 3 and not tib.too_few_channels and tib.resilient
    press = lines[demo_record_id("fn-sos-press")]
    assert press.channel_count == 2
    demo.delete("channels", demo_record_id("ch-sos-press-2"))
    assert views.function_rows(demo, [press.function_id])[press.function_id].too_few_channels


def test_every_detail_names_its_own_record(demo) -> None:
    """A routine's detail holds its organisation's id too: it is still a routine."""
    routine = views.routine_detail(demo, demo_record_id("routine-sammankalla-aktiverat"))
    assert views.detail_key(routine) == ("routines", routine.routine_id)
    organisation = views.organisation_detail(demo, demo_record_id("org-sos"))
    assert views.detail_key(organisation) == ("organisations", demo_record_id("org-sos"))


def test_a_standalone_vault_may_change_everything_it_shows(demo) -> None:
    detail = views.function_detail(demo, demo_record_id("fn-sos-tib"))
    rights = views.rights(demo, detail)
    assert rights.edit and rights.delete and rights.add and rights.add_sibling
    assert set(rights.items) == {c.channel_id for c in detail.channels} and all(rights.items.values())


@pytest.mark.parametrize(("before", "after"), [
    ("a0", "a1"), (None, "a0"), ("a7", None), (None, None), ("a0V", "a1"), ("z", None), ("a", "b"), ("Az", "a"),
])
def test_a_position_fits_between_its_neighbours(before, after) -> None:
    position = views.position_between(before, after)
    assert position is not None
    assert (before is None or before < position) and (after is None or position < after)
    assert position.isalnum()


def test_no_position_fits_between_a_position_and_itself_with_zeros_and_steps_are_renumbered() -> None:
    assert views.position_between("a", "a0") is None
    order = ["s2", "s1", "s3"]
    changed = views.positions_for(order, {"s1": "a", "s2": "a0", "s3": "b"})
    final = {"s1": "a", "s2": "a0", "s3": "b", **changed}
    assert sorted(final, key=final.get) == order


def test_moving_renumbers_only_the_channels_whose_priority_changes() -> None:
    order = views.moved(["a", "b", "c", "d"], "c", -1)
    assert order == ["a", "c", "b", "d"]
    assert views.priorities_for(order, {"a": 1, "b": 2, "c": 3, "d": 4}) == {"c": 2, "b": 3}
    assert views.priorities_for(["x", "y"], {"x": None, "y": 5}) == {"x": 1, "y": 2}
    assert views.moved(["a", "b"], "a", -5) == ["a", "b"], "kept within the list"


@pytest.mark.parametrize("theme", [LIGHT, DARK], ids=lambda t: t.name)
def test_every_text_colour_reaches_wcag_aa_on_its_background(theme) -> None:
    weak = [(what, round(contrast_ratio(fg, bg), 2)) for what, fg, bg in theme.text_pairs() if contrast_ratio(fg, bg) < 4.5]
    assert not weak


def test_contrast_is_computed_as_wcag_defines_it() -> None:
    assert round(contrast_ratio("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast_ratio("#777777", "#ffffff"), 2) == 4.48
