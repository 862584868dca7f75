/**
 * Redaction of obvious secrets in an incoming error log, before anything reaches the model or an
 * artifact: cloud keys, bearer tokens, private keys, passwords in URLs, API tokens, and
 * `password=...`-style pairs. Each match becomes `[REDACTED:<kind>]`; the counts go to proof.json.
 */
export interface Redaction {
  kind: string;
  count: number;
}

const RULES: { kind: string; pattern: RegExp; replace: (m: string, ...groups: string[]) => string }[] = [
  {
    kind: 'private_key',
    pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
    replace: () => '[REDACTED:private_key]',
  },
  {
    kind: 'aws_access_key_id',
    pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
    replace: () => '[REDACTED:aws_access_key_id]',
  },
  {
    kind: 'aws_secret_access_key',
    pattern: /(aws_secret_access_key|secret_access_key|SecretAccessKey)(["']?\s*[=:]\s*["']?)[A-Za-z0-9/+=]{40}/gi,
    replace: (_m, key, sep) => `${key}${sep}[REDACTED:aws_secret_access_key]`,
  },
  {
    kind: 'bearer_token',
    pattern: /\b(Bearer|Basic|Token)\s+[A-Za-z0-9\-._~+/]{12,}=*/g,
    replace: (m) => `${m.split(/\s+/)[0]} [REDACTED:bearer_token]`,
  },
  {
    kind: 'url_password',
    pattern: /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)(?!\[REDACTED)([^\s@/]+)@/gi,
    replace: (_m, prefix) => `${prefix}[REDACTED:url_password]@`,
  },
  {
    kind: 'github_token',
    pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})\b/g,
    replace: () => '[REDACTED:github_token]',
  },
  {
    kind: 'api_key',
    pattern: /\b(?:sk-(?:proj-)?[A-Za-z0-9_-]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35})\b/g,
    replace: () => '[REDACTED:api_key]',
  },
  {
    kind: 'secret_assignment',
    pattern:
      /\b(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?token|auth[_-]?token|refresh[_-]?token|client[_-]?secret)(["']?\s*[=:]\s*["']?)(?!\[REDACTED)[^\s"',;&]{6,}/gi,
    replace: (_m, key, sep) => `${key}${sep}[REDACTED:secret_assignment]`,
  },
];

export function redactSecrets(text: string): { text: string; redactions: Redaction[] } {
  const redactions: Redaction[] = [];
  let out = text;
  for (const rule of RULES) {
    let count = 0;
    out = out.replace(rule.pattern, (...args: string[]) => {
      count++;
      return rule.replace(...(args as [string, ...string[]]));
    });
    if (count) redactions.push({ kind: rule.kind, count });
  }
  return { text: out, redactions };
}
