"""Amounts in minor units: 12.34 EUR is 1234, 500 JPY is 500."""
import os

DECIMALS = {"EUR": 2, "USD": 2, "GBP": 2, "JPY": 0}


def decimals_for(currency=None):
    """Decimal places of a currency; the deployment's LEDGER_CURRENCY when none is given."""
    code = (currency or os.environ.get("LEDGER_CURRENCY", "USD")).strip()
    return DECIMALS[code]


def to_minor_units(amount, currency=None):
    return round(amount * 10 ** decimals_for(currency))
