/**
 * The worker's start-up check of the namespace's search attributes, the decision alone, against a
 * stand-in for the operator service (the real server and worker process are in
 * test/search-attributes.test.ts; a cluster refusing the listing, as Temporal Cloud may for an API
 * key without that permission, cannot be produced by the dev server, hence this stand-in).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkSearchAttributes } from '../../worker/search-attribute-check';
import { SEARCH_ATTRIBUTE_NAMES } from '../../workflows/search-attributes';

function cluster(known: string[], opts: { listFails?: string } = {}) {
  const added: Record<string, number>[] = [];
  const operatorService = {
    listSearchAttributes: async () => {
      if (opts.listFails) throw new Error(opts.listFails);
      return { customAttributes: Object.fromEntries(known.map((k) => [k, 2])) };
    },
    addSearchAttributes: async (req: { searchAttributes: Record<string, number> }) => {
      added.push(req.searchAttributes);
      return {};
    },
  };
  return { connection: { operatorService } as unknown as Parameters<typeof checkSearchAttributes>[0], added };
}

test('missing search attributes: named, with the commands that create them', async () => {
  const c = cluster(['OpsGuardStatus', 'OpsGuardErrorType', 'OpsGuardRepo', 'OpsGuardFingerprint']);
  const r = await checkSearchAttributes(c.connection, 'prod', false);
  assert.deepEqual(r, {
    ok: false,
    missing: ['OpsGuardPullRequest'],
    commands: ['temporal operator search-attribute create --namespace prod --name OpsGuardPullRequest --type Keyword'],
  });
  assert.equal(c.added.length, 0, 'nothing created without permission');
});

test('created when the worker may; nothing to do when all are there; unknown when listing is refused', async () => {
  const c = cluster([]);
  assert.deepEqual(await checkSearchAttributes(c.connection, 'dev', true), {
    ok: true,
    created: SEARCH_ATTRIBUTE_NAMES,
  });
  assert.deepEqual(Object.keys(c.added[0] ?? {}), SEARCH_ATTRIBUTE_NAMES);
  assert.deepEqual(await checkSearchAttributes(cluster(SEARCH_ATTRIBUTE_NAMES).connection, 'dev', false), {
    ok: true,
    created: [],
  });
  const refused = await checkSearchAttributes(
    cluster([], { listFails: '7 PERMISSION_DENIED: Request unauthorized.' }).connection,
    'cloud',
    false,
  );
  assert.deepEqual(refused, { ok: 'unknown', why: '7 PERMISSION_DENIED: Request unauthorized.' });
});
