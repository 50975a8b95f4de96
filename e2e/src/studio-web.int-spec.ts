import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeWithServers, uniqueName } from '@studio/testing';
import type { Page } from 'playwright-core';
import { OidcProviderProcess, oidcGatewayEnv } from './harness/oidc';
import { freePort, type ServiceName } from './harness/service-process';
import { smallAuditEnv } from './harness/stack';
import { browserTestPrerequisites, EXAMPLE, needs, StudioWeb, WEB_TEST_SERVERS, type Walk, type WebPage } from './harness/studio-web';

/**
 * The studio web app in a real browser (Debian's Chromium driven by playwright-core) against the
 * real gateway serving the built app, the services and the model runtime: sign in with an API key;
 * create a context and upload the example policy; see its clauses; generate a dataset; approve and
 * edit examples in the review queue; train the tiny model and watch the run finish; compare the
 * answers; open the audit; a viewer is refused a curator action. Each step that fails says which
 * step, and what the page showed (its text, its alerts, a screenshot). Screenshots of the compare,
 * review, runs and audit views go to $STUDIO_TEST_OUTPUT (default .data/test-output)/studio-web.
 */
const TENANT = 'acme-web';
const ADMIN_API_KEY = 'e2e-studio-web-administration-key-0123';
const SERVICES = ['gateway', 'framer', 'ontology', 'instructor', 'auditor'] as const satisfies readonly ServiceName[];
const HYPERPARAMETERS = { max_steps: 10, batch_size: 4, max_seq_length: 256 };
/** A person of the tenant at the OpenID provider, and how long its access tokens live (the app signs out when one expires). */
const OIDC_USER = { username: 'cora', password: 'cora-studio-web-password', name: 'Cora Curator', tenant: TENANT, role: 'curator' };
const OIDC_TOKEN_TTL_SECONDS = 20;

describeWithServers(WEB_TEST_SERVERS, 'the studio web app in a browser', (urls) => {
  if (!browserTestPrerequisites()) return;

  const contextId = uniqueName('northwind-web');
  let web: StudioWeb;
  let oidc: OidcProviderProcess | undefined;
  /** The main browser session (its requests to anything but the gateway: the app must load nothing from elsewhere). */
  let main: WebPage;
  let page: Page;
  let walk: Walk;
  let gateway = '';
  // What each step hands to the next.
  let datasetVersionId = '';
  let runId = '';
  let runCompleted = false;
  let signedIn = false;
  let framed = false;

  /** A key of the test tenant (issued once per role through the platform's bootstrap endpoint). */
  const keyFor = (role: 'admin' | 'viewer'): Promise<string> => web.stack.keyFor(TENANT, role);

  /** The API as the admin key sees it (to compare the page with). */
  async function api(path: string): Promise<Record<string, unknown>> {
    const res = await fetch(`${gateway}${path}`, { headers: { authorization: `Bearer ${await keyFor('admin')}` } });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  }

  const step = (name: string, body: () => Promise<void>, target?: () => Page): Promise<void> => walk.step(name, body, target);

  const go = (path: string) => page.goto(`${gateway}${path}`);
  const ctx = `/contexts/${encodeURIComponent(contextId)}`;

  beforeAll(async () => {
    // The gateway is told the provider's address first; the provider starts once the gateway's (the redirect URI) is known.
    const oidcPort = await freePort();
    web = await StudioWeb.start({
      servers: urls,
      services: SERVICES,
      runtimes: ['serve', 'worker'],
      tenant: TENANT,
      prefix: 'web',
      env: (name): Record<string, string> =>
        name === 'gateway' ? { ADMIN_API_KEY, ...oidcGatewayEnv(oidcPort) } : name === 'auditor' ? smallAuditEnv(6) : {},
    });
    gateway = web.gateway;
    oidc = await OidcProviderProcess.start({
      port: oidcPort,
      redirectUris: [`${gateway}/auth/callback`],
      accounts: [OIDC_USER],
      accessTokenTtlSeconds: OIDC_TOKEN_TTL_SECONDS,
    });
    main = await web.newPage({ height: 860, acceptDownloads: true });
    page = main.page;
    walk = web.walk({ label: 'studio web', output: 'studio-web', page: () => page, more: () => oidc?.tail() ?? '' });
  }, 300_000);

  afterAll(async () => {
    await oidc?.stop().catch(() => undefined);
    if (runId) web?.stack.rememberJob('training', runId);
    await web?.stop();
  }, 90_000);

  it('serves the app at / and leaves the API alone', async () => {
    const home = await fetch(`${gateway}/`);
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('<div id="root">');
    const apiMiss = await fetch(`${gateway}/v1/no-such-route`);
    expect(apiMiss.headers.get('content-type')).not.toContain('text/html');
  });

  it('signs in with an API key', async () => {
    await step('sign in', async () => {
      await go('/');
      // By keyboard: the key field is the first stop, Enter submits.
      await page.getByRole('button', { name: 'Sign in with key' }).waitFor();
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('api-key');
      await page.keyboard.type(await keyFor('admin'));
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Contexts' }).waitFor();
      expect(await page.getByTestId('tenant').innerText()).toBe(TENANT);
      expect(await page.getByTestId('role').innerText()).toBe('admin');
      signedIn = true;
    });
  }, 60_000);

  it('creates a context and uploads the example policy, with progress, until it is framed', async () => {
    await step('upload the example policy', async () => {
      needs({ 'sign in': signedIn });
      await page.getByLabel('Context id').fill(contextId);
      await page.getByLabel('Name', { exact: true }).fill('Northwind Dynamics business conduct');
      await page.getByLabel('Values file (JSON, optional)').setInputFiles(join(EXAMPLE, 'values.json'));
      await page.getByLabel(/Seed examples/).setInputFiles(join(EXAMPLE, 'seeds.jsonl'));
      await page.getByRole('button', { name: 'Create context' }).click();
      await page.getByRole('heading', { name: 'Documents' }).waitFor();
      await page.getByLabel(/Policy document/).setInputFiles(join(EXAMPLE, 'policy.md'));
      await page.getByRole('button', { name: 'Upload' }).click();
      await page.getByText(/Uploaded policy\.md/).waitFor();
      expect(await page.locator('#upload-progress').getAttribute('value')).toBe('100');
      await page.locator('tr[data-document-id] .status-framed').waitFor({ timeout: 90_000 });
      await page.getByText(/Uploaded policy\.md .*; framed\./).waitFor();
      framed = true;
    });
  }, 120_000);

  it('shows its clauses as a numbering tree, with statement kinds, and searches them', async () => {
    await step('see its clauses', async () => {
      needs({ 'upload the example policy': framed });
      const clauses = (await api(`/v1${ctx}/clauses`))['clauses'] as {
        id: string;
        numbering: string;
        text: string;
        statements?: unknown[];
      }[];
      expect(clauses.length).toBeGreaterThan(20);
      await page.getByRole('link', { name: 'Clauses' }).first().click();
      await page.getByRole('heading', { name: 'Clauses' }).waitFor();
      await page.getByTestId('clause-count').getByText(`${clauses.length} of ${clauses.length} clauses`).waitFor();
      expect(await page.locator('.tree li[data-clause-id]').count()).toBe(clauses.length);
      // A nested numbering sits inside its parent's list.
      const nested = clauses.find((c) => /^\d+\.\d+\.\d+$/.test(c.numbering));
      if (nested) {
        const parent = nested.numbering.split('.').slice(0, 2).join('.');
        if (clauses.some((c) => c.numbering === parent))
          expect(await page.locator(`li[data-numbering="${parent}"] li[data-numbering="${nested.numbering}"]`).count()).toBe(1);
      }
      // Search by a word of one clause's text: the count drops, the clause stays.
      const target = clauses.find((c) => c.text.split(/\s+/).some((w) => /^[A-Za-z]{9,}$/.test(w))) ?? clauses[0];
      const word = (target?.text.split(/\s+/).find((w) => /^[A-Za-z]{9,}$/.test(w)) ?? '').toLowerCase();
      await page.getByLabel('Search').fill(word);
      await page.locator(`li[data-clause-id="${target?.id}"]`).first().waitFor();
      const shown = await page.getByTestId('clause-count').innerText();
      expect(Number(/^(\d+) of/.exec(shown)?.[1])).toBeLessThan(clauses.length);
      await page.locator(`li[data-clause-id="${target?.id}"] .clause-button`).first().click();
      await page
        .getByRole('complementary', { name: 'Selected clause' })
        .getByText(target?.id ?? '')
        .waitFor();
      await page.getByLabel('Search').fill('');
      // Statement kinds are colour-coded and named (when the clauses carry their statements).
      const kinds = await page.locator('.tree .kind').count();
      if (clauses.some((c) => (c.statements ?? []).length > 0)) expect(kinds).toBeGreaterThan(0);
    });
  }, 60_000);

  it('generates a dataset version', async () => {
    await step('generate a dataset', async () => {
      needs({ 'upload the example policy': framed });
      await go(`${ctx}/datasets`);
      await page.getByRole('button', { name: 'Generate dataset' }).click();
      await page.getByText(/Dataset version .* is ready/).waitFor({ timeout: 120_000 });
      const row = page.locator('tr[data-dataset-id]').first();
      await row.waitFor();
      datasetVersionId = String(await row.getAttribute('data-dataset-id'));
      expect(datasetVersionId).not.toBe('');
    });
  }, 150_000);

  it('approves and edits examples in the review queue, making a new dataset version', async () => {
    await step('approve and edit an example', async () => {
      needs({ 'generate a dataset': datasetVersionId });
      await go(`${ctx}/datasets/${encodeURIComponent(datasetVersionId)}/review`);
      const items = page.locator('li.review-item');
      await items.nth(1).waitFor();
      const approvedId = String(await items.nth(0).getAttribute('data-example-id'));
      const editedId = String(await items.nth(1).getAttribute('data-example-id'));
      await items.nth(0).getByRole('button', { name: 'Approve' }).click();
      await items.nth(1).getByRole('button', { name: 'Edit' }).click();
      const answer = items.nth(1).getByLabel('Answer');
      await answer.fill(`${await answer.inputValue()} (Reviewed by a curator.)`);
      await items.nth(1).getByRole('button', { name: 'Done editing' }).click();
      await page.getByText('2 decisions ready.').waitFor();
      await walk.screenshot('review', false);
      await page.getByRole('button', { name: 'Submit decisions' }).click();
      const result = page.getByTestId('review-result');
      await result.waitFor({ timeout: 60_000 });
      // The new version holds the approved example as it was and the edited one with its new answer.
      const reviewed = String(await result.getAttribute('data-dataset-id'));
      expect(reviewed).not.toBe(datasetVersionId);
      type Shown = { id: string; answer: string; review?: { status: string; originalId: string | null } };
      const inState = async (state: string) =>
        ((await api(`/v1${ctx}/datasets/${encodeURIComponent(reviewed)}/examples?review=${state}&limit=500`)) as { examples: Shown[] })
          .examples;
      expect((await inState('approved')).map((e) => e.id)).toEqual([approvedId]);
      const [edited, ...more] = await inState('edited');
      expect(more).toEqual([]);
      expect(edited?.answer).toMatch(/\(Reviewed by a curator\.\)$/);
      expect([edited?.id, edited?.review?.originalId]).toContain(editedId);
    });
  }, 90_000);

  it('starts a run with the tiny model and watches it finish, the loss curve drawn live', async () => {
    await step('start a run and watch it finish', async () => {
      needs({ 'generate a dataset': datasetVersionId });
      await go(`${ctx}/runs`);
      await page.getByLabel('Dataset version').selectOption(datasetVersionId);
      await page.getByLabel('Base model').fill('tiny');
      await page.getByLabel(/Hyper-parameters/).fill(JSON.stringify(HYPERPARAMETERS));
      // The instructor answers 409 until it has the dataset version's event: start again until it takes it.
      const deadline = Date.now() + 60_000;
      for (;;) {
        await page.getByRole('button', { name: 'Start run' }).click();
        const started = await page
          .getByRole('heading', { name: /^Run / })
          .waitFor({ timeout: 3_000 })
          .then(() => true)
          .catch(() => false);
        if (started) break;
        const alert = await page.locator('[role=alert]').allInnerTexts();
        if (!alert.some((a) => a.includes('409')) || Date.now() > deadline)
          throw new Error(`the run did not start: ${alert.join(' | ') || 'no answer'}`);
      }
      runId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() ?? '');
      await page
        .getByTestId('run-state')
        .getByText(/running|completed/)
        .waitFor({ timeout: 120_000 });
      await page.getByTestId('run-state').getByText('completed').waitFor({ timeout: 300_000 });
      expect(Number(await page.locator('.loss-curve svg').getAttribute('data-points'))).toBeGreaterThan(0);
      // Followed live over the run's event stream, not by the polling fallback.
      expect(await page.getByText('Live updates are unavailable').count()).toBe(0);
      expect(await page.getByTestId('run-step').innerText()).toMatch(/^\d+ \/ \d+$/);
      runCompleted = true;
      await walk.screenshot('runs');
    });
  }, 480_000);

  it('compares the base, aligned and aligned + RAG answers side by side', async () => {
    await step('compare answers', async () => {
      needs({ 'start a run and watch it finish': runCompleted });
      await go(`${ctx}/compare?runId=${encodeURIComponent(runId)}`);
      await page.getByRole('heading', { name: 'Compare answers' }).waitFor();
      await page.getByRole('textbox', { name: 'Prompt' }).fill('May an employee accept a gift from a supplier?');
      await page.getByRole('button', { name: 'Compare' }).click();
      const cards = page.locator('article.answer-card');
      await cards.nth(2).waitFor({ timeout: 120_000 });
      expect(await cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-variant')))).toEqual(['base', 'aligned', 'aligned_rag']);
      await page.getByRole('table', { name: 'Retrieved clauses' }).waitFor();
      await walk.screenshot('compare');
    });
  }, 180_000);

  it('opens the audit: verdict, gates, the four buckets, the per-clause table, the report download', async () => {
    await step('open the audit', async () => {
      needs({ 'start a run and watch it finish': runCompleted });
      await go(`${ctx}/runs/${encodeURIComponent(runId)}/audit`);
      await page.getByTestId('verdict').waitFor({ timeout: 300_000 });
      expect(await page.getByTestId('verdict').innerText()).toMatch(/Verdict: (PASS|FAIL)/);
      await page.getByRole('table', { name: 'Release gates' }).waitFor();
      expect(await page.locator('.buckets .bucket').count()).toBe(4);
      await page.getByRole('table', { name: 'Compliance by clause' }).waitFor();
      await walk.screenshot('audit');
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Download report (Markdown)' }).click(),
      ]);
      const file = await download.path();
      expect(readFileSync(file, 'utf8')).toMatch(/^#/);
    });
  }, 360_000);

  it('refuses a viewer a curator action, in the server’s words', async () => {
    const viewerContext = await web.browser.newContext({ viewport: { width: 1280, height: 860 } });
    const viewer = await viewerContext.newPage();
    try {
      await step(
        'a viewer is refused a curator action',
        async () => {
          needs({ 'generate a dataset': datasetVersionId });
          await viewer.goto(`${gateway}/`);
          await viewer.getByLabel('API key', { exact: true }).fill(await keyFor('viewer'));
          await viewer.getByRole('button', { name: 'Sign in with key' }).click();
          await viewer.getByTestId('role').getByText('viewer').waitFor();
          await viewer.goto(`${gateway}${ctx}/datasets`);
          await viewer.locator('tr[data-dataset-id]').first().waitFor(); // a viewer reads
          await viewer.getByRole('button', { name: 'Generate dataset' }).click();
          const alert = viewer.locator('[role=alert][data-status="403"]');
          await alert.waitFor();
          expect(await alert.innerText()).toMatch(/Not allowed/);
          expect(await alert.innerText()).toMatch(/datasets:curate/);
        },
        () => viewer,
      );
    } finally {
      await viewerContext.close();
    }
  }, 60_000);

  it('signs in through the OpenID provider (authorization code + PKCE), with the tenant and role of the token, until the token expires', async () => {
    const ssoContext = await web.browser.newContext({ viewport: { width: 1280, height: 860 } });
    const sso = await ssoContext.newPage();
    try {
      await step(
        'OIDC sign-in',
        async () => {
          await sso.goto(`${gateway}/`);
          await sso.getByRole('button', { name: 'Sign in with single sign-on' }).click();
          // The provider's own sign-in form.
          await sso.getByLabel('Username').fill(OIDC_USER.username);
          await sso.getByLabel('Password').fill(OIDC_USER.password);
          await sso.getByRole('button', { name: 'Sign in' }).click();
          await sso.getByRole('heading', { name: 'Contexts' }).waitFor();
          expect(new URL(sso.url()).origin).toBe(gateway);
          expect(await sso.getByTestId('tenant').innerText()).toBe(TENANT);
          expect(await sso.getByTestId('role').innerText()).toBe('curator');
          // The token reaches data: the contexts of the tenant are listed.
          await sso.locator('table[aria-label="Contexts"]').waitFor();
          // When the access token expires, the app signs out and says why.
          await sso.getByText('Your sign-in expired').waitFor({ timeout: (OIDC_TOKEN_TTL_SECONDS + 15) * 1000 });
          await sso.getByRole('button', { name: 'Sign in with single sign-on' }).waitFor();
        },
        () => sso,
      );
    } finally {
      await ssoContext.close();
    }
  }, 90_000);

  it('loaded nothing from another origin (no CDN, no web font)', () => {
    expect(main.foreign).toEqual([]);
  });
});
