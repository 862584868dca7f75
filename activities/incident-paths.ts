import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/** Where one incident's files live. Artifacts are evidence; the work folder is scratch. */
export interface IncidentPaths {
  artifactDir: string;
  workDir: string;
  /** Pristine copy of the repository: the diff base and the restore source. */
  baseline: string;
  /** The copy patches are applied to and the sandbox mounts (read-only). */
  workspace: string;
  /** Incident context the activities share (error log, traceback, relevant files). */
  context: string;
  /** The prepared Python and packages, for the prompts (prepare-environment.ts). */
  environment: string;
  /** The repository's secret values and their placeholders (repo-secrets.ts): worker-side only, 0600. */
  secrets: string;
  /** What was withheld from or redacted in what the model saw (names and counts, never values). */
  repoRedactions: string;
  /** The git commit analysed (repository-origin.ts). */
  origin: string;
  /** Delivery: the base branch's newer head with the patch, for re-verification. */
  headWorkspace: string;
  /** Delivery's private git index (the user's index is never touched). */
  deliveryIndex: string;
  attempt(kind: 'reproduce' | 'fix' | 'tests' | 'deliver', n: number | string): string;
}

/**
 * In an incident's work folder: the workflow (id and namespace) that made it, written by
 * setupWorkspace; worker/work-folder-retention.ts asks Temporal about it.
 */
export const OWNER_FILE = 'owner.json';

export interface FolderOwner {
  workflowId: string;
  namespace: string;
}

export function incidentPaths(roots: { artifactsDir: string; workDir: string }, incidentId: string): IncidentPaths {
  const artifactDir = path.join(roots.artifactsDir, incidentId);
  const workDir = path.join(roots.workDir, incidentId);
  return {
    artifactDir,
    workDir,
    baseline: path.join(workDir, 'baseline'),
    workspace: path.join(workDir, 'workspace'),
    context: path.join(workDir, 'context.json'),
    environment: path.join(workDir, 'environment.json'),
    secrets: path.join(workDir, 'secret-map.json'),
    repoRedactions: path.join(workDir, 'repository-redactions.json'),
    origin: path.join(workDir, 'origin.json'),
    headWorkspace: path.join(workDir, 'head-workspace'),
    deliveryIndex: path.join(workDir, 'delivery.index'),
    attempt: (kind, n) => path.join(artifactDir, 'attempts', `${kind}-${n}`),
  };
}

/** Write a file so readers see the old content or the new, never half of it. */
export async function writeFileAtomic(file: string, content: string | Buffer): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  await fs.writeFile(tmp, content);
  await fs.rename(tmp, file);
}

export function sha256(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}
