import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { WORKSPACE_ROOT } from './service-process';

/** The model runtime's command line, where scripts/setup.sh installs it. */
export const RUNTIME_EXECUTABLE = join(WORKSPACE_ROOT, 'apps/model-runtime/.venv/bin/studio-runtime');

/** The runtime's Python package in this checkout (the virtual environment may have been installed from another). */
export const RUNTIME_SOURCE = join(WORKSPACE_ROOT, 'apps/model-runtime/src');

export function runtimeInstalled(): boolean {
  return existsSync(RUNTIME_EXECUTABLE);
}

/** `studio-runtime serve` or `studio-runtime worker` as a child process, its output kept for failure messages. */
export class RuntimeProcess {
  readonly child: ChildProcess;
  private output = '';

  constructor(
    readonly name: string,
    args: string[],
    env: Record<string, string> = {},
  ) {
    this.child = spawn(RUNTIME_EXECUTABLE, args, {
      cwd: WORKSPACE_ROOT,
      // This checkout's runtime code, whichever checkout the virtual environment was installed from.
      env: { ...process.env, HF_HUB_OFFLINE: '1', PYTHONPATH: RUNTIME_SOURCE, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-20_000);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  tail(lines = 20): string {
    return `${this.name} output:\n${this.output.split('\n').slice(-lines).join('\n')}`;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.child.kill('SIGTERM');
    });
  }
}
