/**
 * Step 3 (prepare_environment): the repository profile, the Python, and the repository's dependencies,
 * installed once per (image, declarations) into a cache folder every later run mounts read-only.
 *
 * The network is used here only, in a container of the same sandbox image the runs use (same Python,
 * C library and compiler, so compiled packages fit), on Docker's bridge network, trusting the CA
 * bundle configured for the package index. Nothing of the worker's (model key, tokens) goes in; the
 * repository's setup.py is read by ast, never run. A failure ends the incident as environment_failed
 * with the installer's log as an artifact; it never goes on without the dependencies.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import { parse as parseToml } from 'smol-toml';
import type {
  EnvironmentSummary,
  PrepareEnvironmentArgs,
  PrepareEnvironmentResult,
  SandboxEnvironment,
} from '../workflows/incident-types';
import { mergeProfiles, validateProfile } from '../workflows/repo-profile';
import type { RepositoryProfile } from '../workflows/repo-profile';
import { IN_CONTAINER, RUNNER_ON_HOST } from '../sandbox/guarded-run';
import { runInSandbox } from '../sandbox/run-container';
import { withDefaults } from '../sandbox/limits';
import { cacheEntry, cacheKey, commitStaging, findCached, stagingFolder } from './dependency-cache';
import { installedImportNames } from './module-shadowing';
import { oneAtATime } from './one-at-a-time';
import { readDeclarations } from './dependency-declarations';
import type { Declarations } from './dependency-declarations';
import { choosePython } from './python-choice';
import { readContext } from './workspace';
import { inSandboxActivity } from './sandbox-activity';
import { writeFileAtomic } from './incident-paths';
import type { IncidentPaths } from './incident-paths';
import { redactSecrets } from './redact-secrets';

export interface EnvironmentDeps {
  docker: Docker;
  defaultImage: string;
  cacheDir: string;
  pythonImages: Record<string, string>;
  pipWheelDir: string;
  caBundle: string | null;
  indexUrl: string | null;
  prepareTimeoutSeconds: number;
}

/** What the preparation container may use: more than a test run, since builds compile. */
const PREPARE_LIMITS = { memoryMb: 2048, cpus: 2, pids: 512, tmpfsMb: 2048, fileSizeMb: 1024, outputBytes: 64 * 1024 };
const MAX_NOTES = 30;
const PREPARE_SCRIPT = path.join(RUNNER_ON_HOST, 'opsguard_prepare.py');

/** The repository's own profile: `.opsguard.toml`, or `[tool.opsguard]` in pyproject.toml (not both). */
export async function readRepositoryProfile(
  root: string,
): Promise<{ profile: RepositoryProfile; sources: string[]; problems: string[] }> {
  const found: { source: string; style: 'toml'; raw: unknown }[] = [];
  const problems: string[] = [];
  const tomlOf = async (rel: string): Promise<Record<string, unknown> | null> => {
    const stat = await fs.lstat(path.join(root, rel)).catch(() => null);
    if (!stat?.isFile()) return null;
    try {
      return parseToml(await fs.readFile(path.join(root, rel), 'utf8'));
    } catch (err) {
      problems.push(`${rel}: not valid TOML: ${(err as Error).message.split('\n')[0]}`);
      return null;
    }
  };
  const own = await tomlOf('.opsguard.toml');
  if (own) found.push({ source: '.opsguard.toml', style: 'toml', raw: own });
  const pyproject = await tomlOf('pyproject.toml');
  const tool = pyproject?.tool as Record<string, unknown> | undefined;
  if (tool && 'opsguard' in tool)
    found.push({ source: 'pyproject.toml [tool.opsguard]', style: 'toml', raw: tool.opsguard });
  if (found.length > 1)
    problems.push('the repository has two profiles (.opsguard.toml and [tool.opsguard] in pyproject.toml): keep one');
  let profile: RepositoryProfile = {};
  for (const f of found) {
    const v = validateProfile(f.raw, f.style, f.source);
    if (v.ok) profile = v.profile;
    else problems.push(...v.problems);
  }
  return { profile, sources: found.map((f) => f.source), problems };
}

/**
 * Folders on sys.path as production has them: the root, then the profile's python-paths, else the
 * folders the packaging config names (package_dir, packages.find where, Poetry's from), else src/
 * when the code lives there.
 */
export async function pythonPathsFor(
  root: string,
  profile: RepositoryProfile,
  packageRoots: string[] = [],
): Promise<string[]> {
  if (profile.pythonPaths?.length) return ['.', ...profile.pythonPaths.filter((p) => p !== '.')];
  const declared: string[] = [];
  for (const dir of packageRoots) {
    const stat = await fs.lstat(path.join(root, dir)).catch(() => null);
    if (stat?.isDirectory()) declared.push(dir);
  }
  if (declared.length) return ['.', ...declared];
  const src = await fs.readdir(path.join(root, 'src'), { withFileTypes: true }).catch(() => null);
  const srcLayout =
    !!src &&
    !src.some((e) => e.name === '__init__.py') &&
    src.some((e) => (e.isDirectory() && !e.name.endsWith('.egg-info')) || e.name.endsWith('.py'));
  return srcLayout ? ['.', 'src'] : ['.'];
}

async function imageId(docker: Docker, image: string): Promise<string | null> {
  try {
    return (await docker.getImage(image).inspect()).Id;
  } catch {
    return null;
  }
}

async function fileHashes(root: string, files: string[]) {
  return await Promise.all(
    files.map(async (f) => ({
      path: f,
      sha256: createHash('sha256')
        .update(await fs.readFile(path.join(root, f)))
        .digest('hex'),
    })),
  );
}

interface PrepareResultFile {
  python: string;
  python_full: string;
  requirements: { requirement: string; from: string }[];
  failed: { requirement: string; from: string }[];
  installed: { name: string; version: string | null }[];
  notes: string[];
}

export async function prepareEnvironment(
  deps: EnvironmentDeps,
  paths: IncidentPaths,
  args: PrepareEnvironmentArgs,
): Promise<PrepareEnvironmentResult> {
  const started = Date.now();
  const root = paths.baseline;
  const repoProfile = await readRepositoryProfile(root);
  if (repoProfile.problems.length)
    return { ok: false, reason: `The repository profile is not valid: ${repoProfile.problems.join('; ')}` };
  const profile = mergeProfiles(repoProfile.profile, args.profile);
  const profileSources = [...repoProfile.sources, ...(args.profile ? ['input'] : [])];

  const declarations: Declarations = await readDeclarations(root);
  if (declarations.problems.length)
    return { ok: false, reason: `The dependency declarations cannot be read: ${declarations.problems.join('; ')}` };

  const available = new Map<string, string>();
  for (const [version, image] of Object.entries(deps.pythonImages))
    if (await imageId(deps.docker, image)) available.set(version, image);
  const defaultPython = Object.entries(deps.pythonImages).find(([, img]) => img === deps.defaultImage)?.[0] ?? null;
  const context = await readContext(paths);
  const choice = choosePython({
    inputImage: args.image,
    profileImage: profile.image,
    profilePython: profile.python,
    errorLog: context.errorLog,
    requiresPython: declarations.requiresPython,
    classifierPythons: declarations.classifierPythons,
    available,
    defaultImage: deps.defaultImage,
    defaultPython,
  });
  const id = await imageId(deps.docker, choice.image);
  if (!id) {
    return {
      ok: false,
      reason: `The sandbox image ${choice.image} (${choice.reason}) does not exist on the Docker engine; run 'npm run setup' or name another image`,
    };
  }

  const pipWheel = (await fs.readdir(deps.pipWheelDir).catch(() => [] as string[])).find((f) =>
    /^pip-.*\.whl$/.test(f),
  );
  const recipe = createHash('sha256')
    .update(await fs.readFile(PREPARE_SCRIPT))
    .update(pipWheel ?? 'no pip wheel')
    .digest('hex');
  const key = cacheKey({
    imageId: id,
    files: await fileHashes(root, declarations.files),
    packages: profile.packages ?? [],
    ignore: profile.ignorePackages ?? [],
    recipe,
  });
  const environment: SandboxEnvironment = {
    depsKey: key,
    pythonPaths: await pythonPathsFor(root, profile, declarations.packageRoots),
    env: profile.env ?? {},
    testArgs: profile.testArgs ?? [],
  };
  const notes = [...declarations.notes];
  const summaryOf = (r: PrepareResultFile, cacheHit: boolean, logPath?: string): EnvironmentSummary => ({
    image: choice.image,
    imageId: id,
    python: r.python ?? choice.python,
    pythonFull: r.python_full ?? null,
    pythonSource: choice.source,
    pythonReason: choice.reason,
    depsKey: key,
    cacheHit,
    declarationFiles: declarations.files,
    profileSources,
    requirements: r.requirements.length,
    installed: r.installed.slice(0, 200),
    notes: [...notes, ...r.notes].slice(0, MAX_NOTES),
    durationMs: Date.now() - started,
    ...(logPath ? { logPath } : {}),
  });
  const envDir = path.join(paths.artifactDir, 'environment');
  // For the prompts (the Python and packages), and for the patch engine: which folders come first
  // on sys.path and which import names the dependencies provide (a fix may not shadow them).
  const saveForPrompts = async (r: PrepareResultFile) =>
    await writeFileAtomic(
      paths.environment,
      JSON.stringify({
        python: r.python_full ?? r.python,
        installed: r.installed.map((p) => `${p.name}==${p.version}`),
        pythonPaths: environment.pythonPaths,
        importNames: await installedImportNames(cacheEntry(deps.cacheDir, key).site),
      }),
    );

  // Incidents on the same declarations at once (a burst of alerts on one commit) prepare once: the
  // others wait here for that run and then find the entry it wrote (a failed one is not cached, so
  // the next tries again and gets its own log).
  return await oneAtATime(`${deps.cacheDir}\0${key}`, () => cachedOrPrepared());

  async function cachedOrPrepared(): Promise<PrepareEnvironmentResult> {
    const cached = await findCached(deps.cacheDir, key);
    if (cached) {
      const r = JSON.parse(await fs.readFile(cached.result, 'utf8')) as PrepareResultFile;
      await saveForPrompts(r);
      return { ok: true, summary: summaryOf(r, true), environment, profile };
    }

    const staging = await stagingFolder(deps.cacheDir, key);
    const runDir = path.join(staging, '.run');
    try {
      await fs.mkdir(runDir);
      await fs.chmod(staging, 0o777); // the container's user (nobody) writes site/ and result.json here
      const spec = {
        requirements: [...declarations.runtime, ...declarations.test].map((r) => ({
          requirement: r.requirement,
          from: r.from,
        })),
        constraints: declarations.constraints,
        setup_py: declarations.setupPy,
        project_name: declarations.projectName,
        project_version: declarations.projectVersion,
        ignore: profile.ignorePackages ?? [],
        pip_wheel: pipWheel ? `/opsguard/pip/${pipWheel}` : null,
      };
      spec.requirements.push(
        ...(profile.packages ?? []).map((p) => ({ requirement: p, from: 'the repository profile' })),
      );
      await fs.writeFile(path.join(runDir, 'prepare.json'), JSON.stringify(spec, null, 2));
      const env: Record<string, string> = {
        HOME: '/tmp',
        PATH: '/usr/local/bin:/usr/bin:/bin',
        LANG: 'C.UTF-8',
        PYTHONUNBUFFERED: '1',
      };
      if (deps.caBundle)
        Object.assign(env, {
          SSL_CERT_FILE: '/opsguard/ca.crt',
          PIP_CERT: '/opsguard/ca.crt',
          REQUESTS_CA_BUNDLE: '/opsguard/ca.crt',
        });
      if (deps.indexUrl) env.PIP_INDEX_URL = deps.indexUrl;
      const result = await inSandboxActivity(choice.image, (signal) =>
        runInSandbox(deps.docker, {
          image: choice.image,
          argv: ['python3', '-I', '-u', '-B', `${IN_CONTAINER.runner}/opsguard_prepare.py`],
          env,
          workdir: '/tmp',
          network: 'bridge',
          mounts: [
            { hostPath: root, containerPath: IN_CONTAINER.workspace, readOnly: true },
            { hostPath: RUNNER_ON_HOST, containerPath: IN_CONTAINER.runner, readOnly: true },
            { hostPath: path.join(runDir, 'prepare.json'), containerPath: '/opsguard/prepare.json', readOnly: true },
            { hostPath: staging, containerPath: '/out', readOnly: false },
            ...(pipWheel ? [{ hostPath: deps.pipWheelDir, containerPath: '/opsguard/pip', readOnly: true }] : []),
            ...(deps.caBundle ? [{ hostPath: deps.caBundle, containerPath: '/opsguard/ca.crt', readOnly: true }] : []),
          ],
          limits: withDefaults({
            ...PREPARE_LIMITS,
            timeoutSeconds: profile.limits?.prepareTimeoutSeconds ?? deps.prepareTimeoutSeconds,
          }),
          incidentId: args.incidentId,
          purpose: 'prepare',
          signal,
        }),
      );
      // The installer's log is evidence: kept with the incident's artifacts, secrets redacted.
      const rawLog = await fs.readFile(path.join(staging, 'install.log'), 'utf8').catch(() => '');
      const log = redactSecrets(
        `${rawLog}\n--- container exit ${result.exitCode}${result.timedOut ? ' (timed out)' : ''}${result.oomKilled ? ' (out of memory)' : ''} ---\n${result.stdout}${result.stderr}`,
      ).text;
      const logPath = path.join(envDir, 'install.log');
      await writeFileAtomic(logPath, log);
      const parsed = await fs
        .readFile(path.join(staging, 'result.json'), 'utf8')
        .then((t) => JSON.parse(t) as PrepareResultFile)
        .catch(() => null);
      if (!parsed || result.exitCode !== 0 || result.timedOut) {
        const why = result.timedOut
          ? `did not finish within ${result.limits.timeoutSeconds} s`
          : result.oomKilled
            ? 'ran out of memory'
            : `ended with exit status ${result.exitCode}`;
        return {
          ok: false,
          reason: `Preparing the dependencies ${why}; the installer's log is environment/install.log`,
          logPath,
        };
      }
      if (parsed.failed.length) {
        const names = parsed.failed.map((f) => `${f.requirement} (${f.from})`).join(', ');
        return {
          ok: false,
          reason: `These requirements cannot be installed for Python ${parsed.python_full} here: ${names}. The installer's log is environment/install.log; a package the incident does not need can be left out with ignore-packages in the repository profile`,
          summary: summaryOf(parsed, false, logPath),
          logPath,
        };
      }
      await fs.rm(runDir, { recursive: true, force: true });
      await fs.writeFile(path.join(staging, 'install.log'), log);
      await commitStaging(deps.cacheDir, key, staging);
      await saveForPrompts(parsed);
      return { ok: true, summary: summaryOf(parsed, false, logPath), environment, profile };
    } finally {
      await fs.rm(staging, { recursive: true, force: true }); // gone already when it was committed
    }
  }
}
