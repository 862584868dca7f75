/**
 * Which Python the sandbox runs for a repository, and why (pure). In order: an image the incident or
 * the profile names; the profile's `python`; the Python the production traceback ran on (its paths say
 * `lib/python3.9/`); then requires-python and the trove classifiers; then the default. Only versions
 * with an image on this engine can be chosen; the nearest is taken when the wanted one has none, and
 * the reason says so.
 */

export type PythonSource =
  'input image' | 'profile image' | 'profile python' | 'traceback' | 'declarations' | 'default';

export interface PythonChoice {
  image: string;
  /** "3.11"; null for a named image until the preparation container reports it. */
  python: string | null;
  source: PythonSource;
  reason: string;
}

export interface PythonChoiceInput {
  inputImage?: string;
  profileImage?: string;
  profilePython?: string;
  errorLog: string;
  requiresPython: string | null;
  classifierPythons: string[];
  /** Python version -> image, for the images present on the engine. */
  available: Map<string, string>;
  defaultImage: string;
  /** The default image's Python, when known. */
  defaultPython: string | null;
}

type Version = [number, number, number];
const parse = (v: string): Version => {
  const [a = 0, b = 0, c = 0] = v.split('.').map((x) => Number.parseInt(x, 10) || 0);
  return [a, b, c];
};
const cmp = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
const minor = (v: string) => parse(v)[1];

/** Whether X.Y (some patch release of it) satisfies a PEP 440 specifier set such as ">=3.7,<4". */
export function satisfies(python: string, specifier: string): boolean {
  const clauses = specifier
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return [0, 99].some((patch) => {
    const v: Version = [...parse(python).slice(0, 2), patch] as Version;
    return clauses.every((clause) => {
      const m = /^(~=|==|!=|<=|>=|<|>|===)?\s*([\d.*]+)$/.exec(clause);
      if (!m?.[2]) return true; // a clause we cannot read does not exclude anything
      const op = m[1] ?? '==';
      const target = m[2];
      if (target.endsWith('.*')) {
        const prefix = target.slice(0, -2).split('.').map(Number);
        const same = prefix.every((x, i) => v[i] === x);
        return op === '!=' ? !same : same;
      }
      const t = parse(target);
      const c = cmp(v, t);
      switch (op) {
        case '>=':
          return c >= 0;
        case '>':
          return c > 0;
        case '<=':
          return c <= 0;
        case '<':
          return c < 0;
        case '!=':
          return c !== 0;
        case '~=': {
          const parts = target.split('.').length;
          const upper: Version = parts <= 2 ? [t[0] + 1, 0, 0] : [t[0], t[1] + 1, 0];
          return c >= 0 && cmp(v, upper) < 0;
        }
        default:
          return target.split('.').length <= 2 ? v[0] === t[0] && v[1] === t[1] : c === 0;
      }
    });
  });
}

/** The Python the traceback's own paths name (lib/python3.9/), the most frequent if several. */
export function tracebackPython(errorLog: string): string | null {
  const counts = new Map<string, number>();
  for (const m of errorLog.matchAll(/[\\/]lib(?:64)?[\\/]python(3\.\d{1,2})[\\/]/g)) {
    const v = m[1] as string;
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  let best: string | null = null;
  for (const [v, n] of counts) if (!best || n > (counts.get(best) ?? 0)) best = v;
  return best;
}

function nearest(wanted: string, versions: string[]): string | undefined {
  return [...versions].sort(
    (a, b) => Math.abs(minor(a) - minor(wanted)) - Math.abs(minor(b) - minor(wanted)) || minor(b) - minor(a),
  )[0];
}

export function choosePython(i: PythonChoiceInput): PythonChoice {
  if (i.inputImage)
    return {
      image: i.inputImage,
      python: null,
      source: 'input image',
      reason: `the incident names the image ${i.inputImage}`,
    };
  if (i.profileImage)
    return {
      image: i.profileImage,
      python: null,
      source: 'profile image',
      reason: `the repository profile names the image ${i.profileImage}`,
    };
  const versions = [...i.available.keys()];
  const pick = (wanted: string, source: PythonSource, why: string): PythonChoice | null => {
    const exact = i.available.get(wanted);
    if (exact) return { image: exact, python: wanted, source, reason: `${why}: Python ${wanted}` };
    const near = nearest(wanted, versions);
    if (!near) return null;
    return {
      image: i.available.get(near) as string,
      python: near,
      source,
      reason: `${why}: Python ${wanted}, which has no sandbox image here; the nearest, ${near}, is used`,
    };
  };
  const fallback: PythonChoice = {
    image: i.defaultImage,
    python: i.defaultPython,
    source: 'default',
    reason: `nothing names a Python: the default image ${i.defaultImage}`,
  };
  if (i.profilePython) return pick(i.profilePython, 'profile python', 'the repository profile asks for') ?? fallback;
  const fromTraceback = tracebackPython(i.errorLog);
  if (fromTraceback) return pick(fromTraceback, 'traceback', "the incident's traceback ran on") ?? fallback;

  const allowed = i.requiresPython ? versions.filter((v) => satisfies(v, i.requiresPython as string)) : versions;
  if (!i.requiresPython && !i.classifierPythons.length) return fallback;
  const classified = i.classifierPythons.filter((v) => allowed.includes(v)).sort((a, b) => minor(b) - minor(a));
  if (classified[0])
    return pick(classified[0], 'declarations', 'the highest Python its classifiers name that it allows') ?? fallback;
  if (i.classifierPythons.length && allowed.length) {
    // Code for 3.6-3.8 may not import on 3.11: the lowest allowed Python at or above what it names.
    const newest = [...i.classifierPythons].sort((a, b) => minor(b) - minor(a))[0] as string;
    const above = allowed.filter((v) => minor(v) >= minor(newest)).sort((a, b) => minor(a) - minor(b));
    const chosen = above[0] ?? [...allowed].sort((a, b) => minor(b) - minor(a))[0];
    if (chosen)
      return (
        pick(chosen, 'declarations', `its classifiers name Python up to ${newest}; the closest sandbox allowed`) ??
        fallback
      );
  }
  if (!allowed.length)
    return {
      ...fallback,
      reason: `no sandbox image satisfies requires-python ${i.requiresPython}: the default image ${i.defaultImage}`,
    };
  if (i.defaultPython && allowed.includes(i.defaultPython))
    return {
      ...fallback,
      source: 'declarations',
      reason: `requires-python ${i.requiresPython} allows the default, Python ${i.defaultPython}`,
    };
  const near = nearest(i.defaultPython ?? '3.11', allowed) as string;
  return pick(near, 'declarations', `requires-python ${i.requiresPython} allows`) ?? fallback;
}
