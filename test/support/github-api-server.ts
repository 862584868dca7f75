/**
 * A local stand-in for the part of GitHub's REST API that delivery calls through Octokit: list pull
 * requests by head, create one, add labels. It keeps its pull requests in memory, records every
 * request (method, path, headers, body), checks the token, and can be told to refuse (401/403/422) or
 * to create a pull request and never answer (a worker killed while waiting for GitHub).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

export interface PullRequest {
  number: number;
  title: string;
  body: string;
  head: string;
  base: string;
  draft: boolean;
  labels: string[];
  state: 'open';
  html_url: string;
}

export interface GitHubStandIn {
  apiUrl: string;
  requests: RecordedRequest[];
  pulls: PullRequest[];
  /** Answer every request with this status and message (null: behave). */
  refuse: { status: number; message: string } | null;
  /** Create the next pull request, then never answer that request; `hung` resolves when it happens. */
  hangAfterCreate: boolean;
  hung: Promise<void>;
  close(): Promise<void>;
}

export async function startGitHubStandIn(token: string): Promise<GitHubStandIn> {
  let signalHung = () => undefined as void;
  const hung = new Promise<void>((r) => (signalHung = r));
  const held: http.ServerResponse[] = [];
  const state: Omit<GitHubStandIn, 'apiUrl' | 'close'> = {
    requests: [],
    pulls: [],
    refuse: null,
    hangAfterCreate: false,
    hung,
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://localhost');
      const body: unknown = text ? JSON.parse(text) : null;
      state.requests.push({
        method: req.method ?? '',
        path: `${url.pathname}${url.search}`,
        headers: req.headers,
        body,
      });
      const send = (status: number, data: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(data));
      };
      if (state.refuse) return send(state.refuse.status, { message: state.refuse.message });
      if (req.headers.authorization !== `token ${token}`) return send(401, { message: 'Bad credentials' });
      const pulls = /^\/repos\/([^/]+)\/([^/]+)\/pulls$/.exec(url.pathname);
      const labels = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/labels$/.exec(url.pathname);
      if (pulls && req.method === 'GET') {
        const head = url.searchParams.get('head') ?? '';
        const ref = head.includes(':') ? head.slice(head.indexOf(':') + 1) : head;
        return send(
          200,
          state.pulls
            .filter((p) => !head || p.head === ref)
            .map((p) => ({ ...p, head: { ref: p.head }, base: { ref: p.base } })),
        );
      }
      if (pulls && req.method === 'POST') {
        const b = body as { title: string; body: string; head: string; base: string; draft?: boolean };
        if (state.pulls.some((p) => p.head === b.head))
          return send(422, {
            message: 'Validation Failed',
            errors: [{ message: `A pull request already exists for ${b.head}.` }],
          });
        const number = state.pulls.length + 1;
        const pr: PullRequest = {
          number,
          title: b.title,
          body: b.body,
          head: b.head,
          base: b.base,
          draft: b.draft ?? false,
          labels: [],
          state: 'open',
          html_url: `https://github.test/${pulls[1]}/${pulls[2]}/pull/${number}`,
        };
        state.pulls.push(pr);
        if (state.hangAfterCreate) {
          state.hangAfterCreate = false;
          held.push(res);
          signalHung();
          return;
        }
        return send(201, { ...pr, head: { ref: pr.head }, base: { ref: pr.base } });
      }
      if (labels && req.method === 'POST') {
        const pr = state.pulls.find((p) => p.number === Number(labels[3]));
        if (!pr) return send(404, { message: 'Not Found' });
        pr.labels.push(...(body as { labels: string[] }).labels);
        return send(
          200,
          pr.labels.map((name) => ({ name })),
        );
      }
      return send(404, { message: `Not Found: ${req.method} ${url.pathname}` });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    apiUrl: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  });
}
