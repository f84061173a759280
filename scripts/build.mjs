// Compiles apps/ and libs/ with swc (path aliases rewritten to relative requires) and points dist/ at the result.
// Type checking is `npm run typecheck`; this step only transpiles, so it takes about a second.
//
// Every `npm run start:*` builds first, and roles are started one after another, so a build must never
// change files under a process that is running or still loading. Hence:
// - each build goes to .builds/<hash of its inputs>/, written under a temporary name and renamed when complete;
// - dist is a symlink to the current build, replaced by rename(2), which is atomic: a process sees the old
//   build or the new one, never a half-written or missing one. Node resolves the main module's real path,
//   so a started process keeps loading from the build it started with, whatever dist points to later;
// - when dist already points at the build of the current inputs, nothing is done (a start after a start).
//
// `node scripts/build.mjs --out <dir>` writes one plain directory instead (the Docker image's build stage).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const BUILDS = '.builds';
const LINK = 'dist';
/** Earlier builds kept besides the current one: processes started from them may still be loading. */
const KEEP_EARLIER = 5;
const SOURCES = ['apps', 'libs'];
/** The Webhooks page's browser files: served as they are (swc would turn its modules into CommonJS). */
const PAGE_ASSETS = 'apps/api/src/admin/assets';
const isSource = (path) => !path.endsWith('.spec.ts');

const outIndex = process.argv.indexOf('--out');
if (outIndex !== -1) {
  const out = process.argv[outIndex + 1];
  if (!out) throw new Error('--out needs a directory');
  rmSync(out, { recursive: true, force: true });
  compile(out);
} else {
  build();
}

function build() {
  const name = inputsHash();
  const target = join(BUILDS, name);
  if (pointsAt(target)) return collectGarbage(name);
  if (existsSync(target)) {
    const now = new Date();
    utimesSync(target, now, now); // it is current again: the last one garbage collection removes
  } else {
    mkdirSync(BUILDS, { recursive: true });
    const temporary = `${target}.tmp-${process.pid}`;
    rmSync(temporary, { recursive: true, force: true });
    compile(temporary);
    try {
      renameSync(temporary, target);
    } catch (error) {
      // A build started at the same time renamed the same inputs' output first: use that one.
      rmSync(temporary, { recursive: true, force: true });
      if (!existsSync(target)) throw error;
    }
  }
  swapLink(target);
  collectGarbage(name);
}

function compile(out) {
  execFileSync(
    process.execPath,
    [
      'node_modules/@swc/cli/bin/swc.js',
      ...SOURCES,
      '--out-dir',
      out,
      '--config-file',
      '.swcrc',
      '--copy-files',
      '--quiet',
      '--ignore',
      '**/*.spec.ts',
      '--ignore',
      `${PAGE_ASSETS}/**`,
    ],
    { stdio: 'inherit' },
  );
  cpSync(PAGE_ASSETS, join(out, PAGE_ASSETS), { recursive: true });
  // libs/outbound reads the version from the package.json above its build (the user agent).
  copyFileSync('package.json', join(out, 'package.json'));
}

/** What decides the output: this script, the swc config and version, package.json, every source file. */
function inputsHash() {
  const hash = createHash('sha256');
  const add = (path, content) => hash.update(`${path}\0${content.length}\0`).update(content);
  add('scripts/build.mjs', readFileSync(new URL(import.meta.url)));
  add('.swcrc', readFileSync('.swcrc'));
  add('package.json', readFileSync('package.json'));
  add('@swc/core', createRequire(import.meta.url)('@swc/core/package.json').version);
  for (const path of SOURCES.flatMap((dir) => filesUnder(dir))
    .filter(isSource)
    .sort())
    add(path, readFileSync(path));
  return hash.digest('hex').slice(0, 16);
}

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

function pointsAt(target) {
  try {
    return readlinkSync(LINK) === target && existsSync(target);
  } catch {
    return false; // no dist, or a directory left by an older build script
  }
}

function swapLink(target) {
  const link = `${LINK}.tmp-${process.pid}`;
  rmSync(link, { force: true });
  symlinkSync(target, link);
  try {
    renameSync(link, LINK);
  } catch (error) {
    // rename(2) cannot replace a directory with a symlink: dist/ is a plain directory from an older
    // build script. Move it among the builds, where garbage collection removes it later.
    if (!lstatSync(LINK).isDirectory()) throw error;
    mkdirSync(BUILDS, { recursive: true });
    renameSync(LINK, join(BUILDS, `plain.tmp-0-${process.pid}`));
    renameSync(link, LINK);
  }
}

/** Removes all but the current build and the most recent earlier ones, and leftovers of dead builds. */
function collectGarbage(current) {
  const entries = readdirSync(BUILDS).filter((entry) => entry !== current);
  const leftovers = entries.filter((entry) => entry.includes('.tmp-'));
  const earlier = entries
    .filter((entry) => !entry.includes('.tmp-'))
    .map((entry) => ({ entry, time: statSync(join(BUILDS, entry)).mtimeMs }))
    .sort((a, b) => b.time - a.time)
    .slice(KEEP_EARLIER)
    .map(({ entry }) => entry);
  for (const entry of [...leftovers.filter((entry) => !isAlive(Number(entry.split('-').pop()))), ...earlier]) {
    rmSync(join(BUILDS, entry), { recursive: true, force: true });
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}
