import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project folder (where .tools/, .state/ and examples/ live), whatever the current directory is:
 * the nearest folder above this module with a package.json (from source that is one up; from the
 * command line's bundle in .build/cli/<build>/ it is further). Its own module so the command line's
 * help can name the examples without loading the settings.
 */
export const PROJECT_ROOT = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
})();
