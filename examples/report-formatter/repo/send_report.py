"""Nightly job: builds the sales report and prints it (the mailer reads stdout)."""
from reports.formatter import format_report

ROWS = [
    {"region": "north", "amount": 1250.5},
    {"region": "south", "amount": 980.0},
]

if __name__ == "__main__":
    print(format_report("Daily sales", ROWS))
