import { ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';

/*
 * Last-resort cleanup of what a test started (a child process, a temp dir) when the test process
 * ends without stopping it: a forgotten stop(), a crash, Ctrl+C, Jest killing a worker.
 *
 * process.on('exit') alone is not enough: inside Jest, `process` is a sandboxed copy whose 'exit'
 * never fires, and no handler runs on SIGKILL. So a small reaper process watches its stdin, a pipe
 * from this process: the pipe closes when this process ends, however it ends, and the reaper then
 * kills the pids and removes the dirs still registered with it. The 'exit' hook remains as the
 * immediate path outside Jest.
 */

const REAPER = `
const { rmSync } = require('node:fs');
const pids = new Set();
const dirs = new Set();
let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  const lines = (pending + chunk).split('\\n');
  pending = lines.pop();
  for (const line of lines) {
    const { op, pid, dir } = JSON.parse(line);
    const set = pid ? pids : dirs;
    set[op === 'add' ? 'add' : 'delete'](pid || dir);
  }
});
const reap = () => {
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch {} }
  for (const dir of dirs) { try { rmSync(dir, { recursive: true, force: true }); } catch {} }
  process.exit(0);
};
process.stdin.on('end', reap);
process.stdin.on('error', reap);
`;

let reaper: ChildProcess | undefined;
const pids = new Set<number>();
const dirs = new Set<string>();

/** Kills `pid` and removes `dir` when this process ends, unless the returned release() ran first. */
export function reapOnExit({ pid, dir }: { pid?: number; dir?: string }): () => void {
  install();
  if (pid) pids.add(pid);
  if (dir) dirs.add(dir);
  tell({ op: 'add', pid, dir });
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (pid) pids.delete(pid);
    if (dir) dirs.delete(dir);
    tell({ op: 'delete', pid, dir });
  };
}

function tell(message: { op: 'add' | 'delete'; pid?: number; dir?: string }): void {
  if (message.pid) reaper?.stdin?.write(`${JSON.stringify({ op: message.op, pid: message.pid })}\n`);
  if (message.dir) reaper?.stdin?.write(`${JSON.stringify({ op: message.op, dir: message.dir })}\n`);
}

function install(): void {
  if (reaper) return;
  // Detached: a Ctrl+C sent to our process group must not stop the reaper before it has reaped.
  reaper = spawn(process.execPath, ['-e', REAPER], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  reaper.stdin!.on('error', () => undefined); // the reaper gone means nothing left to tell it
  // Neither the reaper nor its pipe may keep this process alive.
  reaper.unref();
  (reaper.stdin as unknown as { unref(): void }).unref();

  process.once('exit', () => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
}
