import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUDIT_VERDICT_ISSUED_V1, CLAUSES_INDEXED_V1, DATASET_VERSION_PUBLISHED_V1 } from '@studio/contracts';
import type { ServerVar } from '@studio/testing';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { RUNTIME_EXECUTABLE, runtimeInstalled } from './runtime-process';
import { WORKSPACE_ROOT } from './service-process';
import { Stack, type StackOptions } from './stack';
import type { TestRole } from './keys';

/**
 * The studio web app in a real browser (Debian's Chromium driven by playwright-core) against a
 * test stack whose gateway serves the app built for this run: what the browser tests share
 * (the prerequisites, the build, the stack and the browser, pages that record what they load from
 * elsewhere, the key sign-in, screenshots, steps that say what the page showed when they fail, and
 * a context with a model trained on it).
 */

/** The Chromium of the machine (Debian's package), driven by playwright-core with the flags PLATFORM-FACTS names. */
export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Launches the machine's Chromium, headless. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
}

/** The servers of deploy/local the browser tests need (for `describeWithServers`). */
export const WEB_TEST_SERVERS: ServerVar[] = ['KAFKA_BROKERS', 'MONGO_URL', 'REDIS_URL', 'QDRANT_URL'];
/** The example context: its policy, values and seeds. */
export const EXAMPLE = join(WORKSPACE_ROOT, 'examples/northwind-conduct');
export const EXAMPLE_POLICY = readFileSync(join(EXAMPLE, 'policy.md'), 'utf8');
export const EXAMPLE_VALUES = JSON.parse(readFileSync(join(EXAMPLE, 'values.json'), 'utf8')) as {
  values: { name: string; priority: number }[];
};
/** Where screenshots go: $STUDIO_TEST_OUTPUT (default .data/test-output). */
const TEST_OUTPUT = process.env['STUDIO_TEST_OUTPUT'] ?? join(WORKSPACE_ROOT, '.data', 'test-output');
/** The views fit a screen this wide: nothing scrolls sideways. */
const SCREEN_WIDTH = 1280;

/**
 * Whether the model runtime (unless the test starts none: `runtime: false`) and Chromium are
 * installed. When one is missing, registers the one test that says so (failing on CI, skipped
 * elsewhere) and answers false: the caller registers nothing more.
 */
export function browserTestPrerequisites(options: { runtime?: boolean } = {}): boolean {
  const missing =
    (options.runtime ?? true) && !runtimeInstalled()
      ? `the model runtime is not installed (${RUNTIME_EXECUTABLE} is missing; run "bash scripts/setup.sh")`
      : !existsSync(CHROMIUM)
        ? `${CHROMIUM} is missing (scripts/setup.sh installs Debian's chromium as root)`
        : null;
  if (!missing) return true;
  if (process.env['CI'] === 'true')
    it('needs the model runtime and Chromium', () => {
      throw new Error(missing);
    });
  else it.skip(`skipped: ${missing}`, () => undefined);
  return false;
}

/** Builds the web app into `outDir` (the gateway's WEB_DIST), so a test never serves a stale build. */
export function buildWebApp(outDir: string): void {
  const vite = join(WORKSPACE_ROOT, 'node_modules', '.bin', 'vite');
  const built = spawnSync(
    vite,
    ['build', '--config', 'apps/web/vite.config.mts', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'],
    { cwd: WORKSPACE_ROOT, encoding: 'utf8', timeout: 120_000 },
  );
  if (built.status !== 0 || !existsSync(join(outDir, 'index.html')))
    throw new Error(`the web app did not build (vite exited ${built.status}):\n${built.stdout}\n${built.stderr}`);
}

/** A page of its own browser context, and every request it made to anything but the gateway (the app must load nothing from elsewhere). */
export interface WebPage {
  context: BrowserContext;
  page: Page;
  foreign: string[];
}

/** The built app, the stack whose gateway serves it, and Chromium. */
export class StudioWeb {
  readonly gateway: string;

  private constructor(
    readonly stack: Stack,
    readonly browser: Browser,
    private readonly webDist: string,
  ) {
    this.gateway = stack.url('gateway');
  }

  /** Builds the app, starts the stack (the gateway's WEB_DIST set to the build) and launches Chromium. */
  static async start(options: StackOptions): Promise<StudioWeb> {
    const webDist = mkdtempSync(join(tmpdir(), `studio-${options.prefix}-dist-`));
    try {
      buildWebApp(webDist);
      const stack = await Stack.start({
        ...options,
        env: (name, stack) => ({ ...(options.env?.(name, stack) ?? {}), ...(name === 'gateway' ? { WEB_DIST: webDist } : {}) }),
      });
      try {
        const browser = await launchChromium();
        return new StudioWeb(stack, browser, webDist);
      } catch (err) {
        await stack.stop();
        throw err;
      }
    } catch (err) {
      rmSync(webDist, { recursive: true, force: true });
      throw err;
    }
  }

  /** A page in a new browser context, recording what it requests from anywhere but the gateway. */
  async newPage(options: { height?: number; acceptDownloads?: boolean } = {}): Promise<WebPage> {
    const context = await this.browser.newContext({
      viewport: { width: SCREEN_WIDTH, height: options.height ?? 900 },
      acceptDownloads: options.acceptDownloads ?? false,
    });
    const foreign: string[] = [];
    context.on('request', (request) => {
      const url = request.url();
      if (!url.startsWith(`${this.gateway}/`) && !url.startsWith('data:') && !url.startsWith('blob:')) foreign.push(url);
    });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    return { context, page, foreign };
  }

  /** Signs `page` in with a new key of `tenant` and `role`, through the sign-in form, until the app shows the role. */
  async signInWithKey(page: Page, tenant: string, role: TestRole): Promise<void> {
    await page.goto(`${this.gateway}/`);
    await page.getByLabel('API key', { exact: true }).fill(await this.stack.keyFor(tenant, role));
    await page.getByRole('button', { name: 'Sign in with key' }).click();
    await page.getByTestId('role').getByText(role).waitFor();
  }

  /**
   * The steps of one walk through the app: `label` names them when one fails, screenshots go to
   * `<$STUDIO_TEST_OUTPUT, default .data/test-output>/<output>`, `page` is the page they act on unless
   * told another, and `more` adds to the services' logs when one fails (another process's log).
   */
  walk(options: { label: string; output: string; page: () => Page; more?: () => string }): Walk {
    return new Walk(
      options.label,
      join(TEST_OUTPUT, options.output),
      options.page,
      () => `${this.stack.diagnostics()}\n${options.more?.() ?? ''}`,
    );
  }

  /** Closes the browser, stops the stack (after the audits it started) and removes the build. */
  async stop(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    for (const e of this.stack.events(AUDIT_VERDICT_ISSUED_V1)) this.stack.rememberJob('evaluation', String(e.data['auditRunId']));
    await this.stack.stop();
    rmSync(this.webDist, { recursive: true, force: true });
  }
}

/** Steps and screenshots of one walk through the app (see `StudioWeb.walk`). */
export class Walk {
  constructor(
    private readonly label: string,
    private readonly outputDir: string,
    private readonly page: () => Page,
    private readonly diagnostics: () => string,
  ) {}

  /** A screenshot as `<output>/<name>.png`; fails when the view is wider than the screen. */
  async screenshot(name: string, fullPage = true, page: Page = this.page()): Promise<string> {
    const width = Number(await page.evaluate('document.documentElement.scrollWidth'));
    if (width > SCREEN_WIDTH) throw new Error(`the ${name} view is ${width} px wide: wider than the ${SCREEN_WIDTH}-px screen`);
    mkdirSync(this.outputDir, { recursive: true });
    const path = join(this.outputDir, `${name}.png`);
    await page.screenshot({ path, fullPage });
    return path;
  }

  /**
   * One step: when it fails, says which, with the page's address, alerts and text, a screenshot and
   * the services' logs. A step that fails with "not run: …" (see `needs`) is only named.
   */
  async step(name: string, body: () => Promise<void>, target: () => Page = this.page): Promise<void> {
    try {
      await body();
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('not run:')) throw new Error(`${this.label} step "${name}" ${err.message}`);
      const shot = await this.screenshot(`failed-${name.replace(/[^a-z0-9]+/gi, '-')}`, true, target()).catch(
        (e: Error) => `(no screenshot: ${e.message})`,
      );
      const described = await describePage(target()).catch(() => '(the page could not be read)');
      throw new Error(
        `${this.label} step "${name}" failed: ${err instanceof Error ? err.message : String(err)}\n${described}\nscreenshot: ${shot}\n\nservices:\n${this.diagnostics()}`,
      );
    }
  }
}

/** What the page showed: its address, its alerts and the start of its text (its main part where it has one). */
export async function describePage(page: Page): Promise<string> {
  const alerts = await page
    .locator('[role=alert]')
    .allInnerTexts()
    .catch(() => []);
  const root = (await page.locator('main').count()) > 0 ? 'main' : 'body';
  const text = await page
    .locator(root)
    .innerText({ timeout: 2_000 })
    .catch(() => '(no text)');
  return `page ${page.url()}\nalerts: ${alerts.length ? alerts.join(' | ') : 'none'}\ntext:\n${text.slice(0, 2_000)}`;
}

/** What a step needs from an earlier one: it fails at once, naming that step, when the earlier one did not deliver. */
export function needs(what: Record<string, unknown>): void {
  const missing = Object.entries(what)
    .filter(([, value]) => !value)
    .map(([from]) => from);
  if (missing.length) throw new Error(`not run: it needs what the step(s) ${missing.map((m) => `"${m}"`).join(', ')} did not deliver`);
}

/**
 * Through the gateway: the example context `contextId` (its values) with the example policy framed
 * and indexed, a dataset version, and a completed run of `baseModel` on it (three short steps): the run's id.
 */
export async function trainedExampleContext(stack: Stack, contextId: string, baseModel: string): Promise<string> {
  expect((await stack.call('POST', '/v1/contexts', { id: contextId, name: 'Northwind', values: EXAMPLE_VALUES })).status).toBe(201);
  const upload = await stack.call('POST', `/v1/contexts/${contextId}/documents`, {
    filename: 'policy.md',
    mediaType: 'text/markdown',
    content: EXAMPLE_POLICY,
  });
  expect(upload.status).toBe(202);
  const documentId = String(upload.body['documentId']);
  await stack.waitForEvent(CLAUSES_INDEXED_V1, documentId, (e) => e.data['documentId'] === documentId, 120_000);
  const dataset = await stack.call('POST', `/v1/contexts/${contextId}/datasets`, { seed: 7 });
  expect(dataset.status).toBe(201);
  const datasetVersionId = String(dataset.body['id']);
  await stack.waitForEvent(DATASET_VERSION_PUBLISHED_V1, datasetVersionId, (e) => e.data['datasetVersionId'] === datasetVersionId, 30_000);
  const run = await stack.waitFor(
    'the instructor did not accept the run',
    async () => {
      const r = await stack.call('POST', `/v1/contexts/${contextId}/runs`, {
        datasetVersionId,
        baseModel,
        hyperparameters: { max_steps: 3, batch_size: 2, max_seq_length: 192 },
      });
      return r.status === 409 ? null : r;
    },
    30_000,
    500,
  );
  expect(run.status).toBe(202);
  const runId = String(run.body['id']);
  stack.rememberJob('training', runId);
  await stack.waitFor(
    `run ${runId} did not complete`,
    async () => {
      const state = String((await stack.call('GET', `/v1/runs/${runId}`)).body['state']);
      if (state === 'failed' || state === 'cancelled') throw new Error(`run ${runId} is ${state}`);
      return state === 'completed';
    },
    480_000,
    2_000,
  );
  return runId;
}
