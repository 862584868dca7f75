/**
 * Reading what a guarded run wrote (sandbox/runner/opsguard_guard.py explains the protocol). The
 * records file is writable by the code under test, so nothing in it is believed unless the one signed
 * end record vouches for it:
 *   D<TAB>kind<TAB>json                               data written during the run
 *   E<TAB>kind<TAB>mac<TAB>header<TAB>details         the signed end record (HMAC-SHA256, run key)
 * The header's digest covers every byte written before the end record; data records count only
 * inside that prefix. No valid end record, or more than one, means no verdict.
 */
import { createHmac, timingSafeEqual, createHash } from 'node:crypto';

/** The part of the end record the signer itself wrote: no code under test can shape it. */
export interface EndHeader {
  ran_to_end: boolean;
  exit_code: number;
  records_bytes: number;
  records_sha256: string;
}

export interface EndRecord {
  kind: string;
  header: EndHeader;
  /** The entry point's details (exception, coverage, per-test summary); null when not JSON. */
  details: unknown;
}

export interface DataRecord {
  kind: string;
  fields: Record<string, unknown>;
}

export interface VerifiedRecords {
  /** The one valid end record, or null (see `problem`). */
  end: EndRecord | null;
  /** Why there is no end record to believe. */
  problem?: string;
  /**
   * Data records. With an end record: those its digest covers. Without one: every parseable data
   * record, which the code under test could have written; callers may use them only to be stricter.
   */
  data: DataRecord[];
  /** Lines that were neither a data record nor an end record (damage, or someone else's writing). */
  strayLines: number;
}

function parseData(line: string): DataRecord | null {
  const [tag, kind, json] = line.split('\t', 3);
  if (tag !== 'D' || !kind || json === undefined) return null;
  try {
    const fields = JSON.parse(json) as unknown;
    return fields && typeof fields === 'object' ? { kind, fields: fields as Record<string, unknown> } : null;
  } catch {
    return null;
  }
}

function dataIn(bytes: Buffer): { data: DataRecord[]; strayLines: number } {
  const data: DataRecord[] = [];
  let strayLines = 0;
  for (const line of bytes.toString('utf8').split('\n')) {
    if (!line) continue;
    const d = parseData(line);
    if (d) data.push(d);
    else if (!line.startsWith('E\t')) strayLines++;
  }
  return { data, strayLines };
}

/** Split a line (bytes) at its first `n` tabs. */
function splitTabs(line: Buffer, n: number): Buffer[] {
  const parts: Buffer[] = [];
  let from = 0;
  for (let i = 0; i < n; i++) {
    const tab = line.indexOf(9, from);
    if (tab < 0) return [];
    parts.push(line.subarray(from, tab));
    from = tab + 1;
  }
  parts.push(line.subarray(from));
  return parts;
}

/** The end records whose signature is right, and how many carried a wrong one. */
function signedEnds(content: Buffer, key: Buffer): { ends: EndRecord[]; badSignatures: number } {
  const ends: EndRecord[] = [];
  let badSignatures = 0;
  let from = 0;
  while (from < content.length) {
    const newline = content.indexOf(10, from);
    const line = content.subarray(from, newline < 0 ? content.length : newline);
    from = newline < 0 ? content.length : newline + 1;
    if (line[0] !== 0x45 || line[1] !== 9) continue; // "E\t"
    const parts = splitTabs(line, 4);
    if (parts.length !== 5) continue;
    const [, kind, mac, header, details] = parts as [Buffer, Buffer, Buffer, Buffer, Buffer];
    const expected = createHmac('sha256', key)
      .update(Buffer.concat([kind, Buffer.from('\t'), header, Buffer.from('\t'), details]))
      .digest();
    const given = Buffer.from(mac.toString('latin1'), 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      badSignatures++;
      continue;
    }
    let parsedDetails: unknown;
    try {
      parsedDetails = JSON.parse(details.toString('utf8'));
    } catch {
      parsedDetails = null; // the signer signs what the entry point gave it; a broken body is no detail
    }
    try {
      ends.push({
        kind: kind.toString('utf8'),
        header: JSON.parse(header.toString('utf8')) as EndHeader,
        details: parsedDetails,
      });
    } catch {
      badSignatures++;
    }
  }
  return { ends, badSignatures };
}

/** Check a run's records against its key; see the module comment for what is believed. */
export function verifyRecords(content: Buffer, key: Buffer): VerifiedRecords {
  const { ends, badSignatures } = signedEnds(content, key);
  if (ends.length === 1) {
    const end = ends[0] as EndRecord;
    const covered = content.subarray(0, end.header.records_bytes);
    const digest = createHash('sha256').update(covered).digest('hex');
    if (covered.length !== end.header.records_bytes || digest !== end.header.records_sha256) {
      return {
        end: null,
        problem: 'the records written before the signed end record were changed after it was signed',
        ...dataIn(content),
      };
    }
    return { end, ...dataIn(covered) };
  }
  const problem =
    ends.length > 1
      ? `${ends.length} validly signed end records: the process was duplicated (fork), so none is believed`
      : badSignatures > 0
        ? `no validly signed end record (${badSignatures} with a wrong signature, written by the code under test)`
        : 'no signed end record: the process ended before the runner could report (os._exit, a crash, a kill, or the tripwire)';
  return { end: null, problem, ...dataIn(content) };
}
