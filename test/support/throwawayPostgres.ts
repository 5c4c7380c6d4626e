import { execFile } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where Debian puts the server binaries; `PG_BIN_DIR` overrides. */
export const PG_BIN_DIR = process.env.PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';

/** A free TCP port on 127.0.0.1 (the OS picks it; nothing else is told about it). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A PostgreSQL cluster of a test's own, in a temp directory, on its own port and socket
 * directory, that the test may stop and start as it likes (never the shared server on 5432).
 * Runs as the `postgres` user when the test runs as root (initdb refuses root).
 */
export class ThrowawayPostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth). */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** initdb into a new temp directory; the server is not started yet. */
  static async create(): Promise<ThrowawayPostgres> {
    const dir = await mkdtemp(join(tmpdir(), 'pg-fault-'));
    const cluster = new ThrowawayPostgres(dir, await freePort());
    if (process.getuid?.() === 0) await chown(dir, ...(await postgresIds()));
    await cluster.asPostgres('initdb', ['-D', cluster.dataDir, '--auth=trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    return cluster;
  }

  /** Starts the server and waits until it accepts connections. */
  async start(): Promise<void> {
    const options = [
      `-p ${this.port}`,
      "-c listen_addresses='127.0.0.1'",
      `-c unix_socket_directories='${this.dir}'`,
      '-c fsync=off',
      '-c max_connections=60',
      '-c shared_buffers=32MB',
    ].join(' ');
    await this.asPostgres('pg_ctl', ['-D', this.dataDir, '-l', join(this.dir, 'server.log'), '-o', options, '-w', '-t', '60', 'start']);
  }

  /** `pg_ctl -m fast stop`: open connections are terminated (57P01), as in a restart or failover. */
  async stop(): Promise<void> {
    await this.asPostgres('pg_ctl', ['-D', this.dataDir, '-m', 'fast', '-w', '-t', '60', 'stop']);
  }

  /** Stops the server if it runs and removes the directory. */
  async destroy(): Promise<void> {
    await this.asPostgres('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }

  private async asPostgres(binary: string, args: string[]): Promise<void> {
    const command = join(PG_BIN_DIR, binary);
    if (process.getuid?.() === 0) await run('runuser', ['-u', 'postgres', '--', command, ...args], { cwd: this.dir });
    else await run(command, args, { cwd: this.dir });
  }
}

async function postgresIds(): Promise<[number, number]> {
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
  return [uid, gid];
}
