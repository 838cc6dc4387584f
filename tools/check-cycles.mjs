// Import-cycle check run by `npm test` (issue 9): fails on any cycle between files, and on any
// cycle between the feature folders of one app (e.g. live -> ingest -> live), which a file-level
// check misses. Madge parses the imports; this script only folds files into folders.
import madge from 'madge';
import path from 'node:path';

/** Source roots checked, each with the folder depth that names a feature (src/app/<feature>). */
const ROOTS = [
  { dir: 'protocol/src', tsConfig: 'protocol/tsconfig.lib.json' },
  { dir: 'backend/src', tsConfig: 'backend/tsconfig.app.json' },
  { dir: 'simulator/src', tsConfig: 'simulator/tsconfig.app.json' },
  { dir: 'dashboard/src', tsConfig: 'dashboard/tsconfig.app.json' },
];
const EXCLUDE = /(\.spec|\.test)\.ts$|\/testing\/|test-setup\.ts$/;

/** `app/live/live.gateway.ts` -> `app/live`; files directly under app/ are their own node. */
function featureOf(file) {
  const parts = file.split('/');
  return parts[0] === 'app' && parts.length > 2 ? `app/${parts[1]}` : file;
}

/** Every elementary cycle reachable in a small graph, each reported once. */
function folderCycles(graph) {
  const cycles = new Map();
  for (const start of graph.keys()) {
    const stack = [[start, [start]]];
    while (stack.length) {
      const [node, trail] = stack.pop();
      for (const next of graph.get(node) ?? []) {
        if (next === start) {
          const key = [...trail].sort().join(' ');
          if (!cycles.has(key)) cycles.set(key, [...trail, start]);
        } else if (!trail.includes(next) && trail.length < 8) {
          stack.push([next, [...trail, next]]);
        }
      }
    }
  }
  return [...cycles.values()];
}

let failed = false;
for (const root of ROOTS) {
  const result = await madge(root.dir, {
    fileExtensions: ['ts'],
    tsConfig: root.tsConfig,
    excludeRegExp: [EXCLUDE],
    detectiveOptions: { ts: { skipTypeImports: true } },
  });
  for (const cycle of result.circular()) {
    failed = true;
    console.error(`${root.dir}: file cycle ${cycle.join(' -> ')}`);
  }
  const folders = new Map();
  for (const [file, deps] of Object.entries(result.obj())) {
    const from = featureOf(file);
    for (const dep of deps) {
      const to = featureOf(dep);
      if (to === from || dep.startsWith('..')) continue;
      if (!folders.has(from)) folders.set(from, new Set());
      folders.get(from).add(to);
    }
  }
  for (const cycle of folderCycles(folders)) {
    failed = true;
    console.error(`${root.dir}: folder cycle ${cycle.join(' -> ')}`);
  }
  console.log(`${root.dir}: ${Object.keys(result.obj()).length} files checked`);
}
if (failed) {
  console.error(
    'Import cycles found (see above): break them by moving the shared piece down a layer.',
  );
  process.exit(1);
}
console.log('No import cycles between files or feature folders.');
