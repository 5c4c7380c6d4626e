// One load-generator run: `node bench/load.mjs '<json options>'`, started by bench/run.mjs
// (pinned with taskset). Prints one JSON object on stdout.
//
// autocannon's own latency histogram has 1 ms resolution, too coarse for a sub-millisecond
// loopback server, so every 2xx response time (autocannon measures it with process.hrtime)
// is also kept here and the percentiles are computed from the exact samples.

import autocannon from 'autocannon';

const options = JSON.parse(process.argv[2] ?? '{}');
const { url, durationSeconds, connections, pipelining, headers, method = 'GET' } = options;
if (!url || !durationSeconds) {
  process.stderr.write('usage: node bench/load.mjs \'{"url":...,"durationSeconds":...}\'\n');
  process.exit(2);
}

let latencies = new Float64Array(1 << 20);
let count = 0;
const statusCounts = {};

const cpuBefore = process.cpuUsage();
const startedAt = performance.now();
const instance = autocannon({
  url,
  method,
  headers,
  connections,
  pipelining,
  duration: durationSeconds,
  timeout: 10,
  renderProgressBar: false,
  renderResultsTable: false,
  renderLatencyTable: false,
});
instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
  statusCounts[statusCode] = (statusCounts[statusCode] ?? 0) + 1;
  if (statusCode < 200 || statusCode >= 300) return;
  if (count === latencies.length) {
    const grown = new Float64Array(latencies.length * 2);
    grown.set(latencies);
    latencies = grown;
  }
  latencies[count++] = responseTimeMs;
});

const result = await instance;
const wallMs = performance.now() - startedAt;
const cpu = process.cpuUsage(cpuBefore);

const sorted = latencies.subarray(0, count).sort();
const percentile = (p) => (count === 0 ? null : sorted[Math.min(count - 1, Math.ceil((p / 100) * count) - 1)]);
let sum = 0;
for (let i = 0; i < count; i++) sum += sorted[i];

process.stdout.write(
  `${JSON.stringify({
    url,
    connections,
    pipelining,
    durationSeconds,
    wallMs,
    requests2xx: count,
    // Every 2xx response over the measured duration (autocannon's own per-second mean is below).
    requestsPerSecond: count / (result.duration || durationSeconds),
    autocannonRequestsAverage: result.requests.average,
    latencyMs: {
      mean: count ? sum / count : null,
      p50: percentile(50),
      p90: percentile(90),
      p99: percentile(99),
      p999: percentile(99.9),
      max: count ? sorted[count - 1] : null,
    },
    autocannonLatencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
    statusCounts,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    loadGeneratorCpuPercent: ((cpu.user + cpu.system) / 1e3 / wallMs) * 100,
  })}\n`,
);
