import { resolve } from 'node:path';
import { runAlign } from './align';
import { InputError, parseAlignArgs, USAGE } from './cli/args';
import { runKeysCommand } from './cli/keys';
import { renderSummary } from './cli/summary';

/**
 * `studio align <policy>`: the whole pipeline in one process (embedded profile);
 * `studio keys create|list|revoke|role`: a tenant's API keys, through a gateway.
 * Exit codes: 0 done (whatever the verdict), 1 failure, 2 bad input (nothing stored), 130 interrupted.
 */
async function main(argv: string[]): Promise<number> {
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
      root: process.env['STUDIO_ROOT'] ?? resolve(__dirname, '../../..'),
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
