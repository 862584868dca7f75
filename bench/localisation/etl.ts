/** An ETL pipeline: CSV in, coerced by schema, normalised, validated, totals; a daily job checks its output. */
import type { BenchRepository } from './repository-kit';

export const etl: BenchRepository = {
  name: 'etl-pipeline',
  package: 'etl',
  entities: ['source', 'destination', 'run_log', 'checkpoint', 'mapping', 'lookup_table', 'alert_rule', 'dataset'],
  coreCalls: ['normalize_country', 'coerce'],
  files: {
    'etl/__init__.py': '',
    'etl/errors.py': `class ValidationError(ValueError):
    pass
`,
    'etl/aliases.py': `COUNTRY_ALIASES = {
    "UK": "GB",
    "DEUTSCHLAND": "DE",
    "HOLLAND": "NL",
}
`,
    'etl/readers.py': `def read_csv_rows(text, sep=","):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    header = [h.strip() for h in lines[0].split(sep)]
    return [dict(zip(header, (v.strip() for v in line.split(sep)))) for line in lines[1:]]
`,
    'etl/schema.py': `SCHEMAS = {
    "orders": {"id": int, "amount": float, "country": str},
}


def coerce(row, schema_name):
    schema = SCHEMAS[schema_name]
    return {name: kind(row[name]) for name, kind in schema.items()}
`,
    'etl/transforms.py': `from etl.aliases import COUNTRY_ALIASES


def normalize_country(code):
    code = code.strip().upper()
    return COUNTRY_ALIASES.get(code, code)


def add_totals(rows):
    return {"rows": len(rows), "amount": round(sum(r["amount"] for r in rows), 2)}
`,
    'etl/validators.py': `from etl.errors import ValidationError


def validate(row):
    if row["amount"] < 0:
        raise ValidationError(f"order {row['id']}: negative amount {row['amount']}")
    if len(row["country"]) != 2:
        raise ValidationError(f"order {row['id']}: country {row['country']!r} is not ISO-3166 alpha-2")
    return row
`,
    'etl/writers.py': `import json


def to_jsonl(rows):
    return "\\n".join(json.dumps(r, sort_keys=True) for r in rows)
`,
    'etl/pipeline.py': `from etl.readers import read_csv_rows
from etl.schema import coerce
from etl.transforms import add_totals, normalize_country
from etl.validators import validate


def run(text):
    rows = [coerce(r, "orders") for r in read_csv_rows(text)]
    for row in rows:
        row["country"] = normalize_country(row["country"])
        validate(row)
    return rows, add_totals(rows)
`,
    'jobs/__init__.py': '',
    'jobs/daily_orders.py': `"""Daily orders load: the control file's figures must match."""
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from etl.pipeline import run
from etl.writers import to_jsonl

EXTRACT = """
id,amount,country
1,12.5,uk
2,0,Deutschland
3,18,nl
"""


def main():
    rows, totals = run(EXTRACT)
    countries = [r["country"] for r in rows]
    assert countries == ["GB", "DE", "NL"], f"countries {countries}"
    assert totals["amount"] == 30.5, f"total {totals['amount']}"
    print(to_jsonl(rows))


if __name__ == "__main__":
    main()
`,
  },
  cases: [
    {
      id: 'etl-alias-table',
      file: 'etl/aliases.py',
      find: '"UK": "GB",',
      replace: '"UK": "UK",',
      run: 'jobs/daily_orders.py',
      mustChange: { file: 'etl/aliases.py', symbol: '<module>' },
    },
    {
      id: 'etl-reader-separator',
      file: 'etl/readers.py',
      find: 'header = [h.strip() for h in lines[0].split(sep)]',
      replace: 'header = [h.strip() for h in lines[0].split(";")]',
      run: 'jobs/daily_orders.py',
      mustChange: { file: 'etl/readers.py', symbol: 'read_csv_rows' },
    },
    {
      id: 'etl-amount-type',
      file: 'etl/schema.py',
      find: '"amount": float,',
      replace: '"amount": int,',
      run: 'jobs/daily_orders.py',
      mustChange: { file: 'etl/schema.py', symbol: '<module>' },
    },
    {
      id: 'etl-totals-field',
      file: 'etl/transforms.py',
      find: 'sum(r["amount"] for r in rows)',
      replace: 'sum(r["id"] for r in rows)',
      run: 'jobs/daily_orders.py',
      mustChange: { file: 'etl/transforms.py', symbol: 'add_totals' },
    },
    {
      id: 'etl-zero-amount',
      file: 'etl/validators.py',
      find: 'if row["amount"] < 0:',
      replace: 'if row["amount"] <= 0:',
      run: 'jobs/daily_orders.py',
      mustChange: { file: 'etl/validators.py', symbol: 'validate' },
    },
  ],
};
