// `npm run worker`: the worker process on its own, configured from the environment.
import { runWorker } from './run-worker';
import { SettingsError, settingsFromEnv } from './settings';

let settings;
try {
  settings = settingsFromEnv();
} catch (err) {
  if (!(err instanceof SettingsError)) throw err;
  console.error(`opsguard worker: ${err.message}`);
  process.exit(2);
}
try {
  await runWorker(settings, (line) => console.log(line));
} catch (err) {
  if (!(err instanceof SettingsError)) throw err;
  console.error(`opsguard worker: ${err.message}`);
  process.exit(2);
}
