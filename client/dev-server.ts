import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { HTTP_API_PORT_OFFSET } from '../worker/settings';
import { SEARCH_ATTRIBUTE_NAMES } from '../workflows/search-attributes';

export interface DevServerOptions {
  temporalBin: string;
  /** host:port of the frontend. */
  address: string;
  uiPort: number;
  /** SQLite file, so workflows survive a restart; omit for an in-memory server. */
  dbFile?: string;
  logFile: string;
}

export interface DevServerHandle {
  address: string;
  uiUrl: string;
  /** True when a server was already answering and we left it as it was. */
  reused: boolean;
  /** Stops the server if we started it; a reused one is left running. */
  stop(): Promise<void>;
}

/** True when a Temporal frontend answers a health check at `address`. */
export async function temporalAnswers(address: string, timeoutMs = 1500): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    const res = await connection.healthService.check({});
    return Number(res.status) === 1; // grpc.health.v1 ServingStatus.SERVING
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/**
 * Start `temporal server start-dev` (with OpsGuard's search attributes) unless one already answers
 * at the address; wait until it serves. Used by `opsguard dev`, the demo and the test suite alike.
 */
export async function ensureDevServer(opts: DevServerOptions): Promise<DevServerHandle> {
  const [host, port] = splitAddress(opts.address);
  const uiUrl = `http://${host}:${opts.uiPort}`;
  if (await temporalAnswers(opts.address)) {
    // A server started by an older OpsGuard (its SQLite file kept) lacks newer search attributes.
    await ensureSearchAttributes(opts.address);
    return { address: opts.address, uiUrl, reused: true, stop: async () => undefined };
  }
  if (!fs.existsSync(opts.temporalBin)) {
    throw new Error(`The Temporal CLI is not installed at ${opts.temporalBin}. Run 'npm run setup' first.`);
  }
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const args = ['server', 'start-dev', '--ip', host, '--port', String(port), '--ui-port', String(opts.uiPort)];
  // The HTTP API on a known port (not the dev server's random one): the command line reads over it.
  args.push('--http-port', String(port + HTTP_API_PORT_OFFSET));
  args.push('--log-level', 'warn');
  if (opts.dbFile) {
    fs.mkdirSync(path.dirname(opts.dbFile), { recursive: true });
    args.push('--db-filename', opts.dbFile);
  }
  for (const name of SEARCH_ATTRIBUTE_NAMES) args.push('--search-attribute', `${name}=Keyword`);
  const log = fs.openSync(opts.logFile, 'a');
  const child = spawn(opts.temporalBin, args, { detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  child.unref();
  let exited = false;
  child.on('exit', () => (exited = true));

  const deadline = Date.now() + 60_000;
  while (!(await temporalAnswers(opts.address))) {
    if (exited || Date.now() > deadline) {
      const tail = fs.readFileSync(opts.logFile, 'utf8').split('\n').slice(-15).join('\n');
      child.kill('SIGKILL');
      throw new Error(
        `The Temporal dev server did not start at ${opts.address} (${exited ? 'it exited' : 'no answer in 60 s'}). Log ${opts.logFile}:\n${tail}`,
      );
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return {
    address: opts.address,
    uiUrl,
    reused: false,
    stop: async () => {
      if (exited) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000))]);
      if (!exited) child.kill('SIGKILL');
    },
  };
}

/** Register OpsGuard's search attributes that the server does not know yet (namespace 'default'). */
export async function ensureSearchAttributes(address: string, namespace = 'default'): Promise<string[]> {
  const connection = await Connection.connect({ address, connectTimeout: 3000 });
  try {
    const known = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = SEARCH_ATTRIBUTE_NAMES.filter((n) => !(n in (known.customAttributes ?? {})));
    if (missing.length) {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(missing.map((n) => [n, 2 /* INDEXED_VALUE_TYPE_KEYWORD */])),
      });
    }
    return missing;
  } finally {
    await connection.close();
  }
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  const port = Number(address.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port)) throw new Error(`TEMPORAL_ADDRESS must be host:port, got '${address}'`);
  return [address.slice(0, i), port];
}
