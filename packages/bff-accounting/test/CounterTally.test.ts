import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CounterTally } from '../src/CounterTally.js';

function tallied() {
  const registry = new Registry();
  const tally = new CounterTally();
  const counter = tally.counter({ name: 'probe_total', help: 'probe', labelNames: ['kind', 'code'] as const, registers: [registry] });
  return { registry, tally, counter };
}

describe('a tallied counter', () => {
  it('shows every tallied increment in the scrape, once, however often it is read', async () => {
    const { registry, tally, counter } = tallied();
    const ok = tally.series(counter, 'a', '200');
    ok.inc();
    ok.inc();
    ok.inc();
    expect(await registry.metrics()).toContain('probe_total{kind="a",code="200"} 3');
    expect(await registry.metrics()).toContain('probe_total{kind="a",code="200"} 3');

    ok.inc();
    const values = (await counter.get()).values;
    expect(values).toEqual([{ labels: { kind: 'a', code: '200' }, value: 4 }]);
  });

  it('adds up with direct increments of the same series, and keeps other series apart', async () => {
    const { registry, tally, counter } = tallied();
    tally.series(counter, 'a', '200').inc();
    counter.inc({ kind: 'a', code: '200' }, 5);
    tally.series(counter, 'b', '500').inc();
    const text = await registry.metrics();
    expect(text).toContain('probe_total{kind="a",code="200"} 6');
    expect(text).toContain('probe_total{kind="b",code="500"} 1');
  });

  it('gives the same series for the same labels, so counts are never split', async () => {
    const { registry, tally, counter } = tallied();
    expect(tally.series(counter, 'a', '200')).toBe(tally.series(counter, 'a', '200'));
    expect(tally.series(counter, 'a', '200')).not.toBe(tally.series(counter, 'a', '201'));
    tally.series(counter, 'a', '200').inc();
    tally.series(counter, 'a', '200').inc();
    expect(await registry.metrics()).toContain('probe_total{kind="a",code="200"} 2');
  });

  it('refuses a counter without a collect hook, rather than lose its counts', () => {
    const tally = new CounterTally();
    const plain = new Counter({ name: 'plain_total', help: 'plain', labelNames: ['kind'] as const, registers: [] });
    expect(() => tally.series(plain, 'a')).toThrow(/collect hook/);
  });
});
