// What the benchmarks know about the machine: its description for the results, core pinning,
// and how much CPU other processes (tests, builds, other benchmarks) take meanwhile.

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

const CLK_TCK = Number(tryExec('getconf', ['CLK_TCK']) ?? 100) || 100;
const PF_KTHREAD = 0x00200000;

function tryExec(file, args) {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** `taskset`'s path, or undefined when the machine has none (then nothing is pinned). */
export const TASKSET = ['/usr/bin/taskset', '/bin/taskset'].find((path) => existsSync(path));

/** `[command, args]` that runs `command args` on `core` when taskset exists and the core does. */
export function pinned(core, command, args) {
  if (!TASKSET || core === undefined || core >= os.cpus().length) return [command, args];
  return [TASKSET, ['-c', String(core), command, ...args]];
}

/** nproc, CPU model, Node and PostgreSQL versions (`pgVersion` from `SELECT version()`). */
export function machineInfo(pgVersion) {
  return {
    nproc: Number(tryExec('nproc', [])) || os.cpus().length,
    cpuModel: /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    postgres: pgVersion,
    kernel: os.release(),
    taskset: Boolean(TASKSET),
  };
}

function statFields(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return { command: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), fields: stat.slice(stat.lastIndexOf(')') + 2).split(' ') };
}

/** CPU seconds (user + system) a live process has used so far, or undefined once it is gone. */
export function processCpuSeconds(pid) {
  try {
    const { fields } = statFields(pid);
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds of every user-space process now running, with its kind: `postgres` processes
 * are told apart as backends (with the PID of the parallel-query leader for parallel
 * workers) and auxiliary processes (checkpointer, autovacuum, ...).
 */
export function snapshotProcesses() {
  const processes = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const { command, fields } = statFields(name);
      if (Number(fields[6]) & PF_KTHREAD) continue;
      const entry = { seconds: (Number(fields[11]) + Number(fields[12])) / CLK_TCK, kind: 'other', leader: undefined };
      if (command === 'postgres') {
        const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
        const worker = /parallel worker for PID (\d+)/.exec(cmdline);
        if (worker) {
          entry.kind = 'pg-backend';
          entry.leader = Number(worker[1]);
        } else {
          // A backend's title is "postgres: <cluster>: <user> <db> <host>(<port>) <state>".
          entry.kind = /\d+\.\d+\.\d+\.\d+\(\d+\)|\[local\]/.test(cmdline) ? 'pg-backend' : 'pg-aux';
        }
      }
      processes.set(Number(name), entry);
    } catch {
      // exited while we looked
    }
  }
  return processes;
}

/**
 * CPU used between two snapshots, in % of one core, split into ours (`own` PIDs, and
 * PostgreSQL backends serving them, or parallel workers of those), PostgreSQL's auxiliary
 * processes, and everyone else's. Processes that started and ended between the snapshots are
 * missed, so "other" is a lower bound.
 */
export function cpuBetween(before, after, wallSeconds, own) {
  const totals = { own: 0, pgAux: 0, other: 0 };
  for (const [pid, entry] of after) {
    const used = entry.seconds - (before.get(pid)?.seconds ?? 0);
    if (own.has(pid) || (entry.leader !== undefined && own.has(entry.leader))) totals.own += used;
    else if (entry.kind === 'pg-aux') totals.pgAux += used;
    else totals.other += used;
  }
  const percent = (seconds) => Math.round((seconds / wallSeconds) * 1000) / 10;
  return { ownPercent: percent(totals.own), pgAuxPercent: percent(totals.pgAux), otherPercent: percent(totals.other) };
}

/** Busy and steal time of each core from /proc/stat (for "how busy was the machine"). */
export function coreTimes() {
  const times = [];
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const match = /^cpu(\d+) (.*)$/.exec(line);
    if (!match) continue;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = match[2].trim().split(/\s+/).map(Number);
    times[Number(match[1])] = { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal };
  }
  return times;
}

/** Per core: % busy between two `coreTimes()`. */
export function coreBusyPercent(before, after) {
  return after.map((a, core) => {
    const b = before[core];
    const total = a.busy + a.idle + a.steal - (b.busy + b.idle + b.steal);
    return total ? Math.round(((a.busy - b.busy) / total) * 1000) / 10 : 0;
  });
}

/**
 * Waits until everything but `ownPids()` uses less than `thresholdPercent` of a core over one
 * second, for at most `maxWaitSeconds`. "Everything" is the cores' busy time from /proc/stat,
 * so short-lived processes (test workers, compilers) count too. Resolves with how long it
 * waited and what the others used in the last second.
 */
export async function waitForQuiet({ ownPids, thresholdPercent, maxWaitSeconds, onWait }) {
  const started = performance.now();
  let warned = false;
  for (;;) {
    const before = snapshotProcesses();
    const coresBefore = coreTimes();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const busy = coreBusyPercent(coresBefore, coreTimes()).reduce((a, b) => a + b, 0);
    const { ownPercent } = cpuBetween(before, snapshotProcesses(), 1, ownPids());
    const other = Math.max(0, Math.round(busy - ownPercent));
    const waited = (performance.now() - started) / 1_000;
    if (other < thresholdPercent || waited >= maxWaitSeconds) return { waitedSeconds: Math.round(waited), otherPercent: other };
    if (!warned) onWait?.(other);
    warned = true;
  }
}
