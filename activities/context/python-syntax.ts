/**
 * Python through tree-sitter (`web-tree-sitter` + the `tree-sitter-python` grammar's WebAssembly
 * build, both from npm): definitions, calls, names, short strings and imports of one file, found by
 * one query run inside the parser (fast: no walk over every node from JavaScript).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { Language, Parser, Query } from 'web-tree-sitter';
import type { Node } from 'web-tree-sitter';
import type { CallSite, Definition, FileSyntax, ImportRef, LanguageSyntax } from './code-syntax';

const QUERY = `
(function_definition) @def
(class_definition) @def
(call function: (identifier) @call)
(call function: (attribute attribute: (identifier) @call))
(identifier) @ref
(string_content) @str
(import_statement) @import
(import_from_statement) @import
`;

/** Strings longer than this are prose or data, not a key or a name. */
const MAX_STRING = 80;

let loading: Promise<LanguageSyntax> | null = null;

/** The Python language, loaded once per process. */
export function pythonSyntax(): Promise<LanguageSyntax> {
  loading ??= load();
  return loading;
}

async function load(): Promise<LanguageSyntax> {
  const require = createRequire(import.meta.url);
  await Parser.init();
  const wasm = path.join(path.dirname(require.resolve('tree-sitter-python/package.json')), 'tree-sitter-python.wasm');
  const language = await Language.load(wasm);
  const parser = new Parser();
  parser.setLanguage(language);
  const query = new Query(language, QUERY);
  return {
    name: 'python',
    extensions: ['.py'],
    parse(text: string): FileSyntax {
      const tree = parser.parse(text);
      if (!tree) return { definitions: [], imports: [], lines: text.split('\n').length };
      try {
        return extract(query, tree.rootNode, text);
      } finally {
        tree.delete();
      }
    },
  };
}

function extract(query: Query, root: Node, text: string): FileSyntax {
  const lines = text.split('\n').length;
  const captures = query.captures(root);
  const defNodes: Node[] = [];
  const imports: ImportRef[] = [];
  for (const c of captures) {
    if (c.name === 'def') defNodes.push(c.node);
    else if (c.name === 'import') imports.push(...readImport(c.node));
  }

  // Definitions in source order, qualified by the definitions around them.
  const defs: (Definition & { depth: number })[] = [
    {
      qualname: '<module>',
      name: '<module>',
      kind: 'module',
      startLine: 1,
      endLine: lines,
      calls: [],
      refs: [],
      strings: [],
      depth: 0,
    },
  ];
  const stack: (Definition & { depth: number })[] = [];
  for (const node of defNodes.sort((a, b) => a.startIndex - b.startIndex)) {
    const outer = node.parent?.type === 'decorated_definition' ? node.parent : node;
    const startLine = outer.startPosition.row + 1;
    const endLine = node.endPosition.row + 1;
    while (stack.length && stack.at(-1)!.endLine < startLine) stack.pop();
    const parent = stack.at(-1);
    const name = node.childForFieldName('name')?.text ?? '?';
    const isClass = node.type === 'class_definition';
    const def = {
      qualname: parent ? `${parent.qualname}.${name}` : name,
      name,
      kind: (isClass ? 'class' : parent?.kind === 'class' ? 'method' : 'function') as Definition['kind'],
      startLine,
      endLine,
      calls: [] as CallSite[],
      refs: [] as string[],
      strings: [] as string[],
      depth: stack.length + 1,
    };
    defs.push(def);
    stack.push(def);
  }

  // Each line's innermost definition (deeper ones written last).
  const owner = new Int32Array(lines + 2);
  [...defs.keys()]
    .sort((a, b) => defs[a]!.depth - defs[b]!.depth)
    .forEach((i) => owner.fill(i, defs[i]!.startLine, defs[i]!.endLine + 1));

  const refSets = defs.map(() => new Set<string>());
  const strSets = defs.map(() => new Set<string>());
  for (const c of captures) {
    const line = c.node.startPosition.row + 1;
    const d = owner[line] ?? 0;
    if (c.name === 'call') defs[d]!.calls.push({ name: c.node.text, line });
    else if (c.name === 'ref') refSets[d]!.add(c.node.text);
    else if (c.name === 'str') {
      const s = c.node.text;
      if (s.length >= 2 && s.length <= MAX_STRING) strSets[d]!.add(s);
    }
  }
  const definitions = defs.map(({ depth: _depth, ...d }, i) => ({
    ...d,
    refs: [...refSets[i]!],
    strings: [...strSets[i]!],
  }));
  return { definitions, imports, lines };
}

function readImport(node: Node): ImportRef[] {
  const line = node.startPosition.row + 1;
  const dotted = (n: Node | null) => (n?.type === 'aliased_import' ? n.childForFieldName('name') : n)?.text ?? '';
  if (node.type === 'import_statement') {
    return node.namedChildren.filter((n): n is Node => !!n).map((n) => ({ module: dotted(n), names: [], line }));
  }
  const moduleNode = node.childForFieldName('module_name');
  const names = node
    .childrenForFieldName('name')
    .filter((n): n is Node => !!n)
    .map(dotted);
  return [{ module: moduleNode?.text ?? '', names, line }];
}
