import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AUDIT_VERDICT_ISSUED_V1,
  CLAUSES_INDEXED_V1,
  DATASET_VERSION_PUBLISHED_V1,
  FEEDBACK_PREFERENCE_SUBMITTED_V1,
} from '@studio/contracts';
import { describeWithServers, uniqueName } from '@studio/testing';
import { chromium, type Browser, type Page } from 'playwright-core';
import { RUNTIME_EXECUTABLE, runtimeInstalled } from './harness/runtime-process';
import { WORKSPACE_ROOT, type ServiceName } from './harness/service-process';
import { Stack } from './harness/stack';

/**
 * Human feedback in a real browser (Debian's Chromium driven by playwright-core) against the real
 * gateway serving the built app, the services, the reward-model service and the model runtime: on
 * a context with a trained model (SmolLM2-135M: the answers to judge need words), label two pairs of answers in the feedback view with the
 * keyboard (one picked and explained, one edited into the chosen answer), then create the next
 * preference dataset in the preferences view and see both preferences in it — their ids, the
 * edited text, and the exported train split. A screenshot of the feedback view goes to
 * $STUDIO_TEST_OUTPUT (default .data/test-output)/studio-web-feedback.
 */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];
const EXAMPLE = join(WORKSPACE_ROOT, 'examples/northwind-conduct');
const POLICY = readFileSync(join(EXAMPLE, 'policy.md'), 'utf8');
const VALUES = JSON.parse(readFileSync(join(EXAMPLE, 'values.json'), 'utf8')) as { values: { name: string; priority: number }[] };
const TENANT = 'acme-feedback';
const SERVICES = ['gateway', 'framer', 'ontology', 'instructor', 'auditor', 'reward-model'] as const satisfies readonly ServiceName[];
const OUTPUT = join(process.env['STUDIO_TEST_OUTPUT'] ?? join(WORKSPACE_ROOT, '.data', 'test-output'), 'studio-web-feedback');
/** The pairs the view offers, tried in this order until one has two different, non-empty answers (a model may repeat itself, or say nothing). */
const PAIRS = ['base-aligned_rag', 'aligned-aligned_rag', 'base-aligned', 'reference-aligned'];
const EDITED = 'Edited by the annotator: yes, within the limits the policy sets; ask the Ethics Office when unsure.';
const EXPLANATION = 'It follows the policy instead of guessing.';

function buildWebApp(outDir: string): void {
  const vite = join(WORKSPACE_ROOT, 'node_modules', '.bin', 'vite');
  const built = spawnSync(
    vite,
    ['build', '--config', 'apps/web/vite.config.mts', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'],
    { cwd: WORKSPACE_ROOT, encoding: 'utf8', timeout: 120_000 },
  );
  if (built.status !== 0 || !existsSync(join(outDir, 'index.html')))
    throw new Error(`the web app did not build (vite exited ${built.status}):\n${built.stdout}\n${built.stderr}`);
}

describeWithServers(['KAFKA_BROKERS', 'MONGO_URL', 'REDIS_URL', 'QDRANT_URL'], 'human feedback in the studio web app', (urls) => {
  const missing = !runtimeInstalled()
    ? `the model runtime is not installed (${RUNTIME_EXECUTABLE} is missing; run "bash scripts/setup.sh")`
    : !existsSync(CHROMIUM)
      ? `${CHROMIUM} is missing (scripts/setup.sh installs Debian's chromium as root)`
      : null;
  if (missing) {
    if (process.env['CI'] === 'true')
      it('needs the model runtime and Chromium', () => {
        throw new Error(missing);
      });
    else it.skip(`skipped: ${missing}`, () => undefined);
    return;
  }

  const contextId = uniqueName('northwind-feedback');
  const webDist = mkdtempSync(join(tmpdir(), 'studio-web-feedback-dist-'));
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let gateway = '';
  let runId = '';
  const labelled: { id: string; edited: boolean }[] = [];
  const foreign: string[] = [];
  const startedAt = Date.now();

  async function screenshot(name: string, fullPage = true): Promise<string> {
    const width = Number(await page.evaluate('document.documentElement.scrollWidth'));
    if (width > 1280) throw new Error(`the ${name} view is ${width} px wide: wider than the 1280-px screen`);
    mkdirSync(OUTPUT, { recursive: true });
    const path = join(OUTPUT, `${name}.png`);
    await page.screenshot({ path, fullPage });
    return path;
  }

  /** One step of the walk: on failure, says which, with the page's alerts and text, a screenshot and the services' logs. */
  async function step(name: string, body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (err) {
      const shot = await screenshot(`failed-${name.replace(/[^a-z0-9]+/gi, '-')}`, false).catch(
        (e: Error) => `(no screenshot: ${e.message})`,
      );
      const alerts = await page
        .locator('[role=alert]')
        .allInnerTexts()
        .catch(() => []);
      const text = await page
        .locator('main')
        .innerText({ timeout: 2_000 })
        .catch(() => '(no text)');
      throw new Error(
        `feedback step "${name}" failed: ${err instanceof Error ? err.message : String(err)}\npage ${page.url()}\nalerts: ${alerts.join(' | ') || 'none'}\ntext:\n${text.slice(0, 2_000)}\nscreenshot: ${shot}\n\nservices:\n${stack.diagnostics()}`,
      );
    }
  }

  /**
   * Asks for the answers to the current held-out item, then takes the first pair of them that has
   * two different, non-empty answers (changing the pair shuffles the same answers again, no new request).
   */
  async function answersToJudge(): Promise<void> {
    await page.getByLabel('Answer pair', { exact: true }).selectOption(PAIRS[0] as string);
    await page.getByRole('button', { name: 'Get answers' }).click();
    await page.locator('article[data-label="B"]').or(page.getByTestId('feedback-problem')).first().waitFor({ timeout: 180_000 });
    for (const pair of PAIRS) {
      await page.getByLabel('Answer pair', { exact: true }).selectOption(pair);
      if ((await page.getByTestId('feedback-problem').count()) === 0) return page.locator('.feedback-panel').focus();
    }
    throw new Error(`no pair of answers differs: ${await page.getByTestId('feedback-problem').innerText()}`);
  }

  beforeAll(async () => {
    buildWebApp(webDist);
    stack = await Stack.start({
      servers: urls,
      services: SERVICES,
      runtimes: ['serve', 'worker'],
      // The answers to judge need words in them: the tiny random model's are often empty.
      serveModel: 'smollm2-135m-instruct',
      tenant: TENANT,
      prefix: 'web-feedback',
      env: (name): Record<string, string> =>
        name === 'gateway'
          ? { WEB_DIST: webDist }
          : name === 'auditor'
            ? {
                AUDIT_MAX_ITEMS: '2',
                AUDIT_MAX_ATTACKS: '4',
                AUDIT_MAX_BENIGN: '2',
                AUDIT_MAX_GENERAL_ABILITY: '2',
                AUDIT_MAX_TOKENS: '48',
              }
            : {},
    });
    gateway = stack.url('gateway');
    // A framed, indexed policy, a dataset version and a model trained on it (the answers to judge come from it).
    expect((await stack.call('POST', '/v1/contexts', { id: contextId, name: 'Northwind', values: VALUES })).status).toBe(201);
    const upload = await stack.call('POST', `/v1/contexts/${contextId}/documents`, {
      filename: 'policy.md',
      mediaType: 'text/markdown',
      content: POLICY,
    });
    expect(upload.status).toBe(202);
    const documentId = String(upload.body['documentId']);
    await stack.waitForEvent(CLAUSES_INDEXED_V1, documentId, (e) => e.data['documentId'] === documentId, 120_000);
    const dataset = await stack.call('POST', `/v1/contexts/${contextId}/datasets`, { seed: 7 });
    expect(dataset.status).toBe(201);
    const datasetVersionId = String(dataset.body['id']);
    await stack.waitForEvent(
      DATASET_VERSION_PUBLISHED_V1,
      datasetVersionId,
      (e) => e.data['datasetVersionId'] === datasetVersionId,
      30_000,
    );
    const run = await stack.waitFor(
      'the instructor did not accept the run',
      async () => {
        const r = await stack.call('POST', `/v1/contexts/${contextId}/runs`, {
          datasetVersionId,
          baseModel: 'smollm2-135m-instruct',
          hyperparameters: { max_steps: 3, batch_size: 2, max_seq_length: 192 },
        });
        return r.status === 409 ? null : r;
      },
      30_000,
      500,
    );
    expect(run.status).toBe(202);
    runId = String(run.body['id']);
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
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.on('request', (request) => {
      const url = request.url();
      if (!url.startsWith(`${gateway}/`) && !url.startsWith('data:') && !url.startsWith('blob:')) foreign.push(url);
    });
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(`${gateway}/`);
    await page.getByLabel('API key', { exact: true }).fill(await stack.keyFor(TENANT, 'curator'));
    await page.getByRole('button', { name: 'Sign in with key' }).click();
    await page.getByTestId('role').getByText('curator').waitFor();
  }, 900_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    for (const e of stack?.events(AUDIT_VERDICT_ISSUED_V1) ?? []) stack?.rememberJob('evaluation', String(e.data['auditRunId']));
    await stack?.stop();
    rmSync(webDist, { recursive: true, force: true });
    console.info(`[feedback e2e] wall time ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  }, 90_000);

  it('labels two pairs with the keyboard, one picked and explained, one edited into the chosen answer', async () => {
    await step('label two pairs', async () => {
      await page.goto(`${gateway}/contexts/${encodeURIComponent(contextId)}/feedback`);
      await page.getByRole('heading', { name: 'Feedback' }).waitFor();
      await page.getByRole('radio', { name: 'a held-out item' }).check();
      await page.getByLabel('Held-out item').locator('option').first().waitFor({ state: 'attached' });

      // The first pair: A is better (1), explained (x), tagged with the first value (v, Space), submitted (Enter).
      await answersToJudge();
      await page.keyboard.press('1');
      expect(await page.locator('article[data-label="A"] button').getAttribute('aria-pressed')).toBe('true');
      await page.keyboard.press('x');
      expect(await page.evaluate('document.activeElement.id')).toBe('feedback-explanation');
      await page.keyboard.type(EXPLANATION);
      await page.keyboard.press('Escape');
      await page.keyboard.press('v');
      await page.keyboard.press('Space');
      const firstValue = [...VALUES.values].sort((a, b) => a.priority - b.priority)[0]?.name ?? '';
      expect(await page.getByRole('checkbox', { name: firstValue }).isChecked()).toBe(true);
      await page.keyboard.press('Enter');
      const result = page.getByTestId('feedback-result');
      await result.waitFor();
      const first = String(await result.getAttribute('data-preference-id'));
      expect(await result.innerText()).toContain(first);
      labelled.push({ id: first, edited: false });

      // The next held-out item (n): B is better (2), edited (e) into the chosen answer, submitted.
      const asked = await page.getByTestId('feedback-question').innerText();
      await page.keyboard.press('n');
      // A new question, once the next item's answers are in (or a problem with them).
      await page
        .getByTestId('feedback-question')
        .filter({ hasNotText: asked })
        .or(page.getByTestId('feedback-problem'))
        .first()
        .waitFor({ timeout: 180_000 });
      if ((await page.getByTestId('feedback-problem').count()) > 0) await answersToJudge();
      else await page.locator('article[data-label="B"]').waitFor();
      await page.keyboard.press('2');
      await page.keyboard.press('e');
      expect(await page.evaluate('document.activeElement.id')).toBe('feedback-edit');
      await page.keyboard.press('Control+A');
      await page.keyboard.type(EDITED);
      await page.keyboard.press('Escape');
      await page.keyboard.press('Enter');
      await page.locator(`[data-testid="feedback-result"]:not([data-preference-id="${first}"])`).waitFor();
      const second = String(await result.getAttribute('data-preference-id'));
      expect(await result.innerText()).toContain('with your edited answer');
      labelled.push({ id: second, edited: true });
      expect(await page.locator('ol.judged li').count()).toBe(2);
      await screenshot('feedback');

      // Published on the bus by the gateway, stored by the reward-model service: the annotator is the curator's key.
      await stack.waitFor(
        'two feedback.preference.submitted.v1 events',
        async () => stack.events(FEEDBACK_PREFERENCE_SUBMITTED_V1).filter((e) => e.data['contextId'] === contextId).length === 2,
        15_000,
      );
      const stored = await stack.waitFor(
        'the reward-model service did not store the edited preference',
        async () => {
          const r = await stack.call('GET', `/v1/contexts/${contextId}/preferences/${second}`);
          return r.status === 200 ? r.body : null;
        },
        30_000,
        500,
      );
      expect(stored).toMatchObject({
        id: second,
        chosen: EDITED,
        edited: true,
        source: 'human',
        annotator: expect.stringMatching(/^key:/),
      });
      const picked = await stack.call('GET', `/v1/contexts/${contextId}/preferences/${first}`);
      expect(picked.body).toMatchObject({ id: first, edited: false, explanation: EXPLANATION, values: [firstValue] });
    });
  }, 600_000);

  it('creates the next preference dataset and shows both preferences in it: their ids, the edited text, the train split', async () => {
    await step('create the preference dataset', async () => {
      expect(labelled).toHaveLength(2);
      await page.getByRole('link', { name: 'Preferences', exact: true }).click();
      await page.getByRole('heading', { name: 'Preferences', exact: true }).waitFor();
      // Among the context's preferences (the framer's dataset version made synthetic ones too), the two human ones.
      await page.locator('#preferences-source').selectOption('human');
      for (const { id } of labelled) await page.locator(`table[aria-label="Preferences"] tr[data-preference-id="${id}"]`).waitFor();
      await page.getByRole('button', { name: 'Create preference dataset' }).click();
      const made = page.getByTestId('preference-dataset-result');
      await made.waitFor({ timeout: 120_000 });
      const datasetId = String(await made.getAttribute('data-preference-dataset-id'));
      await page.locator(`[data-testid="preference-dataset"][data-preference-dataset-id="${datasetId}"]`).waitFor();
      // The version's new pairs from people: exactly the two, with their weights; the edited one with its edited answer.
      await page.locator('#pairs-source').selectOption('human');
      await page.getByTestId('pair-count').getByText('2 pairs').waitFor();
      const pairs = page.getByRole('table', { name: 'Pairs of the version' });
      for (const { id, edited } of labelled) {
        const row = pairs.locator(`tr[data-preference-id="${id}"]`);
        await row.waitFor();
        expect(await row.locator('.badge').innerText()).toBe('new');
        expect(await row.innerText()).toMatch(/\d\.\d{3} = /);
        if (edited) expect(await row.innerText()).toContain(EDITED);
      }
      const version = await stack.call('GET', `/v1/contexts/${contextId}/preference-datasets/${datasetId}`);
      expect(version.body['newPreferenceIds']).toEqual(expect.arrayContaining(labelled.map((l) => l.id)));
      expect(version.body['bySource']).toMatchObject({ human: 2 });

      // The train split as exported: as many rows as the version says; the edited preference, if the split holds it, with its edited answer.
      await page.getByRole('button', { name: 'Show the train split (JSON lines)' }).click();
      const count = page.getByTestId('exported-count');
      await count.waitFor();
      const train = (version.body['train'] as { examples: number }).examples;
      expect(Number(await count.getAttribute('data-rows'))).toBe(train);
      const exported = await stack.call('GET', `/v1/contexts/${contextId}/preference-datasets/${datasetId}/export`);
      expect(exported.type).toMatch(/^application\/jsonl/);
      const rows = exported.text
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as { preference_id: string; chosen: { content: string }[] });
      expect(rows).toHaveLength(train);
      const ours = rows.filter((r) => labelled.some((l) => l.id === r.preference_id));
      for (const row of ours) if (row.preference_id === labelled[1]?.id) expect(row.chosen[0]?.content).toBe(EDITED);
      console.info(`[feedback e2e] preference dataset ${datasetId}: ${rows.length} train rows, ${ours.length} of the 2 labelled in train`);
      await screenshot('preferences', false);
    });
  }, 240_000);

  it('loaded nothing from another origin (no CDN, no web font)', () => {
    expect(foreign).toEqual([]);
  });
});
