/**
 * Signed decisions: an approver holds an Ed25519 key; `opsguard approve --key` signs
 * decisionMessage() (incident, decision, person, patch sha256, time) and the verifyDecision activity
 * checks it against the public key named after the person in OPSGUARD_APPROVER_KEYS
 * (`<name>.pem`). The result names the key that identified them; nothing else about it is trusted.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { decisionMessage } from '../workflows/approval-policy';
import type { VerifyDecisionArgs, VerifyDecisionResult } from '../workflows/incident-types';

const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/;

export async function verifyDecision(keysDir: string | null, args: VerifyDecisionArgs): Promise<VerifyDecisionResult> {
  if (!keysDir) return { ok: false, reason: 'this worker has no approver keys configured (OPSGUARD_APPROVER_KEYS)' };
  if (!KEY_ID.test(args.keyId)) return { ok: false, reason: `'${args.keyId}' is not a key id` };
  if (args.keyId !== args.by)
    return { ok: false, reason: `key ${args.keyId} belongs to ${args.keyId}, not to ${args.by}` };
  const pem = await fs.readFile(path.join(keysDir, `${args.keyId}.pem`), 'utf8').catch(() => null);
  if (pem === null) return { ok: false, reason: `no public key ${args.keyId}.pem in the worker's approver keys` };
  let key;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    return { ok: false, reason: `${args.keyId}.pem is not a public key: ${(err as Error).message}` };
  }
  if (key.asymmetricKeyType !== 'ed25519') return { ok: false, reason: `${args.keyId}.pem is not an Ed25519 key` };
  const message = Buffer.from(decisionMessage(args), 'utf8');
  const good = (() => {
    try {
      return verify(null, message, key, Buffer.from(args.signature, 'base64'));
    } catch {
      return false;
    }
  })();
  if (!good)
    return { ok: false, reason: `the signature was not made by ${args.keyId}'s key over this decision and patch` };
  const fingerprint = createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
  return { ok: true, identifiedBy: `Ed25519 key ${args.keyId} (${fingerprint})` };
}

/** What `opsguard approve --key` sends: the signature over the decision, with its key id and time. */
export function signDecision(
  privateKeyPem: string,
  fields: { incidentId: string; decision: 'approve' | 'reject'; by: string; patchSha256: string; signedAt: string },
): { signature: string; keyId: string; signedAt: string } {
  const key = createPrivateKey(privateKeyPem);
  const signature = sign(null, Buffer.from(decisionMessage(fields), 'utf8'), key).toString('base64');
  return { signature, keyId: fields.by, signedAt: fields.signedAt };
}
