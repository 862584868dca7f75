/**
 * A fix to a file the model saw only in excerpts comes as edits (find this exact text, put that in
 * its place), and becomes the file's complete new content here, against the text the model was
 * shown (redacted: its placeholders stay and are restored by the patch engine like any answer's).
 * Each `find` must occur exactly once; anything else is a refused answer with the reason.
 */
import type { Parsed } from './model-answers';

export interface TextEdit {
  find: string;
  replace: string;
}

export function applyEdits(path: string, text: string, edits: TextEdit[]): Parsed<string> {
  let out = text;
  for (const [i, edit] of edits.entries()) {
    const where = `edit ${i + 1} of ${path}`;
    if (!edit.find) return { ok: false, reason: `${where} has an empty "find".` };
    const first = out.indexOf(edit.find);
    if (first < 0)
      return {
        ok: false,
        reason: `${where}: its "find" text does not occur in the file (copy it exactly from the excerpt, indentation included).`,
      };
    if (out.indexOf(edit.find, first + 1) >= 0)
      return { ok: false, reason: `${where}: its "find" text occurs more than once; include more lines around it.` };
    out = out.slice(0, first) + edit.replace + out.slice(first + edit.find.length);
  }
  return { ok: true, value: out };
}
