#!/usr/bin/env node
// Precompress the built dashboard once, at build time: for every text file of 1 KiB or more,
// a Brotli (`.br`, quality 11) and a gzip (`.gz`, level 9) sibling, kept only if smaller. The
// gateway serves them with express-static-gzip (backend/src/app/http/dashboard-static.ts), so a
// browser downloads ~a third of the bytes and the gateway spends no CPU compressing per request
// (docs/decisions/0045-precompressed-dashboard.md).
//
//   node dashboard/scripts/precompress.mjs dist/dashboard/browser
import {
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { extname, join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const TEXT = new Set(['.js', '.mjs', '.css', '.html', '.svg', '.json', '.txt', '.ico', '.map']);
const MIN_BYTES = 1024;

const dir = process.argv[2];
if (!dir || !statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
  console.error('usage: node dashboard/scripts/precompress.mjs <built dashboard directory>');
  process.exit(2);
}

let files = 0;
let before = 0;
let after = 0;
const names = readdirSync(dir, { recursive: true }).map(String);
// A sibling whose file is gone would still be served for it.
for (const name of names)
  if (/\.(br|gz)$/.test(name) && !existsSync(join(dir, name.slice(0, -3))))
    rmSync(join(dir, name), { force: true });
for (const name of names) {
  const file = join(dir, name);
  if (!TEXT.has(extname(file)) || !statSync(file).isFile()) continue;
  const body = readFileSync(file);
  const variants = [
    [
      '.br',
      brotliCompressSync(body, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
          [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
          [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
        },
      }),
    ],
    ['.gz', gzipSync(body, { level: constants.Z_BEST_COMPRESSION })],
  ];
  for (const [ext, packed] of variants) {
    // A stale sibling from an earlier build must not outlive a file that no longer gains.
    if (body.length < MIN_BYTES || packed.length >= body.length) {
      rmSync(file + ext, { force: true });
    } else {
      // Whole or not at all, for a gateway serving the directory meanwhile.
      writeFileSync(`${file}${ext}.tmp`, packed);
      renameSync(`${file}${ext}.tmp`, file + ext);
    }
  }
  if (body.length >= MIN_BYTES) {
    files++;
    before += body.length;
    after += Math.min(body.length, variants[0][1].length);
  }
}
console.log(
  `precompressed ${files} files in ${dir}: ${(before / 1024).toFixed(0)} KiB → ${(after / 1024).toFixed(0)} KiB as Brotli`,
);
