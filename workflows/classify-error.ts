/**
 * The classification gate (pure rules): does this incident call for a code fix at all?
 * - infra: the environment failed (auth, rate limits, network, DNS, timeouts, credentials, disk);
 *   no code change can fix it, so the workflow ends in an infra report.
 * - code: an exception raised from the repository's own code that is not an infra cause.
 * - unclassified: fits neither; reported with the reason, never guessed.
 *
 * A hang (the program was stopped: Ctrl-C, pytest-timeout, a stack dump at a deadline) is a code error
 * at the innermost repository frame it was stopped in, marked `hang` for gate 1's hang rule; stopped
 * while waiting on the network, it is infra.
 */
import { hangReport, waitingOnIo } from './hang-report';
import { IMPORT_ERRORS, importVerdict } from './import-errors';
import type { ImportTarget } from './import-errors';
import { functionOfFrame } from './repo-paths';
import { shortTypeName } from './traceback';
import type { ParsedTraceback } from './traceback';

export type Classification =
  | { kind: 'infra'; errorType: string | null; reason: string; signals: string[] }
  | {
      kind: 'code';
      errorType: string;
      reason: string;
      /** The innermost repository frame; `check` when its line is an assert or raise AssertionError. */
      location: { file: string; func: string; line: number; check?: boolean };
      /** The program did not finish: it was stopped in `location` (hangReport says how). */
      hang?: true;
    }
  | { kind: 'unclassified'; errorType: string | null; reason: string };

/** A traceback frame, with the repository-relative path it maps to (null: not the repo's code). */
export interface LocatedFrame {
  file: string;
  line: number;
  func: string;
  repoPath: string | null;
  /** The repository's source line there, stripped (to tell a check from the code it checks). */
  source?: string;
}

/**
 * A line that checks a result rather than computes one: an assert, or raising AssertionError; and
 * (since CLASSIFY_V2) a unittest assertion (`self.assertEqual(...)`, `with self.assertRaises(...)`,
 * `self.fail(...)`: unittest hides its own frames, so the test's line is the innermost) or an
 * `assert_*` helper (`np.testing.assert_allclose(...)`, `tm.assert_frame_equal(...)`).
 */
export function isCheckLine(source: string | undefined, rulesBeforeV2 = false): boolean {
  if (!source) return false;
  if (/^(assert\b|raise\s+(\w+\.)*AssertionError\b)/.test(source)) return true;
  return (
    !rulesBeforeV2 &&
    /^(with\s+)?(self\.(assert|fail)\w*|(\w+\.)*assert_\w+|pytest\.(raises|fail|warns))\s*\(/.test(source)
  );
}

/** Whether two classifications lead the workflow the same way (kind, type, location, check, hang). */
export function sameClassification(a: Classification, b: Classification): boolean {
  if (a.kind !== b.kind || a.errorType !== b.errorType) return false;
  if (a.kind !== 'code' || b.kind !== 'code') return true;
  return (
    a.location.file === b.location.file &&
    a.location.func === b.location.func &&
    a.location.check === b.location.check &&
    a.hang === b.hang
  );
}

export interface ClassifyInput {
  errorLog: string;
  traceback: ParsedTraceback | null;
  /** The traceback's frames mapped onto the repository (same order). */
  frames: LocatedFrame[];
  /** True when the repository defines a class named like the exception. */
  repoDefinesException: boolean;
  /** Only the rules before CLASSIFY_V2 (hangs, generic types raised by the code, named subclasses), for
   *  incidents recorded before them: they replay as they ran. */
  rulesBeforeV2?: boolean;
  /** For an ImportError, where its module is in the repository (activities/import-target.ts). */
  importTarget?: ImportTarget;
  /** Only the rules before CLASSIFY_V3 (import errors): incidents recorded before it replay as they ran. */
  rulesBeforeV3?: boolean;
}

/** The patch id of the rules that turn some formerly unclassified incidents into code errors. */
export const CLASSIFY_V2 = 'classify-v2';
/** The patch id of the import-error rules (formerly unclassified: now code, infra or said why not). */
export const CLASSIFY_V3 = 'classify-v3';

/** Exception types that are code defects when raised from the repository's code. */
export const CODE_EXCEPTIONS = new Set([
  'ValueError',
  'KeyError',
  'TypeError',
  'AttributeError',
  'IndexError',
  'FileNotFoundError', // only for paths of the repository: see below
  'AssertionError',
  'ZeroDivisionError',
  'RecursionError',
  'NameError',
  'UnboundLocalError',
  'LookupError',
  'ArithmeticError',
  'OverflowError',
  'NotImplementedError',
  'UnicodeDecodeError',
  'UnicodeEncodeError',
  'StopIteration',
  'JSONDecodeError',
]);

/** Exception types that are infrastructure failures wherever they are raised. */
export const INFRA_EXCEPTIONS = new Set([
  'ConnectionError',
  'ConnectionRefusedError',
  'ConnectionResetError',
  'ConnectionAbortedError',
  'BrokenPipeError',
  'TimeoutError',
  'timeout',
  'ReadTimeout',
  'ConnectTimeout',
  'ReadTimeoutError',
  'ConnectTimeoutError',
  'Timeout',
  'NewConnectionError',
  'MaxRetryError',
  'NameResolutionError',
  'gaierror',
  'SSLError',
  'ProxyError',
  'NoCredentialsError',
  'PartialCredentialsError',
  'NoRegionError',
  'EndpointConnectionError',
  'CredentialRetrievalError',
  'TokenRetrievalError',
  'ExpiredTokenException',
  'UnauthorizedSSOTokenError',
  'OperationalError', // database connection failures (psycopg2, sqlalchemy, sqlite lock)
  'ServiceUnavailable',
  'RateLimitError',
  'AuthenticationError',
  'PermissionDeniedError',
  'APIConnectionError',
  'APITimeoutError',
]);

/** Text signals of infrastructure failures, with what an operator should check. */
export const INFRA_SIGNALS: { name: string; pattern: RegExp; check: string }[] = [
  {
    name: 'HTTP 401 Unauthorized',
    pattern: /\b401\b|unauthori[sz]ed|invalid[_ ]api[_ ]key|authentication failed/i,
    check: 'the credentials or token the service uses (expired, rotated, wrong environment)',
  },
  {
    name: 'HTTP 403 Forbidden',
    pattern: /\b403\b|\bforbidden\b|access ?denied|not authori[sz]ed to perform/i,
    check: 'the permissions (IAM policy, API scopes) of the identity the service runs as',
  },
  {
    name: 'rate limit',
    pattern: /rate.?limit|too many requests|\b429\b|throttl|quota exceeded/i,
    check: 'the request rate and quotas of the upstream API; back off or raise the quota',
  },
  {
    name: 'connection refused',
    pattern: /connection refused|ECONNREFUSED|errno 111\b/i,
    check: 'that the upstream service is running and listening on the configured host and port',
  },
  {
    name: 'connection reset',
    pattern: /connection reset|ECONNRESET|broken pipe|connection aborted/i,
    check: 'the network path and the upstream service health (load balancer, proxy, restarts)',
  },
  {
    name: 'timeout',
    pattern: /timed? ?out\b|timeout|ETIMEDOUT|deadline exceeded/i,
    check: 'the latency and health of the upstream dependency and the network between them',
  },
  {
    name: 'missing credentials',
    pattern:
      /no ?credentials|unable to locate credentials|missing credentials|credentials? (?:not found|missing|expired)|expired ?token|InvalidAccessKeyId|SignatureDoesNotMatch/i,
    check:
      'that the secret/credential is mounted and valid in this environment (env vars, secret store, instance role)',
  },
  {
    name: 'DNS failure',
    pattern:
      /name or service not known|nodename nor servname|temporary failure in name resolution|getaddrinfo|ENOTFOUND|EAI_AGAIN|NameResolutionError|could not resolve host/i,
    check: 'DNS resolution of the configured hostname from this environment',
  },
  {
    name: 'out of disk',
    pattern: /no space left on device|ENOSPC|disk quota exceeded|errno 28\b|disk full/i,
    check: 'free space and inodes on the volume the service writes to',
  },
  {
    name: 'out of memory',
    pattern: /\bOOMKilled\b|out of memory|cannot allocate memory|\bMemoryError\b/i,
    check: 'the memory limit and usage of the process or container',
  },
  {
    name: 'upstream unavailable',
    pattern: /\b50[234]\b.*(?:error|gateway|unavailable)|service unavailable|bad gateway|gateway timeout/i,
    check: 'the upstream service status and its own incident channel',
  },
  {
    name: 'TLS failure',
    pattern: /CERTIFICATE_VERIFY_FAILED|SSL: |certificate has expired|self.signed certificate/i,
    check: 'the certificates and trust store on both sides',
  },
];

/** Generic types whose message decides (e.g. `Exception: 401 Unauthorized`). */
const GENERIC_EXCEPTIONS = new Set([
  'Exception',
  'RuntimeError',
  'OSError',
  'IOError',
  'HTTPError',
  'RequestException',
  'ClientError',
  'URLError',
  'error',
]);

/** Code that does not compile: a code error in the file it names (the runner reports that file as a frame). */
const SYNTAX_ERRORS = new Set(['SyntaxError', 'IndentationError', 'TabError']);

/** Generic types that are a code error when the repository's own frame raised them. */
const GENERIC_RAISED_BY_CODE = new Set(['Exception', 'RuntimeError']);

/** A name that says which code error it specialises: `UFuncTypeError`, `InvalidIndexError`. */
const CODE_FAMILY = /^\w+?(ValueError|TypeError|KeyError|IndexError|AttributeError|LookupError|ZeroDivisionError)$/;

function infraSignals(text: string): string[] {
  return INFRA_SIGNALS.filter((s) => s.pattern.test(text)).map((s) => s.name);
}

/** What an operator should check for each infra signal (for the infra report). */
export function operatorChecks(signals: string[]): string[] {
  return INFRA_SIGNALS.filter((s) => signals.includes(s.name)).map((s) => `${s.name}: check ${s.check}`);
}

export function classifyError(input: ClassifyInput): Classification {
  const tb = input.traceback;
  if (!tb || !tb.exceptionType) {
    const signals = infraSignals(input.errorLog);
    if (signals.length) {
      return {
        kind: 'infra',
        errorType: null,
        signals,
        reason: `The log shows ${signals.join(', ')} and no Python traceback from the repository's code.`,
      };
    }
    return {
      kind: 'unclassified',
      errorType: null,
      reason:
        'The log has no Python traceback and no known infrastructure signal, so there is no exception to reproduce.',
    };
  }

  const type = shortTypeName(tb.exceptionType);
  const finalLine = `${tb.exceptionType}: ${tb.message}`;
  if (
    INFRA_EXCEPTIONS.has(type) ||
    /^(requests|urllib3|botocore|boto3|httpx|aiohttp|socket|ssl)\b.*(Connection|Timeout|Credential|SSL|Proxy|Endpoint)/.test(
      tb.exceptionType,
    )
  ) {
    const signals = infraSignals(finalLine);
    return {
      kind: 'infra',
      errorType: tb.exceptionType,
      signals: signals.length ? signals : [type],
      reason: `${tb.exceptionType} is an infrastructure failure: no code change in the repository can make the environment answer.`,
    };
  }
  if (GENERIC_EXCEPTIONS.has(type) || /HTTPError$/.test(type)) {
    const signals = infraSignals(finalLine);
    if (signals.length) {
      return {
        kind: 'infra',
        errorType: tb.exceptionType,
        signals,
        reason: `${tb.exceptionType} reports ${signals.join(', ')}: an infrastructure failure, not a code defect.`,
      };
    }
  }
  if (type === 'PermissionError' || (type === 'OSError' && infraSignals(finalLine).includes('out of disk'))) {
    return {
      kind: 'infra',
      errorType: tb.exceptionType,
      signals: infraSignals(finalLine),
      reason: `${tb.exceptionType} comes from the environment (permissions or disk), not the repository's code.`,
    };
  }

  // A frame's repoPath is the activity's finding: a library frame has none, unless the library is the
  // repository itself, installed (activities/frame-location.ts).
  const repoFrames = input.frames.filter((f) => f.repoPath !== null);
  const innermost = repoFrames.at(-1);
  if (!innermost?.repoPath) {
    return {
      kind: 'unclassified',
      errorType: tb.exceptionType,
      reason: `${tb.exceptionType} was not raised through any file of the repository (no traceback frame maps to a repository file).`,
    };
  }
  const location = {
    file: innermost.repoPath,
    func: functionOfFrame(input.frames, input.frames.lastIndexOf(innermost)),
    line: innermost.line,
    ...(isCheckLine(innermost.source, input.rulesBeforeV2) ? { check: true } : {}),
  };

  const hang = input.rulesBeforeV2 ? null : hangReport(tb);
  if (hang !== null) {
    const last = waitingOnIo(input.frames);
    if (last && last !== innermost) {
      return {
        kind: 'infra',
        errorType: tb.exceptionType,
        signals: ['timeout'],
        reason: `The program was stopped (${hang}) while waiting in ${last.file}:${last.func}, called from ${location.file}:${location.func}: it was waiting on the network or a database, which no code change can make answer.`,
      };
    }
    return {
      kind: 'code',
      errorType: tb.exceptionType,
      location: { file: location.file, func: location.func, line: location.line },
      hang: true,
      reason: `A hang: ${hang}, in ${location.file}:${location.func} (line ${location.line}). Gate 1 wants the reproduction to be still running there when OpsGuard stops it.`,
    };
  }

  const importRules = !input.rulesBeforeV2 && !input.rulesBeforeV3 && input.importTarget;
  if (importRules && IMPORT_ERRORS.has(type)) {
    const verdict = importVerdict(type, tb.message, importRules);
    if (verdict.kind === 'code') {
      return {
        kind: 'code',
        errorType: tb.exceptionType,
        location,
        reason: `${tb.exceptionType} in ${location.file}:${location.func} (line ${location.line}): ${verdict.why}.`,
      };
    }
    if (verdict.kind === 'infra') {
      return {
        kind: 'infra',
        errorType: tb.exceptionType,
        signals: ['missing or incompatible package'],
        reason: `${tb.exceptionType}: ${verdict.why}`,
      };
    }
    return { kind: 'unclassified', errorType: tb.exceptionType, reason: `${tb.exceptionType}: ${verdict.why}` };
  }

  if (type === 'FileNotFoundError') {
    const missing = /No such file or directory: '([^']+)'/.exec(tb.message)?.[1];
    if (missing && missing.startsWith('/')) {
      return {
        kind: 'infra',
        errorType: tb.exceptionType,
        signals: ['missing file outside the repository'],
        reason: `FileNotFoundError for the absolute path ${missing}: a file the deployment should provide is missing, not a repository path.`,
      };
    }
    return {
      kind: 'code',
      errorType: tb.exceptionType,
      location,
      reason: `FileNotFoundError for a repository-relative path${missing ? ` (${missing})` : ''}, raised in ${location.file}:${location.func}.`,
    };
  }
  if (CODE_EXCEPTIONS.has(type)) {
    return {
      kind: 'code',
      errorType: tb.exceptionType,
      location,
      reason: `${tb.exceptionType} raised from the repository's code in ${location.file}:${location.func} (line ${location.line}).`,
    };
  }
  // pytest's own failure (`Failed: DID NOT RAISE ValueError` at `with pytest.raises(...)`, a
  // `pytest.fail(...)`) on a check line of the repository's tests: a wrong result, like an assert.
  if (!input.rulesBeforeV2 && type === 'Failed' && location.check) {
    return {
      kind: 'code',
      errorType: tb.exceptionType,
      location,
      reason: `pytest's check failed in ${location.file}:${location.func} (line ${location.line}: ${tb.message.slice(0, 120)}): the code did not do what the test requires.`,
    };
  }
  if (!input.rulesBeforeV2 && SYNTAX_ERRORS.has(type) && input.frames.at(-1) === innermost) {
    return {
      kind: 'code',
      errorType: tb.exceptionType,
      location,
      reason: `${tb.exceptionType}: ${location.file} does not compile (line ${location.line}) on the Python that ran it.`,
    };
  }
  if (input.repoDefinesException) {
    return {
      kind: 'code',
      errorType: tb.exceptionType,
      location,
      reason: `${tb.exceptionType} is the repository's own exception class, raised in ${location.file}:${location.func}.`,
    };
  }
  // A library's subclass of a code error, named for it (numpy's UFuncTypeError, a parser's
  // InvalidValueError): gate 1 still wants that very type, raised through this location.
  const family = input.rulesBeforeV2 ? undefined : CODE_FAMILY.exec(type)?.[1];
  if (family) {
    return {
      kind: 'code',
      errorType: tb.exceptionType,
      location,
      reason: `${tb.exceptionType} is named as a kind of ${family} and was raised through the repository's code in ${location.file}:${location.func} (line ${location.line}).`,
    };
  }
  // `raise RuntimeError("...")` / `raise Exception("...")` by the repository itself, with no infra
  // signal in its message (those ended above): the code refused its own state. Raised inside a library,
  // the same generic type says too little about whose fault it is, and stays unclassified.
  if (!input.rulesBeforeV2 && GENERIC_RAISED_BY_CODE.has(type) && input.frames.at(-1) === innermost) {
    return {
      kind: 'code',
      errorType: tb.exceptionType,
      location,
      reason: `${tb.exceptionType} was raised by the repository's own code in ${location.file}:${location.func} (line ${location.line}), and its message shows no infrastructure signal.`,
    };
  }
  return {
    kind: 'unclassified',
    errorType: tb.exceptionType,
    reason: `${tb.exceptionType} is neither a known code error nor an exception class the repository defines, and the log shows no infrastructure signal.`,
  };
}
