"""A small ledger: amounts in minor units (cents), per currency."""
