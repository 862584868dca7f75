// Loads its dependencies inside the action (see CONVENTIONS.md, "A quick command line").
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../user-error';

export function registerArtifacts(program: Command): void {
  program
    .command('artifacts <id>')
    .description(
      "List an incident's artifacts (patch.diff, PR_DESCRIPTION.md, proof.json, ...), or copy them with --out.",
    )
    .option('--out <dir>', 'copy the artifacts (and the attempts/ folder) into <dir>/<id>/')
    .option('--json', 'print name -> path as JSON')
    .action(async (id: string, opts: { out?: string; json?: boolean }) => {
      const [{ settingsFromEnv }, { openIncidentReader }, { readIncident }, { readableArtifact }] = await Promise.all([
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
        // The recorded path, or the same file in this machine's view of the shared artifacts folder.
        const artifacts = Object.fromEntries(
          Object.entries(recorded).map(([name, p]) => [
            name,
            readableArtifact(p, incidentId, settings.artifactsDir) ?? p,
          ]),
        );
        if (!Object.keys(artifacts).length) {
          throw new UserError(
            `Incident ${id} has no artifacts yet (status ${view.status}${view.step ? `, step ${view.step}` : ''}).`,
            4,
          );
        }
        const missing = Object.values(artifacts).filter((p) => !fs.existsSync(p));
        if (missing.length)
          throw new UserError(
            `These artifacts are not readable from here (is the worker on another machine? Workers on many hosts write into one shared folder; set OPSGUARD_ARTIFACTS_DIR to where it is mounted here): ${missing.join(', ')}`,
            4,
          );
        if (opts.out) {
          const dest = path.join(path.resolve(opts.out), id);
          const src = path.dirname(Object.values(artifacts)[0] ?? '');
          fs.mkdirSync(dest, { recursive: true });
          fs.cpSync(src, dest, { recursive: true });
          console.log(
            opts.json
              ? JSON.stringify({ copiedTo: dest })
              : `Copied ${Object.keys(artifacts).length} artifacts (and attempts/) to ${dest}`,
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
