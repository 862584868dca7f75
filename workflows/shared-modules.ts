/**
 * The libraries every workflow shares instead of loading its own copy. In Temporal's reused V8
 * context each workflow evaluates the bundle's modules afresh (its own module cache) unless the
 * bundler preloaded them before any workflow existed (worker/worker-memory.ts). zod is the
 * one large library here (the input and profile validation): one copy for the worker, not one per
 * cached incident (about 1 MiB each, measured). The SDK deep-freezes what it preloads so that no
 * workflow can change what another sees. Pure: no I/O, nothing from outside the workflow sandbox.
 */
import { z } from 'zod';

/**
 * zod sets some of its module state on first use (its default locale, whether it may compile
 * parsers), which a frozen module cannot take: the first workflow would fail its task with
 * "object is not extensible" (test/remediation-e2e.test.ts shows it without this). So every kind of
 * schema the workflows use is built and parsed here once, passing and failing, before the freeze.
 */
function warmUp(): void {
  const schema = z
    .strictObject({
      s: z
        .string({ error: 's' })
        .min(1)
        .max(9)
        .regex(/^a/, { error: 'r' })
        .refine((v) => v !== 'ab'),
      n: z.number().int().positive().min(1).max(9),
      u: z.union([z.string(), z.number()]),
      a: z.array(z.string().min(1)).min(1).max(2),
      b: z.boolean({ error: 'b' }),
      p: z.strictObject({ x: z.string() }).partial().optional(),
      r: z.record(z.string(), z.string().max(2)).superRefine((r, ctx) => {
        for (const k of Object.keys(r)) if (k === 'bad') ctx.addIssue({ code: 'custom', message: 'm', path: [k] });
      }),
    })
    .partial();
  schema.safeParse({ s: 'a', n: 1, u: 1, a: ['x'], b: true, p: { x: 'y' }, r: { k: 'v' } });
  const failed = schema.safeParse({
    s: 'ab',
    n: -1.5,
    u: null,
    a: [],
    b: 1,
    p: { y: 1 },
    r: { bad: 'long' },
    extra: 1,
  });
  if (!failed.success) failed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  z.strictObject({}).safeParse('not an object');
}
warmUp();

/** Nobody imports it: the export keeps the whole library in the bundle (webpack drops unused zod code). */
export const sharedZod = z;
