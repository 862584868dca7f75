import { defineSearchAttributeKey } from '@temporalio/common';

/**
 * Typed search attributes OpsGuard upserts, all Keyword. The dev server registers them at start
 * (see client/dev-server.ts); on a production cluster create them with
 * `temporal operator search-attribute create --name OpsGuardStatus --type Keyword` (and so on).
 */
export const OPSGUARD_STATUS = defineSearchAttributeKey('OpsGuardStatus', 'KEYWORD');
export const OPSGUARD_ERROR_TYPE = defineSearchAttributeKey('OpsGuardErrorType', 'KEYWORD');
export const OPSGUARD_REPO = defineSearchAttributeKey('OpsGuardRepo', 'KEYWORD');
export const OPSGUARD_FINGERPRINT = defineSearchAttributeKey('OpsGuardFingerprint', 'KEYWORD');

/** The delivered pull request's URL (or the local branch, when there is no pull request). */
export const OPSGUARD_PULL_REQUEST = defineSearchAttributeKey('OpsGuardPullRequest', 'KEYWORD');

export const SEARCH_ATTRIBUTE_NAMES = [
  'OpsGuardStatus',
  'OpsGuardErrorType',
  'OpsGuardRepo',
  'OpsGuardFingerprint',
  'OpsGuardPullRequest',
];
