from datetime import datetime, timezone

from uptime.digest import digest, outage_minutes

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)


def test_closed_outage_minutes():
    event = {"service": "api", "started_at": "2026-11-21T10:00:00Z", "resolved_at": "2026-11-21T10:45:00Z"}
    assert outage_minutes(event, NOW) == 45


def test_zone_less_timestamps_are_utc():
    event = {"service": "api", "started_at": "2026-11-21 10:00", "resolved_at": "2026-11-21T11:00:00+00:00"}
    assert outage_minutes(event, NOW) == 60


def test_digest_orders_worst_first():
    events = [
        {"service": "web", "started_at": "2026-11-21T09:00:00Z", "resolved_at": "2026-11-21T09:10:00Z"},
        {"service": "api", "started_at": "2026-11-21T08:00:00Z", "resolved_at": "2026-11-21T09:00:00Z"},
    ]
    assert digest(events, NOW) == ["api: 60 min", "web: 10 min"]
