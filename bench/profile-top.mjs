// Where a process spent its CPU: the top functions by self time and the time by package, from a
// .cpuprofile written by `node --cpu-prof` (`npm run bench -- --cpu-prof` writes them).
// Usage: node bench/profile-top.mjs <file.cpuprofile>... [--top 20]
import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Which package or part of the program a script URL belongs to. */
function owner(functionName, url) {
  if (functionName.startsWith('(')) return functionName;
  if (!url) return 'native code (I/O, buffers, JSON)';
  if (url.startsWith('node:')) return 'node core';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const own = /\/dist\/((?:apps|libs)\/[^/]+)/.exec(url);
  return own ? own[1] : url;
}

/** Percentages are of the time the process was busy: idle time is reported apart. */
/** The bench runs a copy of dist/ (see snapshotBuild): name its scripts as dist/… again. */
const unsnapshot = (url) => url.replace(/^.*\/hookrunner-bench\/\d+\//, '/');

export function topOfProfile(file, top = 20, label = basename(file)) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    if (nodes.get(id).callFrame.functionName === '(idle)') idle += us;
    else total += us;
  }

  const byFunction = new Map();
  const byOwner = new Map();
  for (const [id, us] of self) {
    const { functionName, lineNumber } = nodes.get(id).callFrame;
    if (functionName === '(idle)') continue;
    const url = unsnapshot(nodes.get(id).callFrame.url);
    const short = /\/(node_modules\/.*)$/.exec(url)?.[1] ?? /\/(dist\/.*)$/.exec(url)?.[1] ?? url;
    const where = url ? `${short}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const who = owner(functionName, url);
    byOwner.set(who, (byOwner.get(who) ?? 0) + us);
  }
  const pct = (us) => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
  const list = (map, n) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `  ${pct(us)}  ${k}`);
  return [
    `${label}: busy ${(total / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s; shares of busy time`,
    ' self time by package:',
    ...list(byOwner, 12),
    ` top ${top} functions by self time:`,
    ...list(byFunction, top),
  ].join('\n');
}

/**
 * The top of every profile `node --cpu-prof` wrote into `dir` (files are named
 * CPU.<date>.<time>.<pid>.<n>.<seq>.cpuprofile, written as each process exits), each labelled with
 * `label(pid)`: one text to print.
 */
export function topOfProfiles(dir, label, top = 15) {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((file) => topOfProfile(`${dir}/${file}`, top, label(Number(file.split('.')[3]))))
    .join('\n\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--top');
  const top = at >= 0 ? Number(args.splice(at, 2)[1]) : 20;
  for (const file of args) console.log(`${topOfProfile(file, top)}\n`);
}
