import { letterLabel, romanNumeral } from '../designators';

type Htmlparser2 = typeof import('htmlparser2', { with: { 'resolution-mode': 'import' } });
// htmlparser2 is published as an ES module only; Node (22.12+) loads it with require.
const { Parser } = require('htmlparser2') as Htmlparser2;

/** One level of a Word list definition (numbering.xml `w:lvl`). */
interface Level {
  start: number;
  format: string;
  text: string;
}

interface Definitions {
  /** abstractNumId → level index → level */
  abstract: Map<string, Map<number, Level>>;
  /** numId → its abstract definition and per-level start overrides */
  nums: Map<string, { abstractId: string; starts: Map<number, number> }>;
  /** paragraph style id → the abstract level it is linked to (`w:lvl/w:pStyle`) */
  styles: Map<string, { abstractId: string; level: number }>;
}

/** A numbered paragraph of document.xml: the label Word shows before it, and its text. */
export interface NumberedParagraph {
  label: string;
  text: string;
}

function parseXml(
  xml: string,
  handlers: { open(name: string, attrs: Record<string, string>): void; close?(name: string): void; text?(data: string): void },
): void {
  const parser = new Parser(
    {
      onopentag: (name, attrs) => handlers.open(name, attrs),
      onclosetag: (name) => handlers.close?.(name),
      ontext: (data) => handlers.text?.(data),
    },
    { xmlMode: true, decodeEntities: true },
  );
  parser.write(xml);
  parser.end();
}

function readDefinitions(numberingXml: string): Definitions {
  const defs: Definitions = { abstract: new Map(), nums: new Map(), styles: new Map() };
  let abstractId: string | null = null;
  let level: { index: number; value: Level } | null = null;
  let num: { abstractId: string; starts: Map<number, number> } | null = null;
  let overrideLevel: number | null = null;
  parseXml(numberingXml, {
    open(name, attrs) {
      const val = attrs['w:val'];
      if (name === 'w:abstractNum') {
        abstractId = attrs['w:abstractNumId'] ?? null;
        if (abstractId !== null) defs.abstract.set(abstractId, new Map());
      } else if (name === 'w:lvl' && abstractId !== null) {
        level = { index: Number(attrs['w:ilvl'] ?? '0'), value: { start: 1, format: 'decimal', text: '' } };
        defs.abstract.get(abstractId)?.set(level.index, level.value);
      } else if (level && name === 'w:start' && val !== undefined) {
        level.value.start = Number(val);
      } else if (level && name === 'w:numFmt' && val !== undefined) {
        level.value.format = val;
      } else if (level && name === 'w:lvlText' && val !== undefined) {
        level.value.text = val;
      } else if (level && name === 'w:pStyle' && val !== undefined && abstractId !== null) {
        defs.styles.set(val, { abstractId, level: level.index });
      } else if (name === 'w:num') {
        num = { abstractId: '', starts: new Map() };
        const id = attrs['w:numId'];
        if (id !== undefined) defs.nums.set(id, num);
      } else if (num && name === 'w:abstractNumId' && val !== undefined) {
        num.abstractId = val;
      } else if (num && name === 'w:lvlOverride') {
        overrideLevel = Number(attrs['w:ilvl'] ?? '0');
      } else if (num && overrideLevel !== null && name === 'w:startOverride' && val !== undefined) {
        num.starts.set(overrideLevel, Number(val));
      }
    },
    close(name) {
      if (name === 'w:abstractNum') abstractId = null;
      else if (name === 'w:lvl') level = null;
      else if (name === 'w:num') num = null;
      else if (name === 'w:lvlOverride') overrideLevel = null;
    },
  });
  return defs;
}

function formatNumber(n: number, format: string): string {
  switch (format) {
    case 'lowerLetter':
      return letterLabel(n, 'repeated') ?? String(n);
    case 'upperLetter':
      return letterLabel(n, 'repeated')?.toUpperCase() ?? String(n);
    case 'lowerRoman':
      return romanNumeral(n) ?? String(n);
    case 'upperRoman':
      return romanNumeral(n)?.toUpperCase() ?? String(n);
    case 'decimalZero':
      return String(n).padStart(2, '0');
    default:
      return String(n);
  }
}

/**
 * The labels Word shows before the numbered paragraphs of a DOCX ("(a)", "3.2.1", "1."), in
 * document order, computed from document.xml (each paragraph's `w:numPr`, or a paragraph style
 * linked to a list level) and numbering.xml (each level's format, text and start, a list's start
 * overrides): counters run per list (numId), a level's counter restarts when a higher level
 * advances. Bulleted levels and levels without text give no label.
 */
export function numberedParagraphs(documentXml: string, numberingXml: string): NumberedParagraph[] {
  const defs = readDefinitions(numberingXml);
  const counters = new Map<string, (number | undefined)[]>();
  const out: NumberedParagraph[] = [];
  let depth = 0;
  let paragraph: { numId: string | null; level: number | null; style: string | null; text: string } | null = null;
  let inText = false;

  const finish = (p: NonNullable<typeof paragraph>): void => {
    let key: string;
    let levels: Map<number, Level> | undefined;
    let starts = new Map<number, number>();
    let index: number;
    if (p.numId !== null && p.numId !== '0') {
      const num = defs.nums.get(p.numId);
      if (!num) return;
      key = `num:${p.numId}`;
      levels = defs.abstract.get(num.abstractId);
      starts = num.starts;
      index = p.level ?? 0;
    } else if (p.numId === null && p.style !== null && defs.styles.has(p.style)) {
      const linked = defs.styles.get(p.style) as { abstractId: string; level: number };
      key = `abstract:${linked.abstractId}`;
      levels = defs.abstract.get(linked.abstractId);
      index = p.level ?? linked.level;
    } else {
      return;
    }
    const level = levels?.get(index);
    if (!levels || !level || level.format === 'bullet' || level.format === 'none' || level.text.trim() === '') return;
    const start = (i: number): number => starts.get(i) ?? levels?.get(i)?.start ?? 1;
    const counts = counters.get(key) ?? [];
    counts[index] = counts[index] === undefined ? start(index) : (counts[index] as number) + 1;
    for (let i = index + 1; i < counts.length; i++) counts[i] = undefined;
    counters.set(key, counts);
    const label = level.text.replace(/%([1-9])/g, (_, d: string) => {
      const i = Number(d) - 1;
      return formatNumber(counts[i] ?? start(i), levels?.get(i)?.format ?? 'decimal');
    });
    out.push({ label: label.trim(), text: p.text.replace(/\s+/g, ' ').trim() });
  };

  parseXml(documentXml, {
    open(name, attrs) {
      if (name === 'w:p') {
        depth++;
        if (depth === 1) paragraph = { numId: null, level: null, style: null, text: '' };
      } else if (paragraph && depth === 1) {
        if (name === 'w:numId') paragraph.numId = attrs['w:val'] ?? null;
        else if (name === 'w:ilvl') paragraph.level = Number(attrs['w:val'] ?? '0');
        else if (name === 'w:pStyle') paragraph.style = attrs['w:val'] ?? null;
        else if (name === 'w:t') inText = true;
        else if (name === 'w:tab') paragraph.text += ' ';
      }
    },
    close(name) {
      if (name === 'w:t') inText = false;
      if (name === 'w:p') {
        if (depth === 1 && paragraph) finish(paragraph);
        if (depth === 1) paragraph = null;
        depth = Math.max(0, depth - 1);
      }
    },
    text(data) {
      if (inText && paragraph && depth === 1) paragraph.text += data;
    },
  });
  return out;
}
