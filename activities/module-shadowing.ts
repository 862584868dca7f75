/**
 * A fix may not add a top-level module that shadows one the code or its tests import from outside the
 * repository. The repository's folders come first on sys.path (as in production), so a new `decimal.py`
 * at the root, or a `hypothesis/` package beside the code, would replace the real one for every
 * import of it, and a fake test library would make failing tests pass without running them. Checked
 * for new top-level names only: a module the repository already has is its own to change.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { SANDBOX_PROVIDED } from './dependency-declarations';

/**
 * Python's standard library, public names: `sys.stdlib_module_names` of Python 3.11 and 3.13 together
 * (regenerate with `python3 -c "import sys; print(sorted(sys.stdlib_module_names))"` on each).
 */
// prettier-ignore
export const STDLIB_MODULES: ReadonlySet<string> = new Set([
  'abc', 'aifc', 'antigravity', 'argparse', 'array', 'ast', 'asynchat', 'asyncio', 'asyncore',
  'atexit', 'audioop', 'base64', 'bdb', 'binascii', 'bisect', 'builtins', 'bz2', 'cProfile',
  'calendar', 'cgi', 'cgitb', 'chunk', 'cmath', 'cmd', 'code', 'codecs', 'codeop', 'collections',
  'colorsys', 'compileall', 'concurrent', 'configparser', 'contextlib', 'contextvars', 'copy',
  'copyreg', 'crypt', 'csv', 'ctypes', 'curses', 'dataclasses', 'datetime', 'dbm', 'decimal',
  'difflib', 'dis', 'distutils', 'doctest', 'email', 'encodings', 'ensurepip', 'enum', 'errno',
  'faulthandler', 'fcntl', 'filecmp', 'fileinput', 'fnmatch', 'fractions', 'ftplib', 'functools',
  'gc', 'genericpath', 'getopt', 'getpass', 'gettext', 'glob', 'graphlib', 'grp', 'gzip', 'hashlib',
  'heapq', 'hmac', 'html', 'http', 'idlelib', 'imaplib', 'imghdr', 'imp', 'importlib', 'inspect',
  'io', 'ipaddress', 'itertools', 'json', 'keyword', 'lib2to3', 'linecache', 'locale', 'logging',
  'lzma', 'mailbox', 'mailcap', 'marshal', 'math', 'mimetypes', 'mmap', 'modulefinder', 'msilib',
  'msvcrt', 'multiprocessing', 'netrc', 'nis', 'nntplib', 'nt', 'ntpath', 'nturl2path', 'numbers',
  'opcode', 'operator', 'optparse', 'os', 'ossaudiodev', 'pathlib', 'pdb', 'pickle', 'pickletools',
  'pipes', 'pkgutil', 'platform', 'plistlib', 'poplib', 'posix', 'posixpath', 'pprint', 'profile',
  'pstats', 'pty', 'pwd', 'py_compile', 'pyclbr', 'pydoc', 'pydoc_data', 'pyexpat', 'queue',
  'quopri', 'random', 're', 'readline', 'reprlib', 'resource', 'rlcompleter', 'runpy', 'sched',
  'secrets', 'select', 'selectors', 'shelve', 'shlex', 'shutil', 'signal', 'site', 'smtpd',
  'smtplib', 'sndhdr', 'socket', 'socketserver', 'spwd', 'sqlite3', 'sre_compile', 'sre_constants',
  'sre_parse', 'ssl', 'stat', 'statistics', 'string', 'stringprep', 'struct', 'subprocess', 'sunau',
  'symtable', 'sys', 'sysconfig', 'syslog', 'tabnanny', 'tarfile', 'telnetlib', 'tempfile',
  'termios', 'textwrap', 'this', 'threading', 'time', 'timeit', 'tkinter', 'token', 'tokenize',
  'tomllib', 'trace', 'traceback', 'tracemalloc', 'tty', 'turtle', 'turtledemo', 'types', 'typing',
  'unicodedata', 'unittest', 'urllib', 'uu', 'uuid', 'venv', 'warnings', 'wave', 'weakref',
  'webbrowser', 'winreg', 'winsound', 'wsgiref', 'xdrlib', 'xml', 'xmlrpc', 'zipapp', 'zipfile',
  'zipimport', 'zlib', 'zoneinfo',
]);

/** The import names a flat `pip install --target` folder provides (its top-level modules and packages). */
export async function installedImportNames(site: string | null): Promise<string[]> {
  if (!site) return [];
  const entries = await fs.readdir(site, { withFileTypes: true }).catch(() => []);
  const names = new Set<string>();
  for (const e of entries) {
    if (/\.(dist-info|egg-info|data)$/.test(e.name) || e.name === '__pycache__' || e.name === 'bin') continue;
    const name = e.isDirectory() ? e.name : /^([A-Za-z_]\w*)(?:\.[\w-]+)*\.(?:py|so|pyd)$/.exec(e.name)?.[1];
    if (name && /^[A-Za-z_]\w*$/.test(name)) names.add(name);
  }
  return [...names].sort();
}

/**
 * Why writing `rel` would shadow a module from outside the repository, or null. `importRoots`: the
 * folders on sys.path before everything else (`.`, `src`, the profile's python-paths); `installed`: the
 * prepared dependencies' import names. `inBaseline` says whether a repository path exists already.
 */
export async function shadowingRefusal(
  rel: string,
  importRoots: string[],
  installed: ReadonlySet<string>,
  inBaseline: (rel: string) => Promise<boolean>,
): Promise<string | null> {
  for (const root of importRoots) {
    const prefix = root === '.' || root === '' ? '' : `${root.replace(/\/+$/, '')}/`;
    if (!rel.startsWith(prefix)) continue;
    const [first, ...rest] = rel.slice(prefix.length).split('/');
    if (!first) continue;
    const name = rest.length ? first : /^([A-Za-z_]\w*)\.py$/.exec(first)?.[1];
    if (!name) continue;
    // The repository has this top-level module or package already: its own to change.
    if ((await inBaseline(`${prefix}${name}.py`)) || (await inBaseline(`${prefix}${name}`))) continue;
    const what = STDLIB_MODULES.has(name)
      ? "Python's standard library module"
      : SANDBOX_PROVIDED.has(name) // the test runner's packages: their import names are the same
        ? 'the test runner'
        : installed.has(name)
          ? 'the installed package'
          : null;
    if (what) {
      return `${rel}: a new top-level module '${name}' on sys.path${prefix ? ` (under ${root}/)` : ''} would shadow ${what} '${name}' for every import of it; give the new module another name`;
    }
  }
  return null;
}

/** Whether a repository-relative path exists in `dir` (not following a final symlink). */
export const existsIn = (dir: string) => async (rel: string) =>
  (await fs.lstat(path.join(dir, rel)).catch(() => null)) !== null;

/**
 * The folders first on sys.path and the dependencies' import names, as the incident's preparation
 * saved them (prepare-environment.ts); the root and none for an incident that had no preparation.
 */
export async function importsOf(environmentFile: string): Promise<{ roots: string[]; installed: ReadonlySet<string> }> {
  const saved = await fs
    .readFile(environmentFile, 'utf8')
    .then((t) => JSON.parse(t) as { pythonPaths?: string[]; importNames?: string[] })
    .catch(() => null);
  return {
    roots: saved?.pythonPaths?.length ? saved.pythonPaths : ['.'],
    installed: new Set(saved?.importNames ?? []),
  };
}
