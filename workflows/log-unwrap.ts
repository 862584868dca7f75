/**
 * The Python traceback inside a log as services and test runners write it (pure: parseTraceback's
 * first step, so the classifier, the fingerprint and the activities all read one form):
 *
 * - colour (ANSI escapes: Python 3.13 colours tracebacks, pytest --color=yes its report) is taken out;
 * - a traceback printed as Python prints it is returned as it is;
 * - every line prefixed by the log's transport (journald's `Nov 22 06:00:04 web-3 billing[2211]: `,
 *   the container runtime's `2026-11-22T06:00:04.12Z stderr F `, compose's `billing-1  | `): the
 *   prefix of the `Traceback` line, its digits and inner spaces generalised, is taken off every line
 *   that has it; lines of other sources after it are dropped (Python 3.11's exception groups print
 *   their sub-exceptions behind `    | `: the last sub-exception is the incident);
 * - a JSON log line (structlog, python-json-logger) whose string field holds the traceback: that field;
 * - rich's boxed traceback (`│ /srv/app/calc.py:2 in ratio │`): the last box's frames (loguru's
 *   `> File` marker is read by parseTraceback itself);
 * - a stack dump of a program stopped at a deadline, which has no exception line: pytest-timeout's
 *   thread method (`~~~ Stack of MainThread (…) ~~~`, frames oldest first) and faulthandler's
 *   (`Timeout (0:00:05)!`, `File "…", line 3 in f`, newest first; the last thread listed, the main
 *   one): written as a traceback ending in `Hang: …` (HANG_TYPE), so a hang is read like any incident;
 * - pytest's `--tb=line` report (`/builds/x/gcd.py:6: RecursionError: …`, one line per failure): the
 *   last one, as a one-frame traceback whose function is FUNCTION_UNKNOWN (the activity that locates
 *   frames names it from the repository's source: activities/workspace.ts);
 * - pytest's report of a failing test, prefixed or not (`--tb=short`: `path:line: in func` lines; the default `long`:
 *   sections ending `path:line: Type`, the function named by the section's `def`), with its `E` lines:
 *   written out as the traceback Python would have printed, the last failure's.
 */

export const HEADER = 'Traceback (most recent call last):';
/** A frame whose function the log does not say (pytest's --tb=line): the repository's source does. */
export const FUNCTION_UNKNOWN = '<unknown>';
/** The exception type a stack dump of a stopped program is written with (hang-report.ts). */
export const HANG_TYPE = 'Hang';
const TRACEBACK_ANCHOR = /Traceback \(most recent call last\):\s*$/;
/** pytest's line before the failures: where a CI runner's prefix is read from. */
const PYTEST_ANCHOR = /={3,} FAILURES ={3,}\s*$/;

/** A regular expression for a line prefix like this one: digits of any length, inner spaces of any width. */
function prefixPattern(prefix: string): RegExp {
  const trailing = /\s*$/.exec(prefix)?.[0] ?? '';
  const body = prefix.slice(0, prefix.length - trailing.length);
  const escaped = body
    .split(/(\d+|\s+)/)
    .map((part) =>
      /^\d+$/.test(part) ? '\\d+' : /^\s+$/.test(part) ? '\\s+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${escaped}${trailing.replace(/\t/g, '\\t')}`);
}

/** The lines with the prefix of the last line `anchor` ends (a traceback's or a report's first line) taken off. */
function stripLinePrefixes(lines: string[], anchor: RegExp): string[] | null {
  const at = lines.findLastIndex((l) => anchor.test(l));
  if (at < 0) return null;
  const header = lines[at] as string;
  const prefix = header.slice(0, anchor.exec(header)?.index ?? 0);
  if (!prefix.trim()) return null;
  const pattern = prefixPattern(prefix);
  const next = lines.slice(at + 1).find((l) => l.trim() !== '');
  if (next !== undefined && !pattern.test(next)) {
    // Only the anchor's own line has the text before it: a message, with the lines below unprefixed.
    return [...lines.slice(0, at), prefix.trimEnd(), header.slice(prefix.length), ...lines.slice(at + 1)];
  }
  const out: string[] = [];
  const first = lines.findIndex((l) => anchor.test(l) && pattern.test(l));
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const m = pattern.exec(line);
    if (m) out.push(line.slice(m[0].length));
    else if (i < first) out.push(line);
    // after the first anchor line: another source's line, interleaved; dropped
  }
  return out;
}

/** The last string value, at any depth, of a JSON object on one of the lines, that holds a traceback. */
function tracebackInJson(lines: string[]): string | null {
  const found = (value: unknown, depth: number): string | null => {
    if (typeof value === 'string') return value.includes(HEADER) ? value : null;
    if (depth > 4 || typeof value !== 'object' || value === null) return null;
    let last: string | null = null;
    for (const v of Object.values(value)) last = found(v, depth + 1) ?? last;
    return last;
  };
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] as string;
    if (!line.includes(`${HEADER}\\n`)) continue; // the header, JSON-escaped
    const start = line.indexOf('{');
    if (start < 0) continue;
    try {
      const text = found(JSON.parse(line.slice(start, line.lastIndexOf('}') + 1)), 0);
      if (text) return text;
    } catch {
      // not JSON after all
    }
  }
  return null;
}

const PYTEST_SHORT_FRAME = /^(\S+\.py):(\d+): in (\S+)$/;
/** `--tb=line`: `path:line: message`, where the message is `Type: text` or an `assert` pytest explained. */
const PYTEST_LINE_FAILURE =
  /^(\S+\.py):(\d+): (assert\b.*|[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Failure|Failed|Warning)\b.*)$/;

/** pytest's `--tb=line` report: its last failure line, as a one-frame traceback; null when there is none. */
function pytestLineFailure(lines: string[]): string | null {
  const anchor = lines.findLastIndex((l) => PYTEST_ANCHOR.test(l));
  if (anchor < 0) return null;
  const hit = lines
    .slice(anchor + 1)
    .map((l) => PYTEST_LINE_FAILURE.exec(l))
    .findLast((m): m is RegExpExecArray => m !== null);
  if (!hit) return null;
  const message = hit[3] ?? '';
  const last = /^assert\b/.test(message) ? `AssertionError: ${message}` : message;
  return [HEADER, `  File "${hit[1]}", line ${hit[2]}, in ${FUNCTION_UNKNOWN}`, last].join('\n');
}
const PYTEST_LOCATION = /^(\S+\.py):(\d+):(?: ([A-Za-z_][\w.]*))?\s*$/;
const PYTEST_E_LINE = /^E {1,}(.*)$/;
const PYTEST_FAILURE_HEADER = /^_{3,} \S.* _{3,}$/;
const PYTEST_SECTION_BREAK = /^(_ ){3,}_?\s*$/;

/** pytest's report of the last failing test, written as Python's traceback; null when there is none. */
function pytestFailure(lines: string[]): string | null {
  const headerAt = lines.findLastIndex((l) => PYTEST_FAILURE_HEADER.test(l));
  const body = lines.slice(headerAt + 1);
  const end = body.findIndex((l) => /^={3,}|^-{3,} Captured /.test(l));
  const failure = end < 0 ? body : body.slice(0, end);
  const frames: { file: string; line: string; func: string }[] = [];
  const errors: string[] = [];
  let typeFromLocation: string | undefined;
  let section: string[] = [];
  for (const line of failure) {
    const short = PYTEST_SHORT_FRAME.exec(line);
    const location = short ? null : PYTEST_LOCATION.exec(line);
    const e = PYTEST_E_LINE.exec(line);
    if (/^(The above exception was the direct cause|During handling of the above exception)/.test(line)) {
      // A chain: the last exception is the one that ended the test.
      frames.length = 0;
      errors.length = 0;
      typeFromLocation = undefined;
      section = [];
    } else if (short) {
      frames.push({ file: short[1] ?? '', line: short[2] ?? '', func: short[3] ?? '' });
    } else if (location) {
      // The long form: the section's own function is the last `def` it shows.
      const def = section.map((l) => /^\s*(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(/.exec(l)?.[1]).findLast(Boolean);
      frames.push({ file: location[1] ?? '', line: location[2] ?? '', func: def ?? '<module>' });
      if (location[3]) typeFromLocation = location[3];
      section = [];
    } else if (e) {
      errors.push(e[1] ?? '');
    } else if (PYTEST_SECTION_BREAK.test(line)) {
      section = [];
    } else {
      section.push(line);
    }
  }
  if (!frames.length || (!errors.length && !typeFromLocation)) return null;
  const first = errors.find((l) => l.trim()) ?? '';
  const typed = /^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Failure)):?\s?(.*)$/.exec(first.trim());
  const type = typeFromLocation ?? typed?.[1] ?? 'AssertionError';
  // `E   KeyError: 'k'` says the message after the type; `E   assert 4 == 3` is the message itself.
  const message =
    typed && typed[1] === type
      ? (typed[2] ?? '')
      : first.trim().startsWith(`${type}: `) // pytest's own `Failed: Timeout (>2.0s)`, named like no error
        ? first.trim().slice(type.length + 2)
        : first.trim();
  return [
    HEADER,
    ...frames.map((f) => `  File "${f.file}", line ${f.line}, in ${f.func}`),
    `${type}: ${message}`,
    '',
  ].join('\n');
}

const RICH_HEADER = /^╭─+ Traceback \(most recent call last\) ─+╮\s*$/;
const RICH_FRAME = /^│ (\S.*?\.py):(\d+) in (\S+?)\s*│\s*$/;

/** rich's boxed traceback (`rich.traceback.install()`): the last box's frames, then what follows the box. */
function richTraceback(lines: string[]): string | null {
  const start = lines.findLastIndex((l) => RICH_HEADER.test(l));
  if (start < 0) return null;
  const end = lines.findIndex((l, i) => i > start && l.startsWith('╰'));
  if (end < 0) return null;
  const frames = lines
    .slice(start + 1, end)
    .map((l) => RICH_FRAME.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `  File "${m[1]}", line ${m[2]}, in ${m[3]}`);
  return [HEADER, ...frames, ...lines.slice(end + 1)].join('\n');
}

const THREAD_DUMP_HEADER = /^~{3,} Stack of MainThread \(\d+\) ~{3,}\s*$/;
const THREAD_DUMP_END = /^(~{3,} Stack of |\+{3,} Timeout \+{3,})/;
const FAULTHANDLER_TIMEOUT = /^Timeout \(\d+:\d\d:\d\d(\.\d+)?\)!\s*$/;
const FAULTHANDLER_THREAD = /^(Current thread|Thread) 0x[0-9a-f]+ \(most recent call first\):\s*$/;
const FAULTHANDLER_FRAME = /^\s+File "([^"]+)", line (\d+) in (\S+)\s*$/;

/** pytest-timeout's thread-method dump: the main thread's frames (oldest first, with source lines). */
function threadDump(lines: string[], start: number): string {
  const end = lines.findIndex((l, i) => i > start && THREAD_DUMP_END.test(l));
  const body = lines.slice(start + 1, end < 0 ? undefined : end);
  return [HEADER, ...body, `${HANG_TYPE}: pytest-timeout stopped the test at its timeout and printed this stack`].join(
    '\n',
  );
}

/** faulthandler's dump at its timeout: the last thread listed (the main thread), its frames reversed. */
function faulthandlerDump(lines: string[], start: number): string {
  const threads = lines.flatMap((l, i) => (i > start && FAULTHANDLER_THREAD.test(l) ? [i] : []));
  const at = threads.at(-1) ?? start;
  const frames: string[] = [];
  for (const line of lines.slice(at + 1)) {
    const m = FAULTHANDLER_FRAME.exec(line);
    if (!m) break;
    frames.push(`  File "${m[1]}", line ${m[2]}, in ${m[3]}`);
  }
  return [HEADER, ...frames.reverse(), `${HANG_TYPE}: faulthandler dumped the stack at its timeout`].join('\n');
}

/** A stack dump after the last traceback, if the log ends in one (the dump is what stopped the program). */
function stackDump(lines: string[]): string | null {
  const lastTraceback = lines.findLastIndex((l) => l.trimStart().startsWith(HEADER));
  const thread = lines.findLastIndex((l) => THREAD_DUMP_HEADER.test(l));
  const faulthandler = lines.findLastIndex((l) => FAULTHANDLER_TIMEOUT.test(l));
  if (Math.max(thread, faulthandler) < lastTraceback) return null;
  if (thread > faulthandler) return threadDump(lines, thread);
  if (faulthandler >= 0) return faulthandlerDump(lines, faulthandler);
  return null;
}

/** ANSI escape sequences (colour, bold) taken out: Python 3.13 colours its tracebacks, pytest its report. */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.includes('\u001b') ? text.replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/g, '') : text;
}

/** The log with its traceback in the form Python prints (see the module comment); the log itself otherwise. */
export function unwrapLog(log: string): string {
  const text = stripAnsi(log);
  const lines = text.split(/\r?\n/);
  const dump = stackDump(lines);
  if (dump !== null) return dump;
  if (lines.some((l) => l.trimStart().startsWith(HEADER))) return text;
  const json = tracebackInJson(lines);
  if (json !== null) return json;
  const prefixed = stripLinePrefixes(lines, TRACEBACK_ANCHOR);
  if (prefixed) return prefixed.join('\n');
  const rich = richTraceback(lines);
  if (rich !== null) return rich;
  const report = stripLinePrefixes(lines, PYTEST_ANCHOR) ?? lines;
  return pytestFailure(report) ?? pytestLineFailure(report) ?? text;
}
