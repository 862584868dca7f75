/** A billing service: invoices, discounts, tax, currency; a nightly job checks a known invoice's total. */
import type { BenchRepository } from './repository-kit';

export const billing: BenchRepository = {
  name: 'billing-service',
  package: 'billing',
  entities: ['customer', 'subscription', 'payment', 'refund', 'credit_note', 'coupon', 'plan', 'usage_record'],
  coreCalls: ['round_money', 'setting', 'to_cents'],
  files: {
    'billing/__init__.py': '',
    'billing/config.py': `"""Service settings with their defaults; the environment may override them."""
import os

DEFAULTS = {
    "tax_rate": 0.2,
    "currency": "EUR",
    "rounding": 2,
    "invoice_prefix": "INV",
}


def setting(name):
    override = os.environ.get("BILLING_" + name.upper())
    if override is not None:
        return type(DEFAULTS[name])(override)
    return DEFAULTS[name]
`,
    'billing/money.py': `from billing.config import setting


def round_money(amount, places=None):
    places = setting("rounding") if places is None else places
    return round(amount, places)


def to_cents(amount):
    return int(round(amount * 100))


def from_cents(cents):
    return cents / 100
`,
    'billing/models.py': `from dataclasses import dataclass, field


@dataclass
class Customer:
    id: str
    tier: str
    region: str


@dataclass
class Line:
    description: str
    qty: int
    unit_price: float


@dataclass
class Order:
    customer: Customer
    lines: list = field(default_factory=list)
`,
    'billing/discounts.py': `TIERS = {"gold": 0.1, "silver": 0.05}


def discount_rate(customer):
    return TIERS.get(customer.tier, 0.0)


def apply_discount(amount, customer):
    return amount * (1 - discount_rate(customer))
`,
    'billing/tax.py': `from billing.config import setting
from billing.money import round_money

EXEMPT_REGIONS = {"XI"}


def tax_for(amount, region):
    if region in EXEMPT_REGIONS:
        return 0.0
    return round_money(amount * setting("tax_rate"))
`,
    'billing/invoice.py': `from billing.discounts import apply_discount
from billing.money import round_money
from billing.tax import tax_for


class Invoice:
    def __init__(self, customer, lines):
        self.customer = customer
        self.lines = lines

    def subtotal(self):
        return sum(line.qty * line.unit_price for line in self.lines)

    def total(self):
        net = apply_discount(self.subtotal(), self.customer)
        return round_money(net + tax_for(net, self.customer.region))
`,
    'billing/currency.py': `RATES = {("EUR", "USD"): 1.1, ("EUR", "GBP"): 0.85}


def rate(src, dst):
    if src == dst:
        return 1.0
    if (src, dst) in RATES:
        return RATES[(src, dst)]
    return 1 / RATES[(dst, src)]


def convert(amount, src, dst):
    return amount * rate(src, dst)
`,
    'billing/formatting.py': `from billing.currency import convert
from billing.money import round_money

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


def format_amount(amount, currency, display_currency=None):
    shown = display_currency or currency
    value = round_money(convert(amount, currency, shown))
    return f"{SYMBOLS[shown]}{value:.2f}"
`,
    'jobs/__init__.py': '',
    'jobs/nightly_invoice_check.py': `"""Nightly: the reference invoice must total what finance signed off."""
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from billing.invoice import Invoice
from billing.models import Customer, Line

REFERENCE = Invoice(Customer("c-1", "gold", "DE"), [Line("seat", 10, 10.0), Line("support", 1, 10.0)])


def main():
    total = REFERENCE.total()
    assert total == 118.8, f"reference invoice total {total} != 118.8"
    print("ok", total)


if __name__ == "__main__":
    main()
`,
    'jobs/export_invoices.py': `"""Export: each customer's invoice total in their display currency."""
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from billing.formatting import format_amount
from billing.invoice import Invoice
from billing.models import Customer, Line

CUSTOMERS = [Customer("c-1", "gold", "DE"), Customer("c-2", "bronze", "GB"), Customer("c-3", "silver", "US")]
DISPLAY = {"DE": "EUR", "GB": "GBP", "US": "USD"}


def export():
    rows = []
    for customer in CUSTOMERS:
        invoice = Invoice(customer, [Line("seat", 3, 20.0)])
        rows.append((customer.id, format_amount(invoice.total(), "EUR", DISPLAY[customer.region])))
    return rows


if __name__ == "__main__":
    for row in export():
        print(*row)
`,
  },
  cases: [
    {
      id: 'billing-unknown-tier',
      file: 'billing/discounts.py',
      find: 'return TIERS.get(customer.tier, 0.0)',
      replace: 'return TIERS[customer.tier]',
      run: 'jobs/export_invoices.py',
      mustChange: { file: 'billing/discounts.py', symbol: 'discount_rate' },
    },
    {
      id: 'billing-tax-default',
      file: 'billing/config.py',
      find: '"tax_rate": 0.2,',
      replace: '"tax_rate": 0.02,',
      run: 'jobs/nightly_invoice_check.py',
      mustChange: { file: 'billing/config.py', symbol: '<module>' },
    },
    {
      id: 'billing-rounding',
      file: 'billing/money.py',
      find: 'return round(amount, places)',
      replace: 'return round(amount)',
      run: 'jobs/nightly_invoice_check.py',
      mustChange: { file: 'billing/money.py', symbol: 'round_money' },
    },
    {
      id: 'billing-inverse-rate',
      file: 'billing/currency.py',
      find: 'if (src, dst) in RATES:',
      replace: 'if (dst, src) in RATES:',
      run: 'jobs/export_invoices.py',
      mustChange: { file: 'billing/currency.py', symbol: 'rate' },
    },
    {
      id: 'billing-subtotal',
      file: 'billing/invoice.py',
      find: 'line.qty * line.unit_price',
      replace: 'line.qty + line.unit_price',
      run: 'jobs/nightly_invoice_check.py',
      mustChange: { file: 'billing/invoice.py', symbol: 'Invoice.subtotal' },
    },
  ],
};
