// Loads its dependencies inside the action (see CONVENTIONS.md, "A quick command line").
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../user-error';

export function registerArtifacts(program: Command): void {
  program
    .command('artifacts <id>')
    .description(
      "List an incident's artifacts (patch.diff, PR_DESCRIPTION.md, proof.json, ...), or copy them with --out. Read where the worker wrote them, else under this machine's OPSGUARD_ARTIFACTS_DIR, else fetched from the bucket OPSGUARD_ARTIFACTS_S3 names.",
    )
    .option('--out <dir>', 'copy the artifacts (and the attempts/ folder) into <dir>/<id>/')
    .option('--json', 'print name -> path as JSON')
    .action(async (id: string, opts: { out?: string; json?: boolean }) => {
      const [{ settingsFromEnv }, { openIncidentReader }, { readIncident }, { localArtifacts }] = await Promise.all([
        import('../../worker/settings'),
        import('../incident-reader'),
        import('../incident-state'),
        import('../artifact-location'),
      ]);
      const settings = settingsFromEnv();
      const reader = await openIncidentReader(settings);
      try {
        const view = await readIncident(reader, id);
        const recorded = view.result?.artifacts ?? {};
        const incidentId = view.result?.incidentId ?? id;
        if (!Object.keys(recorded).length) {
          throw new UserError(
            `Incident ${id} has no artifacts yet (status ${view.status}${view.step ? `, step ${view.step}` : ''}).`,
            4,
          );
        }
        // Where the worker wrote them, this machine's view of the shared folder, or the artifact store.
        const found = await localArtifacts(settings, incidentId, recorded).catch((err: Error) => {
          throw new UserError(`The artifact store could not be read: ${err.message}`, 4);
        });
        const artifacts = found.files;
        if (found.missing.length)
          throw new UserError(
            found.from === 'store'
              ? `These artifacts are in neither a folder readable here nor the artifact store (${settings.artifactStore?.bucket}): ${found.missing.join(', ')}`
              : `These artifacts are not readable from here (is the worker on another machine? Workers on many hosts write into one shared folder or an S3 bucket; set OPSGUARD_ARTIFACTS_DIR to where the folder is mounted here, or OPSGUARD_ARTIFACTS_S3 to the bucket): ${found.missing.map((n) => recorded[n]).join(', ')}`,
            4,
          );
        if (opts.out) {
          const dest = path.join(path.resolve(opts.out), id);
          fs.mkdirSync(dest, { recursive: true });
          if (found.from === 'worker') {
            fs.cpSync(path.dirname(Object.values(artifacts)[0] ?? ''), dest, { recursive: true });
          } else {
            for (const [name, file] of Object.entries(artifacts)) {
              fs.mkdirSync(path.dirname(path.join(dest, name)), { recursive: true });
              fs.copyFileSync(file, path.join(dest, name));
            }
          }
          const what = found.from === 'worker' ? 'artifacts (and attempts/)' : 'artifacts from the artifact store';
          console.log(
            opts.json
              ? JSON.stringify({ copiedTo: dest, from: found.from })
              : `Copied ${Object.keys(artifacts).length} ${what} to ${dest}`,
          );
          return;
        }
        if (opts.json) return console.log(JSON.stringify(artifacts, null, 2));
        for (const [name, file] of Object.entries(artifacts)) console.log(`${name.padEnd(18)} ${file}`);
      } finally {
        await reader.close();
      }
    });
}
