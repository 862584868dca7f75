"""Hourly job: which flags each tenant has on."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from flags.store import enabled_names, load  # noqa: E402


def main():
    with open(sys.argv[1]) as f:
        tenants = json.load(f)
    for tenant, bits in sorted(tenants.items()):
        print(tenant, ",".join(enabled_names(load(bits))))


if __name__ == "__main__":
    main()
