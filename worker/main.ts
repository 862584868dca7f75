// `npm run worker`: the worker process on its own, configured from the environment.
import { runWorker } from './run-worker';
import { settingsFromEnv } from './settings';

await runWorker(settingsFromEnv(), (line) => console.log(line));
