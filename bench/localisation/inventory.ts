/** An inventory service: SKUs, stock levels, reservations, warehouses; jobs reserve orders and report. */
import type { BenchRepository } from './repository-kit';

export const inventory: BenchRepository = {
  name: 'inventory-api',
  package: 'inventory',
  entities: ['supplier', 'purchase_order', 'shipment', 'location', 'bin', 'batch', 'return_request', 'count_sheet'],
  coreCalls: ['normalize_sku', 'available'],
  files: {
    'inventory/__init__.py': '',
    'inventory/errors.py': `class OutOfStock(Exception):
    pass


class UnknownSku(KeyError):
    pass
`,
    'inventory/sku.py': `def normalize_sku(raw):
    return raw.strip().upper()


def is_bundle(sku):
    return sku.startswith("BND-")
`,
    'inventory/catalog.py': `from inventory.errors import UnknownSku
from inventory.sku import normalize_sku

CATALOG = {
    "WID-001": {"name": "Widget", "pack": 1},
    "GAD-002": {"name": "Gadget", "pack": 6},
    "BND-003": {"name": "Starter bundle", "pack": 1},
}


def lookup(sku):
    try:
        return CATALOG[normalize_sku(sku)]
    except KeyError:
        raise UnknownSku(sku)
`,
    'inventory/stock.py': `from dataclasses import dataclass


@dataclass
class StockLevel:
    sku: str
    on_hand: int
    reserved: int = 0


def available(level):
    return level.on_hand - level.reserved
`,
    'inventory/reservations.py': `from inventory.errors import OutOfStock
from inventory.stock import available


def reserve(level, qty):
    if available(level) < qty:
        raise OutOfStock(f"{level.sku}: {available(level)} available, {qty} wanted")
    level.reserved += qty
    return level


def release(level, qty):
    level.reserved = max(0, level.reserved - qty)
    return level
`,
    'inventory/warehouse.py': `from inventory.catalog import lookup
from inventory.sku import normalize_sku
from inventory.stock import StockLevel


class Warehouse:
    def __init__(self, name):
        self.name = name
        self.levels = {}

    def receive(self, sku, qty):
        lookup(sku)
        key = normalize_sku(sku)
        level = self.levels.setdefault(key, StockLevel(key, 0))
        level.on_hand += qty * lookup(sku)["pack"]
        return level

    def level_for(self, sku):
        lookup(sku)
        return self.levels[normalize_sku(sku)]

    def transfer(self, other, sku, qty):
        key = normalize_sku(sku)
        self.levels[key].on_hand -= qty
        target = other.levels.setdefault(key, StockLevel(key, 0))
        target.on_hand += qty
        return target
`,
    'inventory/serializers.py': `from inventory.stock import available


def serialize_level(level):
    return {"sku": level.sku, "on_hand": level.on_hand, "available": available(level)}
`,
    'jobs/__init__.py': '',
    'jobs/reserve_orders.py': `"""Reserve stock for today's open orders."""
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from inventory.reservations import reserve
from inventory.stock import available
from inventory.warehouse import Warehouse

ORDERS = [("wid-001 ", 2), ("GAD-002", 6), ("wid-001", 1)]


def main():
    wh = Warehouse("main")
    wh.receive("WID-001", 3)
    wh.receive("GAD-002", 1)
    for sku, qty in ORDERS:
        reserve(wh.level_for(sku), qty)
    level = wh.level_for("WID-001")
    left = available(level)
    assert left == 0, f"WID-001 should be fully reserved, {left} left"
    print("reserved")


if __name__ == "__main__":
    main()
`,
    'jobs/restock_report.py': `"""Report every level after moving stock between warehouses."""
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from inventory.serializers import serialize_level
from inventory.warehouse import Warehouse


def main():
    main_wh, overflow = Warehouse("main"), Warehouse("overflow")
    main_wh.receive("WID-001", 10)
    main_wh.receive("GAD-002", 2)
    main_wh.transfer(overflow, "WID-001", 4)
    for wh in (main_wh, overflow):
        for level in wh.levels.values():
            row = serialize_level(level)
            print(wh.name, row["sku"], row["available"])


if __name__ == "__main__":
    main()
`,
  },
  cases: [
    {
      id: 'inventory-sku-case',
      file: 'inventory/sku.py',
      find: 'return raw.strip().upper()',
      replace: 'return raw.strip()',
      run: 'jobs/reserve_orders.py',
      mustChange: { file: 'inventory/sku.py', symbol: 'normalize_sku' },
    },
    {
      id: 'inventory-available',
      file: 'inventory/stock.py',
      find: 'return level.on_hand - level.reserved',
      replace: 'return level.on_hand - level.reserved // 2',
      run: 'jobs/reserve_orders.py',
      mustChange: { file: 'inventory/stock.py', symbol: 'available' },
    },
    {
      id: 'inventory-reserve-boundary',
      file: 'inventory/reservations.py',
      find: 'if available(level) < qty:',
      replace: 'if available(level) <= qty:',
      run: 'jobs/reserve_orders.py',
      mustChange: { file: 'inventory/reservations.py', symbol: 'reserve' },
    },
    {
      id: 'inventory-serializer-key',
      file: 'inventory/serializers.py',
      find: '"available": available(level)',
      replace: '"avail": available(level)',
      run: 'jobs/restock_report.py',
      mustChange: { file: 'inventory/serializers.py', symbol: 'serialize_level' },
    },
    {
      id: 'inventory-transfer-target',
      file: 'inventory/warehouse.py',
      find: 'target = other.levels.setdefault(key, StockLevel(key, 0))',
      replace: 'target = other.levels[key]',
      run: 'jobs/restock_report.py',
      mustChange: { file: 'inventory/warehouse.py', symbol: 'Warehouse.transfer' },
    },
  ],
};
