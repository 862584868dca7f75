"""Nightly job: the uptime digest for the last day's status-page events."""
import json
import os
import sys
from datetime import datetime, timezone

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from uptime.digest import digest  # noqa: E402


def main():
    with open(sys.argv[1]) as f:
        events = json.load(f)
    for line in digest(events, datetime.now(timezone.utc)):
        print(line)


if __name__ == "__main__":
    main()
