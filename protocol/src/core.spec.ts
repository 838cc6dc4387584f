import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/** `import … from '…'` and `export … from '…'` statements; group 1 is `type` when type-only. */
const MODULE_REFERENCE = /^(?:import|export)\s+(type\s)?[^;]*?\bfrom\s+'([^']+)'/gm;

/**
 * What a browser bundle gets from an entry: every module reached through value imports and
 * re-exports (type-only ones are erased on build), and the packages they name. The protocol
 * writes one statement per module reference, so a regex reads them without a parser (and
 * without importing the compiler into the contract library).
 */
function runtimeGraph(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const [, typeOnly, name] of readFileSync(file, 'utf8').matchAll(MODULE_REFERENCE)) {
      if (typeOnly) continue;
      if (name.startsWith('.')) visit(join(dirname(file), `${name}.ts`));
      else packages.add(name);
    }
  };
  visit(entry);
  const root = join(__dirname, '..');
  return { files: [...files].map((f) => relative(root, f)).sort(), packages: [...packages] };
}

describe('the zod-free core entry (@pulse/protocol/core)', () => {
  it('reaches no package at runtime, zod least of all', () => {
    expect(runtimeGraph(join(__dirname, 'core.ts')).packages).toEqual([]);
  });

  it('reaches neither a schema file nor the decoder', () => {
    const { files } = runtimeGraph(join(__dirname, 'core.ts'));
    expect(files.filter((f) => f.endsWith('.schema.ts') || f.endsWith('decode.ts'))).toEqual([]);
  });

  it('is what the full entry adds zod to (the check above can fail)', () => {
    expect(runtimeGraph(join(__dirname, 'index.ts')).packages).toEqual(['zod']);
  });

  it('exports every runtime value of the core from the full entry too', async () => {
    const core = await import('./core');
    const full = await import('./index');
    for (const [name, value] of Object.entries(core))
      expect([name, (full as Record<string, unknown>)[name]]).toEqual([name, value]);
  });
});
