/**
 * What OpsGuard asks the model. The first line of every system prompt names the task
 * (`OpsGuard task: ...`), so a log or a scripted stand-in can tell the requests apart.
 */

import type { AttemptFeedback } from '../workflows/incident-types';
import type { ModelContext } from './context/incident-context';

const fence = (lang: string, text: string) => `\`\`\`${lang}\n${text.replace(/```/g, '` ` `')}\n\`\`\``;

/** The repository context (context/incident-context.ts): code whole or in excerpts, what was left out, docs. */
function contextSections(c: ModelContext): string {
  const files = c.code.files.map((f) =>
    f.shown === 'whole'
      ? `### ${f.path}\n${fence('python', f.content)}`
      : `### ${f.path} (excerpt: ${f.symbols.join(', ')}; the lines marked "not shown" are unchanged and not shown)\n${fence('python', f.content)}`,
  );
  const left = c.code.notShown.length
    ? `\n\nAlso ranked, not shown: ${c.code.notShown
        .slice(0, 12)
        .map((n) => `${n.path} (${n.why})`)
        .join('; ')}.`
    : '';
  const docs = c.docs.length
    ? `\n\n## From the repository's documentation\n${c.docs.map((d) => `### ${d.path}: ${d.heading}\n${d.text}`).join('\n\n')}`
    : '';
  const past = c.past?.text ? `\n\n${c.past.text}` : '';
  return `## Relevant source code (ranked: the traceback's functions, what they call and check, what the error names)\n${files.join('\n\n') || '(no source file could be shown)'}${left}${docs}${past}`;
}

function feedbackSection(feedback: AttemptFeedback[]): string {
  if (!feedback.length) return '';
  const items = feedback.map((f) => {
    const out = [`Attempt ${f.attempt} was refused: ${f.reason}`];
    if (f.stdoutTail) out.push(`stdout (tail):\n${fence('text', f.stdoutTail)}`);
    if (f.stderrTail) out.push(`stderr (tail):\n${fence('text', f.stderrTail)}`);
    return out.join('\n');
  });
  return `\n\n## Earlier attempts (do not repeat them)\n${items.join('\n\n')}`;
}

/** What the scripts and the fix run on: the Python version (write for it) and the installed packages. */
export interface SandboxFacts {
  python: string;
  installed: string[];
}

function withheldSection(withheld: string[] | undefined): string {
  return withheld?.length
    ? `\n\nFiles withheld from you because they hold secrets (their contents are not shown): ${withheld.join(', ')}. Values shown as [REDACTED:...] are secrets: keep such placeholders exactly as they are; OpsGuard restores the values.`
    : '';
}

function sandboxSection(env: SandboxFacts | null): string {
  if (!env) return '';
  const shown = env.installed.slice(0, 60);
  const more = env.installed.length > shown.length ? ` and ${env.installed.length - shown.length} more` : '';
  return `\n\n## Sandbox\nPython ${env.python} (write for this version). Installed packages: ${shown.length ? shown.join(', ') + more : 'none beyond pytest'}.`;
}

function toolsSection(tools: { maxCalls: number; budgetTokens: number } | null): string {
  return tools
    ? `\n\n## Tools\nIf the code below is not enough to find the root cause, you may call read_file, read_symbol, search_code and list_dir on the repository before you answer: at most ${tools.maxCalls} calls and about ${tools.budgetTokens} tokens of results in all. A file you read with a tool can be changed with edits, like a file shown as an excerpt.`
    : '';
}

export const REPRODUCTION_SYSTEM = `OpsGuard task: write_reproduction
You write a standalone Python 3 script that reproduces a bug in a repository.
Rules:
- The repository is the current working directory (/workspace) and is on sys.path: import its modules the way the application does.
- Trigger the incident's exception through the repository's own code: call the code that failed with inputs that make it fail. Never raise the exception yourself and never catch it.
- If the incident is a failed check (an assert in a job or a test that caught a wrong result), reproduce it with the same kind of check: compute the value with the repository's code and assert what that check asserts. An assertion on constants (assert False) is not a reproduction.
- While the bug is present the script must end with that uncaught exception, every time it runs. Once the bug is fixed it must run to its end and exit 0.
- One process: do not start subprocesses, and do not inspect the interpreter (frames, gc, ctypes, /proc): OpsGuard stops a run that does.
- Use only the standard library, the repository and the packages the Sandbox section lists; no network, write only under /tmp, finish within seconds.
Answer with the script in one \`\`\`python code block. Then add up to 3 variants, each in its own \`\`\`python block: complete scripts that reproduce the same bug the same way with other inputs (other values, sizes, edge cases). The fix's author never sees them; they check that the fix works beyond your first script's input.`;

export function reproductionPrompt(args: {
  errorLog: string;
  exceptionType: string;
  location: string;
  context: ModelContext;
  feedback: AttemptFeedback[];
  sandbox?: SandboxFacts | null;
  withheld?: string[];
  /** A hang incident: the runner stops the script after this long. */
  hangAfterSeconds?: number;
}): string {
  const what = args.hangAfterSeconds
    ? `The incident is a hang: the program did not finish and was stopped in ${args.location}. Reproduce it by calling that code with an input that makes it run forever; do not add a timeout, a thread or a signal of your own. OpsGuard stops the script after ${args.hangAfterSeconds} s and checks it was stopped inside that function; once the bug is fixed the script must finish and exit 0.`
    : `The exception to reproduce: ${args.exceptionType}, raised in ${args.location}.`;
  return `## Incident log
${fence('text', args.errorLog)}

${what}${sandboxSection(args.sandbox ?? null)}

${contextSections(args.context)}${withheldSection(args.withheld)}${feedbackSection(args.feedback)}`;
}

export const FIX_SYSTEM = `OpsGuard task: write_fix
You fix a bug in a repository. You get the incident, a reproduction script that fails because of the bug, and the relevant source code (whole files, or excerpts of large ones).
Answer with one JSON object and nothing else:
{"summary": "<root cause and the change, one paragraph>", "files": [{"path": "<path relative to the repository root>", "content": "<the complete new content of the file>"}]}
For a file shown as an excerpt, give edits instead of its content: {"path": "...", "edits": [{"find": "<text copied exactly from the file, long enough to occur once>", "replace": "<its new text>"}]}.
Rules:
- Give the complete new content of every file shown whole that you change (not a diff), or edits of a file shown as an excerpt.
- Fix the root cause in the repository's code. Do not edit tests or the reproduction script, do not catch and hide the exception, do not special-case the reproduction's inputs.
- Keep the change small and keep the behaviour the existing tests rely on.`;

export function fixPrompt(args: {
  errorLog: string;
  reproduction: string;
  reproductionStderr: string;
  context: ModelContext;
  feedback: AttemptFeedback[];
  sandbox?: SandboxFacts | null;
  withheld?: string[];
  /** The retrieval tools offered (context/retrieval-tools.ts), or none. */
  tools?: { maxCalls: number; budgetTokens: number } | null;
}): string {
  return `## Incident log
${fence('text', args.errorLog)}${sandboxSection(args.sandbox ?? null)}${withheldSection(args.withheld)}${toolsSection(args.tools ?? null)}

## Reproduction script (fails now, must pass after your fix; you cannot change it)
${fence('python', args.reproduction)}

Its output now:
${fence('text', args.reproductionStderr)}

${contextSections(args.context)}${feedbackSection(args.feedback)}`;
}

export const PR_SYSTEM = `OpsGuard task: write_pr_description
Write a pull request description in Markdown for a verified bug fix: a first line '# <title>', then the sections '## Root cause', '## Change' and '## Risk'. Be concise and factual. Answer with the Markdown only.`;

export function prPrompt(args: { errorLog: string; summary: string; diff: string }): string {
  return `## Incident log
${fence('text', args.errorLog)}

## What the fix author said
${args.summary}

## The patch
${fence('diff', args.diff)}`;
}
