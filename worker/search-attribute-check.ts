/**
 * A worker checks at start that its namespace has OpsGuard's search attributes. Without them the
 * workflow's first upsert fails its task over and over (BadSearchAttributes): the incident shows
 * Running forever and answers nothing. So a worker refuses to start, printing the exact commands that
 * create them, or creates them itself when allowed (OPSGUARD_CREATE_SEARCH_ATTRIBUTES=true; the local
 * dev server registers them at start). Where the cluster does not let a worker list them (a
 * permission it lacks), the worker says it could not check and goes on.
 */
import type { NativeConnection } from '@temporalio/worker';
import { SEARCH_ATTRIBUTE_NAMES } from '../workflows/search-attributes';

export type SearchAttributeCheck =
  | { ok: true; created: string[] }
  | { ok: false; missing: string[]; commands: string[] }
  | { ok: 'unknown'; why: string };

const KEYWORD = 2; // temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD

export async function checkSearchAttributes(
  connection: Pick<NativeConnection, 'operatorService'>,
  namespace: string,
  create: boolean,
): Promise<SearchAttributeCheck> {
  let known: Record<string, unknown>;
  try {
    known = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch (err) {
    return { ok: 'unknown', why: (err as Error).message.split('\n')[0] ?? 'no answer' };
  }
  const missing = SEARCH_ATTRIBUTE_NAMES.filter((n) => !(n in known));
  if (!missing.length) return { ok: true, created: [] };
  if (create) {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((n) => [n, KEYWORD])),
    });
    return { ok: true, created: missing };
  }
  return {
    ok: false,
    missing,
    commands: missing.map(
      (n) => `temporal operator search-attribute create --namespace ${namespace} --name ${n} --type Keyword`,
    ),
  };
}
