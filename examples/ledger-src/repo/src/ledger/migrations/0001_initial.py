"""Schema of the ledger table (applied; never edited)."""
SQL = "CREATE TABLE entries (day TEXT, minor_units INTEGER, currency TEXT)"
