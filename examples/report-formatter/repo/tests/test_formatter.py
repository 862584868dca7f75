from reports.formatter import format_line, format_report, total


def test_total_adds_amounts():
    assert total([{"amount": 1.5}, {"amount": 2.0}]) == 3.5


def test_line_is_aligned():
    assert format_line({"region": "north", "amount": 3.0}) == "north          3.00"


def test_report_ends_with_total():
    # Fails until the total line is fixed (the incident's TypeError): OpsGuard infers it as fail-to-pass.
    report = format_report("Weekly", [{"region": "west", "amount": 10.0}])
    assert report.splitlines()[-1] == "Total: 10.00"
