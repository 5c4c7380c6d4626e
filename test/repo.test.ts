import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

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

  it('tracks no build output, dependencies, data dirs or env files', () => {
    const files = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).split('\n');
    const offending = files.filter((file) => /(^|\/)(node_modules|dist|coverage|\.data|pglite-data)(\/|$)|(^|\/)\.env(\.|$)|\.tsbuildinfo$/.test(file));
    expect(offending).toEqual([]);
  });
});
