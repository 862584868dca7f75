import { structuredPatch } from 'diff';

/**
 * A git-style unified diff of one file (`diff --git a/p b/p`), so `git apply` takes it at the
 * repository root. `before` is null for a new file. `changedLines` are the lines of the new content
 * the patch touched: every added line, and for a deletion the lines either side of where it was
 * (so a removed statement still points coverage at the code around it).
 */
export function fileDiff(
  rel: string,
  before: string | null,
  after: string,
): { text: string; added: number; removed: number; changedLines: number[] } {
  const patch = structuredPatch(`a/${rel}`, `b/${rel}`, before ?? '', after, undefined, undefined, { context: 3 });
  const out = [`diff --git a/${rel} b/${rel}`];
  if (before === null) out.push('new file mode 100644', '--- /dev/null');
  else out.push(`--- a/${rel}`);
  out.push(`+++ b/${rel}`);
  let added = 0;
  let removed = 0;
  const changed = new Set<number>();
  const lastLine = after.split('\n').length;
  for (const h of patch.hunks) {
    const oldStart = h.oldLines === 0 ? h.oldStart - 1 : h.oldStart;
    const newStart = h.newLines === 0 ? h.newStart - 1 : h.newStart;
    out.push(`@@ -${oldStart},${h.oldLines} +${newStart},${h.newLines} @@`);
    let newLine = h.newStart;
    for (const line of h.lines) {
      if (line.startsWith('+')) {
        added++;
        changed.add(newLine++);
      } else if (line.startsWith('-')) {
        removed++;
        for (const around of [newLine - 1, newLine]) if (around >= 1 && around <= lastLine) changed.add(around);
      } else if (!line.startsWith('\\')) {
        newLine++;
      }
      out.push(line);
    }
  }
  return { text: `${out.join('\n')}\n`, added, removed, changedLines: [...changed].sort((a, b) => a - b) };
}
