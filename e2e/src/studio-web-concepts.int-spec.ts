import { DATASET_VERSION_PUBLISHED_V1, type Concept, type Relation } from '@studio/contracts';
import { describeWithServers, uniqueName } from '@studio/testing';
import type { Page } from 'playwright-core';
import type { ServiceName } from './harness/service-process';
import type { Stack } from './harness/stack';
import {
  browserTestPrerequisites,
  EXAMPLE_POLICY,
  EXAMPLE_VALUES,
  needs,
  StudioWeb,
  WEB_TEST_SERVERS,
  type Walk,
  type WebPage,
} from './harness/studio-web';

/**
 * The concepts view and the conflict candidates in a real browser (Chromium through playwright-core)
 * against the real gateway serving the built app, the framer and the ontology service — no model
 * runtime, no training. The example policy is uploaded and framed; the ontology service builds its
 * graph; a dataset version is generated from it. A curator then searches a concept the graph has
 * (taken from the API, never a word of the example written here), opens it and reads its
 * definition, defining and governing clauses and covering examples as the API gives them; walks
 * its neighbourhood graph by keyboard and by mouse (a clause re-centres the drawing, a concept opens
 * its page) at depth 1 and 2; and decides conflict candidates in the review queue: the example's
 * own when it has some, else (after seeing the empty queue) those of a document written here with a
 * permission and a prohibition of the same action for the same party. Screenshots under
 * $STUDIO_TEST_OUTPUT (default .data/test-output)/studio-web-concepts.
 */
const TENANT = 'acme-concepts';
const SERVICES = ['gateway', 'framer', 'ontology'] as const satisfies readonly ServiceName[];

/** A document written for the test: the same party may and must not do the same thing, with nothing to tell the two apart. */
const CONFLICTING_POLICY = `# Harbour Laboratory Visitor Rules

These rules apply to every visitor of the Harbour Laboratory.

## 1. Photography

**1.1** Visitors must not photograph the clean room.

**1.2** Visitors may photograph the clean room.

## 2. Badges

**2.1** Visitors must wear a visitor badge at all times.
`;

interface Summary {
  version: number;
  documents: { documentId: string }[];
  conceptCount: number;
  relationCount: number;
}
interface ClauseRef {
  clauseId: string;
  numbering: string;
  text: string;
}
interface Detail {
  concept: Concept;
  definedBy: ClauseRef[];
  governedBy: { clauseId: string; numbering: string; citation?: string; statementKind: string | null }[];
  broader: Concept[];
  narrower: Concept[];
  related: Concept[];
}
interface Hood {
  nodes: { id: string; kind: 'concept' | 'clause'; label: string }[];
  edges: { id: string; type: string; from: string; to: string }[];
}
type ConflictView = Relation & { left: ClauseRef; right: ClauseRef };

/** Through the gateway: a context, a document uploaded to it, and its graph built from the framed document (the graph's version). */
async function contextWithGraph(
  stack: Stack,
  contextId: string,
  name: string,
  filename: string,
  content: string,
  values?: unknown,
): Promise<number> {
  const created = await stack.call('POST', '/v1/contexts', { id: contextId, name, ...(values ? { values } : {}) });
  expect({ status: created.status, text: created.status === 201 ? '' : created.text }).toEqual({ status: 201, text: '' });
  const upload = await stack.call('POST', `/v1/contexts/${contextId}/documents`, { filename, mediaType: 'text/markdown', content });
  expect(upload.status).toBe(202);
  const documentId = String(upload.body['documentId']);
  const graph = await stack.waitFor(
    `the ontology of ${contextId} was not built from document ${documentId}`,
    async () => {
      const res = await stack.call('GET', `/v1/contexts/${contextId}/ontology`);
      if (res.status === 404) return null;
      if (res.status !== 200) throw new Error(`GET the ontology of ${contextId}: ${res.status} ${res.text}`);
      const summary = res.body as unknown as Summary;
      return summary.documents.some((d) => d.documentId === documentId) ? summary : null;
    },
    120_000,
    500,
  );
  return graph.version;
}

describeWithServers(WEB_TEST_SERVERS, 'the concepts view and conflict candidates in a browser', (urls) => {
  if (!browserTestPrerequisites({ runtime: false })) return;

  const contextId = uniqueName('northwind-concepts');
  let web: StudioWeb;
  let main: WebPage;
  let page: Page;
  let walk: Walk;
  let gateway = '';
  let datasetVersionId = '';
  // What each step hands to the next.
  let chosen: Detail | null = null;
  let opened = false;

  /** A GET through the gateway as the admin key; fails naming the path unless 200. */
  async function get<T>(path: string): Promise<T> {
    const res = await web.stack.call('GET', path);
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.text}`);
    return res.body as unknown as T;
  }
  const step = (name: string, body: () => Promise<void>): Promise<void> => walk.step(name, body);
  const ctx = `/contexts/${encodeURIComponent(contextId)}`;
  const api = `/v1/contexts/${encodeURIComponent(contextId)}`;

  beforeAll(async () => {
    web = await StudioWeb.start({ servers: urls, services: SERVICES, runtimes: [], tenant: TENANT, prefix: 'web-concepts' });
    gateway = web.gateway;
    main = await web.newPage({ height: 900 });
    page = main.page;
    walk = web.walk({ label: 'concepts', output: 'studio-web-concepts', page: () => page });
    await contextWithGraph(web.stack, contextId, 'Northwind', 'policy.md', EXAMPLE_POLICY, EXAMPLE_VALUES);
    const dataset = await web.stack.call('POST', `${api}/datasets`, { seed: 7 });
    expect({ status: dataset.status, text: dataset.status === 201 ? '' : dataset.text }).toEqual({ status: 201, text: '' });
    datasetVersionId = String(dataset.body['id']);
    await web.stack.waitForEvent(
      DATASET_VERSION_PUBLISHED_V1,
      datasetVersionId,
      (e) => e.data['datasetVersionId'] === datasetVersionId,
      30_000,
    );
    await web.signInWithKey(page, TENANT, 'curator');
  }, 300_000);

  afterAll(async () => {
    await web?.stop();
  }, 90_000);

  afterEach(() => {
    // The app loads nothing from anywhere but the gateway.
    expect(main?.foreign ?? []).toEqual([]);
  });

  it('searches the concepts and opens one: its definition, defining and governing clauses, covering examples', async () => {
    // A concept the graph has: defined by a clause, governed by at least one, with a concept among its neighbours.
    const all = await get<{ total: number; concepts: Concept[] }>(`${api}/ontology/concepts?limit=1000`);
    expect(all.total).toBeGreaterThan(0);
    const defined = all.concepts.filter((c) => c.definition !== null);
    expect(defined.length).toBeGreaterThan(0);
    let fallback: Detail | null = null;
    for (const c of defined) {
      const detail = await get<Detail>(`${api}/ontology/concepts/${encodeURIComponent(c.id)}`);
      const hood = await get<Hood>(`${api}/ontology/concepts/${encodeURIComponent(c.id)}/neighbourhood?depth=1`);
      if (detail.definedBy.length === 0 || detail.governedBy.length === 0) continue;
      fallback ??= detail;
      if (hood.nodes.some((n) => n.kind === 'concept' && n.id !== c.id) && hood.nodes.some((n) => n.kind === 'clause')) {
        chosen = detail;
        break;
      }
    }
    chosen ??= fallback;
    if (!chosen) throw new Error(`no defined concept of the example's ${all.total} is also governed by a clause`);
    const concept = chosen.concept;

    await step('search a concept', async () => {
      await page.goto(`${gateway}${ctx}/concepts`);
      const summary = await get<Summary>(`${api}/ontology`);
      await page.getByTestId('ontology-summary').getByText(`${summary.conceptCount} concepts`).waitFor();
      await page.getByLabel('Search').fill(concept.prefLabel);
      const found = await get<{ total: number }>(`${api}/ontology/concepts?q=${encodeURIComponent(concept.prefLabel)}&limit=1`);
      await page
        .getByTestId('concept-count')
        .getByText(`${found.total} concept${found.total === 1 ? '' : 's'}`, { exact: true })
        .waitFor();
      await page.locator(`tr[data-concept-id="${concept.id}"]`).waitFor();
      expect(new URL(page.url()).searchParams.get('q')).toBe(concept.prefLabel);
      // The role filter narrows the search the way the API does.
      const role = concept.roles[0] as string;
      await page.getByRole('button', { name: new RegExp(`^${role}\\b`) }).click();
      const byRole = await get<{ total: number }>(
        `${api}/ontology/concepts?q=${encodeURIComponent(concept.prefLabel)}&role=${role}&limit=1`,
      );
      await page
        .getByTestId('concept-count')
        .getByText(`${byRole.total} concept${byRole.total === 1 ? '' : 's'}`, { exact: true })
        .waitFor();
      await page.locator(`tr[data-concept-id="${concept.id}"]`).waitFor();
      await walk.screenshot('concepts');
    });

    await step('open the concept', async () => {
      await page.locator(`tr[data-concept-id="${concept.id}"] a`).first().click();
      await page.locator(`h1[data-concept-id="${concept.id}"]`).waitFor();
      expect(new URL(page.url()).pathname).toBe(`${ctx}/concepts/${concept.id}`);
      expect(await page.getByTestId('concept-definition').innerText()).toBe(concept.definition?.text);
      const defining = chosen?.definedBy[0] as ClauseRef;
      const card = page.locator(`[data-testid="defining-clause"][data-clause-id="${defining.clauseId}"]`);
      expect(await card.innerText()).toContain(defining.numbering);
      // The governing clauses, by statement kind, as the API lists them (each clause once per kind).
      const pairs = new Set((chosen?.governedBy ?? []).map((g) => `${g.statementKind ?? ''}|${g.clauseId}`));
      // A long list shows its first few until asked for all.
      for (const all of await page.locator('.governing .show-all').all()) await all.click();
      expect(await page.locator('.governing .show-all').count()).toBe(0);
      const shown = await page
        .locator('.governing')
        .evaluateAll((groups) =>
          groups.flatMap((g) =>
            [...g.querySelectorAll('[data-testid="governing-clause"]')].map(
              (li) => `${g.getAttribute('data-kind')}|${li.getAttribute('data-clause-id')}`,
            ),
          ),
        );
      expect(new Set(shown)).toEqual(pairs);
      expect(shown).toHaveLength(pairs.size);
      // Its covering examples: as many as the latest dataset version's coverage names.
      const coverage = await get<{ examplesByConcept: Record<string, string[]> }>(`${api}/datasets/${datasetVersionId}/coverage`);
      const covering = new Set(coverage.examplesByConcept[concept.id] ?? []).size;
      const count = page.getByTestId('covering-count');
      await count.waitFor();
      expect(await count.innerText()).toMatch(
        covering === 0 ? /^No example of dataset version/ : new RegExp(`^${covering} examples? of dataset version`),
      );
      expect(await page.locator('.covering-examples [data-example-id]').count()).toBe(Math.min(covering, 8));
      await walk.screenshot('concept');
      // The defining clause's number leads to it in the clause browser, selected.
      await card.getByRole('link').click();
      await page.locator(`li[data-clause-id="${defining.clauseId}"] > .tree-row .clause-button[aria-pressed="true"]`).waitFor();
      await page.goBack();
      await page.locator(`h1[data-concept-id="${concept.id}"]`).waitFor();
      opened = true;
    });
  }, 180_000);

  /**
   * The graph on the page is the API's neighbourhood: every node drawn or held by a "+N more" node
   * (a hub's neighbours beyond a few), and every edge between drawn nodes drawn.
   */
  async function drawnAsTheApiSays(hood: Hood): Promise<void> {
    await page.locator(`[data-testid="graph-summary"][data-nodes="${hood.nodes.length}"]`).waitFor();
    const drawn = await page
      .locator('svg.graph g.node')
      .evaluateAll((nodes) =>
        nodes.map((n) => ({ id: n.getAttribute('data-node-id') ?? '', more: Number(n.getAttribute('data-more') ?? 0) })),
      );
    const real = drawn.filter((n) => n.more === 0).map((n) => n.id);
    const ids = new Set(hood.nodes.map((n) => n.id));
    expect(real.filter((id) => !ids.has(id))).toEqual([]);
    const hidden = Number(await page.getByTestId('graph-summary').getAttribute('data-hidden'));
    expect(real.length + hidden).toBe(hood.nodes.length);
    expect(drawn.filter((n) => n.more > 0).reduce((sum, n) => sum + n.more, 0)).toBeLessThanOrEqual(hidden);
    const shown = new Set(real);
    const edges = new Set(hood.edges.filter((e) => shown.has(e.from) && shown.has(e.to)).map((e) => e.id));
    const drawnEdges = await page.locator('svg.graph g.edge').evaluateAll((g) => g.map((e) => e.getAttribute('data-edge-id') ?? ''));
    expect(new Set(drawnEdges)).toEqual(edges);
  }

  it('draws its neighbourhood: the API’s nodes and edges, walked by keyboard, re-centred by a click, at depth 1 and 2', async () => {
    await step('walk the neighbourhood graph', async () => {
      needs({ 'open the concept': opened });
      const concept = (chosen as Detail).concept;
      const hood = await get<Hood>(`${api}/ontology/concepts/${encodeURIComponent(concept.id)}/neighbourhood?depth=1`);
      const svg = page.locator('svg.graph');
      await svg.waitFor();
      expect(await svg.getAttribute('data-centre')).toBe(concept.id);
      await drawnAsTheApiSays(hood);
      // Edge labels by type: a governs edge says its statement kind.
      const governs = hood.edges.find((e) => e.type === 'governs' && (e.from === concept.id || e.to === concept.id));
      if (governs) expect(await page.locator(`svg.graph g.edge[data-edge-id="${governs.id}"] text`).textContent()).toMatch(/^governs · /);

      // Keyboard: one tab stop, arrows move between nodes, Enter on a clause centres the drawing on it, Home comes back.
      const active = () => page.evaluate<string | null>("document.activeElement && document.activeElement.getAttribute('data-node-id')");
      await page.locator(`svg.graph g.node[data-node-id="${concept.id}"]`).focus();
      expect(await active()).toBe(concept.id);
      expect(await page.locator('svg.graph g.node[tabindex="0"]').count()).toBe(1);
      const clause = await page
        .locator('svg.graph g.node[data-kind="clause"]')
        .first()
        .getAttribute('data-node-id', { timeout: 1_000 })
        .catch(() => null);
      if (clause) {
        for (let i = 0; i < hood.nodes.length && (await active()) !== clause; i++) await page.keyboard.press('ArrowRight');
        expect(await active()).toBe(clause);
        await page.keyboard.press('Enter');
        await page.locator(`svg.graph[data-centre="${clause}"]`).waitFor();
        await walk.screenshot('graph-clause-centred');
        await page.getByRole('button', { name: 'Back to the concept' }).click();
        await page.locator(`svg.graph[data-centre="${concept.id}"]`).waitFor();
      }
      await page.keyboard.press('ArrowLeft');
      expect(await active()).not.toBe(concept.id);
      await page.keyboard.press('Home');
      expect(await active()).toBe(concept.id);

      // Depth 2: the API's two-step neighbourhood.
      const deeper = await get<Hood>(`${api}/ontology/concepts/${encodeURIComponent(concept.id)}/neighbourhood?depth=2`);
      await page.getByLabel('depth 2').check();
      await drawnAsTheApiSays(deeper);
      await walk.screenshot('graph-depth-2');
      await page.getByLabel('depth 1').check();
      await drawnAsTheApiSays(hood);

      // A click on a neighbouring concept opens it: its page, its graph around it.
      const drawnConcepts = await page
        .locator('svg.graph g.node[data-kind="concept"]')
        .evaluateAll((g) => g.map((n) => n.getAttribute('data-node-id') ?? ''));
      const neighbour = hood.nodes.find((n) => n.kind === 'concept' && n.id !== concept.id && drawnConcepts.includes(n.id));
      if (!neighbour)
        throw new Error(`no concept among the neighbours of ${concept.id}: the graph links no defined, governed concept to another`);
      await page.locator(`svg.graph g.node[data-node-id="${neighbour.id}"]`).click();
      await page.locator(`h1[data-concept-id="${neighbour.id}"]`).waitFor();
      await page.locator(`svg.graph[data-centre="${neighbour.id}"]`).waitFor();
      expect(new URL(page.url()).pathname).toBe(`${ctx}/concepts/${neighbour.id}`);
      const next = await get<Detail>(`${api}/ontology/concepts/${encodeURIComponent(neighbour.id)}`);
      expect(await page.locator('h1#concept-title').innerText()).toContain(next.concept.prefLabel);
      // The back button comes back to the first concept.
      await page.goBack();
      await page.locator(`h1[data-concept-id="${concept.id}"]`).waitFor();

      // A hub (the concept in most clauses) at depth 2: its neighbours beyond a few are "+N more" nodes. The one
      // around the centre opens the list of all the centre's edges; one around another node leads to that node.
      const { concepts } = await get<{ concepts: Concept[] }>(`${api}/ontology/concepts?limit=1000`);
      const hub = [...concepts].sort((a, b) => b.clauseIds.length - a.clauseIds.length || (a.id < b.id ? -1 : 1))[0] as Concept;
      const hubHood = await get<Hood>(`${api}/ontology/concepts/${encodeURIComponent(hub.id)}/neighbourhood?depth=2`);
      await page.goto(`${gateway}${ctx}/concepts/${encodeURIComponent(hub.id)}?depth=2`);
      await drawnAsTheApiSays(hubHood);
      expect(Number(await page.getByTestId('graph-summary').getAttribute('data-hidden'))).toBeGreaterThan(0);
      await walk.screenshot('graph-hub');
      const hubEdges = new Set(hubHood.edges.filter((e) => e.from === hub.id || e.to === hub.id).map((e) => e.id)).size;
      const around = page.locator(`svg.graph g.node[data-node-id="more:${hub.id}"]`);
      const further = page.locator(`svg.graph g.node[data-kind="more"]:not([data-node-id="more:${hub.id}"])`).first();
      const stands = { around: await around.count(), further: await further.count() };
      expect(stands.around + stands.further).toBeGreaterThan(0);
      if (stands.around > 0) {
        await around.click();
        await page.locator('details.graph-edges[open]').waitFor();
        expect(await page.locator('details.graph-edges li').count()).toBe(hubEdges);
      }
      if (stands.further > 0) {
        const parentId = ((await further.getAttribute('data-node-id')) ?? '').replace(/^more:/, '');
        const parent = hubHood.nodes.find((n) => n.id === parentId);
        await further.click();
        if (parent?.kind === 'concept') await page.locator(`h1[data-concept-id="${parentId}"]`).waitFor();
        else await page.locator(`svg.graph[data-centre="${parentId}"]`).waitFor();
      }
    });
  }, 120_000);

  it('lists conflict candidates in the review queue, both clauses side by side, records a curator’s decisions, and lets a viewer only read', async () => {
    let decideIn = contextId;
    let decided = '';
    await step('read the conflict candidates', async () => {
      const candidates = (await get<{ conflicts: ConflictView[] }>(`${api}/ontology/conflicts?status=candidate`)).conflicts;
      await page.goto(`${gateway}${ctx}/review?tab=conflicts`);
      await page.getByRole('tab', { name: 'Conflict candidates', selected: true }).waitFor();
      if (candidates.length === 0) {
        // The example has none: the queue says so, and the decisions are made on a document written to conflict.
        await page.getByTestId('conflicts-empty').getByText('No conflict candidate awaits a decision.').waitFor();
        await walk.screenshot('conflicts-empty');
        decideIn = uniqueName('harbour-conflicts');
        await contextWithGraph(web.stack, decideIn, 'Harbour laboratory', 'visitors.md', CONFLICTING_POLICY);
      } else {
        await page.locator('[data-relation-id]').first().waitFor();
        expect(await page.locator('[data-relation-id]').count()).toBe(candidates.length);
        // The tab says how many await a decision.
        await page.getByTestId('pending-conflicts').getByText(String(candidates.length), { exact: true }).waitFor();
      }
    });

    await step('confirm and dismiss conflict candidates', async () => {
      const base = `/v1/contexts/${encodeURIComponent(decideIn)}/ontology/conflicts`;
      const candidates = (await get<{ conflicts: ConflictView[] }>(`${base}?status=candidate`)).conflicts;
      if (candidates.length === 0)
        throw new Error(
          `the ontology found no conflict candidate in ${decideIn === contextId ? 'the example' : 'a document written to conflict'}`,
        );
      await page.goto(`${gateway}/contexts/${encodeURIComponent(decideIn)}/review?tab=conflicts`);
      const first = candidates[0] as ConflictView;
      const item = page.locator(`[data-relation-id="${first.id}"]`);
      await item.waitFor();
      // Both clauses, side by side, with their text.
      expect(await item.locator(`.conflict-side[data-clause-id="${first.left.clauseId}"]`).innerText()).toContain(first.left.text);
      expect(await item.locator(`.conflict-side[data-clause-id="${first.right.clauseId}"]`).innerText()).toContain(first.right.text);
      await walk.screenshot('conflicts');
      await item.getByPlaceholder('Reason (optional)').fill('The two clauses cannot both hold.');
      await item.getByRole('button', { name: 'Confirm conflict' }).click();
      await item.getByTestId('conflict-decision').getByText('Confirmed as a conflict: The two clauses cannot both hold.').waitFor();
      const confirmed = (await get<{ conflicts: ConflictView[] }>(`${base}?status=confirmed`)).conflicts;
      expect(confirmed.map((c) => c.id)).toContain(first.id);
      const second = candidates[1];
      if (second) {
        const other = page.locator(`[data-relation-id="${second.id}"]`);
        await other.getByRole('button', { name: 'Dismiss candidate' }).click();
        await other.getByTestId('conflict-decision').getByText('Dismissed.').waitFor();
        expect((await get<{ conflicts: ConflictView[] }>(`${base}?status=dismissed`)).conflicts.map((c) => c.id)).toContain(second.id);
      }
      // Read again, the queue no longer holds what was decided; the confirmed one is under its status.
      await page.reload();
      await page.getByRole('tab', { name: 'Conflict candidates', selected: true }).waitFor();
      const left = candidates.length - (second ? 2 : 1);
      await page.getByTestId('conflict-count').getByText(`${left} awaiting a decision`, { exact: true }).waitFor();
      if (left > 0) await page.getByTestId('pending-conflicts').getByText(String(left), { exact: true }).waitFor();
      else expect(await page.getByTestId('pending-conflicts').count()).toBe(0);
      expect(await page.locator(`[data-relation-id="${first.id}"]`).count()).toBe(0);
      await page.getByRole('button', { name: 'Confirmed', exact: true }).click();
      await page.locator(`[data-relation-id="${first.id}"][data-status="confirmed"]`).waitFor();
      decided = decideIn;
    });

    await step('a viewer reads the candidates but may not decide', async () => {
      needs({ 'confirm and dismiss conflict candidates': decided });
      const viewer = await web.newPage();
      try {
        await web.signInWithKey(viewer.page, TENANT, 'viewer');
        await viewer.page.goto(`${gateway}/contexts/${encodeURIComponent(decided)}/review?tab=conflicts`);
        await viewer.page.getByText(/may read the candidates; deciding them needs the permission datasets:curate/).waitFor();
        const buttons = viewer.page.getByRole('button', { name: 'Confirm conflict' });
        for (let i = 0; i < (await buttons.count()); i++) expect(await buttons.nth(i).isDisabled()).toBe(true);
        // And the gateway refuses the decision itself, naming the permission.
        const open = (
          await get<{ conflicts: ConflictView[] }>(`/v1/contexts/${encodeURIComponent(decided)}/ontology/conflicts?status=candidate`)
        ).conflicts[0];
        if (open) {
          const refused = await web.stack.call(
            'POST',
            `/v1/contexts/${encodeURIComponent(decided)}/ontology/conflicts/${encodeURIComponent(open.id)}`,
            { decision: 'confirm' },
            'gateway',
            {},
            { tenant: TENANT, role: 'viewer' },
          );
          expect(refused.status).toBe(403);
          expect(refused.text).toContain('datasets:curate');
        }
        expect(viewer.foreign).toEqual([]);
      } finally {
        await viewer.context.close();
      }
    });
  }, 180_000);
});
