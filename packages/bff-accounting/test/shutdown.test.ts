import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../src/server.js';
import { spawnBffOnPostgres } from '../../../test/support/process.js';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';

describe('draining', () => {
  it('finishes an in-flight request, then refuses new connections', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let arrived!: () => void;
    const started = new Promise<void>((resolve) => (arrived = resolve));
    const app = express();
    app.get('/slow', async (_req, res) => {
      arrived();
      await gate;
      res.json({ done: true });
    });
    const running = await listen(app, 0, '127.0.0.1');
    const base = `http://127.0.0.1:${running.port}`;

    const inFlight = fetch(`${base}/slow`).then(async (res) => ({ status: res.status, body: await res.json() }));
    await started;
    const drained = running.drain(10_000);
    await expect(fetch(`${base}/slow`)).rejects.toThrow();
    release();

    expect(await inFlight).toEqual({ status: 200, body: { done: true } });
    await drained;
  });

  it('cuts requests still running after the grace period', async () => {
    const app = express();
    let arrived!: () => void;
    const started = new Promise<void>((resolve) => (arrived = resolve));
    app.get('/never', () => arrived());
    const running = await listen(app, 0, '127.0.0.1');
    const stuck = fetch(`http://127.0.0.1:${running.port}/never`);
    await started;
    await running.drain(100);
    await expect(stuck).rejects.toThrow();
  });
});

describe('the process', () => {
  let schema: TestSchema;
  beforeAll(async () => {
    schema = await createTestSchema('vt_proc');
  });
  afterAll(async () => {
    await schema?.drop();
  });

  it('starts on PostgreSQL, migrates, serves, and exits 0 on SIGTERM after closing the pool', async () => {
    const bff = spawnBffOnPostgres(schema.url);
    try {
      const port = await bff.port();
      const listening = await bff.waitFor(/listening on/);
      expect(listening).toContain('database: postgres');
      const ready = await fetch(`http://127.0.0.1:${port}/ready`);
      expect(ready.status).toBe(200);
      const { rows } = await schema.db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
      expect(rows[0]?.n).toBeGreaterThan(0);

      bff.child.kill('SIGTERM');
      expect(await bff.exited).toBe(0);
      expect(bff.stdout.join('\n')).toMatch(/"msg":"stopped"/);
    } finally {
      await bff.stop();
    }
  });

  it('answers /ready with 503 during SHUTDOWN_DELAY_MS, then drains and exits 0', async () => {
    const bff = spawnBffOnPostgres(schema.url, { SHUTDOWN_DELAY_MS: '3000' });
    try {
      const port = await bff.port();
      bff.child.kill('SIGTERM');
      await bff.waitFor(/shutting down/);
      const ready = await fetch(`http://127.0.0.1:${port}/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ reason: 'SHUTTING_DOWN' });
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
      expect(await bff.exited).toBe(0);
    } finally {
      await bff.stop();
    }
  });
});
