import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';

const script = (name: string) => fileURLToPath(new URL(`../scripts/${name}`, import.meta.url));

let stubs: string;
let calls: string;

/** helm and kubectl stand-ins that record their arguments and answer like a healthy cluster. */
async function writeStubs(tag: string, options: { rolloutFails?: boolean } = {}) {
  stubs = await mkdtemp(join(tmpdir(), 'rollback-stubs-'));
  calls = join(stubs, 'calls.log');
  await writeFile(join(stubs, 'helm'), `#!/usr/bin/env bash\necho "helm $*" >> "${calls}"\n`);
  await writeFile(
    join(stubs, 'kubectl'),
    `#!/usr/bin/env bash
echo "kubectl $*" >> "${calls}"
case "$*" in
  "rollout status"*) ${options.rolloutFails ? 'exit 1' : 'exit 0'} ;;
  "get deployment bff-accounting -n accounting -o jsonpath={.spec.template.spec.containers[0].image}") echo -n "ghcr.io/acme/app/bff-accounting:r7-h-pilot-20251203" ;;
  "get deployment"*) echo "ghcr.io/acme/app/bff-accounting:${tag}" ;;
  "get cronjob"*"{.metadata.name}"*) echo "bff-accounting-sync-external" ;;
  "get cronjob"*) echo "ghcr.io/acme/app/bff-accounting:${tag}" ;;
esac
`,
  );
  await chmod(join(stubs, 'helm'), 0o755);
  await chmod(join(stubs, 'kubectl'), 0o755);
}

/** Runs the script at `path` with bash, the stubs first on PATH. */
function runFile(path: string, args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', [path, ...args], { cwd: options.cwd, env: { PATH: `${stubs}:${process.env.PATH}`, ...options.env } }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const run = (name: string, args: string[], env: Record<string, string> = {}) => runFile(script(name), args, { env });

const recorded = async () => (await readFile(calls, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);

beforeEach(async () => {
  await writeStubs('r7-final-20251203');
});

describe('scripts/rollback.sh', () => {
  it('upgrades the release to the tag with helm, waits for the rollout, and checks deployment and CronJob images', async () => {
    const res = await run('rollback.sh', ['r7-final-20251203']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('rolled out: bff now runs r7-final-20251203');
    const log = await recorded();
    expect(log[0]).toBe('helm upgrade --install bff charts/bff-accounting --namespace accounting --reuse-values --set image.tag=r7-final-20251203 --wait --timeout 5m');
    expect(log[1]).toBe('kubectl rollout status deployment/bff-accounting -n accounting --timeout 5m');
    expect(log.some((line) => line.startsWith('kubectl get cronjob -n accounting -l app.kubernetes.io/instance=bff'))).toBe(true);
  });

  it('only prints the plan with DRY_RUN=1', async () => {
    const res = await run('rollback.sh', ['r7-final-20251203'], { DRY_RUN: '1' });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('plan:');
    expect(res.stdout).toContain('DRY_RUN=1: nothing changed');
    expect(await recorded()).toEqual([]);
  });

  it('fails when the cluster still runs another tag afterwards', async () => {
    await writeStubs('some-other-tag');
    const res = await run('rollback.sh', ['r7-final-20251203']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('not on r7-final-20251203');
  });

  it('fails when the rollout does not finish', async () => {
    await writeStubs('r7-final-20251203', { rolloutFails: true });
    expect((await run('rollback.sh', ['r7-final-20251203'])).code).toBe(1);
  });

  it.each([[[]], [['bad tag']], [['-rf']], [['a', 'b']]])('refuses %j with exit 2 and changes nothing', async (args) => {
    const res = await run('rollback.sh', args);
    expect(res.code).toBe(2);
    expect(await recorded()).toEqual([]);
  });
});

describe('scripts/rollback-kubectl.sh', () => {
  it('sets the image of the deployment and the release CronJobs to the tag and waits for the rollout', async () => {
    const res = await run('rollback-kubectl.sh', ['r7-final-20251203']);
    expect(res.code).toBe(0);
    const log = await recorded();
    expect(log).toContain('kubectl set image deployment/bff-accounting *=ghcr.io/acme/app/bff-accounting:r7-final-20251203 -n accounting');
    expect(log).toContain('kubectl set image cronjob/bff-accounting-sync-external *=ghcr.io/acme/app/bff-accounting:r7-final-20251203 -n accounting');
    expect(log).toContain('kubectl rollout status deployment/bff-accounting -n accounting --timeout 5m');
    expect(res.stdout).toContain('the next helm upgrade must set image.tag=r7-final-20251203');
  });

  it('only prints the plan with DRY_RUN=1', async () => {
    const res = await run('rollback-kubectl.sh', ['r7-final-20251203'], { DRY_RUN: '1' });
    expect(res.code).toBe(0);
    expect((await recorded()).filter((line) => line.includes('set image'))).toEqual([]);
  });

  it('prints usage with --help', async () => {
    const res = await run('rollback-kubectl.sh', ['--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Usage: rollback-kubectl.sh');
  });
});

describe('both rollback scripts, run through a symlink from another directory', () => {
  it.each(['rollback.sh', 'rollback-kubectl.sh'])('%s still finds its shared argument parsing', async (name) => {
    const link = join(stubs, 'bin-rollback');
    await symlink(script(name), link);
    const runLink = (args: string[]) => runFile(link, args, { cwd: stubs });
    const help = await runLink(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: bin-rollback');
    const bad = await runLink(['-not-a-tag']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('not a valid image tag');
  });
});
