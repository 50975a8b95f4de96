import { preferenceRepositories } from '@studio/preferences';
import { publishSyntheticPreferences } from './align';
import { readDatasetExamples } from './document-versions';
import { fakeLlm, frameAndPublish, openHarness, TENANT, type Harness } from './fixtures.spec-helper';

describe('synthetic preferences of a DPO round', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness(fakeLlm(() => ''));
  });
  afterEach(() => h.close());

  it('come from the training examples only (the audit asks the held-out ones), and are published as a preference dataset', async () => {
    const { dataset } = (await frameAndPublish(h, { heldOutRatio: 0.3 })).dataset;
    const preferences = preferenceRepositories((spec) => h.store.repository(spec));
    await h.bus.idle();
    h.events.length = 0;
    const round = await publishSyntheticPreferences(
      { bus: h.bus, artifacts: h.artifacts, preferences },
      { tenant: TENANT, contextId: 'acme-conduct', dataset, values: null },
    );
    const { examples } = await readDatasetExamples(h.artifacts, dataset.examplesUri as string);
    const heldOut = new Set(examples.filter((e) => e.split === 'heldOut').map((e) => e.example.id));
    const train = new Set(examples.filter((e) => e.split === 'train').map((e) => e.example.id));
    const stored = await preferences.preferences.find(TENANT, { contextId: 'acme-conduct' });
    expect(round.generated).toBeGreaterThan(0);
    expect(stored).toHaveLength(round.created);
    expect(stored.every((p) => p.source === 'synthetic' && p.origin.datasetVersionId === dataset.id)).toBe(true);
    expect(stored.every((p) => train.has(p.origin.exampleId as string) && !heldOut.has(p.origin.exampleId as string))).toBe(true);
    expect(round.preferenceDataset.preferenceIds.sort()).toEqual(stored.map((p) => p.id).sort());
    await h.bus.idle();
    expect(h.events.map((e) => e.topic)).toEqual(['preference.dataset.published.v1']);
    // A second round on the same data records nothing new and names the same preference dataset.
    const again = await publishSyntheticPreferences(
      { bus: h.bus, artifacts: h.artifacts, preferences },
      { tenant: TENANT, contextId: 'acme-conduct', dataset, values: null },
    );
    expect(again).toMatchObject({ created: 0, preferenceDataset: { id: round.preferenceDataset.id } });
  });

  it('names what is missing', async () => {
    const { dataset } = (await frameAndPublish(h)).dataset;
    await expect(
      publishSyntheticPreferences(
        { bus: h.bus, artifacts: h.artifacts },
        { tenant: TENANT, contextId: 'acme-conduct', dataset, values: null },
      ),
    ).rejects.toThrow(/needs the preference repositories/);
    const preferences = preferenceRepositories((spec) => h.store.repository(spec));
    await expect(
      publishSyntheticPreferences(
        { bus: h.bus, artifacts: h.artifacts, preferences },
        { tenant: TENANT, contextId: 'acme-conduct', dataset: { ...dataset, examplesUri: null }, values: null },
      ),
    ).rejects.toThrow(/keeps no examples file/);
  });
});
