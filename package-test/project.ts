/**
 * A consumer project outside the repository: `npm pack` of the repository, a fresh folder under
 * the OS temp dir, `npm install` of the tarball and the README's packages, commands run in it, and
 * its programs started as child processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunResult { code: number | null; output: string }

/** Runs a command to its end; resolves with the exit code and the interleaved stdout/stderr. */
export function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** Like `run`, but a non-zero exit is an error carrying the output. */
export async function runOk(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<string> {
  const result = await run(command, args, options);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.code}:\n${result.output}`);
  return result.output;
}

/** A fresh folder under the OS temp dir (outside the repository). */
export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `authflow-${label}-`));
}

/** `npm pack` of the repository (its `prepack` builds); resolves to the tarball's path. */
export async function packRepository(repo: string, destination: string): Promise<string> {
  const output = await runOk('npm', ['pack', '--json', '--pack-destination', destination], { cwd: repo });
  const [packed] = JSON.parse(output.slice(output.indexOf('[\n'))) as { filename: string }[];
  return join(destination, packed!.filename);
}

/** Writes files (path relative to `dir` → content), creating folders. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

/** `npm install` from the local cache where it can (the registry is asked only for what is missing). */
export function npmInstall(dir: string, packages: string[]): Promise<string> {
  return runOk('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...packages], { cwd: dir });
}

/** A free TCP port on loopback (taken from port 0, then released for the program to bind). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A consumer program running as a child process. */
export interface Program {
  output(): string;
  stop(): Promise<void>;
}

/** Starts `node <script>` in `dir` and resolves once `url` answers HTTP (or fails with the program's output). */
export async function startProgram(dir: string, script: string, env: Record<string, string>, url: string): Promise<Program> {
  const child: ChildProcess = spawn(process.execPath, [script], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const program: Program = {
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}:\n${output}`);
    try {
      await fetch(url, { redirect: 'manual' });
      return program;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await program.stop();
  throw new Error(`${script} did not answer at ${url} within 15 s:\n${output}`);
}
