import { resolve } from 'node:path';
import { runAlign } from './align';
import { InputError, parseAlignArgs, USAGE } from './cli/args';
import { runKeysCommand } from './cli/keys';
import { renderSummary } from './cli/summary';
import { parseViewArgs, startView, VIEW_USAGE } from './view';

const root = (): string => process.env['STUDIO_ROOT'] ?? resolve(__dirname, '../../..');

/**
 * `studio view`: the studio (gateway, services, model runtime) until SIGINT/SIGTERM, then a clean
 * stop. Exit codes: 0 stopped, 1 failure, 2 bad input.
 */
async function view(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${VIEW_USAGE}\n`);
    return 0;
  }
  try {
    const args = parseViewArgs(argv);
    const studio = await startView(args, { stdout: process.stdout, root: root() });
    const signal = await new Promise<NodeJS.Signals>((done) => {
      process.once('SIGINT', () => done('SIGINT'));
      process.once('SIGTERM', () => done('SIGTERM'));
    });
    process.stderr.write(`\n${signal}: stopping the studio…\n`);
    // A second signal, or a stop that hangs, must not keep us: exiting kills the runtime processes.
    const force = () => process.exit(130);
    process.once('SIGINT', force);
    process.once('SIGTERM', force);
    setTimeout(force, 20_000).unref();
    await studio.stop();
    process.stderr.write('stopped\n');
    return 0;
  } catch (error) {
    process.stderr.write(`studio: ${error instanceof Error ? error.message : String(error)}\n`);
    if (error instanceof InputError) return 2;
    if (process.env['STUDIO_DEBUG'] && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return 1;
  }
}

/**
 * `studio align <policy>`: the whole pipeline in one process (embedded profile); `studio view`: the studio;
 * `studio keys create|list|revoke|role`: a tenant's API keys, through a gateway.
 * Exit codes: 0 done (whatever the verdict), 1 failure, 2 bad input (nothing stored), 130 interrupted.
 */
async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'view') return view(argv.slice(1));
  // `studio keys ...`: a tenant's API keys, through the gateway.
  if (argv[0] === 'keys') return runKeysCommand(argv.slice(1), process.env, { stdout: process.stdout, stderr: process.stderr });
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const controller = new AbortController();
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping (the model runtime is shut down)…\n`);
    controller.abort();
    // A stage that does not watch the signal must not keep us: exiting kills the runtime processes.
    setTimeout(() => process.exit(130), 10_000).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const args = parseAlignArgs(argv);
    const summary = await runAlign(args, {
      stderr: process.stderr,
      root: root(),
      signal: controller.signal,
    });
    process.stdout.write(renderSummary(summary));
    return 0;
  } catch (error) {
    if (error instanceof InputError) {
      process.stderr.write(`studio: ${error.message}\n`);
      return 2;
    }
    if (interrupted) return 130;
    process.stderr.write(`studio: ${error instanceof Error ? error.message : String(error)}\n`);
    if (process.env['STUDIO_DEBUG'] && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return 1;
  }
}

void main(process.argv.slice(2)).then((code) => process.exit(code));
