/**
 * What a repository folder holds, told from its metadata alone: one `find` over the tree (the same
 * folders skipped as copy-tree.ts skips), each entry's type, inode, size, modification and change
 * times, mode and link target hashed in path order. No file is read, so a 50,000-file tree is
 * told in about 0.2 s (bench/workspace-scale.ts).
 *
 * Two walks with the same signature saw the same tree: any write to a file changes its change
 * time (ctime, which no user call can set back), a file replaced by rename has another inode, and
 * adding, removing or renaming anything changes the listing. The one gap is the same as git's
 * "racily clean" index: a file written within the file system's timestamp granularity of the walk.
 * So a tree with anything changed in the last RACY_SECONDS is `racy` and its signature is not
 * trusted for sharing (shared-baseline.ts copies it for the incident alone).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { SKIPPED_DIRS } from './copy-tree';

export interface TreeState {
  /** Bytes of regular files (what a copy would hold), up to the point the walk stopped. */
  bytes: number;
  /** Files, folders and links seen. */
  entries: number;
  /** The walk stopped because `bytes` passed the limit it was given. */
  overLimit: boolean;
  /** sha256 of the listing; null when the tree could not be told whole (why says so). */
  signature: string | null;
  /** Something in it changed within RACY_SECONDS of the walk: the signature may miss a write. */
  racy: boolean;
  why?: string;
  /**
   * Each regular file's identity (type, inode, size, mtime, ctime, mode) by relative path: a file
   * with the same identity in two walks was not written between them (shared-baseline.ts takes it
   * from the tree's earlier baseline instead of copying it again).
   */
  files: Map<string, string>;
}

/** A change this recent may share a timestamp with a later write (coarse clocks, racy git). */
export const RACY_SECONDS = 2;

const FIELDS = '%y %i %s %T@ %C@ %m %P\\t%l\\0';
const FOLDER_FIELDS = 'd 0 0 0 0 %m %P\\t\\0';

/** Walk `root` (its real path) once with find(1); stop early once past `stopAtBytes`. */
export function treeState(root: string, stopAtBytes = Number.POSITIVE_INFINITY): Promise<TreeState> {
  const prune = [...SKIPPED_DIRS].flatMap((name, i) => (i ? ['-o', '-name', name] : ['-name', name]));
  // A folder by its name and mode only: its times change when a skipped cache folder appears in it,
  // and what it holds is listed entry by entry anyway.
  const args = [
    root,
    '-mindepth',
    '1',
    '(',
    '-type',
    'd',
    '(',
    ...prune,
    ')',
    ')',
    '-prune',
    '-o',
    '(',
    '-type',
    'd',
    '-printf',
    FOLDER_FIELDS,
    ')',
    '-o',
    '-printf',
    FIELDS,
  ];
  const startedAt = Date.now() / 1000;
  return new Promise((resolve) => {
    const state: TreeState = {
      bytes: 0,
      entries: 0,
      overLimit: false,
      signature: null,
      racy: false,
      files: new Map(),
    };
    const hash = createHash('sha256');
    let rest = '';
    let stderr = '';
    const child = spawn('find', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let done = false; // a child that cannot start reports both 'error' and 'close': the first says it
    const finish = (why?: string) => {
      if (done) return;
      done = true;
      if (why) state.why = why;
      resolve(state);
    };
    child.on('error', (err) => finish(`find(1) could not run: ${err.message}`));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 2000) stderr += d;
    });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const records = (rest + chunk).split('\0');
      rest = records.pop() ?? '';
      for (const record of records) {
        hash.update(`${record}\n`);
        state.entries++;
        const [type, , size, , ctime] = record.split(' ', 5);
        if (type === 'f') {
          state.bytes += Number(size);
          // `f ino size mtime ctime mode path\tlink`: the identity is all before the path.
          let at = -1;
          for (let i = 0; i < 6; i++) at = record.indexOf(' ', at + 1);
          const tab = record.lastIndexOf('\t');
          if (at > 0 && tab > at) state.files.set(record.slice(at + 1, tab), record.slice(0, at));
        }
        if (Number(ctime) >= startedAt - RACY_SECONDS) state.racy = true;
      }
      if (state.bytes > stopAtBytes && !state.overLimit) {
        state.overLimit = true;
        child.kill();
      }
    });
    child.on('close', (code) => {
      if (state.overLimit) return finish('the walk stopped at the size limit');
      if (code !== 0)
        return finish(`find(1) could not read all of it: ${stderr.trim().split('\n')[0] || `exit ${code}`}`);
      state.signature = hash.digest('hex');
      finish();
    });
  });
}
