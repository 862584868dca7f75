/**
 * The incident's artifacts: patch.diff, reproduction.py, PR_DESCRIPTION.md, proof.json, and the
 * reports for the endings without a fix. Each file is written atomically. The evidence section of
 * PR_DESCRIPTION.md is written by OpsGuard from the sandbox results, never by the model.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { operatorChecks } from '../workflows/classify-error';
import { fixAttemptVerdict } from '../workflows/fix-gate';
import { isVerified } from '../workflows/incident-types';
import type {
  DeliveryRecord,
  ApprovalDecision,
  ArtifactInput,
  FixAttempt,
  ProofCheck,
  RemediationResult,
  ReproductionAttempt,
  WriteArtifactsArgs,
} from '../workflows/incident-types';
import { describeRedactions, describeRun } from '../workflows/summaries';
import { writeFileAtomic } from './incident-paths';
import { readRepositoryRedactions } from './repository-redactions';
import { readModelContextSummary } from './context/incident-context';
import type { PastIncident } from './context/past-incidents';

type PastIncidentCited = Omit<PastIncident, 'patch'>;
import type { RepositoryRedactions } from './repository-redactions';
import type { IncidentPaths } from './incident-paths';
import { readContext } from './workspace';

/** What writeArtifacts gets, with the image the runs used filled in (the worker's default when absent). */
export type ArtifactRequest = WriteArtifactsArgs & { input: ArtifactInput & { image: string } };

const code = (text: string, lang = 'text') => `\`\`\`${lang}\n${text.trim()}\n\`\`\``;

const FIDELITY: Record<string, string> = {
  location: "location rule: the incident's exception, raised through the incident's innermost repository frame",
  assertion:
    "assertion rule: the incident is a failed check (a wrong result); the script's own non-trivial check failed the same way after it ran repository code",
  type: "type rule: the incident's log has no repository frame, so the exception type alone was compared",
};

/** Every check of the proof for the accepted fix, in order: gate 1, gate 2, tests. */
/** The guard's tripwire is enforced on Python 3.11 and later only (sandbox/runner/opsguard_guard.py). */
export function tripwireEnforced(python: string | null | undefined): boolean {
  const m = /^3\.(\d+)/.exec(python ?? '');
  return !m || Number(m[1]) >= 11; // unknown (a named image): the runner itself notes when it is not
}

export function proofChecks(repro: ReproductionAttempt, fix: FixAttempt, python?: string | null): ProofCheck[] {
  const runs = repro.runs?.length ?? (repro.run ? 1 : 0);
  const variants = repro.variants ?? [];
  const kept = variants.filter((v) => v.gate.passed);
  return [
    {
      name: `reproduction fails like the incident (${runs} run${runs === 1 ? '' : 's'})`,
      status: 'passed',
      detail: repro.gate.reason,
    },
    {
      name: 'hidden variants reproduce the bug',
      status: kept.length ? 'passed' : 'not_run',
      detail: variants.length
        ? `${kept.length} of ${variants.length} kept: ${variants.map((v) => `${v.name} (${v.gate.passed ? 'kept' : `dropped: ${v.gate.reason}`})`).join('; ')}`
        : 'the model wrote no hidden variant',
    },
    ...(fix.checks ?? [{ name: 'reproduction passes', status: 'passed', detail: fix.gate.reason }]),
    ...(tripwireEnforced(python)
      ? []
      : [
          {
            name: 'tripwire (introspection by changed code ends the run)',
            status: 'not_run' as const,
            detail: `not enforced on Python ${python}: it raises too few audit events (gc, frame attributes) and some from ordinary code; verdicts are still signed`,
          },
        ]),
  ];
}

const MARK: Record<ProofCheck['status'], string> = { passed: 'PASSED', failed: 'FAILED', not_run: 'NOT RUN' };

/** One line on what the model was not shown, or shown redacted (names and counts, never values). */
function describeRepositoryRedactions(r: RepositoryRedactions): string | null {
  const redacted = Object.entries(r.redacted).map(
    ([file, kinds]) =>
      `${file} (${Object.entries(kinds)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ')})`,
  );
  if (!r.withheld.length && !redacted.length) return null;
  return `- Repository secrets kept from the model: ${r.withheld.length ? `withheld ${r.withheld.join(', ')}` : 'no file withheld'}; ${redacted.length ? `values redacted in ${redacted.join('; ')}` : 'no value redacted'}. patch.diff shows such values as placeholders; the patched files hold the originals.`;
}

function evidence(
  result: RemediationResult,
  input: ArtifactRequest['input'],
  repro: ReproductionAttempt,
  fix: FixAttempt,
  repoRedactions: RepositoryRedactions,
  past: PastIncidentCited[],
): string {
  const before = repro.run;
  const after = fix.run;
  const checks = proofChecks(repro, fix, result.environment?.python);
  const notRun = checks.filter((c) => c.status === 'not_run');
  const lines = [
    '---',
    '## Evidence (appended by OpsGuard from the sandbox runs, not written by the model)',
    '',
    `- Incident: \`${result.incidentId}\`; classification: ${result.classification?.reason ?? 'n/a'}`,
    `- Sandbox: image \`${input.image}\` (${before?.imageId ?? 'n/a'}), network none, ${before?.limits.memoryMb} MiB, ${before?.limits.cpus} CPU, ${before?.limits.timeoutSeconds} s deadline, fresh container per run; every verdict signed by OpsGuard's runner with a per-run key`,
    ...(result.environment
      ? [
          `- Python ${result.environment.pythonFull ?? result.environment.python ?? 'unknown'} (${result.environment.pythonReason}); ${result.environment.installed.length} packages from ${result.environment.declarationFiles.join(', ') || 'no declarations'} (${result.environment.cacheHit ? 'cache hit' : 'prepared for this incident'}, key \`${result.environment.depsKey?.slice(0, 12) ?? 'none'}\`), mounted read-only`,
        ]
      : []),
    `- Gate 1 criterion: ${result.reproductionCriterion ?? 'n/a'}`,
    `- Fidelity rule applied: ${repro.rule ? FIDELITY[repro.rule] : 'n/a'}`,
    ...(result.redactions.length
      ? [`- Redacted from the log before the model saw it: ${describeRedactions(result.redactions)}`]
      : []),
    ...[describeRepositoryRedactions(repoRedactions)].filter((l): l is string => l !== null),
    ...past.map(
      (p) =>
        `- Seen before: incident \`${p.incidentId}\` on ${p.startedAt.slice(0, 10)} (${p.match === 'fingerprint' ? 'same fingerprint' : 'same error type in the same file'}; ${p.status.replace(/_/g, ' ')})${p.title ? `, fixed by "${p.title}"` : ''}; ${p.note ?? 'its patch was shown to the model as a hint'}`,
    ),
    `- Reproduction script: \`reproduction.py\`, sha256 \`${repro.scriptSha256}\` (attempt ${repro.attempt} of reproduction)`,
    ...(repro.variants?.length
      ? [
          `- Hidden variants (never shown to the fix's author): ${repro.variants.map((v) => `\`variants/${v.name}.py\` sha256 \`${v.scriptSha256.slice(0, 12)}\` (${v.gate.passed ? 'kept' : 'dropped'})`).join(', ')}`,
        ]
      : ['- Hidden variants: none was checked (the model wrote none)']),
    '',
    '### Checks',
    '',
    ...checks.map((c) => `- **${MARK[c.status]}** ${c.name}: ${c.detail.replace(/\n/g, ' ')}`),
    ...(notRun.length
      ? [
          '',
          `Checks that did not run (the fix is not accepted on their strength): ${notRun.map((c) => c.name).join('; ')}.`,
        ]
      : []),
    '',
    `### Before the patch: ${before ? describeRun(before) : 'n/a'}`,
    before ? code(before.stderrTail || '(no stderr)') : '',
    '',
    `### After the patch (fix attempt ${fix.attempt}): ${after ? describeRun(after) : 'n/a'}`,
    after ? code(after.stdoutTail || '(no stdout)') : '',
    '',
    `### Repository tests: ${testsLine(fix)}`,
    fix.tests?.run ? code(fix.tests.run.stdoutTail.split('\n').slice(-5).join('\n')) : '',
    ...reusedBaseline(result),
    '',
    `Files changed: ${fix.changedFiles.map((f) => `\`${f}\``).join(', ')}. Token usage: ${result.tokenUsage.inputTokens} in, ${result.tokenUsage.outputTokens} out.`,
  ];
  return lines.join('\n');
}

/** When the run before the patch was another incident's (baseline-test-reuse.ts), the reviewer is told whose. */
function reusedBaseline(result: RemediationResult): string[] {
  const from = result.baselineTests?.reusedFrom;
  return from
    ? [
        `The run before the patch was incident \`${from.incidentId}\`'s clean run on the same tree, image and settings (finished ${from.finishedAt}): every test in it passed, so every one is held to pass here.`,
      ]
    : [];
}

function testsLine(fix: FixAttempt): string {
  const t = fix.tests;
  if (!t?.ran) return `NOT RUN: ${t?.reason ?? 'the tests did not run'}`;
  const command = `\`${t.command.join(' ')}\``;
  if (t.verdict?.status === 'not_verified') return `${command}: ${t.verdict.reason}`;
  if (t.regression) {
    const { passToPass, failToPass, incomplete } = t.regression;
    return `${command}: pass-to-pass ${passToPass.count - passToPass.broken.length}/${passToPass.count} still pass; fail-to-pass ${failToPass.count - failToPass.stillFailing.length}/${failToPass.count} now pass${incomplete ? `; failing tests that run the change ${incomplete.count - incomplete.stillFailing.length}/${incomplete.count} now pass` : ''} (per test, OpsGuard's pytest plugin)`;
  }
  return `${command} -> exit code ${t.run?.exitCode} (exit status only)`;
}

function attemptsTable(result: RemediationResult): string {
  const rows = [
    '| step | attempt | model | sandbox | verdict |',
    '| --- | --- | --- | --- | --- |',
    ...result.reproductionAttempts.map(
      (a) =>
        `| reproduce | ${a.attempt} | ${a.model.ok ? 'ok' : `refused: ${a.model.reason}`} | ${a.run ? describeRun(a.run) : '-'} | ${a.gate.reason} |`,
    ),
    ...result.fixAttempts.map(
      (a) =>
        `| fix | ${a.attempt} | ${a.model.ok ? 'ok' : `refused: ${a.model.reason}`} | ${a.run ? describeRun(a.run) : (a.patchRefusal ?? '-')} | ${fixAttemptVerdict(a).reason} |`,
    ),
  ];
  return rows.map((r) => r.replace(/\n/g, ' ')).join('\n');
}

/**
 * The incident's artifacts. Each file is written atomically (a temporary file renamed into place) and
 * proof.json last: a folder with proof.json is whole. A try killed part-way (a worker lost between two
 * files) leaves whole files of the same content and no proof.json; the retried try removes any
 * temporary file left and writes them all again. `between` runs after each file but the last.
 */
export async function writeArtifacts(
  paths: IncidentPaths,
  req: ArtifactRequest,
  between: () => Promise<void> = async () => undefined,
): Promise<Record<string, string>> {
  const { result, input } = req;
  const dir = paths.artifactDir;
  await removeTemporaryFiles(dir);
  const write = async (file: string, content: string | Buffer) => {
    await writeFileAtomic(file, content);
    if (path.basename(file) !== 'proof.json') await between();
  };
  const out: Record<string, string> = { 'incident.log': path.join(dir, 'incident.log') };
  const ctx = await readContext(paths).catch(() => null);
  const repoRedactions = await readRepositoryRedactions(paths);
  const modelContext = await readModelContextSummary(paths);

  if (isVerified(result.status)) {
    const repro = result.reproductionAttempts.find((a) => a.gate.passed);
    const fix = result.fixAttempts.find((a) => fixAttemptVerdict(a).passed);
    if (!repro?.scriptPath || !fix?.diffPath) throw new Error('verified result without a passing reproduction and fix');
    out['patch.diff'] = path.join(dir, 'patch.diff');
    await write(out['patch.diff'], await fs.readFile(fix.diffPath));
    out['reproduction.py'] = path.join(dir, 'reproduction.py');
    await write(out['reproduction.py'], await fs.readFile(repro.scriptPath));
    for (const v of repro.variants ?? []) {
      const name = `variants/${v.name}.py`;
      out[name] = path.join(dir, name);
      await write(out[name], await fs.readFile(v.scriptPath));
    }
    const modelText = req.prDescriptionPath
      ? await fs.readFile(req.prDescriptionPath, 'utf8')
      : `# Fix ${result.classification?.errorType ?? 'error'} (incident ${result.incidentId})\n\n_The model did not write a usable description; this title is OpsGuard's._\n`;
    out['PR_DESCRIPTION.md'] = path.join(dir, 'PR_DESCRIPTION.md');
    await write(
      out['PR_DESCRIPTION.md'],
      `${modelText.trim()}\n\n${evidence(result, input, repro, fix, repoRedactions, modelContext?.past?.found ?? [])}\n`,
    );
  } else if (result.status === 'infra_error' && result.classification?.kind === 'infra') {
    const c = result.classification;
    out['infra_report.md'] = path.join(dir, 'infra_report.md');
    await write(
      out['infra_report.md'],
      [
        `# Infrastructure incident ${result.incidentId}: no code fix attempted`,
        '',
        `## What was seen`,
        `${c.errorType ? `Exception: \`${c.errorType}\`. ` : ''}Signals: ${c.signals.join(', ')}.`,
        '',
        code(ctx?.errorLog.slice(-3000) ?? ''),
        '',
        '## Why no code fix is attempted',
        c.reason,
        'OpsGuard changes code only for defects in the repository; an environment that refuses, times out or lacks credentials is fixed by an operator, and a code change would only hide it.',
        '',
        '## What an operator should check',
        ...operatorChecks(c.signals).map((s) => `- ${s}`),
        ...(operatorChecks(c.signals).length ? [] : ['- the service and environment named in the log']),
        '',
      ].join('\n'),
    );
  } else {
    out['failure_report.md'] = path.join(dir, 'failure_report.md');
    const title: Record<string, string> = {
      unclassified: 'Not classified: no remediation attempted',
      reproduction_failed: 'The bug could not be reproduced',
      fix_failed: 'No fix could be verified',
      environment_failed: "The repository's environment could not be prepared",
    };
    await write(
      out['failure_report.md'],
      [
        `# Incident ${result.incidentId}: ${title[result.status] ?? result.status}`,
        '',
        result.reason,
        '',
        '## Attempts',
        attemptsTable(result),
        '',
        'Each attempt folder under `attempts/` holds the model answer, the script or proposal, and the full sandbox output.',
        '',
      ].join('\n'),
    );
  }

  out['proof.json'] = path.join(dir, 'proof.json');
  const accepted = result.fixAttempts.find((a) => fixAttemptVerdict(a).passed);
  const acceptedRepro = result.reproductionAttempts.find((a) => a.gate.passed);
  const proof = {
    schema: 'opsguard.proof/v2',
    writtenAt: new Date().toISOString(),
    incidentId: result.incidentId,
    status: result.status,
    reason: result.reason,
    input,
    classification: result.classification,
    environment: result.environment ?? null,
    redactions: result.redactions,
    repositoryRedactions: repoRedactions,
    // What the model was shown of the repository: files whole or in excerpts, what was left out, tokens.
    modelContext,
    reproductionCriterion: result.reproductionCriterion,
    fidelityRule: result.fidelityRule ?? null,
    hiddenVariants: (acceptedRepro?.variants ?? []).map((v) => ({
      name: v.name,
      sha256: v.scriptSha256,
      kept: v.gate.passed,
      gate1: v.gate.reason,
      gate2: accepted?.variantRuns?.find((r) => r.name === v.name)?.passed ?? null,
    })),
    hiddenVariantChecked: (accepted?.variantRuns?.length ?? 0) > 0,
    checks: acceptedRepro && accepted ? proofChecks(acceptedRepro, accepted, result.environment?.python) : [],
    reproductionAttempts: result.reproductionAttempts,
    baselineTests: result.baselineTests,
    fixAttempts: result.fixAttempts,
    tokenUsage: result.tokenUsage,
    fingerprint: result.fingerprint,
    approval: result.approval ?? null,
    artifacts: out,
  };
  await write(out['proof.json'], `${JSON.stringify(proof, null, 2)}\n`);
  return out;
}

/** The person's decision goes into proof.json beside the evidence it was made on. */
export async function recordDecision(
  paths: IncidentPaths,
  args: { status: string; approval: ApprovalDecision | undefined },
): Promise<void> {
  const file = path.join(paths.artifactDir, 'proof.json');
  const proof = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
  await writeFileAtomic(
    file,
    `${JSON.stringify({ ...proof, status: args.status, approval: args.approval, decidedAt: args.approval?.at }, null, 2)}\n`,
  );
}

/** After delivery: the branch, the commit and the pull request go into proof.json beside the decision. */
export async function recordDelivery(
  paths: IncidentPaths,
  args: { status: string; delivery: DeliveryRecord },
): Promise<void> {
  const file = path.join(paths.artifactDir, 'proof.json');
  const proof = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
  await writeFileAtomic(
    file,
    `${JSON.stringify({ ...proof, status: args.status, delivery: args.delivery }, null, 2)}\n`,
  );
}

/** Temporary files (`<name>.tmp-<hex>`) a killed writer left in the artifact folder. */
async function removeTemporaryFiles(dir: string): Promise<void> {
  const entries = await fs.readdir(dir, { recursive: true }).catch(() => [] as string[]);
  for (const rel of entries) if (/\.tmp-[0-9a-f]{8}$/.test(rel)) await fs.rm(path.join(dir, rel), { force: true });
}
