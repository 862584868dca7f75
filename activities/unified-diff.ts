import { structuredPatch } from 'diff';

/**
 * A git-style unified diff of one file (`diff --git a/p b/p`), so `git apply` takes it at the
 * repository root. `before` is null for a new file.
 */
export function fileDiff(
  rel: string,
  before: string | null,
  after: string,
): { text: string; added: number; removed: number } {
  const patch = structuredPatch(`a/${rel}`, `b/${rel}`, before ?? '', after, undefined, undefined, { context: 3 });
  const out = [`diff --git a/${rel} b/${rel}`];
  if (before === null) out.push('new file mode 100644', '--- /dev/null');
  else out.push(`--- a/${rel}`);
  out.push(`+++ b/${rel}`);
  let added = 0;
  let removed = 0;
  for (const h of patch.hunks) {
    const oldStart = h.oldLines === 0 ? h.oldStart - 1 : h.oldStart;
    const newStart = h.newLines === 0 ? h.newStart - 1 : h.newStart;
    out.push(`@@ -${oldStart},${h.oldLines} +${newStart},${h.newLines} @@`);
    for (const line of h.lines) {
      if (line.startsWith('+')) added++;
      else if (line.startsWith('-')) removed++;
      out.push(line);
    }
  }
  return { text: `${out.join('\n')}\n`, added, removed };
}
