/**
 * A scripted OpenAI-compatible HTTP server on 127.0.0.1: the one stand-in OpsGuard's tests (and the
 * keyless demo) use for the model. It answers `POST /v1/chat/completions` and `POST /v1/responses`
 * from a list of turns, in order. Each turn names the task it expects (the first line of the
 * system prompt, `OpsGuard task: <task>`): a request for another task is answered with HTTP 400, so
 * a workflow that asks out of order fails loudly instead of getting a wrong answer. A turn may make
 * tool calls first (chat `tool_calls`, responses `function_call`), one round trip per step, and sees
 * the results the client sends back.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type ModelTask = 'write_reproduction' | 'write_fix' | 'write_pr_description';

export interface ScriptedTurn {
  task: ModelTask;
  /**
   * The answer's text (a script, a JSON fix, Markdown), or a function of the prompt (a fix that edits
   * the file as the model was shown it, placeholders and all).
   */
  answer: string | ((prompt: string, toolResults: string[]) => string);
  /**
   * Optional: before answering, round trips of tool calls (each an array of calls made at once). The
   * request must offer the named tools; each next request carries the results, recorded in
   * `toolResults` and passed to `answer`.
   */
  toolCalls?: { name: string; input: Record<string, unknown> }[][];
  /** Optional: strings the request's prompt must contain (e.g. earlier attempts' feedback). */
  expectInPrompt?: string[];
  /** Optional: answer only after this long (to observe the workflow mid-step). */
  delayMs?: number;
  /**
   * Optional: a fault instead of the answer; the turn is used up. An HTTP error (429 with Retry-After,
   * 500, 401...), a service that never answers (`hang`), one that stops mid-body (`cut`), or a
   * well-formed JSON answer that is not a completion (`shape`).
   */
  fault?: { status: number; retryAfter?: string } | { kind: 'hang' | 'cut' | 'shape' };
}

export interface RecordedRequest {
  path: string;
  task: string | null;
  system: string;
  prompt: string;
  authorization: string | undefined;
  /** When it arrived (ms since the epoch): benchmarks time retries by it. */
  at: number;
  /** The tools the request offered (their names). */
  tools: string[];
  /** The tool results the request carried back (in order). */
  toolResults: string[];
  /** Set when the request did not match the script. */
  error?: string;
}

export interface ScriptedModel {
  baseURL: string;
  requests: RecordedRequest[];
  /** Turns not asked for yet. */
  remaining(): number;
  close(): Promise<void>;
}

interface ChatBody {
  model?: string;
  messages?: { role: string; content: string | { type: string; text?: string }[] | null }[];
  tools?: { function?: { name: string }; name?: string }[];
}
interface ResponsesBody {
  model?: string;
  instructions?: string;
  input?:
    string | { role?: string; type?: string; output?: unknown; content?: string | { type: string; text?: string }[] }[];
  tools?: { function?: { name: string }; name?: string }[];
}

const text = (content: string | { type: string; text?: string }[] | null | undefined): string =>
  typeof content === 'string' ? content : (content ?? []).map((c) => c.text ?? '').join('');

/** The tools a request offers and the tool results it carries (chat: role "tool"; responses: function_call_output). */
function readTools(path: string, body: ChatBody & ResponsesBody): { tools: string[]; results: string[] } {
  const tools = (body.tools ?? []).map((t) => t.function?.name ?? t.name ?? '?');
  if (path.endsWith('/responses')) {
    const items = typeof body.input === 'string' ? [] : (body.input ?? []);
    const results = items
      .filter((i) => i.type === 'function_call_output')
      .map((i) => (typeof i.output === 'string' ? i.output : JSON.stringify(i.output)));
    return { tools, results };
  }
  const results = (body.messages ?? []).filter((m) => m.role === 'tool').map((m) => text(m.content));
  return { tools, results };
}

type ToolCall = { id: string; name: string; input: Record<string, unknown> };

/** A rough token count, so usage figures are plausible and non-zero. */
const tokens = (s: string) => Math.max(1, Math.ceil(s.length / 4));

function readRequest(path: string, body: unknown): { system: string; prompt: string } {
  if (path.endsWith('/responses')) {
    const b = body as ResponsesBody;
    const items = typeof b.input === 'string' ? [{ role: 'user', content: b.input }] : (b.input ?? []);
    const system = [
      b.instructions ?? '',
      ...items.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => text(m.content)),
    ].join('\n');
    return {
      system: system.trim(),
      prompt: items
        .filter((m) => m.role === 'user')
        .map((m) => text(m.content))
        .join('\n'),
    };
  }
  const msgs = (body as ChatBody).messages ?? [];
  return {
    system: msgs
      .filter((m) => m.role === 'system')
      .map((m) => text(m.content))
      .join('\n'),
    prompt: msgs
      .filter((m) => m.role === 'user')
      .map((m) => text(m.content))
      .join('\n'),
  };
}

/** What one round trip answers: the final text, or tool calls for the client to run first. */
type Reply = { text: string } | { calls: ToolCall[] };

function chatResponse(model: string, reply: Reply, prompt: string) {
  const out = 'text' in reply ? reply.text : JSON.stringify(reply.calls);
  const message =
    'text' in reply
      ? { role: 'assistant', content: reply.text }
      : {
          role: 'assistant',
          content: null,
          tool_calls: reply.calls.map((c) => ({
            id: c.id,
            type: 'function',
            function: { name: c.name, arguments: JSON.stringify(c.input) },
          })),
        };
  return {
    id: `chatcmpl-scripted-${Date.now()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message, finish_reason: 'text' in reply ? 'stop' : 'tool_calls' }],
    usage: {
      prompt_tokens: tokens(prompt),
      completion_tokens: tokens(out),
      total_tokens: tokens(prompt) + tokens(out),
    },
  };
}

function responsesResponse(model: string, reply: Reply, prompt: string) {
  const out = 'text' in reply ? reply.text : JSON.stringify(reply.calls);
  const output =
    'text' in reply
      ? [
          {
            type: 'message',
            id: `msg_scripted_${Date.now()}`,
            status: 'completed',
            role: 'assistant',
            content: [{ type: 'output_text', text: reply.text, annotations: [] }],
          },
        ]
      : reply.calls.map((c) => ({
          type: 'function_call',
          id: `fc_${c.id}`,
          call_id: c.id,
          name: c.name,
          arguments: JSON.stringify(c.input),
          status: 'completed',
        }));
  return {
    id: `resp_scripted_${Date.now()}`,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status: 'completed',
    model,
    output,
    incomplete_details: null,
    usage: { input_tokens: tokens(prompt), output_tokens: tokens(out), total_tokens: tokens(prompt) + tokens(out) },
  };
}

/**
 * `byTask`: answer each request with the turn for its task, in any order and as often as asked (many
 * incidents at once: benchmarks); turns are never used up.
 */
export async function startScriptedModel(
  turns: ScriptedTurn[],
  opts: { byTask?: boolean } = {},
): Promise<ScriptedModel> {
  const queue = [...turns];
  const requests: RecordedRequest[] = [];
  const stepsTaken = new Map<ScriptedTurn, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || !(path.endsWith('/chat/completions') || path.endsWith('/responses'))) {
        return reply(404, { error: { message: `scripted model: no route ${req.method} ${path}` } });
      }
      let body: ChatBody & ResponsesBody;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatBody & ResponsesBody;
      } catch {
        return reply(400, { error: { message: 'scripted model: the request body is not JSON' } });
      }
      const { system, prompt } = readRequest(path, body);
      const task = /^OpsGuard task: (\S+)/.exec(system)?.[1] ?? null;
      const offered = readTools(path, body);
      const recorded: RecordedRequest = {
        path,
        task,
        system,
        prompt,
        authorization: req.headers.authorization,
        at: Date.now(),
        tools: offered.tools,
        toolResults: offered.results,
      };
      requests.push(recorded);
      const turn = opts.byTask ? turns.find((t) => t.task === task) : queue[0];
      const fail = (message: string) => {
        recorded.error = message;
        reply(400, { error: { message: `scripted model: ${message}`, type: 'invalid_request_error' } });
      };
      if (!turn) return fail(`no scripted answer left for task ${task}`);
      if (turn.task !== task) return fail(`expected a ${turn.task} request, got ${task}`);
      const missing = (turn.expectInPrompt ?? []).filter((s) => !prompt.includes(s));
      if (missing.length) return fail(`the ${task} prompt lacks ${missing.map((m) => JSON.stringify(m)).join(', ')}`);
      const model = body.model ?? 'scripted';
      // A turn with tool calls: one round trip per step, as long as the client returned every result.
      const stepsDone = stepsTaken.get(turn) ?? 0;
      const steps = turn.toolCalls ?? [];
      if (stepsDone < steps.length) {
        const calls = steps[stepsDone] ?? [];
        const unknown = calls.map((c) => c.name).filter((n) => !offered.tools.includes(n));
        if (unknown.length) return fail(`the ${task} request offers no tool ${unknown.join(', ')}`);
        const expected = steps.slice(0, stepsDone).reduce((a, st) => a + st.length, 0);
        if (offered.results.length !== expected)
          return fail(`expected ${expected} tool results, the request carries ${offered.results.length}`);
        stepsTaken.set(turn, stepsDone + 1);
        const made = calls.map((c, i) => ({ id: `call_${stepsDone + 1}_${i + 1}`, ...c }));
        return reply(
          200,
          path.endsWith('/responses')
            ? responsesResponse(model, { calls: made }, prompt)
            : chatResponse(model, { calls: made }, prompt),
        );
      }
      if (!opts.byTask) queue.shift();
      if (turn.fault && 'kind' in turn.fault) {
        recorded.error = `fault: ${turn.fault.kind}`;
        if (turn.fault.kind === 'hang') return; // the client's own timeout ends it
        res.writeHead(200, { 'content-type': 'application/json' });
        if (turn.fault.kind === 'shape') return res.end(JSON.stringify({ status: 'ok', data: { text: 'fine' } }));
        res.write('{"id":"chatcmpl-cut","object":"chat.completion","choices":[{"index":0,"message":{"role":"assi');
        return void setTimeout(() => res.socket?.destroy(), 50);
      }
      if (turn.fault) {
        recorded.error = `fault: HTTP ${turn.fault.status}`;
        res.writeHead(turn.fault.status, {
          'content-type': 'application/json',
          ...(turn.fault.retryAfter ? { 'retry-after': turn.fault.retryAfter } : {}),
        });
        return res.end(
          JSON.stringify({ error: { message: `scripted fault ${turn.fault.status}`, type: 'server_error' } }),
        );
      }
      const text = typeof turn.answer === 'function' ? turn.answer(prompt, offered.results) : turn.answer;
      const answer = () =>
        reply(
          200,
          path.endsWith('/responses')
            ? responsesResponse(model, { text }, prompt)
            : chatResponse(model, { text }, prompt),
        );
      if (turn.delayMs) setTimeout(answer, turn.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    remaining: () => queue.length,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // a hung request's socket too
      }),
  };
}
