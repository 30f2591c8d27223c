// Starts the real pulso binary for the tests (../target/debug/pulso, or PULSO_BIN).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const BIN = process.env.PULSO_BIN ?? path.resolve(here, '../../target/debug/pulso');
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;

/** The keys the tests sign in with: one per role. */
export const API_KEYS = { admin: 'dev', staff: 'staff-key', viewer: 'viewer-key' } as const;

export interface PulsoOptions {
  /** `host:port`; port 0 lets the OS choose. */
  addr?: string;
  databaseUrl?: string;
  /** Appends the server's log lines to this file. */
  logFile?: string;
  /** More settings, on top of the tests' own. */
  env?: Record<string, string>;
}

export interface PulsoServer {
  url: string;
  /** SIGTERM (a graceful shutdown), then SIGKILL if it has not exited in time. */
  stop: () => Promise<void>;
}

/** Resolves once the server logs where it listens (the JSON line carries `addr`). */
export function startPulso({
  addr = '127.0.0.1:0',
  databaseUrl = 'sqlite::memory:',
  logFile,
  env = {},
}: PulsoOptions = {}): Promise<PulsoServer> {
  const child = spawn(BIN, [], {
    env: {
      ...process.env,
      PULSO_ADDR: addr,
      DATABASE_URL: databaseUrl,
      PULSO_API_KEYS: Object.entries(API_KEYS)
        .map(([role, key]) => `${key}:${role}`)
        .join(','),
      PULSO_LOG_FORMAT: 'json',
      RUST_LOG: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (logFile) {
    const log = createWriteStream(logFile, { flags: 'a' });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
  } else {
    child.stderr.pipe(process.stderr);
  }
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error(`${BIN} did not log "pulso listening" in time`)), START_TIMEOUT_MS);
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`${BIN} exited early (code ${code})`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      let entry: { message?: string; addr?: string };
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      if (entry.message?.startsWith('pulso listening')) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve({ url: `http://${entry.addr}`, stop: () => stop(child) });
      }
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** A port that was free a moment ago, for a server that must come back on the same one. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
