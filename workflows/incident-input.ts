/**
 * The workflow's input, validated. One JSON object so `temporal workflow start --input` can pass it.
 * Unknown or malformed fields are refused with a clear message (the workflow fails non-retryably).
 */
import { z } from 'zod';
import { RepositoryProfileSchema } from './repo-profile';

/** Inclusive bounds of the sandbox limits an input may ask for, so a typo cannot ask for 512 GiB. */
export const LIMIT_BOUNDS = {
  memoryMb: [64, 8192],
  cpus: [0.1, 8],
  timeoutSeconds: [1, 3600],
  testsTimeoutSeconds: [10, 7200],
  perTestSeconds: [1, 3600],
  hangAfterSeconds: [1, 600],
} as const;

const bounded = (name: keyof typeof LIMIT_BOUNDS) =>
  z
    .number({ error: `limits.${name} must be a number` })
    .min(LIMIT_BOUNDS[name][0], { error: `limits.${name} must be at least ${LIMIT_BOUNDS[name][0]}` })
    .max(LIMIT_BOUNDS[name][1], { error: `limits.${name} must be at most ${LIMIT_BOUNDS[name][1]}` });

export const IncidentInputSchema = z.strictObject({
  repoPath: z
    .string({ error: 'repoPath is required: the absolute path of the repository, readable by the worker' })
    .refine((p) => p.startsWith('/'), { error: 'repoPath must be an absolute path' }),
  errorLog: z
    .string({ error: 'errorLog is required: the traceback or log text of the incident' })
    .min(1, { error: 'errorLog is empty' })
    .max(256 * 1024, { error: 'errorLog is larger than 256 KiB; pass the relevant part' }),
  incidentId: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, { error: 'incidentId may hold letters, digits, . _ - (at most 100)' })
    .optional(),
  image: z.string().min(1).optional(),
  testCommand: z.array(z.string().min(1)).min(1, { error: 'testCommand must be a non-empty argv array' }).optional(),
  approvalTimeout: z
    .union([
      z.string().regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/, {
        error: "approvalTimeout must be a duration such as '30s', '15m', '24h' or milliseconds",
      }),
      z.number().int().positive({ error: 'approvalTimeout must be a positive number of milliseconds' }),
    ])
    .optional(),
  patchPolicy: z
    .strictObject({
      allowTestChanges: z.boolean({ error: 'patchPolicy.allowTestChanges must be true or false' }),
      allowBroadExcept: z.boolean({ error: 'patchPolicy.allowBroadExcept must be true or false' }),
      allowIntrospection: z.boolean({ error: 'patchPolicy.allowIntrospection must be true or false' }),
      protectedPaths: z
        .array(z.string().min(1), { error: 'patchPolicy.protectedPaths holds globs such as "migrations/**"' })
        .max(200),
    })
    .partial()
    .optional(),
  limits: z
    .strictObject({
      memoryMb: bounded('memoryMb'),
      cpus: bounded('cpus'),
      timeoutSeconds: bounded('timeoutSeconds'),
      testsTimeoutSeconds: bounded('testsTimeoutSeconds'),
      perTestSeconds: bounded('perTestSeconds'),
      hangAfterSeconds: bounded('hangAfterSeconds'),
    })
    .partial()
    .optional(),
  /** Who started the incident (the command line sets it): with noSelfApproval, they may not approve it. */
  startedBy: z.string().min(1).max(200).optional(),
  /** Overrides the repository's profile key by key (repo-profile.ts; camelCase keys). */
  profile: RepositoryProfileSchema.optional(),
  knownFailingTests: z
    .array(z.string().min(1, { error: 'knownFailingTests holds pytest node ids such as tests/test_x.py::test_y' }))
    .max(10000)
    .optional(),
});

export type IncidentInput = z.infer<typeof IncidentInputSchema>;

/** Validate, returning either the input or one readable line per problem. */
export function validateIncidentInput(
  raw: unknown,
): { ok: true; input: IncidentInput } | { ok: false; problems: string[] } {
  const parsed = IncidentInputSchema.safeParse(raw);
  if (parsed.success) return { ok: true, input: parsed.data };
  const problems = parsed.error.issues.map((i) => {
    const where = i.path.join('.');
    if (i.code === 'unrecognized_keys')
      return `unknown field${i.keys.length > 1 ? 's' : ''}: ${i.keys.map((k) => (where ? `${where}.${k}` : k)).join(', ')}`;
    if (i.code === 'invalid_type' && where === '') return 'the input must be one JSON object';
    return where && !i.message.startsWith(where) ? `${where}: ${i.message}` : i.message;
  });
  return { ok: false, problems };
}

/**
 * The incident's id: the input's, or its workflow id made safe (ids become folder names: a safe
 * alphabet only, never starting with a dot: `..` would be the work folder's parent and `.baselines`
 * its shared baselines). Past-incident lookup (activities/context/past-incidents.ts) finds folders by it.
 */
export function incidentIdOf(input: { incidentId?: string }, workflowId: string): string {
  return (
    input.incidentId ??
    workflowId
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .replace(/^\./, '_')
      .slice(0, 100)
  );
}
