// One load-generator run, as a child process (the benchmarks start it pinned with taskset):
// `node bench/lib/loadgen.mjs '<json options>'`. Prints one JSON object on stdout.
//
// mode "open"   fixed offered load: request i is due at start + i / rate, whether or not
//               earlier ones have answered (open loop, like wrk2). Latency is measured from
//               the time a request was DUE, so a server (or generator) falling behind shows
//               up as latency instead of silently lowering the rate (no coordinated
//               omission). Keep-alive sockets, as many as are in flight, up to maxInFlight;
//               a request due while maxInFlight are outstanding is not sent and counted as
//               "shed". autocannon's -R is not used for this: it gives each connection a
//               budget per second and sends it back to back, i.e. bursts at each second.
// mode "closed" saturation: autocannon with `connections` connections, each sending its next
//               request when the previous one answered; the throughput is the capacity.
//
// Percentiles are computed from every 2xx sample (autocannon's own histogram has 1 ms
// resolution, too coarse here).
//
// Open loop only: `"samples": true` adds every 2xx answer as [due, latency from due, latency
// from sent] (due in epoch ms, `performance.timeOrigin` based, so a caller can cut out a time
// window); SIGTERM ends the run
// early: no more requests are sent, those in flight are awaited, and the result is printed.

import http from 'node:http';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';

const options = JSON.parse(process.argv[2] ?? '{}');
if (!options.url || !options.durationSeconds || !['open', 'closed'].includes(options.mode)) {
  process.stderr.write('usage: node bench/lib/loadgen.mjs \'{"mode":"open"|"closed","url":...,"durationSeconds":...}\'\n');
  process.exit(2);
}

function summarize(samples) {
  const sorted = Float64Array.from(samples).sort();
  const at = (p) => (sorted.length === 0 ? null : round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]));
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    count: sorted.length,
    mean: sorted.length ? round(sum / sorted.length) : null,
    p50: at(50),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    max: sorted.length ? round(sorted[sorted.length - 1]) : null,
  };
}

const round = (ms) => Math.round(ms * 1000) / 1000;

async function openLoop({ url, headers = {}, rate, durationSeconds, timeoutMs = 10_000, maxInFlight = 256, samples = false }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: maxInFlight });
  const target = new URL(url);
  let total = Math.round(rate * durationSeconds);
  const intervalMs = 1_000 / rate;
  const fromDue = [];
  const fromSent = [];
  const lag = [];
  const timeline = [];
  const statuses = {};
  const errors = {};
  let inFlight = 0;
  let shed = 0;
  let sent = 0;
  let finished = 0;
  const start = performance.now() + 20;
  let allSettled;
  const done = new Promise((resolve) => (allSettled = resolve));
  const settle = () => {
    finished += 1;
    if (finished === total) allSettled();
  };

  const fire = (due) => {
    if (inFlight >= maxInFlight) {
      shed += 1;
      settle();
      return;
    }
    inFlight += 1;
    const sentAt = performance.now();
    lag.push(sentAt - due);
    let over = false;
    const fail = (err) => {
      if (over) return;
      over = true;
      inFlight -= 1;
      const kind = err.message === 'timeout' ? 'timeout' : (err.code ?? 'error');
      errors[kind] = (errors[kind] ?? 0) + 1;
      settle();
    };
    const req = http.request(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, method: 'GET', headers, agent },
      (res) => {
        res.on('data', () => undefined);
        res.on('error', fail);
        res.on('end', () => {
          if (over) return;
          over = true;
          const now = performance.now();
          inFlight -= 1;
          statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
          if (res.statusCode >= 200 && res.statusCode < 300) {
            fromDue.push(now - due);
            fromSent.push(now - sentAt);
            if (samples) timeline.push([round(performance.timeOrigin + due), round(now - due), round(now - sentAt)]);
          }
          settle();
        });
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', fail);
    req.end();
  };

  const tick = () => {
    const now = performance.now();
    while (sent < total && start + sent * intervalMs <= now) {
      fire(start + sent * intervalMs);
      sent += 1;
    }
    if (sent < total) setTimeout(tick, Math.max(0, Math.min(1, start + sent * intervalMs - performance.now())));
  };
  setTimeout(tick, 20);
  process.once('SIGTERM', () => {
    total = sent;
    if (finished >= total) allSettled();
  });
  await done;
  const wallSeconds = (performance.now() - start) / 1_000;
  agent.destroy();
  const ok = fromDue.length;
  return {
    mode: 'open',
    url,
    offeredRate: rate,
    durationSeconds,
    wallSeconds: round(wallSeconds),
    requests: total,
    ok,
    achievedRate: Math.round((ok / wallSeconds) * 10) / 10,
    shed,
    statuses,
    errors,
    latencyMs: summarize(fromDue),
    serviceMs: summarize(fromSent),
    scheduleLagMs: summarize(lag),
    ...(samples ? { samples: timeline } : {}),
  };
}

async function closedLoop({ url, headers = {}, connections, durationSeconds, timeoutSeconds = 10 }) {
  const samples = [];
  const statuses = {};
  const instance = autocannon({
    url,
    headers,
    connections,
    duration: durationSeconds,
    timeout: timeoutSeconds,
    renderProgressBar: false,
    renderResultsTable: false,
    renderLatencyTable: false,
  });
  instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    if (statusCode >= 200 && statusCode < 300) samples.push(responseTimeMs);
  });
  const started = performance.now();
  const result = await instance;
  const wallSeconds = (performance.now() - started) / 1_000;
  return {
    mode: 'closed',
    url,
    connections,
    durationSeconds,
    wallSeconds: round(wallSeconds),
    ok: samples.length,
    throughput: Math.round((samples.length / wallSeconds) * 10) / 10,
    statuses,
    errors: { timeouts: result.timeouts, errors: result.errors - result.timeouts, non2xx: result.non2xx },
    latencyMs: summarize(samples),
  };
}

const cpuBefore = process.cpuUsage();
const result = options.mode === 'open' ? await openLoop(options) : await closedLoop(options);
const cpu = process.cpuUsage(cpuBefore);
result.loadgenCpuSeconds = round((cpu.user + cpu.system) / 1e6);
process.stdout.write(`${JSON.stringify(result)}\n`);
