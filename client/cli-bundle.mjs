// The command line's bundle: client/cli.ts and everything it imports, compiled by esbuild into
// .build/cli/<build>/ (git-ignored) so that `opsguard` starts without transpiling the tree on every run.
//
// Plain JavaScript on purpose: client/bin.mjs imports it before any TypeScript can run.
//
// - Code splitting: each command loads its dependencies (the Temporal client, Docker, the model SDK)
//   with import() in its action, so `--help` and `status` load only what they use.
// - Packages stay external (resolved in node_modules at run time, as from source), except the few
//   small ones every command loads (BUNDLED_PACKAGES).
// - Fresh or rebuilt: the bundle records its inputs; when any of them changed after the build, the
//   next run rebuilds (about 0.3 s) before starting. Builds go to a new folder each time and
//   current.json is replaced atomically, so a command already running keeps loading its own chunks.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUILD_DIR = path.join(ROOT, '.build', 'cli');
const CURRENT = path.join(BUILD_DIR, 'current.json');
const ENTRY = path.join(ROOT, 'client', 'cli.ts');
/**
 * Packages compiled into the bundle rather than loaded from node_modules at run time: the small ones
 * every command loads (resolving and loading them file by file costs more than the code). Everything
 * else (the Temporal client and worker, Docker, the model SDK) stays external and loads only in the
 * commands that use it.
 */
const BUNDLED_PACKAGES = [
  'commander',
  '@temporalio/envconfig',
  'smol-toml',
  '@temporalio/common/lib/encoding',
  '@temporalio/common/lib/internal-workflow',
];

/** esbuild plugin: bare imports are external unless listed in BUNDLED_PACKAGES. */
const externalUnlessBundled = {
  name: 'external-unless-bundled',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:')) return { external: true };
      const bundled = BUNDLED_PACKAGES.some((p) => args.path === p || args.path.startsWith(`${p}/`));
      return bundled ? undefined : { external: true };
    });
  },
};

/** Older builds are removed once they are this old (a command still running from one has long finished). */
const KEEP_OLD_BUILDS_MS = 60 * 60 * 1000;

function readCurrent() {
  try {
    return JSON.parse(fs.readFileSync(CURRENT, 'utf8'));
  } catch {
    return null;
  }
}

/** The current build when it exists and no input changed since; otherwise null. */
export function freshBuild() {
  const current = readCurrent();
  if (!current || !Array.isArray(current.inputs)) return null;
  const entry = path.join(BUILD_DIR, current.dir, 'cli.js');
  if (!fs.existsSync(entry)) return null;
  for (const input of current.inputs) {
    let stat;
    try {
      stat = fs.statSync(path.join(ROOT, input));
    } catch {
      return null; // an input was deleted or renamed
    }
    if (stat.mtimeMs > current.builtAtMs) return null;
  }
  return entry;
}

/** Build the bundle now; returns the entry file. */
export async function buildCli() {
  const esbuild = await import('esbuild');
  const dir = `${Date.now()}-${process.pid}`;
  const outdir = path.join(BUILD_DIR, dir);
  const builtAtMs = Date.now();
  const result = await esbuild.build({
    entryPoints: { cli: ENTRY },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    plugins: [externalUnlessBundled],
    // The bundled CommonJS packages call require() for Node's own modules.
    banner: {
      js: "import { createRequire as __opsguardRequire } from 'node:module'; const require = __opsguardRequire(import.meta.url);",
    },
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'silent',
  });
  // Our sources, plus what decides how they are built: this file and the installed packages' lock.
  const inputs = [
    ...Object.keys(result.metafile.inputs).filter((p) => !p.startsWith('node_modules/')),
    'client/cli-bundle.mjs',
    'package-lock.json',
  ];
  const tmp = `${CURRENT}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ dir, builtAtMs, inputs }, null, 2));
  fs.renameSync(tmp, CURRENT);
  removeOldBuilds(dir);
  return path.join(outdir, 'cli.js');
}

function removeOldBuilds(keep) {
  for (const name of fs.readdirSync(BUILD_DIR)) {
    const full = path.join(BUILD_DIR, name);
    if (name === keep || name === 'current.json' || name.endsWith('.tmp')) continue;
    try {
      if (Date.now() - fs.statSync(full).mtimeMs > KEEP_OLD_BUILDS_MS)
        fs.rmSync(full, { recursive: true, force: true });
    } catch {
      // another process removed it first
    }
  }
}

/** The entry to import: the fresh bundle, a new one, or (when esbuild cannot build) null. */
export async function cliEntry() {
  const fresh = freshBuild();
  if (fresh) return pathToFileURL(fresh).href;
  try {
    return pathToFileURL(await buildCli()).href;
  } catch (err) {
    const first = String(err?.message ?? err).split('\n')[0];
    process.stderr.write(`opsguard: could not build the command line's bundle (${first}); running from source.\n`);
    return null;
  }
}

// `node client/cli-bundle.mjs` (the set-up step): build unless fresh, and say which.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const fresh = freshBuild();
  if (fresh && !process.argv.includes('--force')) {
    console.log(`command line bundle is up to date (${path.relative(ROOT, fresh)})`);
  } else {
    const started = Date.now();
    const entry = await buildCli();
    console.log(`built the command line bundle in ${Date.now() - started} ms (${path.relative(ROOT, entry)})`);
  }
}
