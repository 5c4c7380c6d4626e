// Child processes of the benchmarks: the built BFF (or worker) and the load generator, each
// optionally pinned to one core with taskset.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pinned } from './machine.mjs';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Starts `node entry` on `core` with exactly `env` plus PATH. Its stdout is a pipe this
 * process reads line by line (the "listening on" line) and then keeps draining, like a log
 * shipper would; stderr is kept for error messages.
 */
export function startNode(entry, { env, core, args = [] }) {
  const [command, argv] = pinned(core, process.execPath, [entry, ...args]);
  const child = spawn(command, argv, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO_ROOT });
  const head = [];
  let stderr = '';
  let buffered = '';
  let waiters = [];
  child.stdout.on('data', (chunk) => {
    if (waiters.length === 0 && head.length >= 200) return;
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (head.length < 200) head.push(line);
      waiters = waiters.filter((waiter) => !(waiter.pattern.test(line) && (waiter.resolve(line), true)));
    }
  });
  child.stderr.on('data', (chunk) => {
    if (stderr.length < 20_000) stderr += chunk.toString('utf8');
  });
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? signal)));
  return {
    child,
    pid: child.pid,
    exited,
    stderr: () => stderr,
    waitFor(pattern, timeoutMs = 30_000) {
      const seen = head.find((line) => pattern.test(line));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms\n${head.join('\n')}\n${stderr}`)), timeoutMs);
        waiters.push({ pattern, resolve: (line) => (clearTimeout(timer), resolve(line)) });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`${entry} exited (${code}) before printing ${pattern}\n${head.join('\n')}\n${stderr}`));
        });
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Runs the load generator (bench/lib/loadgen.mjs) on `core`; resolves with its JSON result. */
export function runLoad(options, core) {
  const [command, argv] = pinned(core, process.execPath, [fileURLToPath(new URL('./loadgen.mjs', import.meta.url)), JSON.stringify(options)]);
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'inherit'], cwd: REPO_ROOT });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`load generator exited with code ${code}`));
      else resolve({ ...JSON.parse(out), pid: child.pid });
    });
  });
}
