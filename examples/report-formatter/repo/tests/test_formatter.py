from reports.formatter import format_line, total


def test_total_adds_amounts():
    assert total([{"amount": 1.5}, {"amount": 2.0}]) == 3.5


def test_line_is_aligned():
    assert format_line({"region": "north", "amount": 3.0}) == "north          3.00"
