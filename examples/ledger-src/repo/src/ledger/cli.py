"""Import a bank export (CSV: date,amount,currency) into minor units."""
import csv
import sys

from ledger.money import to_minor_units


def main(path):
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            print(row["date"], to_minor_units(float(row["amount"]), row["currency"]))


if __name__ == "__main__":
    main(sys.argv[1])
