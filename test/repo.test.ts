import { execFileSync, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
// @ts-expect-error -- a plain .mjs script without type declarations
import { GATES } from '../scripts/gates.mjs';

const root = new URL('../', import.meta.url);

describe('the repository', () => {
  it('opens its README with exactly the two commands (start, test), and .ci/run runs the test one', async () => {
    const readme = await readFile(new URL('README.md', root), 'utf8');
    const block = /```bash\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const lines = block.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/ start$/);
    expect(lines[1]).toMatch(/ test$/);
    const ci = await readFile(new URL('.ci/run', root), 'utf8');
    expect(ci.split('\n')).toContain(lines[1]);
  });

  it('tracks no build output, dependencies, data dirs or env files (scripts/check_no_artifacts.sh)', () => {
    expect(execFileSync('./scripts/check_no_artifacts.sh', { cwd: root, encoding: 'utf8' })).toContain('no-artifacts: clean');
  });

  it('runs every checklist gate as its own CI job, each gate naming test files that exist', async () => {
    const gates = GATES as Record<string, { files: string[] }>;
    expect(Object.keys(gates).sort()).toEqual(['accuracy-data', 'gate-os-integration', 'gate_mobile', 'persistence']);
    for (const { files } of Object.values(gates)) {
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) expect(existsSync(new URL(file, root)), file).toBe(true);
    }
    const workflow = parse(await readFile(new URL('.github/workflows/ci.yml', root), 'utf8')) as {
      jobs: Record<string, { name?: string; strategy?: { matrix?: { gate?: string[] } }; steps: { run?: string }[] }>;
    };
    expect(workflow.jobs.gates?.strategy?.matrix?.gate?.sort()).toEqual(Object.keys(gates).sort());
    expect(workflow.jobs.gates?.steps.some((step) => step.run === 'node scripts/gates.mjs ${{ matrix.gate }}')).toBe(true);
    expect(workflow.jobs['no-artifacts']?.steps.some((step) => step.run === './scripts/check_no_artifacts.sh')).toBe(true);
    expect(workflow.jobs.lint?.steps.some((step) => step.run?.includes('lint'))).toBe(true);
  });

  it.each(['packages/x/dist/index.js', 'node_modules/a/index.js', '.env', 'artifacts/screenshots/a.png', 'packages/x/tsconfig.tsbuildinfo'])(
    'fails the no-artifacts check when %s is tracked',
    (tracked) => {
      const repo = mkdtempSync(join(tmpdir(), 'no-artifacts-'));
      try {
        mkdirSync(join(repo, 'scripts'));
        copyFileSync(new URL('scripts/check_no_artifacts.sh', root), join(repo, 'scripts/check_no_artifacts.sh'));
        mkdirSync(dirname(join(repo, tracked)), { recursive: true });
        writeFileSync(join(repo, tracked), 'x');
        execFileSync('git', ['init', '-q'], { cwd: repo });
        execFileSync('git', ['add', '.'], { cwd: repo });
        const run = spawnSync('bash', ['scripts/check_no_artifacts.sh'], { cwd: repo, encoding: 'utf8' });
        expect(run.status).toBe(1);
        expect(run.stdout).toContain(tracked);
      } finally {
        rmSync(repo, { recursive: true, force: true });
      }
    },
  );
});
