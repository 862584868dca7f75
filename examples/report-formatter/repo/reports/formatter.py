"""Formats the daily sales report that is mailed to the regional managers."""


def total(rows):
    return sum(row["amount"] for row in rows)


def format_line(row):
    return f"{row['region']:<10} {row['amount']:>8.2f}"


def format_report(title, rows):
    """The report body: a title, one line per region, and the total."""
    lines = [title, "=" * len(title)]
    lines += [format_line(row) for row in rows]
    lines.append("Total: " + total(rows))
    return "\n".join(lines)
