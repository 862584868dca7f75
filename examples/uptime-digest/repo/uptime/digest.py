"""Outage minutes for the daily uptime digest, from the status page's event feed."""
from datetime import timezone

from dateutil import parser


def _aware(moment):
    """The feed mixes zoned and zone-less timestamps; zone-less ones are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def outage_minutes(event, now):
    """Minutes an outage lasted, or has lasted so far when it is still open at `now`."""
    start = _aware(parser.parse(event["started_at"]))
    end = _aware(parser.parse(event.get("resolved_at")))
    return int((end - start).total_seconds() // 60)


def digest(events, now):
    """One line per service with its total outage minutes, worst first."""
    totals = {}
    for event in events:
        totals[event["service"]] = totals.get(event["service"], 0) + outage_minutes(event, now)
    return [f"{service}: {minutes} min" for service, minutes in sorted(totals.items(), key=lambda kv: -kv[1])]
