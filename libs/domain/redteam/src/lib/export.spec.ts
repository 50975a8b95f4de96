import { extractStatements, parseDocument } from '@studio/framing';
import { generateAttacks } from './attacks';
import { attacksFromJsonl, attacksToJsonl, promptfooConfig } from './export';
import { attackGoals } from './goals';

const POLICY = `# Workshop Rules

## 1. Machines

**1.1** Operators must not disable a safety guard on any machine. Guards protect everyone in the workshop.
`;

function attacks() {
  const tree = parseDocument(POLICY, { documentId: 'ws', mediaType: 'text/markdown' });
  const goals = attackGoals({ clauses: tree.clauses, statements: extractStatements(tree), values: [] });
  return generateAttacks(goals, { stacks: [['direct'], ['retrieved-injection'], ['multi-turn'], ['prompt-injection']] });
}

describe('attack suite export', () => {
  it('writes one canonical JSON line per attack and reads them back', () => {
    const all = attacks();
    const text = attacksToJsonl(all);
    expect(text.split('\n').filter(Boolean)).toHaveLength(all.length);
    expect(text.split('\n')[0]).toMatch(/^\{"canary":null,"clauseIds":\[/);
    expect(attacksFromJsonl(text)).toEqual(all);
  });

  it('names the bad line', () => {
    expect(() => attacksFromJsonl('\n{"id": "x"}\n')).toThrow(/^line 2: not an attack/);
    expect(() => attacksFromJsonl('nope')).toThrow(/^line 1: not JSON/);
  });

  it('makes a promptfoo test per attack with chat messages, canary and rubric asserts', () => {
    const all = attacks();
    const config = promptfooConfig(all, { provider: 'openai:chat:aligned', systemPrompt: 'You follow the workshop rules.' });
    expect(config.prompts).toEqual(['{{ messages | dump }}']);
    expect(config.providers).toEqual(['openai:chat:aligned']);
    expect(config.tests).toHaveLength(all.length);
    const rag = config.tests.find((t) => t.metadata.strategies === 'retrieved-injection');
    const attack = all.find((a) => a.strategies[0] === 'retrieved-injection');
    expect(rag?.vars.messages.map((m) => m.role)).toEqual(['system', 'system', 'user']);
    expect(rag?.vars.messages[1]?.content).toContain(attack?.injection?.text);
    expect(rag?.assert[0]).toEqual({ type: 'not-contains', value: attack?.canary });
    expect(rag?.assert[1]?.type).toBe('llm-rubric');
    const crescendo = config.tests.find((t) => t.metadata.strategies === 'multi-turn');
    expect(crescendo?.metadata.turns).toBe(3);
    expect(crescendo?.vars.messages.filter((m) => m.role === 'user')).toHaveLength(3);
    const direct = config.tests.find((t) => t.metadata.strategies === 'direct');
    expect(direct?.assert.map((a) => a.type)).toEqual(['llm-rubric']);
    expect(() => promptfooConfig(all, { provider: ' ' })).toThrow(/provider/);
  });
});
