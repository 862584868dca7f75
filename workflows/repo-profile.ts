/**
 * The repository profile: what a repository tells OpsGuard about itself, in `[tool.opsguard]` of its
 * pyproject.toml or in `.opsguard.toml`, and what the workflow input's `profile` overrides. Keys are
 * kebab-case in TOML (`test-args`) and camelCase in the JSON input (`testArgs`); every error names the
 * key as its writer spelled it. Validated strictly: an unknown key is an error, not ignored.
 * Pure (zod only): the workflow bundle imports it for the input's `profile`.
 */
import { z } from 'zod';

/** Python versions OpsGuard builds sandbox images for (scripts/setup/sandbox-image.sh). */
export const PYTHON_VERSION = /^3\.\d{1,2}$/;

/** Environment variable names a profile may not set: they would smuggle secrets or reshape the interpreter. */
export const SECRET_LIKE_NAME = /KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION/i;
const RESERVED_ENV = /^(PYTHON\w*|PATH|HOME|LD_\w+|PIP_\w+|SSL_\w+|REQUESTS_CA_BUNDLE)$/;

const relativePath = (key: string) =>
  z
    .string({ error: `${key} holds paths relative to the repository root` })
    .min(1, { error: 'an empty path' })
    .refine((p) => !p.startsWith('/') && !p.split('/').includes('..') && !p.includes('\\'), {
      error: "paths are relative to the repository root, with '/' and no '..'",
    });

const requirement = z
  .string({ error: 'a package requirement such as "requests>=2" (PEP 508)' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,\s-]+\])?\s*([<>=!~;@ ].*)?$/, {
    error: 'a package requirement such as "requests>=2" or "six==1.16.0" (PEP 508)',
  })
  .max(300);

export const ProfileLimitsSchema = z
  .strictObject({
    memoryMb: z.number().int().min(64).max(8192),
    cpus: z.number().min(0.1).max(8),
    timeoutSeconds: z.number().int().min(1).max(3600),
    testsTimeoutSeconds: z.number().int().min(10).max(7200),
    perTestSeconds: z.number().int().min(1).max(3600),
    hangAfterSeconds: z.number().int().min(1).max(600),
    prepareTimeoutSeconds: z.number().int().min(30).max(3600),
  })
  .partial();

export const RepositoryProfileSchema = z
  .strictObject({
    /** The Python the sandbox runs ("3.9"); chooses among OpsGuard's images. */
    python: z.string().regex(PYTHON_VERSION, { error: 'a Python version such as "3.11"' }),
    /** Any image with python3 on PATH, instead of OpsGuard's own (wins over python). */
    image: z.string().min(1).max(200),
    /** Packages to install beside the declared ones (runtime or test: both are on the path). */
    packages: z.array(requirement).max(200),
    /** Declared packages not to install (names), e.g. Windows-only or unrelated pins of a freeze dump. */
    ignorePackages: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: 'a package name' })).max(500),
    /** A custom test command (argv): its exit status is compared, nothing per test. */
    testCommand: z.array(z.string().min(1)).min(1, { error: 'a non-empty argv array' }).max(50),
    /** What OpsGuard's guarded pytest runs: paths, -k, -m... (the test selection). */
    testArgs: z.array(z.string().min(1)).max(100),
    /** Paths (globs: * within a folder, ** across folders) a fix may not change. */
    protectedPaths: z.array(relativePath('protected-paths')).max(200),
    /** pytest node ids that fail before any fix: a failure there is not a regression. */
    knownFailingTests: z.array(z.string().min(1)).max(10000),
    /** Folders put on sys.path before everything else, as production imports (default: root and src/). */
    pythonPaths: z.array(relativePath('python-paths')).max(20),
    /** Non-secret environment variables for every sandbox run. */
    env: z.record(z.string(), z.string().max(1000, { error: 'at most 1000 characters' })).superRefine((env, ctx) => {
      const names = Object.keys(env);
      if (names.length > 50) ctx.addIssue({ code: 'custom', message: 'at most 50 variables' });
      for (const name of names) {
        const problem = !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)
          ? 'is not an environment variable name'
          : SECRET_LIKE_NAME.test(name)
            ? 'looks like a secret; secrets never enter the sandbox, so a profile cannot set it'
            : RESERVED_ENV.test(name)
              ? 'is set by OpsGuard itself'
              : null;
        if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [name] });
      }
    }),
    limits: ProfileLimitsSchema,
    /** Who may decide (tightens the worker's policy, never widens it): approval-policy.ts. */
    approval: z
      .strictObject({
        approvers: z.array(z.string().min(1).max(200)).max(200),
        noSelfApproval: z.boolean(),
        required: z.number().int().min(1).max(5),
        signaturesRequired: z.boolean(),
      })
      .partial(),
    /** Where an approved fix goes (workflows/deliver.ts): a branch, a push, a pull request. */
    delivery: z
      .strictObject({
        enabled: z.boolean(),
        remote: z
          .string()
          .min(1)
          .max(500)
          .refine((r) => !/^-/.test(r) && !/\/\/[^/@]*:[^/@]*@/.test(r), {
            error: 'a remote name or URL without credentials (the token comes from the worker)',
          }),
        baseBranch: z.string().regex(/^(?!-)[A-Za-z0-9._/-]{1,200}$/, { error: 'a branch name such as "main"' }),
        repository: z
          .string()
          .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, { error: 'a GitHub repository as "owner/name"' }),
        draft: z.boolean(),
        labels: z.array(z.string().min(1).max(50)).max(20),
      })
      .partial(),
  })
  .partial();

export type RepositoryProfile = z.infer<typeof RepositoryProfileSchema>;

const kebab = (camel: string) => camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (kebabKey: string) => kebabKey.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** TOML's kebab-case keys as the schema's camelCase (nested tables too, but not env's names). */
export function camelKeys(value: unknown, depth = 0): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [
      depth === 0 || depth === 1 ? camel(k) : k,
      k === 'env' && depth === 0 ? v : camelKeys(v, depth + 1),
    ]),
  );
}

/**
 * Validate a profile. `style` says how its writer spells keys: 'toml' (kebab-case, from a file) or
 * 'json' (camelCase, the workflow input's `profile`). Problems name the key in that spelling.
 */
export function validateProfile(
  raw: unknown,
  style: 'toml' | 'json',
  where: string,
): { ok: true; profile: RepositoryProfile } | { ok: false; problems: string[] } {
  const parsed = RepositoryProfileSchema.safeParse(style === 'toml' ? camelKeys(raw) : raw);
  if (parsed.success) return { ok: true, profile: parsed.data };
  const spell = (k: PropertyKey) => (style === 'toml' && typeof k === 'string' ? kebab(k) : String(k));
  const problems = parsed.error.issues.map((i) => {
    const keyPath = i.path.map((k, n) => (n > 0 && i.path[0] === 'env' ? String(k) : spell(k))).join('.');
    if (i.code === 'unrecognized_keys') {
      const inside = keyPath ? `${keyPath}.` : '';
      return `${where}: unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `${inside}${spell(k)}`).join(', ')}`;
    }
    if (i.code === 'invalid_type' && keyPath === '') return `${where}: must be a table of settings`;
    return `${where}: ${keyPath || '(profile)'}: ${i.message}`;
  });
  return { ok: false, problems };
}

/** Later profiles win key by key; limits, env and delivery merge one level deeper. */
export function mergeProfiles(...profiles: (RepositoryProfile | undefined)[]): RepositoryProfile {
  const out: RepositoryProfile = {};
  for (const p of profiles) {
    if (!p) continue;
    const { limits, env, delivery, ...rest } = p;
    Object.assign(out, rest);
    if (limits) out.limits = { ...out.limits, ...limits };
    if (delivery) out.delivery = { ...out.delivery, ...delivery };
    if (env) out.env = { ...out.env, ...env };
  }
  return out;
}

/** A glob of protected-paths as a regular expression over repository-relative paths. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  // A folder protects what is inside it.
  return new RegExp(`^${re}(?:/.*)?$`);
}
