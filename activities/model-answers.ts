/**
 * Strict reading of model answers. The model only ever returns text; anything that is not what we
 * asked for is a failed attempt with a reason the model is shown next time, never a crash.
 */
import { z } from 'zod';

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

export const MAX_SCRIPT_BYTES = 64 * 1024;
export const MAX_FIX_FILES = 20;
export const MAX_FILE_BYTES = 512 * 1024;

/** The reproduction and its hidden variants (other inputs, same bug). */
export interface ReproductionAnswer {
  primary: string;
  variants: string[];
}

/**
 * The reproduction script: the first fenced code block, or the whole answer when unfenced. Further
 * fenced blocks are variants (at most `maxVariants`; empty or oversized ones are dropped: a variant
 * the model could not write is not a reason to refuse the reproduction).
 */
export function parseReproductionAnswer(text: string, maxVariants = 3): Parsed<ReproductionAnswer> {
  const blocks = [...text.matchAll(/```[ \t]*(?:python|py)?[ \t]*\r?\n([\s\S]*?)```/gi)].map((m) =>
    (m[1] ?? '').trim(),
  );
  const script = (blocks.length ? (blocks[0] ?? '') : text).trim();
  if (!script) return { ok: false, reason: 'The answer holds no script (empty, or an empty code block).' };
  if (!blocks.length && /^(sure|here|i |the |this )/i.test(script)) {
    return { ok: false, reason: 'The answer is prose, not a script: answer with one ```python code block.' };
  }
  if (Buffer.byteLength(script) > MAX_SCRIPT_BYTES)
    return { ok: false, reason: `The script is larger than ${MAX_SCRIPT_BYTES} bytes.` };
  const variants = blocks
    .slice(1)
    .filter((v) => v && Buffer.byteLength(v) <= MAX_SCRIPT_BYTES && v !== script)
    .slice(0, maxVariants)
    .map((v) => `${v}\n`);
  return { ok: true, value: { primary: `${script}\n`, variants } };
}

const FixFileSchema = z
  .strictObject({
    path: z.string().min(1),
    content: z.string().optional(),
    // A file shown in excerpts: exact-text edits, made whole by fix-edits.ts.
    edits: z
      .array(z.strictObject({ find: z.string(), replace: z.string() }))
      .min(1)
      .max(50)
      .optional(),
  })
  .superRefine((f, ctx) => {
    if ((f.content === undefined) === (f.edits === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['content'],
        message:
          f.content === undefined
            ? "give the file's complete new content (or, for a file shown in excerpts, edits)"
            : 'give content or edits, not both',
      });
  });

export const FixAnswerSchema = z.strictObject({
  summary: z.string().min(1),
  files: z.array(FixFileSchema).min(1).max(MAX_FIX_FILES),
});
/** As the model answered: each file whole, or as edits. */
export interface FixAnswerRaw {
  summary: string;
  files: ({ path: string; content: string } | { path: string; edits: { find: string; replace: string }[] })[];
}
/** Every file whole (edits applied): what proposal.json holds and the patch engine reads. */
export interface FixAnswer {
  summary: string;
  files: { path: string; content: string }[];
}

/** The fix: one JSON object {summary, files: [{path, content}]}, optionally in a ```json fence. */
export function parseFixAnswer(text: string): Parsed<FixAnswerRaw> {
  const fenced = /```[ \t]*(?:json)?[ \t]*\r?\n([\s\S]*?)```/i.exec(text);
  const body = (fenced ? (fenced[1] ?? '') : text).trim();
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    return {
      ok: false,
      reason: `The answer is not JSON (${(err as Error).message}). Answer with one JSON object {"summary": ..., "files": [{"path": ..., "content": ...}]}.`,
    };
  }
  const parsed = FixAnswerSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ');
    return {
      ok: false,
      reason: `The answer has the wrong shape (${issues}). Expected {"summary": string, "files": [{"path": string, "content": string} or {"path": string, "edits": [{"find": string, "replace": string}]}]}.`,
    };
  }
  const big = parsed.data.files.find((f) => f.content !== undefined && Buffer.byteLength(f.content) > MAX_FILE_BYTES);
  if (big) return { ok: false, reason: `${big.path} is larger than ${MAX_FILE_BYTES} bytes.` };
  const files = parsed.data.files.map((f) =>
    f.content !== undefined ? { path: f.path, content: f.content } : { path: f.path, edits: f.edits ?? [] },
  );
  return { ok: true, value: { summary: parsed.data.summary, files } };
}
