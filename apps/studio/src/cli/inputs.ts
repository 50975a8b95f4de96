import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import {
  checkSeeds,
  ContextValues,
  convertDocument,
  DEFAULT_MAX_DOCUMENT_BYTES,
  DocumentValidationError,
  looksLikeInstructLabQna,
  mediaTypeForFilename,
  SeedImportError,
  slugify,
  type MediaType,
  type TextMediaType,
} from '@studio/framing';
import { InputError } from './args';

export interface AlignInputs {
  policyPath: string;
  filename: string;
  /** The document as it is on disk (what an upload stores). */
  content: Uint8Array;
  mediaType: MediaType;
  /** What the framer parses: the document itself (Markdown, plain text) or the Markdown converted from HTML, PDF or DOCX. */
  framing: { content: Uint8Array | string; mediaType: TextMediaType; pages: number | null };
  values: ContextValues | null;
  valuesPath: string | null;
  seedsJsonl: string | null;
  seedsPath: string | null;
  contextId: string;
  documentId: string;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function requireFile(path: string, what: string): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new InputError(`${what} ${path} does not exist`);
  }
  if (!info.isFile()) throw new InputError(`${what} ${path} is not a file`);
}

/**
 * The media type of a policy document from its extension: .md/.markdown, .txt (or none), .html/.htm,
 * .pdf, .docx. InputError (exit code 2) for any other (.doc, .rtf, .odt, ...).
 */
export function mediaTypeOf(path: string): MediaType {
  try {
    return mediaTypeForFilename(path);
  } catch (error) {
    if (error instanceof DocumentValidationError) throw new InputError(error.message);
    throw error;
  }
}

/** Parses a values file; InputError naming every problem. */
export function parseValues(text: string, path: string): ContextValues {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError(`values file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = ContextValues.safeParse(json);
  if (!parsed.success) {
    throw new InputError(
      `values file ${path} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

/**
 * Checks a seeds file before anything is framed: JSON lines, or an InstructLab qna.yaml (told apart
 * by content; a `.yaml`/`.yml` file must be a qna.yaml). InputError naming the file, the line and
 * the problem.
 */
export function checkSeedsFile(text: string, path: string): void {
  if (['.yaml', '.yml'].includes(extname(path).toLowerCase()) && text.trim() !== '' && !looksLikeInstructLabQna(text)) {
    throw new InputError(`seeds file ${path} is not an InstructLab qna.yaml (a YAML mapping with version, created_by and seed_examples)`);
  }
  try {
    checkSeeds(text);
  } catch (error) {
    if (error instanceof SeedImportError) throw new InputError(`${path}: ${error.message}`);
    throw error;
  }
}

/**
 * Reads the policy, its values and seeds (by default the files beside the policy) and decides the
 * context and document ids. Nothing is written; every problem is an InputError.
 */
export async function loadInputs(args: {
  policy: string;
  values: string | null;
  seeds: string | null;
  context: string | null;
}): Promise<AlignInputs> {
  const policyPath = resolve(args.policy);
  await requireFile(policyPath, 'policy document');
  const content = new Uint8Array(await readFile(policyPath));
  const folder = dirname(policyPath);

  let valuesPath: string | null = null;
  if (args.values) {
    valuesPath = resolve(args.values);
    await requireFile(valuesPath, 'values file');
  } else if (await isFile(join(folder, 'values.json'))) {
    valuesPath = join(folder, 'values.json');
  }
  const values = valuesPath ? parseValues(await readFile(valuesPath, 'utf8'), valuesPath) : null;

  let seedsPath: string | null = null;
  if (args.seeds) {
    seedsPath = resolve(args.seeds);
    await requireFile(seedsPath, 'seeds file');
  } else if (await isFile(join(folder, 'seeds.jsonl'))) {
    seedsPath = join(folder, 'seeds.jsonl');
  } else if (await isFile(join(folder, 'qna.yaml'))) {
    seedsPath = join(folder, 'qna.yaml');
  }
  const seedsJsonl = seedsPath ? await readFile(seedsPath, 'utf8') : null;
  if (seedsPath && seedsJsonl !== null) checkSeedsFile(seedsJsonl, seedsPath);

  const filename = basename(policyPath);
  const stem = slugify(filename.replace(/\.[^.]+$/, ''), 64) || 'document';
  const declared = values?.context.documents.find((d) => basename(d.path) === filename);
  const mediaType = declared?.mediaType ?? mediaTypeOf(policyPath);
  let framing: AlignInputs['framing'];
  try {
    const converted = await convertDocument(content, mediaType, { maxBytes: DEFAULT_MAX_DOCUMENT_BYTES });
    framing = { content: converted.content, mediaType: converted.mediaType, pages: converted.pages };
  } catch (error) {
    throw asInputError(error, { policyPath, seedsPath });
  }
  return {
    policyPath,
    filename,
    content,
    mediaType,
    framing,
    values,
    valuesPath,
    seedsJsonl,
    seedsPath,
    contextId: args.context ?? values?.context.id ?? stem,
    documentId: declared?.id ?? stem,
  };
}

/** Framing errors that are the input's fault, as InputErrors; anything else unchanged. */
export function asInputError(error: unknown, inputs: Pick<AlignInputs, 'policyPath' | 'seedsPath'>): unknown {
  if (error instanceof DocumentValidationError) return new InputError(`${inputs.policyPath}: ${error.message}`);
  if (error instanceof SeedImportError) return new InputError(`${inputs.seedsPath ?? 'seeds'}: ${error.message}`);
  return error;
}
