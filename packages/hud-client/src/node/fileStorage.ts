import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { QueueStorage } from '../queue/storage.js';

function isMissing(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ENOENT';
}

/** fsync of the directory, so the rename itself survives a power cut (not supported everywhere). */
async function syncDirectory(directory: string): Promise<void> {
  let handle;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch {
    // Some platforms (Windows) cannot open or sync a directory; the rename is still atomic there.
  } finally {
    await handle?.close();
  }
}

/**
 * Queue storage in one file, for Node (tests, tools, Electron's main process). A write goes to a
 * temporary file beside it, is flushed to disk, then renamed over the file: a crash leaves the
 * old document or the new one, never a torn one. The directory is created when missing; the file
 * is readable by its owner only. Writes through one instance are made one after the other.
 */
export function createFileStorage(path: string): QueueStorage {
  const directory = dirname(path);
  let writes: Promise<void> = Promise.resolve();

  async function replace(document: string): Promise<void> {
    await mkdir(directory, { recursive: true });
    const temporary = join(directory, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const handle = await open(temporary, 'wx', 0o600);
      try {
        await handle.writeFile(document, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    await syncDirectory(directory);
  }

  return {
    async read() {
      try {
        return await readFile(path, 'utf8');
      } catch (error) {
        if (isMissing(error)) return null;
        throw error;
      }
    },
    write(document) {
      const run = writes.then(() => replace(document));
      writes = run.catch(() => undefined);
      return run;
    },
  };
}
