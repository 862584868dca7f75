/**
 * The audit report: a person-readable timeline rebuilt from the workflow's own history (the history
 * is the audit trail; there is no side log). Facts come from recorded events: activity inputs and
 * results, signals, updates, search-attribute changes, the final result. Gate verdicts are
 * recomputed from the recorded sandbox results by the same pure gate functions the workflow ran,
 * so the report cannot disagree with what the workflow decided.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import type { Payload } from '@temporalio/common';
import { tsToMs } from '@temporalio/common/lib/time.js';
import type { temporal } from '@temporalio/proto';
import { classifyError } from '../workflows/classify-error';
import type { Classification } from '../workflows/classify-error';
import { fixGate } from '../workflows/fix-gate';
import * as legacy from '../workflows/legacy/gates-v1';
import { reproductionGate } from '../workflows/reproduction-gate';
import type {
  CreateBranchResult,
  OpenPullRequestResult,
  PlanDeliveryResult,
  PushBranchResult,
  GateVerdict,
  IncidentSignature,
  RemediationResult,
  RunSummary,
  ScriptRuns,
  TestRunSummary,
  WorkspaceInfo,
} from '../workflows/incident-types';
import { describeRedactions, describeRun, describeTests, incidentSignature } from '../workflows/summaries';
import { parseTraceback } from '../workflows/traceback';

export interface AuditEntry {
  at: string;
  /** What happened: "activity runReproduction", "gate 1", "signal approve", ... */
  what: string;
  detail: string;
  durationMs?: number;
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const decode = (p: Payload | null | undefined): unknown => (p ? defaultPayloadConverter.fromPayload(p) : undefined);
const decodeFirst = (ps: { payloads?: Payload[] | null } | null | undefined): unknown => decode(ps?.payloads?.[0]);
const iso = (e: HistoryEvent) => new Date(tsToMs(e.eventTime)).toISOString();

interface Scheduled {
  type: string;
  input: Record<string, unknown>;
  summary: string | undefined;
  at: number;
}

export function buildAudit(events: HistoryEvent[]): AuditEntry[] {
  const out: AuditEntry[] = [];
  const scheduled = new Map<string, Scheduled>();
  let errorLog = '';
  let signature: IncidentSignature | null = null;
  let baseline: TestRunSummary | undefined;

  const gate = (at: string, name: string, v: GateVerdict) =>
    out.push({ at, what: name, detail: `${v.passed ? 'PASSED' : 'REFUSED'} — ${v.reason}` });

  for (const e of events) {
    const at = iso(e);
    if (e.workflowExecutionStartedEventAttributes) {
      const input = (decodeFirst(e.workflowExecutionStartedEventAttributes.input) ?? {}) as {
        repoPath?: string;
        errorLog?: string;
      };
      errorLog = input.errorLog ?? '';
      const tb = parseTraceback(errorLog);
      out.push({
        at,
        what: 'started',
        detail: `repository ${input.repoPath}; incident ${tb ? `${tb.exceptionType}: ${tb.message.slice(0, 120)}` : '(no traceback)'}`,
      });
    } else if (e.activityTaskScheduledEventAttributes) {
      const a = e.activityTaskScheduledEventAttributes;
      scheduled.set(String(e.eventId), {
        type: a.activityType?.name ?? '?',
        input: (decodeFirst(a.input) ?? {}) as Record<string, unknown>,
        summary: decode(e.userMetadata?.summary) as string | undefined,
        at: tsToMs(e.eventTime),
      });
    } else if (e.activityTaskCompletedEventAttributes) {
      const a = e.activityTaskCompletedEventAttributes;
      const s = scheduled.get(String(a.scheduledEventId));
      if (!s) continue;
      const result = decodeFirst(a.result);
      const durationMs = tsToMs(e.eventTime) - s.at;
      const entry: AuditEntry = { at, what: s.type, detail: s.summary ?? '', durationMs };
      out.push(entry);
      switch (s.type) {
        case 'setupWorkspace': {
          const ws = result as WorkspaceInfo;
          entry.detail = `${ws.fileCount} files copied into an isolated workspace${ws.skippedSymlinks.length ? `; ${ws.skippedSymlinks.length} outward symlinks not copied` : ''}${ws.redactions.length ? `; redacted ${describeRedactions(ws.redactions)}` : ''}`;
          const classification: Classification = classifyError({
            errorLog,
            traceback: parseTraceback(errorLog),
            frames: ws.frames,
            repoDefinesException: ws.repoDefinesException,
          });
          out.push({ at, what: 'classified', detail: `${classification.kind} — ${classification.reason}` });
          if (classification.kind === 'code') signature = incidentSignature(classification);
          break;
        }
        case 'writeReproduction':
        case 'writeFix':
        case 'writePrDescription': {
          const r = result as {
            model: { ok: boolean; reason?: string; usage: { inputTokens: number; outputTokens: number } };
          };
          entry.detail = `${s.summary ?? s.type}: ${r.model.ok ? 'answer accepted' : `answer refused — ${r.model.reason}`} (${r.model.usage.inputTokens} in / ${r.model.usage.outputTokens} out tokens)`;
          break;
        }
        case 'runReproductions': {
          const scripts = result as ScriptRuns[];
          entry.detail = `${s.summary ?? ''}: ${scripts.map((sc) => `${sc.name} [${sc.runs.map(describeRun).join('; ')}]`).join(', ')}`;
          const [primary, ...variants] = scripts;
          if (!primary) break;
          if (s.input.step === 'reproduce' && signature) {
            gate(at, `gate 1 (reproduce ${String(s.input.attempt)})`, reproductionGate(primary.runs, signature));
            for (const v of variants) gate(at, `gate 1 (hidden ${v.name})`, reproductionGate(v.runs, signature));
          }
          if (s.input.step === 'fix' || s.input.step === 'deliver') {
            const verdict = fixGate({
              primary: primary.runs,
              variants: variants.flatMap((v) => (v.runs[0] ? [{ name: v.name, run: v.runs[0] }] : [])),
            });
            gate(
              at,
              s.input.step === 'deliver'
                ? `gate 2 (on the newer head, delivery ${String(s.input.attempt)})`
                : `gate 2 (fix ${String(s.input.attempt)})`,
              verdict,
            );
          }
          break;
        }
        case 'runReproduction': {
          // Incidents started before proof v2: one run per call, judged by the frozen gates.
          const run = result as RunSummary;
          entry.detail = `${s.summary ?? ''}: exit code ${run.exitCode}${run.exception ? `, ${run.exception.type}` : ''}${run.timedOut ? ', timed out' : ''}${run.oomKilled ? ', out of memory' : ''}; image ${run.imageId.slice(0, 19)}`;
          if (s.input.step === 'reproduce' && signature)
            gate(at, `gate 1 (reproduce ${String(s.input.attempt)})`, legacy.reproductionGate(run, signature));
          if (s.input.step === 'fix') gate(at, `gate 2 (fix ${String(s.input.attempt)})`, legacy.fixGate(run));
          break;
        }
        case 'runRepoTests': {
          const t = result as TestRunSummary;
          entry.detail = `${s.summary ?? 'tests'}: ${describeTests(t)}`;
          if (s.input.label === 'tests-baseline') baseline = t;
          else gate(at, `regression gate (${String(s.input.label)})`, t.verdict ?? legacy.exitStatusGate(baseline, t));
          break;
        }
        case 'applyFix': {
          const r = result as { ok: boolean; reason?: string; changedFiles: string[] };
          entry.detail = r.ok ? `patch applied: ${r.changedFiles.join(', ')}` : `patch refused — ${r.reason}`;
          break;
        }
        case 'writeArtifacts':
          entry.detail = `artifacts written: ${Object.keys(result as Record<string, string>).join(', ')}`;
          break;
        case 'recordDecision':
          entry.detail = `decision recorded in proof.json`;
          break;
        case 'planDelivery': {
          const r = result as PlanDeliveryResult;
          entry.detail = r.ok
            ? `analysed commit ${r.analysedCommit?.slice(0, 12)}${r.head ? `; ${r.baseBranch} is now at ${r.head.slice(0, 12)}${r.appliesToHead ? ' (the patch applies: re-verify there)' : ' (the patch does not apply there)'}` : ''}`
            : `nothing to deliver: ${r.reason}`;
          break;
        }
        case 'createDeliveryBranch': {
          const r = result as CreateBranchResult;
          entry.detail = r.ok
            ? `branch ${r.branch} at ${r.commit?.slice(0, 12)}${r.reused ? ' (already there: reused)' : ''}`
            : `no branch — ${r.reason}`;
          break;
        }
        case 'pushDeliveryBranch': {
          const r = result as PushBranchResult;
          entry.detail = r.ok
            ? r.pushed
              ? 'pushed'
              : 'the remote already had it: not pushed again'
            : `push failed — ${r.reason}`;
          break;
        }
        case 'openPullRequest': {
          const r = result as OpenPullRequestResult;
          entry.detail = r.ok
            ? `pull request #${r.number} ${r.url}${r.reused ? ' (already open: reused)' : ''}`
            : `no pull request — ${r.reason}`;
          break;
        }
        case 'recordDelivery':
          entry.detail = 'delivery recorded in proof.json';
          break;
        default:
          break;
      }
    } else if (e.activityTaskFailedEventAttributes || e.activityTaskTimedOutEventAttributes) {
      const id = String(
        e.activityTaskFailedEventAttributes?.scheduledEventId ??
          e.activityTaskTimedOutEventAttributes?.scheduledEventId,
      );
      const message =
        e.activityTaskFailedEventAttributes?.failure?.message ??
        e.activityTaskTimedOutEventAttributes?.failure?.message ??
        '';
      out.push({ at, what: `${scheduled.get(id)?.type ?? 'activity'} failed`, detail: message });
    } else if (e.workflowExecutionSignaledEventAttributes) {
      const a = e.workflowExecutionSignaledEventAttributes;
      const args = decodeFirst(a.input) as DecisionArgs | undefined;
      out.push({ at, what: `signal ${a.signalName}`, detail: describeDecisionArgs(args) });
    } else if (e.workflowExecutionUpdateAcceptedEventAttributes) {
      const req = e.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest?.input;
      const args = decodeFirst(req?.args) as DecisionArgs | undefined;
      out.push({ at, what: `update ${req?.name ?? '?'} accepted`, detail: describeDecisionArgs(args) });
    } else if (e.upsertWorkflowSearchAttributesEventAttributes) {
      const fields = e.upsertWorkflowSearchAttributesEventAttributes.searchAttributes?.indexedFields ?? {};
      const status = fields.OpsGuardStatus ? decode(fields.OpsGuardStatus) : undefined;
      if (status !== undefined)
        out.push({ at, what: 'status', detail: typeof status === 'string' ? status : JSON.stringify(status) });
    } else if (e.workflowExecutionCompletedEventAttributes) {
      const r = decodeFirst(e.workflowExecutionCompletedEventAttributes.result) as RemediationResult;
      const a = r.approval;
      // Who decided on which patch and how they were identified; every approval that counted; every refusal.
      for (const v of r.approvals ?? [])
        out.push({
          at: v.at,
          what: 'approval counted',
          detail: `by ${v.by} via ${v.via}, identified by ${v.identifiedBy}`,
        });
      for (const f of r.refusedDecisions ?? [])
        out.push({ at: f.at, what: `${f.decision} refused`, detail: `by ${f.by} via ${f.via}: ${f.reason}` });
      const d = r.delivery;
      if (d)
        out.push({
          at: d.at ?? at,
          what: `delivery ${d.status}`,
          detail:
            d.status === 'delivered'
              ? `branch ${d.branch} at ${d.commit}${d.pullRequest ? `, pull request #${d.pullRequest.number} ${d.pullRequest.url}` : ''} (${d.attempts} attempt${d.attempts === 1 ? '' : 's'})`
              : (d.reason ?? ''),
        });
      out.push({
        at,
        what: 'completed',
        detail: `${r.status} — ${r.reason}${a ? `; ${a.decision}${a.by ? ` by ${a.by}` : ''} at ${a.at} via ${a.via}${a.patchSha256 ? ` on patch sha256 ${a.patchSha256}` : ''}${a.identifiedBy ? `, identified by ${a.identifiedBy}` : ''}${a.comment ? ` (${a.comment})` : ''}${a.reason ? ` (${a.reason})` : ''}` : ''}`,
      });
    } else if (e.workflowExecutionFailedEventAttributes) {
      out.push({ at, what: 'failed', detail: e.workflowExecutionFailedEventAttributes.failure?.message ?? '' });
    }
  }
  return out;
}

interface DecisionArgs {
  by?: string;
  comment?: string;
  reason?: string;
  patchSha256?: string;
  keyId?: string;
  signature?: string;
}

function describeDecisionArgs(args: DecisionArgs | undefined): string {
  return `by ${args?.by ?? '?'}${args?.comment ? ` — ${args.comment}` : ''}${args?.reason ? ` — ${args.reason}` : ''}${args?.patchSha256 ? ` [patch ${args.patchSha256.slice(0, 12)}…]` : ' [no patch hash]'}${args?.signature ? ` [signed, key ${args.keyId ?? '?'}]` : ''}`;
}

export function renderAudit(id: string, entries: AuditEntry[]): string {
  const lines = [
    `Audit of incident ${id} (rebuilt from its Temporal history; gate verdicts recomputed from recorded results)`,
    '',
  ];
  for (const e of entries) {
    const dur = e.durationMs !== undefined ? ` (${(e.durationMs / 1000).toFixed(1)} s)` : '';
    lines.push(`${e.at}  ${e.what.padEnd(30)} ${e.detail}${dur}`);
  }
  return lines.join('\n');
}
