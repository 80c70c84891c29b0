// The typed registry, proven with the TypeScript compiler: a wrong config for a registered name (built-in
// 'vq' or a user's own, added by declaration merging) is a compile error at that line, and correct
// configs compile cleanly. Snippets are compiled against the sources (as the vitest aliases resolve them).
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');
const snippetDir = join(import.meta.dirname, '__snippets__');

const HEADER = `import { createQuantizer, registerQuantizer, type Quantizer } from '@vtok/core';
import { VectorQuantizer } from '@vtok/quantizers';
`;

/** Each snippet marks the line that must fail with `// error: <regex>`; `ok` must have no error at all. */
const SNIPPETS: Record<string, string> = {
  ok: `${HEADER}
interface MineConfig { dim: number; levels: number[] }
declare module '@vtok/core' { interface QuantizerConfigs { mine: MineConfig } }
export function setup(make: (c: MineConfig) => Quantizer): Quantizer[] {
  registerQuantizer('mine', make);
  return [
    createQuantizer({ type: 'vq', dim: 12, codebookSize: 4096, useL2Norm: true, commitmentCost: 0.25 }),
    createQuantizer({ type: 'vq', dim: 12, codebookSize: 4096, ema: true, deadCodeRestart: { afterCalls: 50 } }),
    createQuantizer({ type: 'mine', dim: 4, levels: [8, 5, 5, 5] }),
    new VectorQuantizer({ dim: 12, codebookSize: 4096 }),
  ];
}
`,
  vqWrongType: `${HEADER}
export const q = createQuantizer({ type: 'vq', dim: 12, codebookSize: 'many' }); // error: codebookSize|'string' is not assignable to type 'number'
`,
  vqMissing: `${HEADER}
export const q = createQuantizer({ type: 'vq', dim: 12 }); // error: codebookSize
`,
  vqMisspelt: `${HEADER}
export const q = createQuantizer({ type: 'vq', dim: 12, codebookSize: 8, commitmentcost: 0.5 }); // error: commitmentcost
`,
  mineWrong: `${HEADER}
export const q = createQuantizer({ type: 'mine', dim: 4, levels: 8 }); // error: 'number' is not assignable to type 'number\\[\\]'
`,
  unknownName: `${HEADER}
export const q = createQuantizer({ type: 'nobody', dim: 4 }); // error: nobody
`,
};

function compile(): Map<string, ts.Diagnostic[]> {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: ['node'],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    esModuleInterop: true,
    resolveJsonModule: true,
    baseUrl: root,
    paths: { '@vtok/core': ['packages/core/src/index.ts'], '@vtok/quantizers': ['packages/quantizers/src/index.ts'] },
  };
  const files = new Map(Object.entries(SNIPPETS).map(([name, text]) => [join(snippetDir, `${name}.ts`), text]));
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => files.has(f) || fileExists.call(host, f);
  host.readFile = (f) => files.get(f) ?? readFile.call(host, f);
  host.getSourceFile = (f, lang, ...rest) => {
    const text = files.get(f);
    return text !== undefined ? ts.createSourceFile(f, text, lang) : getSourceFile.call(host, f, lang, ...rest);
  };
  host.getCurrentDirectory = () => root;
  const program = ts.createProgram([...files.keys()], options, host);
  const result = new Map<string, ts.Diagnostic[]>();
  for (const [file] of files) {
    const sf = program.getSourceFile(file)!;
    result.set(file, [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]);
  }
  return result;
}

describe('typed quantizer registry (TypeScript compiler)', () => {
  const diagnostics = compile();
  const text = (d: ts.Diagnostic) => ts.flattenDiagnosticMessageText(d.messageText, '\n');
  const lineOf = (d: ts.Diagnostic) => d.file!.getLineAndCharacterOfPosition(d.start!).line;

  it('correct configs (built-in and user-registered) compile without error', () => {
    const found = diagnostics.get(join(snippetDir, 'ok.ts'))!;
    expect(found.map(text)).toEqual([]);
  });

  it.each(Object.keys(SNIPPETS).filter((name) => name !== 'ok'))('%s: the wrong config is a compile error on its line', (name) => {
    const source = SNIPPETS[name].split('\n');
    const line = source.findIndex((l) => l.includes('// error:'));
    const pattern = new RegExp(source[line].split('// error: ')[1]);
    const found = diagnostics.get(join(snippetDir, `${name}.ts`))!;
    expect(found.length, 'one error expected').toBeGreaterThan(0);
    expect(found.every((d) => lineOf(d) === line), found.map((d) => `${lineOf(d)}: ${text(d)}`).join('\n')).toBe(true);
    expect(found.some((d) => pattern.test(text(d))), found.map(text).join('\n')).toBe(true);
  });
});
