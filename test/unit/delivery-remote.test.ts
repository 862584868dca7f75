/**
 * Where the GitHub token may go and what a remote is: the token only to the configured GitHub host
 * over HTTPS (never to another host, a look-alike or plain HTTP), owner/name read from the URL forms
 * GitHub remotes take, credentials never shown in a message.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { githubHost, redactUrl, tokenEnv } from '../../activities/delivery-push';
import { repositoryFromUrl } from '../../activities/pull-request';

test('the token goes to the configured GitHub host over HTTPS, as a header scoped to it, and nowhere else', () => {
  assert.equal(githubHost('https://api.github.com'), 'github.com');
  assert.equal(githubHost('https://ghe.example.com/api/v3'), 'ghe.example.com');
  const env = tokenEnv('https://github.com/acme/orders.git', 'github.com', 'ghp_secret');
  assert.deepEqual(env, {
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.https://github.com/.extraheader',
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from('x-access-token:ghp_secret').toString('base64')}`,
  });
  for (const url of [
    'https://evil.example.com/acme/orders.git',
    'https://github.com.evil.example.com/acme/orders.git',
    'http://github.com/acme/orders.git',
    'git@github.com:acme/orders.git',
    '/srv/git/orders.git',
  ])
    assert.deepEqual(tokenEnv(url, 'github.com', 'ghp_secret'), {}, url);
  assert.deepEqual(tokenEnv('https://github.com/acme/orders.git', 'github.com', undefined), {});
});

test('owner/name from GitHub remote URLs; none from other hosts; credentials never shown', () => {
  for (const url of [
    'https://github.com/acme/orders.git',
    'https://github.com/acme/orders',
    'git@github.com:acme/orders.git',
    'ssh://git@github.com/acme/orders.git',
  ])
    assert.equal(repositoryFromUrl(url, 'github.com'), 'acme/orders', url);
  assert.equal(repositoryFromUrl('https://gitlab.com/acme/orders.git', 'github.com'), null);
  assert.equal(repositoryFromUrl('/srv/git/orders.git', 'github.com'), null);
  assert.equal(redactUrl('https://user:pass@example.com/acme/orders.git'), 'https://example.com/acme/orders.git');
});
