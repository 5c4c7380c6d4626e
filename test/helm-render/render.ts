import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = fileURLToPath(new URL('./main.go', import.meta.url));
/** Debian's golang-github-masterminds-sprig-dev and golang-gopkg-yaml.v3-dev live here. */
const DEBIAN_GOPATH = '/usr/share/gocode';

export interface Renderer {
  /** `helm` (a real helm on PATH) or the path of this project's renderer. */
  command: string;
  kind: 'helm' | 'helm-render';
}

export interface RenderResult {
  code: number;
  stdout: string;
  stderr: string;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<RenderResult> {
  return new Promise((resolve) => {
    execFile(command, [...args], { env, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr: stderr || (err && code !== 0 ? err.message : '') });
    });
  });
}

/**
 * Builds test/helm-render/main.go (GOPATH mode, Debian's sprig and yaml.v3) into the temp
 * directory, once per version of the source: several test files may ask at once, so the binary
 * is written under a unique name and renamed into place.
 */
async function buildRenderer(): Promise<string> {
  const go = onPath('go');
  if (!go) throw new Error('neither helm nor go is on PATH: run scripts/install_test_deps.sh (it installs golang-go and sprig)');
  if (!existsSync(join(DEBIAN_GOPATH, 'src/github.com/Masterminds/sprig'))) {
    throw new Error(`sprig is missing from ${DEBIAN_GOPATH}: run scripts/install_test_deps.sh`);
  }
  const hash = createHash('sha256').update(await readFile(SOURCE)).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'bff-accounting-helm-render');
  const binary = join(dir, `helm-render-${hash}`);
  if (existsSync(binary)) return binary;
  await mkdir(dir, { recursive: true });
  const partial = `${binary}.${process.pid}.${Date.now()}`;
  const env = {
    ...process.env,
    GO111MODULE: 'off',
    GOPATH: `${join(dir, 'gopath')}${delimiter}${DEBIAN_GOPATH}`,
    GOCACHE: join(dir, 'gocache'),
    GOFLAGS: '',
  };
  const result = await run(go, ['build', '-o', partial, SOURCE], env);
  if (result.code !== 0) throw new Error(`building the chart renderer failed:\n${result.stderr}`);
  await rename(partial, binary);
  return binary;
}

let renderer: Promise<Renderer> | undefined;

/** Real `helm` when installed (it also checks values.schema.json), else this project's renderer. */
export function chartRenderer(): Promise<Renderer> {
  renderer ??= (async () => {
    const helm = onPath('helm');
    if (helm) {
      execFileSync(helm, ['version', '--short']);
      return { command: helm, kind: 'helm' as const };
    }
    return { command: await buildRenderer(), kind: 'helm-render' as const };
  })();
  return renderer;
}

/** `helm template RELEASE CHART ...args`, by whichever renderer is there; never throws on a render error. */
export async function helmTemplate(release: string, chart: string, args: readonly string[]): Promise<RenderResult> {
  const { command } = await chartRenderer();
  return run(command, ['template', release, chart, ...args]);
}
