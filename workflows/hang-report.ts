/**
 * Hangs (pure): how a log says a program did not finish but was stopped (Ctrl-C, pytest-timeout, a
 * stack dump at a deadline, a worker's timeout in gunicorn, Celery or RQ), and whether it was stopped
 * while waiting on the network rather than looping. classify-error.ts makes such an incident a code
 * error marked `hang` at the innermost repository frame, or infra when it was waiting.
 */
import { HANG_TYPE } from './log-unwrap';
import { normalizePath } from './repo-paths';
import { shortTypeName } from './traceback';
import type { ParsedTraceback, TraceFrame } from './traceback';

/** How the log says the program was stopped rather than failed, or null: Ctrl-C, pytest-timeout, a dump. */
export function hangReport(tb: ParsedTraceback): string | null {
  const type = shortTypeName(tb.exceptionType);
  if (type === 'KeyboardInterrupt') return 'it was interrupted (Ctrl-C or SIGINT) while running';
  if (type === 'Failed' && /^Timeout\b/.test(tb.message)) return `pytest-timeout stopped it (${tb.message})`;
  if (tb.exceptionType === HANG_TYPE) return tb.message;
  const last = tb.frames.at(-1);
  if (
    type === 'SystemExit' &&
    last?.func === 'handle_abort' &&
    /gunicorn\/workers\/base\.py$/.test(normalizePath(last.file))
  )
    return "gunicorn's arbiter stopped the worker at its timeout (WORKER TIMEOUT)";
  if (type === 'SoftTimeLimitExceeded' || type === 'TimeLimitExceeded') return "Celery's time limit stopped the task";
  if (type === 'JobTimeoutException') return 'RQ stopped the job at its timeout';
  return null;
}

/** The handler frames of whatever stopped a program (a signal handler that raised, at the innermost end). */
const STOPPER_FRAME = /(gunicorn\/workers\/base\.py|pytest_timeout\.py|billiard\/pool\.py|rq\/timeouts\.py)$/;

/** Library frames a program waits on the network or a database in: stopped there, it was waiting, not looping. */
const WAITING_ON_IO =
  /(^|\/)(socket|ssl|selectors|http\/client|urllib3|requests|httpx|httpcore|aiohttp|psycopg2?|pymysql|redis|grpc|kafka|pika|botocore)(\/|\.py$)/;

/** The frame a stopped program was waiting in, when that is a network or database library: else null. */
export function waitingOnIo<T extends Pick<TraceFrame, 'file'>>(frames: T[]): T | null {
  // Where it was: the innermost frame that is not the stopper's own signal handler.
  const last = frames.findLast((f) => !STOPPER_FRAME.test(normalizePath(f.file)));
  return last && WAITING_ON_IO.test(normalizePath(last.file)) ? last : null;
}
