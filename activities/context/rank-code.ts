/**
 * Which code the incident's fix most likely changes, ranked (pure: an index and the incident in, a
 * ranking out; no I/O).
 *
 * Evidence, each a seed on definitions of the index (code-syntax.ts):
 * - the traceback's functions, the innermost weighing most; a frame at a check (an `assert` in a
 *   job or a test) is the checker, not the bug: the functions whose results it checks (called on
 *   the assert's line, or on the lines that assigned the names it asserts on) are seeded instead;
 * - names and quoted strings in the error message (a missing key, an attribute, a module);
 * - BM25 (MiniSearch) over each definition's name, identifiers and strings, queried with the error;
 * then spread along the reference graph (callers, callees, a method's class) by personalized
 * PageRank, so a helper called by the failing function, or a default read from a config module,
 * ranks close behind the frame that showed the symptom.
 */
import MiniSearch from 'minisearch';
import { isCheckLine } from '../../workflows/classify-error';
import type { LocatedFrame } from '../../workflows/classify-error';
import type { Definition } from './code-syntax';
import { definitionAt } from './code-syntax';
import type { CodeIndex } from './code-index';

export interface RankInput {
  index: CodeIndex;
  /** The traceback's frames, innermost last. */
  frames: LocatedFrame[];
  /** The chain's earlier tracebacks (the exceptions being handled), each innermost last. */
  causes?: LocatedFrame[][];
  /** The exception's type and message (the log's last lines). */
  exceptionType: string | null;
  message: string;
  /** A repository file's text (for the lines before an assert); null when unreadable. */
  readText(rel: string): string | null;
}

export interface RankedSymbol {
  file: string;
  qualname: string;
  kind: Definition['kind'];
  startLine: number;
  endLine: number;
  score: number;
  /** Why it was seeded (empty: reached through the graph only). */
  why: string[];
}

export interface RankedFile {
  file: string;
  score: number;
}

export interface Ranking {
  symbols: RankedSymbol[];
  files: RankedFile[];
}

interface Node {
  id: number;
  file: string;
  def: Definition;
}

/** A name defined in more places than this is too generic to resolve by name alone (`get`, `run`). */
const MAX_NAME_FANOUT = 12;
const RESTART = 0.3;
/** An earlier traceback of the chain seeds at this share of the last one. */
const CAUSE_SCALE = 0.6;
const ITERATIONS = 30;

export function rankCode(input: RankInput): Ranking {
  const nodes: Node[] = [];
  const byFile = new Map<string, Node[]>();
  const byName = new Map<string, Node[]>();
  for (const [file, entry] of Object.entries(input.index.files)) {
    const list: Node[] = [];
    for (const def of entry.syntax.definitions) {
      const node = { id: nodes.length, file, def };
      nodes.push(node);
      list.push(node);
      if (def.kind !== 'module') byName.set(def.name, [...(byName.get(def.name) ?? []), node]);
    }
    byFile.set(file, list);
  }
  if (!nodes.length) return { symbols: [], files: [] };

  const edges = buildGraph(input.index, nodes, byFile, byName);
  const seeds = new Map<number, { weight: number; why: string[] }>();
  const seed = (node: Node | undefined, weight: number, why: string) => {
    if (!node || weight <= 0) return;
    const s = seeds.get(node.id) ?? { weight: 0, why: [] };
    s.weight += weight;
    if (!s.why.includes(why)) s.why.push(why);
    seeds.set(node.id, s);
  };
  const nodeAt = (file: string, line: number) => {
    const def = definitionAt(input.index.files[file]!.syntax, line);
    return byFile.get(file)?.find((n) => n.def === def);
  };
  const resolve = (from: Node, name: string) => resolveName(input.index, from.file, name, byName);

  // 1. The traceback: innermost repository frame first; a check seeds what it checks. An earlier
  // traceback of the chain (the exception being handled when this one was raised) counts less.
  const inRepo = (list: LocatedFrame[]) => list.filter((f) => f.repoPath && input.index.files[f.repoPath]);
  const frames = inRepo(input.frames);
  // The traceback's own definitions: already seeded by their frames.
  const traced = new Set<number>();
  const seedTraceback = (chain: LocatedFrame[], scale: number) => {
    const innermostFirst = [...chain].reverse();
    const frameNodes = innermostFirst.map((f) => nodeAt(f.repoPath!, f.line));
    innermostFirst.forEach((frame, depth) => seedFrame(frame, depth, frameNodes, scale));
  };
  const seedFrame = (frame: LocatedFrame, depth: number, frameNodes: (Node | undefined)[], scale: number) => {
    const node = frameNodes[depth];
    if (!node) return;
    traced.add(node.id);
    // Outer frames weigh less; a script's top level (`main()` at the bottom of a job) hardly at all.
    const weight = scale * 0.6 ** depth * (depth > 0 && node.def.kind === 'module' ? 0.3 : 1);
    if (isCheckLine(frame.source) || /\bassert\w*\s*\(/.test(frame.source ?? '')) {
      let targets = 0;
      for (const target of checkedCalls(node, frame, input.readText(frame.repoPath!)))
        for (const callee of resolve(node, target.name)) {
          targets++;
          seed(callee, (target.direct ? 1 : 0.8) * weight, `its result is checked at ${frame.repoPath}:${frame.line}`);
        }
      // The check states what was expected; when it checks the repository's functions, they are the
      // suspects, and the check itself (a job's or a test's assert) is rarely what must change.
      seed(node, (targets ? 0.1 : 0.25) * weight, 'the check that failed (traceback)');
    } else {
      seed(node, weight, `in the traceback (${frame.repoPath}:${frame.line})`);
      if (depth === 0) {
        // The innermost frame's line may call into code that is not in the traceback (it raised in
        // C), and the values it failed on were made by the calls that assigned them.
        for (const target of checkedCalls(node, frame, input.readText(frame.repoPath!)))
          for (const callee of resolve(node, target.name))
            seed(
              callee,
              (target.direct ? 0.3 : 0.5) * weight,
              target.direct ? 'called on the failing line' : 'made a value the failing line uses',
            );
      } else {
        // An outer frame's line passed the failing call its arguments: the other calls on that line
        // made them (`coerce(r) for r in read_rows(text)`: read_rows made the row that failed).
        const inner = frameNodes
          .slice(0, depth)
          .reverse()
          .find((n) => n && n !== node);
        for (const call of node.def.calls.filter((c) => c.line === frame.line && c.name !== inner?.def.name))
          for (const callee of resolve(node, call.name))
            seed(callee, 0.5 * weight, `made an argument of the failing call (${frame.repoPath}:${frame.line})`);
      }
    }
  };
  seedTraceback(frames, 1);
  for (const cause of input.causes ?? []) seedTraceback(inRepo(cause), CAUSE_SCALE);

  // 2. Names and quoted strings of the error message.
  for (const word of quotedNames(input.message)) {
    const hits = nodes.filter(
      (n) => n.def.refs.includes(word) || n.def.strings.some((str) => str === word || wordsOf(str).has(word)),
    );
    if (hits.length && hits.length <= 20)
      for (const n of hits) seed(n, 0.5 / hits.length, `names '${word}' from the error`);
  }
  const exceptionName = input.exceptionType?.split('.').at(-1);
  if (exceptionName && !BUILTIN_EXCEPTIONS.has(exceptionName)) {
    const raisers = nodes.filter((n) => n.def.refs.includes(exceptionName) && n.def.kind !== 'class');
    if (raisers.length <= 20) for (const n of raisers) seed(n, 0.3 / raisers.length, `uses ${exceptionName}`);
  }

  // 3. BM25 over definitions, queried with the error, the frames' functions and the checked line.
  const query = [input.message, exceptionName ?? '', ...frames.map((f) => `${f.func} ${f.source ?? ''}`)].join(' ');
  const search = new MiniSearch<{ id: number; text: string }>({
    fields: ['text'],
    tokenize: (text) => splitWords(text),
  });
  search.addAll(
    nodes.map((n) => ({
      id: n.id,
      text: [n.def.name, n.file.replace(/\.py$/, '').replace(/[/_.]/g, ' '), ...n.def.refs, ...n.def.strings].join(' '),
    })),
  );
  const results = search.search(query, { combineWith: 'OR' }).slice(0, 15);
  const top = results[0]?.score ?? 0;
  // The traceback's code matches its own message and lines: BM25 is for finding the other code.
  for (const r of results)
    if (!traced.has(r.id as number))
      seed(nodes[r.id as number], (0.15 * r.score) / top, 'matches the error text (BM25)');

  // 4. Spread along the reference graph.
  const scores = personalizedPageRank(nodes.length, edges, seeds);
  const symbols: RankedSymbol[] = nodes
    .map((n) => ({
      file: n.file,
      qualname: n.def.qualname,
      kind: n.def.kind,
      startLine: n.def.startLine,
      endLine: n.def.endLine,
      score: scores[n.id]!,
      why: seeds.get(n.id)?.why ?? [],
    }))
    .filter((s) => s.score > 0)
    .sort((a, b) => b.score - a.score || a.file.localeCompare(b.file));

  // A file ranks by its best definition; its next two break near-ties (a tenth each).
  const perFile = new Map<string, number[]>();
  for (const s of symbols) perFile.set(s.file, [...(perFile.get(s.file) ?? []), s.score]);
  const files = [...perFile.entries()]
    .map(([file, list]) => ({ file, score: list[0]! + 0.1 * (list[1] ?? 0) + 0.1 * (list[2] ?? 0) }))
    .sort((a, b) => b.score - a.score || a.file.localeCompare(b.file));
  return { symbols, files };
}

const BUILTIN_EXCEPTIONS = new Set([
  'Exception',
  'ValueError',
  'TypeError',
  'KeyError',
  'IndexError',
  'AttributeError',
  'AssertionError',
  'RuntimeError',
  'ZeroDivisionError',
  'NameError',
  'ImportError',
  'ModuleNotFoundError',
  'LookupError',
  'OSError',
  'FileNotFoundError',
  'NotImplementedError',
  'RecursionError',
  'UnboundLocalError',
  'OverflowError',
  'StopIteration',
]);

/** Words of identifiers: `compute_total` and `computeTotal` give `compute`, `total` and the whole. */
export function splitWords(text: string): string[] {
  const out: string[] = [];
  for (const token of text.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []) {
    if (token.length < 2) continue;
    const lower = token.toLowerCase();
    out.push(lower);
    const parts = token
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .toLowerCase()
      .split('_')
      .filter((p) => p.length > 1);
    if (parts.length > 1) out.push(...parts);
  }
  return out.filter((w) => !STOP_WORDS.has(w));
}

const STOP_WORDS = new Set([
  'self',
  'the',
  'in',
  'of',
  'to',
  'is',
  'not',
  'none',
  'def',
  'return',
  'if',
  'and',
  'or',
  'for',
  'cls',
]);

/** The identifier-like words of a string literal (`"Reset: {link}"` holds `link`). */
function wordsOf(text: string): Set<string> {
  return new Set(text.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []);
}

/** Quoted names (`'discount_rate'`) and the attribute of "has no attribute 'x'" in the message. */
function quotedNames(message: string): string[] {
  const quoted = new Set<string>();
  for (const m of message.matchAll(/['"]([A-Za-z_][\w.-]{1,60})['"]/g)) quoted.add(m[1]!);
  return [...quoted].filter((w) => !['NoneType', 'str', 'int', 'dict', 'list', 'float'].includes(w));
}

/**
 * The calls whose results a check looks at: those on the check's line (direct), and those on the
 * earlier lines of the same function that assigned a name the check uses.
 */
function checkedCalls(node: Node, frame: LocatedFrame, text: string | null): { name: string; direct: boolean }[] {
  const out = node.def.calls.filter((c) => c.line === frame.line).map((c) => ({ name: c.name, direct: true }));
  if (!text) return out;
  const lines = text.split('\n');
  const used = new Set((lines[frame.line - 1] ?? '').replace(/^\s*assert\b/, '').match(/[A-Za-z_]\w*/g) ?? []);
  for (let line = frame.line - 1; line >= node.def.startLine; line--) {
    const m = /^\s*([A-Za-z_][\w, ]*?)\s*(?::[^=]+)?[+\-*/]?=(?!=)/.exec(lines[line - 1] ?? '');
    if (!m) continue;
    const targets = m[1]!.split(',').map((t) => t.trim());
    if (!targets.some((t) => used.has(t))) continue;
    for (const c of node.def.calls.filter((c) => c.line === line)) out.push({ name: c.name, direct: false });
    // Names the assigned value came from are checked too, one step back.
    for (const name of (lines[line - 1] ?? '')
      .split('=')
      .slice(1)
      .join('=')
      .match(/[A-Za-z_]\w*/g) ?? [])
      used.add(name);
  }
  return out;
}

/** The definitions a name used in `file` most likely means: that file's, then its imports', then any. */
function resolveName(index: CodeIndex, file: string, name: string, byName: Map<string, Node[]>): Node[] {
  const candidates = byName.get(name) ?? [];
  if (!candidates.length) return [];
  const local = candidates.filter((n) => n.file === file);
  if (local.length) return local;
  const imported = new Set(importedFiles(index, file));
  const viaImport = candidates.filter((n) => imported.has(n.file));
  if (viaImport.length) return viaImport;
  return candidates.length <= MAX_NAME_FANOUT ? candidates : [];
}

const importCache = new WeakMap<CodeIndex, { suffixes: Map<string, string[]>; byFile: Map<string, string[]> }>();

/** The repository files a file imports (absolute and relative imports, package `__init__`s, src layouts). */
function importedFiles(index: CodeIndex, file: string): string[] {
  let cache = importCache.get(index);
  if (!cache) {
    // Every path suffix of every file (`c.py`, `b/c.py`, `a/b/c.py`): an import resolves in one lookup.
    const suffixes = new Map<string, string[]>();
    for (const f of Object.keys(index.files)) {
      const parts = f.split('/');
      for (let i = 0; i < parts.length; i++) {
        const key = parts.slice(i).join('/');
        suffixes.set(key, [...(suffixes.get(key) ?? []), f]);
      }
    }
    importCache.set(index, (cache = { suffixes, byFile: new Map() }));
  }
  const hit = cache.byFile.get(file);
  if (hit) return hit;
  const out = new Set<string>();
  const dir = file.split('/').slice(0, -1);
  for (const imp of index.files[file]?.syntax.imports ?? []) {
    const dots = /^\.*/.exec(imp.module)![0].length;
    const rest = imp.module.slice(dots).split('.').filter(Boolean);
    const modulePath = (dots ? [...dir.slice(0, dir.length - (dots - 1)), ...rest] : rest).join('/');
    const targets = [modulePath, ...imp.names.map((n) => [modulePath, ...n.split('.')].filter(Boolean).join('/'))];
    for (const t of targets) {
      if (!t) continue;
      for (const candidate of [`${t}.py`, `${t}/__init__.py`]) {
        const found = cache.suffixes.get(candidate) ?? [];
        // A relative import names its file exactly; an absolute one may sit under src/ or a service folder.
        for (const f of found) if (!dots || f === candidate || candidate.startsWith('/')) out.add(f);
        if (dots && index.files[candidate]) out.add(candidate);
      }
    }
  }
  const list = [...out];
  cache.byFile.set(file, list);
  return list;
}

function buildGraph(index: CodeIndex, nodes: Node[], byFile: Map<string, Node[]>, byName: Map<string, Node[]>) {
  const edges: { to: number; w: number }[][] = nodes.map(() => []);
  const add = (from: number, to: number, w: number) => {
    if (from !== to) edges[from]!.push({ to, w });
  };
  // Who calls what, resolved once; a callee hands little to each of many callers (a shared helper
  // is not evidence against everyone who uses it), since values flow from callees to the failure.
  const calls = nodes.map((node) => {
    const names = [...new Set(node.def.calls.map((c) => c.name))];
    return names.map((name) => resolveName(index, node.file, name, byName));
  });
  const fanIn = new Int32Array(nodes.length);
  for (const list of calls) for (const targets of list) for (const t of targets) fanIn[t.id]!++;
  for (const node of nodes) {
    const seen = new Set<string>(node.def.calls.map((c) => c.name));
    for (const targets of calls[node.id]!) {
      for (const t of targets) {
        add(node.id, t.id, 1 / targets.length);
        add(t.id, node.id, 0.2 / targets.length / Math.max(1, fanIn[t.id]!));
      }
    }
    // Names used but not called (a constant, a class, a config dict) link too, more weakly.
    for (const ref of node.def.refs) {
      if (seen.has(ref)) continue;
      const targets = resolveName(index, node.file, ref, byName);
      for (const t of targets) add(node.id, t.id, 0.3 / targets.length);
    }
    // Module-level names (DEFAULTS = {...}) are the module's: link the module to whoever imports them.
    const fileNodes = byFile.get(node.file)!;
    if (node.def.kind === 'method' || node.def.qualname.includes('.')) {
      const parentName = node.def.qualname.split('.').slice(0, -1).join('.');
      const parent = fileNodes.find((n) => n.def.qualname === parentName);
      if (parent) {
        add(node.id, parent.id, 0.3);
        add(parent.id, node.id, 0.2);
      }
    }
  }
  // A definition using a module-level name of a module it imports (a constant, a defaults table):
  // linked to that module's top-level code, where the value is set.
  const moduleOf = new Map<string, Node>();
  for (const [file, list] of byFile) {
    const module = list.find((n) => n.def.kind === 'module');
    if (module) moduleOf.set(file, module);
  }
  const topLevel = new Map([...moduleOf].map(([file, m]) => [file, new Set(m.def.refs)]));
  const usesTopLevelOf = (node: Node, file: string) =>
    node.def.kind === 'module' || node.def.refs.some((r) => topLevel.get(file)!.has(r) && !byName.has(r));
  // Modules whose top level holds a string (a settings table's key, a template's name).
  const stringHome = new Map<string, Node[]>();
  for (const m of moduleOf.values())
    for (const str of m.def.strings)
      if (/^[A-Za-z_][\w.-]*$/.test(str)) stringHome.set(str, [...(stringHome.get(str) ?? []), m]);
  for (const node of nodes) {
    for (const file of importedFiles(index, node.file)) {
      const module = moduleOf.get(file);
      if (module && usesTopLevelOf(node, file)) add(node.id, module.id, 0.5);
    }
    // Its own module's constants (a function reading DEFAULTS or MAX_SMS set at the top of its file).
    const own = moduleOf.get(node.file);
    if (own && own !== node && usesTopLevelOf(node, node.file)) {
      add(node.id, own.id, 0.5);
      add(own.id, node.id, 0.1);
    }
    // A key looked up by name (`setting("tax_rate")`) links to the module whose table defines it.
    for (const str of node.def.strings) {
      const homes = (stringHome.get(str) ?? []).filter((m) => m !== node && m.file !== node.file);
      if (homes.length && homes.length <= 3) for (const m of homes) add(node.id, m.id, 0.4 / homes.length);
    }
  }
  return edges;
}

function personalizedPageRank(
  n: number,
  edges: { to: number; w: number }[][],
  seeds: Map<number, { weight: number }>,
): Float64Array {
  const restart = new Float64Array(n);
  let total = 0;
  for (const [id, s] of seeds) {
    restart[id] = s.weight;
    total += s.weight;
  }
  if (total === 0) return restart;
  for (let i = 0; i < n; i++) restart[i]! /= total;
  const outWeight = edges.map((list) => list.reduce((a, e) => a + e.w, 0));
  let rank = Float64Array.from(restart);
  for (let it = 0; it < ITERATIONS; it++) {
    const next = new Float64Array(n);
    let dangling = 0;
    for (let i = 0; i < n; i++) {
      const r = rank[i]!;
      if (!r) continue;
      if (!outWeight[i]) {
        dangling += r;
        continue;
      }
      for (const e of edges[i]!) next[e.to]! += ((1 - RESTART) * r * e.w) / outWeight[i]!;
    }
    for (let i = 0; i < n; i++) next[i]! += (RESTART + (1 - RESTART) * dangling) * restart[i]!;
    rank = next;
  }
  return rank;
}
