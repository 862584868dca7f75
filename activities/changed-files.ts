/**
 * What the guard must know about a patch inside the container: the changed files under every name
 * Python may load them by. A symlink in the repository (`compat.py -> core.py`, `pkg2 -> pkg`) gives a
 * changed file a second path, and code loaded through it must still count as the patch's code.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { WORKSPACE_IN_CONTAINER } from '../workflows/repo-paths';
import type { ChangedFile } from '../workflows/incident-types';

/** Every workspace path (relative) that resolves to one of `files`, the files themselves included. */
export async function changedFileAliases(workspace: string, files: string[]): Promise<string[]> {
  const root = await fs.realpath(workspace);
  const targets = new Set<string>();
  for (const f of files) {
    const real = await fs.realpath(path.join(workspace, f)).catch(() => null);
    if (real) targets.add(real);
  }
  const aliases = new Set(files);
  async function walk(rel: string, depth: number): Promise<void> {
    if (depth > 40) return; // symlink loops inside the tree
    for (const entry of await fs.readdir(path.join(workspace, rel), { withFileTypes: true }).catch(() => [])) {
      const relPath = path.join(rel, entry.name);
      const full = path.join(workspace, relPath);
      if (entry.isSymbolicLink()) {
        const real = await fs.realpath(full).catch(() => null);
        if (!real || !(real === root || real.startsWith(root + path.sep))) continue;
        const st = await fs.stat(full).catch(() => null);
        if (st?.isDirectory()) {
          for (const t of targets)
            if (t.startsWith(real + path.sep)) aliases.add(path.join(relPath, path.relative(real, t)));
        } else if (targets.has(real)) {
          aliases.add(relPath);
        }
      } else if (entry.isDirectory()) {
        await walk(relPath, depth + 1);
      }
    }
  }
  await walk('', 0);
  return [...aliases].sort();
}

/** The guard's view of a patch: container paths of the changed files (and aliases), changed lines. */
export async function guardSpecFor(
  workspace: string,
  changed: ChangedFile[],
): Promise<{ changed_files: string[]; changed_lines: Record<string, number[]> }> {
  const inContainer = (rel: string) => `${WORKSPACE_IN_CONTAINER}/${rel}`;
  const pythonFiles = changed.filter((c) => c.path.endsWith('.py'));
  return {
    changed_files: (
      await changedFileAliases(
        workspace,
        changed.map((c) => c.path),
      )
    ).map(inContainer),
    changed_lines: Object.fromEntries(pythonFiles.map((c) => [inContainer(c.path), c.lines])),
  };
}
