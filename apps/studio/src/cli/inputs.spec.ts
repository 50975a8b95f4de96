import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { prepare } from '../align';
import { InputError, parseAlignArgs } from './args';
import { auditThresholdsFor } from '@studio/pipeline';
import { loadInputs, mediaTypeOf, parseValues } from './inputs';

const VALUES = {
  context: { id: 'acme', name: 'Acme', documents: [{ id: 'acme-cg', path: 'rules.md', mediaType: 'text/markdown' }] },
  values: [{ name: 'honesty', priority: 1, description: 'Be honest.', sections: ['1'] }],
  audit: { min_aligned_correctness: 0.7, min_faithfulness: 0.6, max_benign_refusal_rate: 0.2 },
};

describe('inputs', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'studio-inputs-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('takes values and seeds from beside the policy and the ids from the values file', async () => {
    writeFileSync(join(dir, 'rules.md'), '# Rules\n\n**1.1** Employees must be honest.\n');
    writeFileSync(join(dir, 'values.json'), JSON.stringify(VALUES));
    writeFileSync(join(dir, 'seeds.jsonl'), '');
    const inputs = await loadInputs({ policy: join(dir, 'rules.md'), values: null, seeds: null, context: null });
    expect(inputs).toMatchObject({
      contextId: 'acme',
      documentId: 'acme-cg',
      mediaType: 'text/markdown',
      valuesPath: join(dir, 'values.json'),
      seedsPath: join(dir, 'seeds.jsonl'),
    });
    expect(auditThresholdsFor(inputs.values, 'values')).toMatchObject({
      gateVariant: 'aligned',
      minCorrectness: 0.7,
      minFaithfulness: 0.6,
      maxRefusalRate: 0.2,
    });
  });

  it('works without values or seeds, naming the context after the file', async () => {
    writeFileSync(join(dir, 'Travel Policy.txt'), 'Employees must book economy class.');
    const inputs = await loadInputs({ policy: join(dir, 'Travel Policy.txt'), values: null, seeds: null, context: null });
    expect(inputs).toMatchObject({ values: null, seedsJsonl: null, mediaType: 'text/plain' });
    expect(inputs.contextId).toMatch(/^travel-policy/);
    expect(auditThresholdsFor(null, 'defaults').minCorrectness).toBe(0.5);
  });

  it.each<[string, { policy?: string; values?: string; seeds?: string }, RegExp]>([
    ['a missing policy', { policy: 'nope.md' }, /policy document .*nope\.md does not exist/],
    ['a folder as policy', { policy: '.' }, /is not a file/],
    ['a missing values file', { values: 'none.json' }, /values file .*none\.json does not exist/],
    ['a missing seeds file', { seeds: 'none.jsonl' }, /seeds file .*none\.jsonl does not exist/],
  ])('rejects %s', async (_what, override, message) => {
    writeFileSync(join(dir, 'p.md'), '# P\n');
    const args = { values: null, seeds: null, context: null, ...override, policy: join(dir, override.policy ?? 'p.md') };
    await expect(loadInputs(args)).rejects.toThrow(InputError);
    await expect(loadInputs(args)).rejects.toThrow(message);
  });

  it('names the problem in an invalid values file', () => {
    expect(() => parseValues('{', 'v.json')).toThrow(/v\.json is not valid JSON/);
    expect(() => parseValues(JSON.stringify({ ...VALUES, values: [] }), 'v.json')).toThrow(/v\.json is invalid: values:/);
  });

  it('knows each format by its extension, and refuses others', () => {
    expect(mediaTypeOf('a.MD')).toBe('text/markdown');
    expect(mediaTypeOf('a.markdown')).toBe('text/markdown');
    expect(mediaTypeOf('a.txt')).toBe('text/plain');
    expect(mediaTypeOf('a.htm')).toBe('text/html');
    expect(mediaTypeOf('a.pdf')).toBe('application/pdf');
    expect(mediaTypeOf('a.docx')).toBe('application/vnd.openxmlformats-officedocument.wordprocessingml.document');
    expect(() => mediaTypeOf('a.doc')).toThrow(InputError);
    expect(() => mediaTypeOf('a.doc')).toThrow(/"\.doc" documents are not supported/);
  });

  it('frames a PDF policy: the original bytes kept, the converted Markdown framed', async () => {
    const pdf = await PDFDocument.create();
    const font = await pdf.embedFont(StandardFonts.Helvetica);
    const page = pdf.addPage([612, 400]);
    page.drawText('Travel Rules', { x: 50, y: 340, size: 20, font });
    page.drawText('1.1 Employees must book economy class for flights under six hours.', { x: 50, y: 300, size: 10, font });
    page.drawText('1.2 Managers may approve business class for longer flights.', { x: 50, y: 280, size: 10, font });
    const bytes = await pdf.save();
    writeFileSync(join(dir, 'travel.pdf'), bytes);
    const { framed, inputs } = await prepare(parseAlignArgs(['frame', join(dir, 'travel.pdf')]));
    expect(inputs.mediaType).toBe('application/pdf');
    expect(Buffer.from(inputs.content).equals(Buffer.from(bytes))).toBe(true);
    expect(inputs.framing).toMatchObject({ mediaType: 'text/markdown', pages: 1 });
    expect(framed.tree.title).toBe('Travel Rules');
    expect(framed.tree.clauses.map((c) => [c.numbering, c.text])).toEqual([
      ['1.1', 'Employees must book economy class for flights under six hours.'],
      ['1.2', 'Managers may approve business class for longer flights.'],
    ]);
  });

  it.each<[string, string, string | Uint8Array, RegExp]>([
    ['a malformed PDF', 'rules.pdf', '%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ngarbage', /rules\.pdf: not a readable PDF/],
    ['a DOCX that is not a zip', 'rules.docx', '# Rules\n\n1. text', /rules\.docx: not a DOCX: the file is not a zip archive/],
    ['an HTML page without text', 'rules.html', '<script>x()</script><style>p{}</style>', /rules\.html: HTML page has no readable text/],
    ['a format it does not read', 'rules.odt', 'x', /"\.odt" documents are not supported/],
  ])('refuses %s with an InputError (exit code 2) naming the problem', async (_what, name, content, message) => {
    writeFileSync(join(dir, name), content);
    const args = { policy: join(dir, name), values: null, seeds: null, context: null };
    await expect(loadInputs(args)).rejects.toThrow(InputError);
    await expect(loadInputs(args)).rejects.toThrow(message);
  });

  describe('InstructLab qna.yaml seeds', () => {
    const POLICY = [
      '# Expenses',
      '',
      '## 1. Claims',
      '',
      '**1.1** Expense claims must be submitted within thirty days, with an itemised receipt for every item above $25.',
      '',
      '**1.2** Alcohol is never reimbursed.',
      '',
    ].join('\n');
    const QNA = [
      'version: 2',
      'task_description: Answer questions about expense claims.',
      'created_by: a-contributor',
      'seed_examples:',
      '  - question: Is wine with a client dinner reimbursed?',
      '    answer: No. Alcohol is never reimbursed.',
      '  - context: A $40 taxi receipt was lost.',
      '    question: Can the taxi ride be claimed?',
      '    answer: Not without an itemised receipt, which every item above $25 needs.',
      '  - question: What is the capital of France?',
      '    answer: Paris.',
      '',
    ].join('\n');

    it('frames a policy with a qna.yaml given by --seeds: Q&A seeds linked to clauses, unmatched pairs counted', async () => {
      writeFileSync(join(dir, 'rules.md'), POLICY);
      writeFileSync(join(dir, 'skill.yaml'), QNA);
      const { framed, inputs } = await prepare(parseAlignArgs(['frame', join(dir, 'rules.md'), '--seeds', join(dir, 'skill.yaml')]));
      expect(inputs.seedsPath).toBe(join(dir, 'skill.yaml'));
      expect(framed.seeds.map((s) => [s.kind, s.clauseRefs])).toEqual([
        ['qa', ['1.2']],
        ['qa', ['1.1']],
      ]);
      expect(framed.seeds[1]?.question).toBe('A $40 taxi receipt was lost.\n\nCan the taxi ride be claimed?');
      expect(framed.seedReport).toMatchObject({
        format: 'instructlab-compositional-skill',
        read: 3,
        kept: 2,
        dropped: { 'no-matching-clause': 1 },
      });
    });

    it('takes qna.yaml from beside the policy when there is no seeds.jsonl', async () => {
      writeFileSync(join(dir, 'rules.md'), POLICY);
      writeFileSync(join(dir, 'qna.yaml'), QNA);
      const inputs = await loadInputs({ policy: join(dir, 'rules.md'), values: null, seeds: null, context: null });
      expect(inputs.seedsPath).toBe(join(dir, 'qna.yaml'));
    });

    it.each([
      ['a file without seed_examples', 'version: 2\ncreated_by: me\n', /qna\.yaml: seeds line 1: qna\.yaml seed_examples: /],
      [
        'an empty answer',
        'version: 2\ncreated_by: me\nseed_examples:\n  - question: Q?\n    answer: ""\n',
        /seeds line 5: .*seed_examples\.0\.answer: must not be empty/,
      ],
      ['YAML that is not a mapping', '- a\n- b\n', /is not an InstructLab qna\.yaml/],
    ])('refuses %s before framing, naming the file, the line and the problem', async (_what, text, message) => {
      writeFileSync(join(dir, 'rules.md'), POLICY);
      writeFileSync(join(dir, 'qna.yaml'), text);
      const args = { policy: join(dir, 'rules.md'), values: null, seeds: join(dir, 'qna.yaml'), context: null };
      await expect(loadInputs(args)).rejects.toThrow(InputError);
      await expect(loadInputs(args)).rejects.toThrow(message);
    });
  });
});
