import { existsSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { helmTemplate } from './helm-render/render.js';
import { spawnNode } from './support/process.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const DOCKERFILE = join(root, 'docker/Dockerfile');
const DOCKERIGNORE = join(root, 'docker/Dockerfile.dockerignore');

interface Instruction {
  keyword: string;
  flags: Record<string, string>;
  /** Shell-form words, or the JSON form's array. */
  args: string[];
  line: string;
}

interface Stage {
  name: string;
  base: string;
  workdir: string;
  instructions: Instruction[];
}

/** Logical lines: continuations joined, comments and parser directives dropped. */
function logicalLines(text: string): string[] {
  const lines: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw)) continue;
    if (/\\\s*$/.test(raw)) {
      current += `${raw.replace(/\\\s*$/, '')} `;
      continue;
    }
    current += raw;
    if (current.trim()) lines.push(current.trim());
    current = '';
  }
  return lines;
}

function parseDockerfile(text: string): Stage[] {
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of logicalLines(text)) {
    const [word = '', ...rest] = line.split(/\s+/);
    const keyword = word.toUpperCase();
    const body = line.slice(word.length).trim();
    const flags: Record<string, string> = {};
    const words = rest.filter((token) => {
      const flag = /^--([a-z-]+)(?:=(.*))?$/.exec(token);
      if (flag && (keyword === 'COPY' || keyword === 'ADD' || keyword === 'FROM')) flags[flag[1] ?? ''] = flag[2] ?? '';
      return !flag;
    });
    const args = body.startsWith('[') ? (JSON.parse(body) as string[]) : words;
    const stage = stages.at(-1);
    if (keyword === 'ARG' && !stage) {
      const [name = '', value = ''] = (args[0] ?? '').split('=');
      globalArgs[name] = value;
    } else if (keyword === 'FROM') {
      const base = (args[0] ?? '').replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => globalArgs[a ?? b ?? ''] ?? '');
      const asIndex = args.findIndex((token) => token.toUpperCase() === 'AS');
      const parent = stages.find((s) => s.name === base);
      stages.push({ name: asIndex >= 0 ? (args[asIndex + 1] ?? '') : String(stages.length), base, workdir: parent?.workdir ?? '/', instructions: [...(parent?.instructions ?? [])] });
    } else if (stage) {
      if (keyword === 'WORKDIR') stage.workdir = posix.resolve(stage.workdir, args[0] ?? '');
      stage.instructions.push({ keyword, flags, args, line });
    }
  }
  return stages;
}

/** An image path the runtime stage holds, and the repository path it comes from. */
interface Placed {
  imagePath: string;
  repoPath: string;
}

/**
 * What the runtime stage places where. A build stage mirrors the repository at its WORKDIR
 * (/app = the repository root after `pnpm run build`), so a path copied from it maps back to a
 * repository path; so does a path copied from the build context.
 */
function placements(stage: Stage, stages: Stage[]): Placed[] {
  const placed: Placed[] = [];
  for (const copy of stage.instructions.filter((i) => i.keyword === 'COPY')) {
    const sources = copy.args.slice(0, -1);
    const dest = posix.resolve(stage.workdir, copy.args.at(-1) ?? '');
    const from = copy.flags.from;
    for (const source of sources) {
      let repoPath = source;
      if (from !== undefined) {
        const origin = stages.find((s) => s.name === from);
        expect(origin, `stage ${from}`).toBeDefined();
        expect(source.startsWith(`${origin?.workdir}/`), `${copy.line}: copies from the stage's WORKDIR`).toBe(true);
        repoPath = posix.relative(origin?.workdir ?? '/', source);
      }
      // Docker copies a directory's contents into the destination, and a file into a
      // destination ending in "/" under its own name.
      const local = join(root, repoPath);
      const isDir = existsSync(local) && statSync(local).isDirectory();
      const imagePath = isDir || !(copy.args.at(-1) ?? '').endsWith('/') ? dest : posix.join(dest, posix.basename(source));
      placed.push({ imagePath: imagePath.replace(/\/$/, ''), repoPath: repoPath.replace(/\/$/, '') });
    }
  }
  return placed;
}

/** The repository path behind an image path, when the runtime stage holds it. */
function repoPathOf(imagePath: string, placed: Placed[]): string | undefined {
  for (const { imagePath: at, repoPath } of placed) {
    if (imagePath === at) return repoPath;
    if (imagePath.startsWith(`${at}/`)) return posix.join(repoPath, imagePath.slice(at.length + 1));
  }
  return undefined;
}

function ignoredByContext(path: string, patterns: string[]): boolean {
  const segments = path.replace(/\/$/, '').split('/');
  return patterns.some((pattern) => (pattern.startsWith('**/') ? segments.includes(pattern.slice(3)) : segments[0] === pattern || path === pattern));
}

interface WorkspacePackage {
  dir: string;
  name: string;
  files: string[];
  dependencies: Record<string, string>;
}

let stages: Stage[];
let runtime: Stage;
let placed: Placed[];
let packages: WorkspacePackage[];

beforeAll(async () => {
  stages = parseDockerfile(await readFile(DOCKERFILE, 'utf8'));
  runtime = stages.at(-1) as Stage;
  placed = placements(runtime, stages);
  packages = await Promise.all(
    (await readdir(join(root, 'packages'))).map(async (dir) => {
      const manifest = JSON.parse(await readFile(join(root, 'packages', dir, 'package.json'), 'utf8')) as { name: string; files?: string[]; dependencies?: Record<string, string> };
      return { dir, name: manifest.name, files: manifest.files ?? [], dependencies: manifest.dependencies ?? {} };
    }),
  );
  if (!existsSync(join(root, 'packages/bff-accounting/dist/index.js'))) throw new Error('packages/bff-accounting/dist is missing: run "pnpm run build" first');
});

describe('docker/Dockerfile', () => {
  it('is multi-stage, and its runtime stage on Node 20 only copies: no install, no build, no shell step', () => {
    expect(stages.map((s) => s.name)).toEqual(['manifests', 'build', 'prod-deps', 'runtime']);
    expect(runtime.base).toMatch(/^node:20[-.]/);
    expect(runtime.instructions.map((i) => i.keyword).filter((k) => k === 'RUN' || k === 'ADD')).toEqual([]);
  });

  it('gives the runtime only production dependencies, installed from the lockfile', () => {
    const nodeModules = runtime.instructions.filter((i) => i.keyword === 'COPY' && i.args.some((arg) => arg.includes('node_modules')));
    expect(nodeModules.length).toBeGreaterThan(0);
    for (const copy of nodeModules) {
      const from = stages.find((s) => s.name === copy.flags.from);
      const installs = from?.instructions.filter((i) => i.keyword === 'RUN' && /\bpnpm install\b/.test(i.line)) ?? [];
      expect(installs.at(-1)?.line, copy.line).toMatch(/--prod\b/);
      expect(installs.at(-1)?.line, copy.line).toMatch(/--frozen-lockfile\b/);
    }
  });

  it('copies every workspace manifest and the lockfile before installing, so --frozen-lockfile can hold', () => {
    const manifests = stages.find((s) => s.name === 'manifests') as Stage;
    const copied = manifests.instructions.filter((i) => i.keyword === 'COPY').flatMap((i) => i.args.slice(0, -1));
    expect(copied).toEqual(expect.arrayContaining(['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml', ...packages.map((p) => `packages/${p.dir}/package.json`)]));
  });

  it('copies from the build context only paths that exist in the repository and are not ignored', async () => {
    const patterns = (await readFile(DOCKERIGNORE, 'utf8')).split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
    const fromContext = stages.flatMap((s) => s.instructions).filter((i) => i.keyword === 'COPY' && i.flags.from === undefined);
    expect(fromContext.length).toBeGreaterThan(0);
    for (const copy of fromContext) {
      for (const source of copy.args.slice(0, -1)) {
        expect(existsSync(join(root, source)), `${copy.line}: ${source} exists`).toBe(true);
        expect(ignoredByContext(source, patterns), `${copy.line}: ${source} is in the build context`).toBe(false);
      }
    }
  });

  it('copies from its stages only paths that exist in the repository after pnpm run build', () => {
    expect(placed.length).toBeGreaterThan(10);
    for (const { repoPath, imagePath } of placed) expect(existsSync(join(root, repoPath)), `${imagePath} <- ${repoPath}`).toBe(true);
  });

  it('holds every workspace package the BFF loads, with its package.json, its node_modules and every file it publishes', () => {
    const needed = new Set<string>();
    const visit = (name: string) => {
      const pkg = packages.find((p) => p.name === name);
      if (!pkg || needed.has(pkg.dir)) return;
      needed.add(pkg.dir);
      for (const [dep, spec] of Object.entries(pkg.dependencies)) if (spec.startsWith('workspace:')) visit(dep);
    };
    visit('@accounting/bff-accounting');
    expect([...needed].sort()).toEqual(['bank-sandbox-sim', 'bff-accounting', 'data-pg', 'service-core-accounting']);
    for (const dir of needed) {
      const pkg = packages.find((p) => p.dir === dir) as WorkspacePackage;
      for (const file of ['package.json', 'node_modules', ...pkg.files]) {
        expect(repoPathOf(`/app/packages/${dir}/${file}`, placed), `/app/packages/${dir}/${file} in the image`).toBe(`packages/${dir}/${file}`);
      }
    }
    expect(repoPathOf('/app/node_modules', placed)).toBe('node_modules');
    expect(repoPathOf('/app/packages/data-pg/migrations/001_audit_events.sql', placed)).toBe('packages/data-pg/migrations/001_audit_events.sql');
  });

  it('holds the built Backoffice where the BFF looks for it by default (BACKOFFICE_DIR unset)', () => {
    const dir = posix.join('/app/packages/bff-accounting/dist', '../../backoffice-web/dist');
    expect(repoPathOf(`${dir}/index.html`, placed)).toBe('packages/backoffice-web/dist/index.html');
    expect(existsSync(join(root, 'packages/backoffice-web/dist/index.html')), 'the Backoffice after the build').toBe(true);
  });

  it('runs the BFF by default, as a numeric non-root user, on port 8081', () => {
    const last = (keyword: string) => runtime.instructions.filter((i) => i.keyword === keyword).at(-1);
    expect(last('CMD')?.args).toEqual(['node', 'packages/bff-accounting/dist/index.js']);
    expect(last('ENTRYPOINT')).toBeUndefined();
    expect(last('USER')?.args[0]).toMatch(/^[1-9]\d*(:\d+)?$/);
    expect(last('EXPOSE')?.args).toEqual(['8081']);
    expect(runtime.workdir).toBe('/app');
  });

  it('holds every script the image and the chart run, each present after the build', async () => {
    const rendered = await helmTemplate('bff', join(root, 'charts/bff-accounting'), ['--namespace', 'accounting']);
    expect(rendered.code, rendered.stderr).toBe(0);
    const commands: string[][] = [runtime.instructions.filter((i) => i.keyword === 'CMD').at(-1)?.args ?? []];
    const collect = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(collect);
      else if (node && typeof node === 'object') {
        const record = node as Record<string, unknown>;
        if (Array.isArray(record.containers)) for (const c of record.containers as { command?: string[] }[]) if (c.command) commands.push(c.command);
        Object.values(record).forEach(collect);
      }
    };
    for (const doc of parseAllDocuments(rendered.stdout)) collect(doc.toJS());
    const scripts = commands.map((command) => {
      expect(command[0]).toBe('node');
      return command[1] ?? '';
    });
    expect(new Set(scripts)).toEqual(new Set(['packages/bff-accounting/dist/index.js', 'scripts/worker_sync_external.mjs', 'packages/bff-accounting/dist/migrate.js']));
    for (const script of scripts) {
      const repoPath = repoPathOf(posix.resolve(runtime.workdir, script), placed);
      expect(repoPath, `${script} in the image`).toBe(script);
      expect(existsSync(join(root, script)), `${script} after the build`).toBe(true);
    }
    // The worker script loads the built worker from the package next to it.
    expect(await readFile(join(root, 'scripts/worker_sync_external.mjs'), 'utf8')).toContain("'../packages/bff-accounting/dist/worker/main.js'");
    expect(repoPathOf('/app/packages/bff-accounting/dist/worker/main.js', placed)).toBe('packages/bff-accounting/dist/worker/main.js');
  });

  it('gives the worker and the migrations entry points that load and answer (help, and a missing DATABASE_URL)', async () => {
    const worker = spawnNode(join(root, 'scripts/worker_sync_external.mjs'), ['--help'], {});
    expect(await worker.exited).toBe(0);
    expect(worker.stdout.join('\n')).toContain('usage: node scripts/worker_sync_external.mjs');
    const migrate = spawnNode(join(root, 'packages/bff-accounting/dist/migrate.js'), [], {});
    expect(await migrate.exited).toBe(1);
    expect(migrate.stderr.join('')).toContain('DATABASE_URL must be set');
  });
});
