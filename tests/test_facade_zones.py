"""Zones drawn for a part (facade): saved atomically per part, read back, audited, gated by the
'teach' right, and used when the part is judged (no more REVIEW "zone 'M' not drawn yet")."""

from __future__ import annotations

import json

import pytest
from argon2 import PasswordHasher
from zone_support import SCRATCH, ScratchBackend, part_image, write_order

from inspector.domain import Frame, Outcome, VerdictKind, Zone, utcnow
from inspector.facade_zones import ZoneError, zones_file
from inspector.pipeline import Inspector
from inspector.settings import Settings
from inspector.trace import Accounts, Audit, PermissionDenied


@pytest.fixture
def facade(tmp_path):
    f = Inspector(Settings(data_dir=tmp_path / "data", device="cpu", explain="off"), backend=ScratchBackend())
    yield f
    f.close()


def _frame(image) -> Frame:
    return Frame(image=image, name="part.png", source="test", captured_at=utcnow())


def _judge(facade, wo):
    return facade.inspect_frame(_frame(part_image()), wo, explain="off").inspection.verdict


def test_save_and_read_back_per_part_with_the_image_and_an_audit_event(facade):
    assert facade.drawn_zones("BR-700") == () and facade.zone_image("BR-700") is None
    img = part_image()
    saved = facade.save_zones("BR-700", [Zone(" M ", (10, 20, 30.5, 40), "%", "mounting face")], img)
    assert saved == (Zone("M", (10.0, 20.0, 30.5, 40.0), "%", "mounting face"),)
    assert facade.drawn_zones("BR-700") == saved
    assert (facade.zone_image("BR-700") == img).all()
    path = zones_file(facade.settings.data_dir, "BR-700")
    doc = json.loads(path.read_text())
    assert doc["format"] == 1 and doc["image_size"] == [200, 200] and doc["saved_by"] == facade.actor
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    # a second save replaces the set (same second, same size: the cache must not serve the old one)
    facade.save_zones("BR-700", [Zone("M", (50, 20, 70.5, 40), "%")])
    assert facade.drawn_zones("BR-700")[0].box == (50.0, 20.0, 70.5, 40.0)
    assert facade.drawn_zones("OTHER") == ()
    events = Audit(facade.store).events(action="zones.drawn", entity_id="BR-700")
    assert [e.before is None for e in events] == [True, False]
    assert events[0].after["zones"][0]["name"] == "M" and events[0].after["image_sha256"]
    assert events[1].before["zones"][0]["box"] == [10.0, 20.0, 30.5, 40.0]
    assert Audit(facade.store).verify().ok


def test_unsafe_part_numbers_get_their_own_file(facade):
    a, b = zones_file(facade.settings.data_dir, "A/B"), zones_file(facade.settings.data_dir, "A_B")
    assert a != b and a.parent == b.parent and ".." not in a.name
    with pytest.raises(ZoneError, match="part number is empty"):
        facade.save_zones("  ", [Zone("M", (0, 0, 10, 10), "%")])


@pytest.mark.parametrize(
    ("zones", "message"),
    [
        ([Zone("", (0, 0, 10, 10), "%")], "needs a name"),
        ([Zone("M", (0, 0, 0, 0), "%")], "empty box"),
        ([Zone("M", (0, 0, 10, float("nan")), "%")], "empty box"),
        ([Zone("M", (0, 0, 110, 10), "%")], "leaves the image"),
        ([Zone("M", (0, 0, 10, 10), "mm")], "px or %"),
        ([Zone("M", (0, 0, 10, 10), "%"), Zone("m", (5, 5, 20, 20), "%")], "drawn twice"),
    ],
)
def test_bad_zones_are_refused_and_nothing_is_written(facade, zones, message):
    with pytest.raises(ZoneError, match=message):
        facade.save_zones("BR-700", zones)
    assert facade.drawn_zones("BR-700") == ()
    assert Audit(facade.store).events(action="zones.drawn") == []


def test_px_zones_must_lie_on_the_image(facade):
    with pytest.raises(ZoneError, match="leaves the image"):
        facade.save_zones("BR-700", [Zone("M", (0, 0, 250, 10), "px")], part_image())
    assert facade.save_zones("BR-700", [Zone("M", (0, 0, 200, 10), "px")], part_image())


def test_saving_zones_needs_the_teach_right_once_accounts_exist(facade):
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    accounts = Accounts(facade.store, hasher=hasher)
    admin = accounts.create_user("root", "Rita Admin", "admin", "admin-password-1", None)
    accounts.create_user("ann", "Ann Smith", "reviewer", "reviewer-password-1", admin)
    accounts.create_user("olaf", "Olaf Op", "operator", "operator-password-1", admin)
    zones = [Zone("M", (0, 0, 10, 10), "%")]
    with pytest.raises(PermissionDenied, match="sign in first"):
        facade.save_zones("BR-700", zones)
    facade.sign_in("olaf", "operator-password-1")
    with pytest.raises(PermissionDenied):
        facade.save_zones("BR-700", zones)
    assert facade.drawn_zones("BR-700") == ()
    facade.sign_in("ann", "reviewer-password-1")
    facade.save_zones("BR-700", zones)
    [event] = Audit(facade.store).events(action="zones.drawn")
    assert event.actor == "ann"


def test_judging_uses_the_drawn_zone_instead_of_review(facade, tmp_path):
    wo = facade.load_work_order(write_order(tmp_path))
    assert not wo.zone("M").defined
    before = _judge(facade, wo)
    assert before.kind is VerdictKind.REVIEW
    assert any("zone 'M' not drawn yet" in r for r in before.reasons)

    x, y, w, h = SCRATCH  # draw M around the scratch (in % of the 200 px image)
    facade.save_zones(
        "BR-700", [Zone("m", ((x - 10) / 2, (y - 10) / 2, (x + w + 10) / 2, (y + h + 10) / 2), "%")]
    )
    after = _judge(facade, wo)
    assert after.kind is VerdictKind.NG
    assert not any("not drawn yet" in r for r in after.reasons)
    [fail] = [c for c in after.checks if c.outcome is Outcome.FAIL]
    assert fail.clause_id == "§2" and "none allowed" in fail.reason
    given = facade.backend.orders[-1]  # the model got the completed order: zone M with its label
    assert given.zone("M").defined and given.zone("M").label == "mounting face"
    assert given.zone("A") == wo.zone("A")  # zones the order defines stay as they are

    facade.save_zones("BR-700", [Zone("M", (0, 80, 20, 100), "%")])  # M elsewhere: the scratch is allowed
    assert _judge(facade, wo).kind is VerdictKind.OK


def test_with_drawn_zones_leaves_orders_alone_when_nothing_is_drawn(facade, tmp_path):
    wo = facade.load_work_order(write_order(tmp_path))
    assert facade.with_drawn_zones(wo) is wo
    facade.save_zones("BR-700", [Zone("Z", (0, 0, 10, 10), "%")])  # a zone this order does not name
    assert facade.with_drawn_zones(wo).zones == wo.zones
