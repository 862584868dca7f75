/**
 * The localisation benchmark's repositories: each a hand-written core (the code its bugs live in, and
 * the jobs that run it) plus, per business entity, a model, a service and API routes in the style of
 * the core (they call its helpers, so the reference graph holds realistic distractors). A case
 * breaks one line; the bench runs the job with the host's Python to get the real traceback.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface BenchCase {
  id: string;
  /** The line the bug is: `find` in `file` is replaced with `replace` (the fix reverts it). */
  file: string;
  find: string;
  replace: string;
  /** The job or script run (relative to the repository) that shows the bug. */
  run: string;
  /** What a correct fix must change. */
  mustChange: { file: string; symbol: string };
}

export interface BenchRepository {
  name: string;
  /** The core package (entity modules go under it). */
  package: string;
  entities: string[];
  /** Core helpers the generated services call (distractors in the graph). */
  coreCalls: string[];
  files: Record<string, string>;
  cases: BenchCase[];
}

const camel = (s: string) => s.replace(/(^|_)(\w)/g, (_m, _u, c: string) => c.toUpperCase());

/** The generated modules of one entity: model, service (calling the core), API routes. */
function entityFiles(repo: BenchRepository, entity: string, i: number): Record<string, string> {
  const pkg = repo.package;
  const cls = camel(entity);
  const helper = repo.coreCalls[i % repo.coreCalls.length]!;
  const helperModule = Object.entries(repo.files).find(([, text]) =>
    new RegExp(`^def ${helper}\\(`, 'm').test(text),
  )?.[0];
  const helperImport = helperModule
    ? `from ${helperModule.replace(/\.py$/, '').split('/').join('.')} import ${helper}\n`
    : '';
  return {
    [`${pkg}/records/${entity}.py`]: `from dataclasses import dataclass, field


@dataclass
class ${cls}:
    id: str
    status: str = "active"
    amount: float = 0.0
    tags: list = field(default_factory=list)

    def to_dict(self):
        return {"id": self.id, "status": self.status, "amount": self.amount, "tags": list(self.tags)}

    def is_active(self):
        return self.status == "active"
`,
    [`${pkg}/services/${entity}_service.py`]: `from ${pkg}.records.${entity} import ${cls}
from ${pkg}.utils.ids import validate_id
from ${pkg}.utils.pages import paginate
${helperImport}

def get_${entity}(store, ${entity}_id):
    validate_id(${entity}_id)
    record = store.get("${entity}", ${entity}_id)
    if record is None:
        raise LookupError(f"no ${entity} {${entity}_id}")
    return ${cls}(**record)


def list_${entity}s(store, page=1, size=20):
    return paginate(sorted(store.all("${entity}"), key=lambda r: r["id"]), page, size)


def create_${entity}(store, data):
    validate_id(data["id"])
    item = ${cls}(**data)
${helperModule ? `    item.amount = ${helper === 'setting' ? `item.amount` : `${helper}(item.amount)`}\n` : ''}    store.put("${entity}", item.id, item.to_dict())
    return item


def deactivate_${entity}(store, ${entity}_id):
    item = get_${entity}(store, ${entity}_id)
    item.status = "inactive"
    store.put("${entity}", item.id, item.to_dict())
    return item
`,
    [`${pkg}/api/${entity}_routes.py`]: `from ${pkg}.services.${entity}_service import create_${entity}, deactivate_${entity}, get_${entity}, list_${entity}s
from ${pkg}.utils.responses import error, ok


def handle_get(store, request):
    try:
        return ok(get_${entity}(store, request["id"]).to_dict())
    except LookupError as exc:
        return error(404, str(exc))


def handle_list(store, request):
    return ok([r for r in list_${entity}s(store, int(request.get("page", 1)))])


def handle_create(store, request):
    return ok(create_${entity}(store, request["body"]).to_dict(), status=201)


def handle_delete(store, request):
    return ok(deactivate_${entity}(store, request["id"]).to_dict())
`,
  };
}

/** Shared utilities every generated service uses. */
function utilFiles(pkg: string): Record<string, string> {
  return {
    [`${pkg}/records/__init__.py`]: '',
    [`${pkg}/services/__init__.py`]: '',
    [`${pkg}/api/__init__.py`]: '',
    [`${pkg}/utils/__init__.py`]: '',
    [`${pkg}/utils/ids.py`]: `import re

ID_PATTERN = re.compile(r"^[a-z]+-[0-9a-z]+$")


def validate_id(value):
    if not ID_PATTERN.match(value):
        raise ValueError(f"not an id: {value!r}")
    return value
`,
    [`${pkg}/utils/pages.py`]: `def paginate(items, page, size):
    if page < 1:
        raise ValueError("page starts at 1")
    start = (page - 1) * size
    return items[start:start + size]
`,
    [`${pkg}/utils/responses.py`]: `def ok(body, status=200):
    return {"status": status, "body": body}


def error(status, message):
    return {"status": status, "body": {"error": message}}
`,
    [`${pkg}/store.py`]: `class MemoryStore:
    def __init__(self):
        self.tables = {}

    def get(self, table, key):
        return self.tables.get(table, {}).get(key)

    def put(self, table, key, value):
        self.tables.setdefault(table, {})[key] = value

    def all(self, table):
        return list(self.tables.get(table, {}).values())
`,
    'README.md': `# ${pkg}\n\nRun the jobs under \`jobs/\` with \`python3 jobs/<name>.py\`.\n`,
  };
}

/** Write the repository (core, utilities, entities) under `dir`; returns its file count. */
export function writeRepository(repo: BenchRepository, dir: string): number {
  const files: Record<string, string> = { ...utilFiles(repo.package), ...repo.files };
  repo.entities.forEach((e, i) => Object.assign(files, entityFiles(repo, e, i)));
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return Object.keys(files).length;
}
