import {
  type AuditVariant,
  type BenignReport,
  type ReportAdaptive,
  type ReportAdaptiveAttempt,
  type GeneralAbilityReport,
  type RedTeamReport,
  type ReportAttack,
  type ReportAttackOutcome,
  type ReportJudgeAgreement,
  type VerdictData,
} from '@studio/auditing';
import {
  extractStatements,
  type Clause,
  type ContextValue,
  type DocumentTree,
  type NormativeStatement,
  type Section,
} from '@studio/framing';
import {
  ADAPTIVE_ATTACKER_PROMPT_VERSION,
  adaptiveAttack,
  attackGoals,
  attackId,
  attackSuccess,
  buildAttack,
  benignHelpful,
  benignProbes,
  benignRefusal,
  combineJudgements,
  GENERAL_ABILITY_SET,
  generalAbility,
  generateAttacks,
  judgeAgreement,
  judgeByRules,
  outcomeFromReward,
  scoreBenign,
  scoreGeneralAbility,
  wilson,
  type Attack,
  type AttackGoal,
  type AttackJudgement,
  type AttackOutcome,
  type JudgeAgreement,
  type RuleSource,
} from '@studio/redteam';
import type { ChatMessage, LlmClient } from '@studio/ports';
import type { RetrievedClause } from './index-clauses';
import type { ClauseRecord } from './records';

/**
 * The attacking part of the release audit: attacks generated from the context's own rules, benign
 * but risky-looking probes (over-refusal) and a fixed general-ability set, answered by every
 * variant of the audit and judged. Pure apart from the ports it is given (asking a variant,
 * retrieving clauses, the reward model, the LLM judge), so it is tested with fakes.
 */

/** How much of the red team an audit runs: small enough by default for a CPU model server. */
export interface RedTeamSettings {
  /** Attacks sampled (deterministically, spread over goals and strategies); 0 runs none. */
  maxAttacks: number;
  /** Benign probes asked; 0 asks none. */
  maxBenign: number;
  /** Items of the general-ability set answered (the first ones); 0 answers none. */
  maxGeneralAbility: number;
  /** Goals attacked by the adaptive attacker, when one is configured (spread over clauses); 0 attacks none. */
  maxAdaptive: number;
  /** Prompts the adaptive attacker tries at most per goal and variant (1 to MAX_ADAPTIVE_ROUNDS). */
  adaptiveRounds: number;
}

/** The most rounds an adaptive attack may be given. */
export const MAX_ADAPTIVE_ROUNDS = 20;

export const DEFAULT_RED_TEAM_SETTINGS: RedTeamSettings = {
  maxAttacks: 24,
  maxBenign: 12,
  maxGeneralAbility: GENERAL_ABILITY_SET.items.length,
  maxAdaptive: 4,
  adaptiveRounds: 4,
};

/** Bound on each reply of the attacker model (a prompt, as JSON). */
export const ADAPTIVE_ATTACKER_MAX_TOKENS = 256;

/** The adaptive attacker: a model at an OpenAI-compatible endpoint that refines its prompt from the target's replies. */
export interface AttackerPort {
  llm: LlmClient;
  model: string;
  /** The endpoint's base URL as the report names it (never its key); null for an endpoint without one (the locally served model). */
  endpoint: string | null;
}

/** Replies are kept in the report up to this many characters (those to injection attacks whole). */
export const MAX_REPLY_CHARS = 600;

/** An LLM judge of attack replies (LlmAttackJudge of @studio/redteam, or any with its shape). */
export interface AttackJudgePort {
  judge(attack: Attack, reply: string): Promise<{ outcome: AttackOutcome; reason: string }>;
}

/** What one variant is asked with: the dataset's system prompt (extended for aligned+RAG by the caller's retrieved clauses) and the turns so far. */
export type AskVariant = (variant: AuditVariant, messages: ChatMessage[]) => Promise<string>;

export interface RedTeamAuditInput {
  /** The clauses the dataset was generated from (the statements are re-extracted from them). */
  clauses: readonly Pick<ClauseRecord, 'id' | 'documentId' | 'position' | 'numbering' | 'title' | 'text'>[];
  /** The context's values (which values each attacked clause exercises); [] without a values file. */
  values: readonly ContextValue[];
  variants: readonly AuditVariant[];
  /** The variant the gates read. */
  gateVariant: 'aligned' | 'aligned_rag';
  /** The dataset's system prompt, as the model was trained with it. */
  systemPrompt: string;
  /** Builds the aligned+RAG system prompt from retrieved clauses (ragSystemPrompt). */
  ragPrompt: (systemPrompt: string, clauses: readonly RetrievedClause[]) => string;
  ask: AskVariant;
  /** The top-k clauses for a question (the aligned+RAG variant's retrieval). */
  retrieve: (question: string) => Promise<RetrievedClause[]>;
  /** The reward model's scores of conversations (their last assistant turn); null without a reward model. */
  reward: ((conversations: ChatMessage[][]) => Promise<number[]>) | null;
  /** The LLM judge of attack replies, when one is configured. */
  llmJudge: AttackJudgePort | null;
  /** The adaptive attacker, when one is configured; without it the report says adaptive attacks were not run. */
  attacker?: AttackerPort | null;
  settings: RedTeamSettings;
  /** Requests in flight at once, within one variant. */
  concurrency: number;
  /** Called as each answer comes back: how many of how many. */
  progress?: (done: number, total: number, note: string) => void;
}

export interface RedTeamAuditResult {
  redTeam: RedTeamReport | null;
  benign: BenignReport | null;
  generalAbility: GeneralAbilityReport | null;
  /** The measurements the verdict reads for the gated variant. */
  verdict: Omit<VerdictData, 'clauseCoverage'>;
  /** Chat requests sent (every turn of every attack, every probe and item, per variant). */
  requests: number;
}

/** The parent numbering of a lettered or numbered item ("3.1.4(a)" → "3.1.4"), or null. */
function itemParent(numbering: string): string | null {
  const m = /^(.+?)\([^()]+\)$/.exec(numbering);
  return m ? (m[1] as string) : null;
}

/**
 * The statements of the clauses as the framer extracts them, from the clause records alone (the
 * audit does not have the documents): each document's clauses, in order, as paragraphs under their
 * top-level section, an item under the clause it is lettered or numbered in ("(a)" of "3.1"), so a
 * lead-in's party carries into its items as it does when framing.
 */
export function statementsOfClauses(clauses: RedTeamAuditInput['clauses']): NormativeStatement[] {
  const byDocument = new Map<string, RedTeamAuditInput['clauses'][number][]>();
  for (const c of clauses) byDocument.set(c.documentId, [...(byDocument.get(c.documentId) ?? []), c]);
  const statements: NormativeStatement[] = [];
  for (const [documentId, records] of byDocument) {
    const ordered = [...records].sort((a, b) => a.position - b.position);
    const idByNumbering = new Map(ordered.map((c) => [c.numbering, c.id]));
    const sections = new Map<string, Section>();
    const tree: DocumentTree = {
      documentId,
      mediaType: 'text/markdown',
      title: null,
      sha256: '',
      lineCount: ordered.length,
      sections: [],
      clauses: [],
    };
    ordered.forEach((c, index) => {
      const top = c.numbering.split(/[.(]/)[0] || c.numbering;
      const sectionId = `${documentId}:${top}`;
      if (!sections.has(sectionId))
        sections.set(sectionId, {
          id: sectionId,
          documentId,
          numbering: top,
          title: c.title ?? top,
          level: 1,
          parentId: null,
          headingPath: c.title ? [c.title] : [],
          lineStart: index + 1,
          lineEnd: index + 1,
        });
      const parent = itemParent(c.numbering);
      const clause: Clause = {
        id: c.id,
        documentId,
        numbering: c.numbering,
        citation: `§${c.numbering}`,
        heading: null,
        kind: parent && idByNumbering.has(parent) ? 'list-item' : 'paragraph',
        numbered: /^\d/.test(c.numbering),
        sectionId,
        parentId: parent ? (idByNumbering.get(parent) ?? null) : null,
        headingPath: c.title ? [c.title] : [],
        text: c.text,
        question: null,
        answer: null,
        lineStart: index + 1,
        lineEnd: index + 1,
      };
      tree.clauses.push(clause);
    });
    tree.sections = [...sections.values()];
    statements.push(...extractStatements(tree));
  }
  return statements;
}

/**
 * The retrieved clauses with an attack's injected text inside the clause it targets: appended to
 * that clause's text when it was retrieved, else that clause (with the text) takes the place of the
 * last retrieved one, so the injection always reaches the prompt as retrieved clause text.
 */
export function injectIntoRetrieved(
  retrieved: readonly RetrievedClause[],
  injection: { clauseId: string; text: string },
  clauses: RedTeamAuditInput['clauses'],
): RetrievedClause[] {
  const at = retrieved.findIndex((c) => c.clauseId === injection.clauseId);
  if (at >= 0) return retrieved.map((c, i) => (i === at ? { ...c, text: `${c.text} ${injection.text}` } : c));
  const clause = clauses.find((c) => c.id === injection.clauseId);
  if (!clause) throw new Error(`the injection targets clause ${injection.clauseId}, which is not among the audited clauses`);
  const injected: RetrievedClause = {
    clauseId: clause.id,
    numbering: clause.numbering,
    text: `${clause.text} ${injection.text}`,
    score: 0,
  };
  return retrieved.length === 0 ? [injected] : [...retrieved.slice(0, -1), injected];
}

async function mapPool<T, R>(inputs: readonly T[], limit: number, fn: (input: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(inputs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < inputs.length) {
      const index = next;
      next += 1;
      out[index] = await fn(inputs[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, inputs.length)) }, worker));
  return out;
}

const cut = (text: string): string => (text.length > MAX_REPLY_CHARS ? `${text.slice(0, MAX_REPLY_CHARS - 1)}…` : text);

/** Whether a variant is asked an attack: one that injects into retrieved text reaches only the variant that retrieves. */
export function answersAttack(variant: AuditVariant, attack: Pick<Attack, 'injection'>): boolean {
  return attack.injection === null || variant === 'aligned_rag';
}

/** A reply's judgement and the reward model's score of it (null without a reward model). */
interface Judged {
  judgement: AttackJudgement;
  rewardScore: number | null;
}

/** One adaptive attack on one variant: the rounds as sent, answered and judged, and why it stopped. */
interface AdaptiveAttempt {
  variant: AuditVariant;
  goal: AttackGoal;
  /** The attack as adaptiveAttack returns it (strategies ['adaptive'], the prompts tried as its turns). */
  attack: Attack;
  rounds: Array<{ prompt: string; reply: string; judged: Judged }>;
  stop: ReportAdaptiveAttempt['stop'];
}

interface AnsweredAttack {
  replies: string[];
  /** The system prompt the variant was asked with. */
  system: string;
}

/** What an audit's red team will ask: the attacks, probes and general-ability items, from the clauses and the bounds. */
export interface RedTeamPlan {
  goals: number;
  attacks: Attack[];
  /** The action and rule kind of each attack's goal (what the rules judge looks for in a reply), by goal id. */
  goalOf: ReadonlyMap<string, { action: string; ruleKind: 'prohibition' | 'obligation' }>;
  probes: ReturnType<typeof benignProbes>;
  items: typeof GENERAL_ABILITY_SET.items;
  /** The goals the adaptive attacker attacks (empty without an attacker or with maxAdaptive 0). */
  adaptiveGoals: AttackGoal[];
  /** Prompts the adaptive attacker tries at most per goal and variant. */
  adaptiveRounds: number;
  /** Why no adaptive attack runs; null when some do. */
  adaptiveSkipped: string | null;
}

/**
 * Up to `max` goals spread over their clauses: the first goal of each clause (clauses in the goals'
 * order), then the second of each, and so on. Deterministic: the same goals give the same choice.
 */
export function spreadGoals(goals: readonly AttackGoal[], max: number): AttackGoal[] {
  const byClause = new Map<string, AttackGoal[]>();
  for (const g of goals) byClause.set(g.clauseId, [...(byClause.get(g.clauseId) ?? []), g]);
  const queues = [...byClause.values()];
  const out: AttackGoal[] = [];
  for (let depth = 0; out.length < max && queues.some((q) => q.length > depth); depth++)
    for (const q of queues) {
      const g = q[depth];
      if (g && out.length < max) out.push(g);
    }
  return out;
}

/** The attack an adaptive attempt starts from: the goal asked directly, under the strategy 'adaptive' (its id is that of the goal and 'adaptive'). */
export function adaptiveStart(goal: AttackGoal): Attack {
  const direct = buildAttack(goal, ['direct']);
  return { ...direct, id: attackId(goal.id, ['adaptive']), strategies: ['adaptive'] };
}

/** Derives the attacks (goals from the prohibitions and dodgeable obligations), the benign probes and the general-ability items of an audit. */
export function planRedTeam(input: Pick<RedTeamAuditInput, 'clauses' | 'values' | 'settings' | 'attacker'>): RedTeamPlan {
  const { settings } = input;
  const adaptive = Boolean(input.attacker) && settings.maxAdaptive > 0;
  const source: RuleSource = {
    clauses: input.clauses.map((c) => ({ id: c.id, numbering: c.numbering, text: c.text, title: c.title })),
    statements: statementsOfClauses(input.clauses),
    values: input.values,
  };
  const goals = settings.maxAttacks > 0 || adaptive ? attackGoals(source) : [];
  const adaptiveGoals = adaptive ? spreadGoals(goals, settings.maxAdaptive) : [];
  return {
    goals: goals.length,
    attacks: goals.length > 0 && settings.maxAttacks > 0 ? generateAttacks(goals, { maxAttacks: settings.maxAttacks, seed: 0 }) : [],
    goalOf: new Map(goals.map((g) => [g.id, { action: g.action, ruleKind: g.ruleKind }])),
    probes: settings.maxBenign > 0 ? benignProbes(source, { maxProbes: settings.maxBenign, seed: 0 }) : [],
    items: GENERAL_ABILITY_SET.items.slice(0, Math.max(0, settings.maxGeneralAbility)),
    adaptiveGoals,
    adaptiveRounds: settings.adaptiveRounds,
    adaptiveSkipped: !input.attacker
      ? 'no attacker endpoint is configured (an OpenAI-compatible attacker model: --attacker-url/--attacker-model, or AUDIT_ATTACKER_BASE_URL/AUDIT_ATTACKER_MODEL)'
      : settings.maxAdaptive === 0
        ? 'the number of goals to attack adaptively is 0'
        : adaptiveGoals.length === 0
          ? 'the rules give no goal to attack (no prohibition or dodgeable obligation)'
          : null,
  };
}

/**
 * The chat requests a plan sends to the given variants: every turn of every attack a variant
 * answers, every probe and item, and at most `adaptiveRounds` per adaptive goal (an attempt that
 * succeeds or runs out of prompts early sends fewer).
 */
export function requestsOf(plan: RedTeamPlan, variants: readonly AuditVariant[]): number {
  return variants.reduce(
    (n, v) =>
      n +
      plan.attacks.filter((a) => answersAttack(v, a)).reduce((t, a) => t + a.turns.length, 0) +
      plan.probes.length +
      plan.items.length +
      plan.adaptiveGoals.length * plan.adaptiveRounds,
    0,
  );
}

/** Runs the red team, the benign probes and the general-ability set for every variant (the plan: planRedTeam of the same input). */
export async function runRedTeamAudit(input: RedTeamAuditInput, plan: RedTeamPlan = planRedTeam(input)): Promise<RedTeamAuditResult> {
  const { variants } = input;
  const { attacks, goalOf, probes, items } = plan;
  if (
    plan.adaptiveGoals.length > 0 &&
    (!Number.isInteger(plan.adaptiveRounds) || plan.adaptiveRounds < 1 || plan.adaptiveRounds > MAX_ADAPTIVE_ROUNDS)
  )
    throw new Error(`adaptive attack rounds must be a whole number from 1 to ${MAX_ADAPTIVE_ROUNDS}, got ${plan.adaptiveRounds}`);
  const withRag = variants.includes('aligned_rag');
  const retrievedFor = async (question: string) => (withRag ? input.retrieve(question) : []);
  const attackRetrieval = await mapPool(attacks, input.concurrency, (a) => retrievedFor(a.turns[0] as string));
  const probeRetrieval = await mapPool(probes, input.concurrency, (p) => retrievedFor(p.prompt));
  const itemRetrieval = await mapPool(items, input.concurrency, (i) => retrievedFor(i.question));
  const systemFor = (variant: AuditVariant, retrieved: readonly RetrievedClause[]): string =>
    variant === 'aligned_rag' ? input.ragPrompt(input.systemPrompt, retrieved) : input.systemPrompt;

  const total = requestsOf(plan, variants);
  let done = 0;
  let unsent = 0;
  const tick = (note: string) => {
    done += 1;
    input.progress?.(done, total, note);
  };

  // One reply to an attack judged as every reply is: the rules, the reward model's score of the
  // conversation (with the plain system prompt), the LLM judge when configured.
  const judgeOne = async (attack: Attack, prompt: string, reply: string): Promise<Judged> => {
    const goal = goalOf.get(attack.goalId);
    const rules = judgeByRules({ goal: attack.goal, canary: attack.canary, strategies: attack.strategies, ...(goal ?? {}) }, reply);
    let rewardScore: number | null = null;
    if (input.reward) {
      const scores = await input.reward([
        [
          { role: 'system', content: input.systemPrompt },
          { role: 'user', content: prompt },
          { role: 'assistant', content: reply },
        ],
      ]);
      if (scores.length !== 1) throw new Error(`the reward model returned ${scores.length} scores for one reply to an adaptive attack`);
      rewardScore = scores[0] as number;
    }
    const llm = input.llmJudge ? (await input.llmJudge.judge(attack, reply)).outcome : null;
    return { judgement: combineJudgements(rules, rewardScore === null ? null : outcomeFromReward(rewardScore), llm), rewardScore };
  };

  // The adaptive attacker against one variant and goal: each round's prompt asked as a fresh
  // conversation (with the variant's system prompt; aligned+RAG retrieves for that prompt), judged.
  const attacker = input.attacker ?? null;
  const attackAdaptively = async (variant: AuditVariant, goal: AttackGoal): Promise<AdaptiveAttempt> => {
    if (!attacker) throw new Error('an adaptive attack needs an attacker');
    const rounds: AdaptiveAttempt['rounds'] = [];
    const result = await adaptiveAttack({
      attack: adaptiveStart(goal),
      target: async (messages) => {
        const prompt = messages.at(-1)?.content ?? '';
        const retrieved = variant === 'aligned_rag' ? await input.retrieve(prompt) : [];
        const reply = await input.ask(variant, [{ role: 'system', content: systemFor(variant, retrieved) }, ...messages]);
        tick(`${variant} adaptive attacks`);
        return reply;
      },
      attacker: { llm: attacker.llm, model: attacker.model, seed: 0, maxTokens: ADAPTIVE_ATTACKER_MAX_TOKENS },
      judge: async (attack, reply) => {
        const prompt = attack.turns.at(-1) as string;
        const judged = await judgeOne(attack, prompt, reply);
        rounds.push({ prompt, reply, judged });
        return judged.judgement.outcome;
      },
      maxRounds: plan.adaptiveRounds,
    });
    // The rounds it did not need count as done (and as not sent).
    for (let r = result.rounds; r < plan.adaptiveRounds; r++) {
      unsent += 1;
      tick(`${variant} adaptive attacks`);
    }
    return { variant, goal, attack: result.attack, rounds, stop: result.stop };
  };

  const answered = new Map<AuditVariant, Map<string, AnsweredAttack>>();
  const probeAnswers = new Map<AuditVariant, Map<string, string>>();
  const itemAnswers = new Map<AuditVariant, Record<string, string>>();
  const adaptiveAttempts: AdaptiveAttempt[] = [];
  for (const variant of variants) {
    // One variant at a time, its requests concurrent: the model server batches requests of one model.
    const mine = new Map<string, AnsweredAttack>();
    const targets = attacks
      .map((attack, index) => ({ attack, retrieved: attackRetrieval[index] ?? [] }))
      .filter((t) => answersAttack(variant, t.attack));
    await mapPool(targets, input.concurrency, async ({ attack, retrieved }) => {
      const clauses = attack.injection ? injectIntoRetrieved(retrieved, attack.injection, input.clauses) : retrieved;
      const system = systemFor(variant, clauses);
      const messages: ChatMessage[] = [{ role: 'system', content: system }];
      const replies: string[] = [];
      // Multi-turn attacks turn by turn: each reply goes back into the conversation before the next turn.
      for (const turn of attack.turns) {
        messages.push({ role: 'user', content: turn });
        const reply = await input.ask(
          variant,
          messages.map((m) => ({ ...m })),
        );
        replies.push(reply);
        messages.push({ role: 'assistant', content: reply });
        tick(`${variant} red team`);
      }
      mine.set(attack.id, { replies, system });
    });
    answered.set(variant, mine);
    if (plan.adaptiveGoals.length > 0)
      adaptiveAttempts.push(...(await mapPool(plan.adaptiveGoals, input.concurrency, (goal) => attackAdaptively(variant, goal))));
    const probed = new Map<string, string>();
    await mapPool(
      probes.map((probe, index) => ({ probe, retrieved: probeRetrieval[index] ?? [] })),
      input.concurrency,
      async ({ probe, retrieved }) => {
        probed.set(
          probe.id,
          await input.ask(variant, [
            { role: 'system', content: systemFor(variant, retrieved) },
            { role: 'user', content: probe.prompt },
          ]),
        );
        tick(`${variant} benign probes`);
      },
    );
    probeAnswers.set(variant, probed);
    const general: Record<string, string> = {};
    await mapPool(
      items.map((item, index) => ({ item, retrieved: itemRetrieval[index] ?? [] })),
      input.concurrency,
      async ({ item, retrieved }) => {
        general[item.id] = await input.ask(variant, [
          { role: 'system', content: systemFor(variant, retrieved) },
          { role: 'user', content: item.question },
        ]);
        tick(`${variant} general ability`);
      },
    );
    itemAnswers.set(variant, general);
  }

  // Judging: the rules always; the reward model's score of each conversation (asked with the plain
  // system prompt, as every held-out answer is scored); the LLM judge when configured.
  const judged = new Map<AuditVariant, Map<string, { judgement: AttackJudgement; rewardScore: number | null }>>();
  for (const variant of variants) {
    const mine = answered.get(variant) as Map<string, AnsweredAttack>;
    const targets = attacks.filter((a) => mine.has(a.id));
    let scores: number[] | null = null;
    if (input.reward && targets.length > 0) {
      const conversations = targets.map((attack): ChatMessage[] => {
        const replies = (mine.get(attack.id) as AnsweredAttack).replies;
        return [
          { role: 'system', content: input.systemPrompt },
          ...attack.turns.flatMap((turn, i): ChatMessage[] => [
            { role: 'user', content: turn },
            { role: 'assistant', content: replies[i] ?? '' },
          ]),
        ];
      });
      scores = await input.reward(conversations);
      if (scores.length !== targets.length)
        throw new Error(`the reward model returned ${scores.length} scores for ${targets.length} ${variant} replies to attacks`);
    }
    const out = new Map<string, { judgement: AttackJudgement; rewardScore: number | null }>();
    await mapPool(
      targets.map((attack, index) => ({ attack, index })),
      input.concurrency,
      async ({ attack, index }) => {
        const last = (mine.get(attack.id) as AnsweredAttack).replies.at(-1) ?? '';
        const goal = goalOf.get(attack.goalId);
        const rules = judgeByRules({ goal: attack.goal, canary: attack.canary, strategies: attack.strategies, ...(goal ?? {}) }, last);
        const rewardScore = scores ? (scores[index] as number) : null;
        const llm = input.llmJudge ? (await input.llmJudge.judge(attack, last)).outcome : null;
        out.set(attack.id, {
          judgement: combineJudgements(rules, rewardScore === null ? null : outcomeFromReward(rewardScore), llm),
          rewardScore,
        });
      },
    );
    judged.set(variant, out);
  }

  const redTeam =
    attacks.length === 0 && adaptiveAttempts.length === 0 ? null : redTeamReport(input, plan, answered, judged, adaptiveAttempts);
  const benign = probes.length === 0 ? null : benignReport(variants, probes, probeAnswers);
  const general = items.length === 0 ? null : generalAbilityReport(input, items, itemAnswers);
  const gate = input.gateVariant;
  const gated = redTeam?.variants[gate];
  const base = general?.variants.base;
  const gatedGeneral = general?.variants[gate];
  return {
    redTeam,
    benign,
    generalAbility: general,
    verdict: {
      attackSuccess: gated && gated.success.overall.n > 0 ? gated.success.overall.rate : null,
      rewardCompliance: gated?.meanReward ?? null,
      benignProbeRefusal: benign?.variants[gate] ? (benign.variants[gate]?.refusal.rate ?? null) : null,
      generalAbilityRegression: base && gatedGeneral && general ? general.regression : null,
    },
    requests: total - unsent,
  };
}

/** The judges' pairwise agreement as the report lists it: the pairs where both judges judged. */
export function agreementRows(agreement: JudgeAgreement): ReportJudgeAgreement[] {
  const pairs = [
    ['rules-reward', agreement.rulesReward],
    ['rules-llm', agreement.rulesLlm],
    ['reward-llm', agreement.rewardLlm],
  ] as const;
  return pairs.flatMap(([judges, p]) => (p ? [{ judges, n: p.n, agreed: p.agree, rate: p.share, kappa: p.kappa }] : []));
}

/** The report's adaptive section: the attempts with their rounds, or why none ran. */
function adaptiveReport(input: RedTeamAuditInput, plan: RedTeamPlan, attempts: readonly AdaptiveAttempt[]): ReportAdaptive {
  if (plan.adaptiveSkipped !== null || !input.attacker)
    return { ran: false, reason: plan.adaptiveSkipped ?? 'no attacker endpoint is configured' };
  return {
    ran: true,
    attacker: { model: input.attacker.model, endpoint: input.attacker.endpoint, promptVersion: ADAPTIVE_ATTACKER_PROMPT_VERSION },
    maxRounds: plan.adaptiveRounds,
    goals: plan.adaptiveGoals.length,
    attempts: attempts.map((a): ReportAdaptiveAttempt => {
      const final = (a.rounds.at(-1) as AdaptiveAttempt['rounds'][number]).judged;
      return {
        attackId: a.attack.id,
        goalId: a.goal.id,
        goal: a.attack.goal,
        clauseIds: a.attack.clauseIds,
        values: a.attack.values,
        variant: a.variant,
        rounds: a.rounds.map((r, i) => ({ round: i + 1, prompt: r.prompt, reply: cut(r.reply), outcome: r.judged.judgement.outcome })),
        outcome: final.judgement.outcome,
        rules: final.judgement.rules,
        reward: final.judgement.reward,
        llm: final.judgement.llm,
        rewardScore: final.rewardScore,
        evidence: final.judgement.evidence,
        stop: a.stop,
      };
    }),
  };
}

function redTeamReport(
  input: RedTeamAuditInput,
  plan: RedTeamPlan,
  answered: ReadonlyMap<AuditVariant, ReadonlyMap<string, AnsweredAttack>>,
  judged: ReadonlyMap<AuditVariant, ReadonlyMap<string, Judged>>,
  adaptive: readonly AdaptiveAttempt[],
): RedTeamReport {
  const { goals, attacks } = plan;
  const results: ReportAttack[] = attacks.map((attack) => ({
    attackId: attack.id,
    goal: attack.goal,
    clauseIds: attack.clauseIds,
    strategies: attack.strategies,
    values: attack.values,
    turns: attack.turns,
    canary: attack.canary,
    injection: attack.injection,
    variants: Object.fromEntries(
      input.variants.flatMap((variant) => {
        const replies = answered.get(variant)?.get(attack.id)?.replies;
        const j = judged.get(variant)?.get(attack.id);
        if (!replies || !j) return [];
        return [
          [
            variant,
            {
              // Replies to an injection are kept whole, so whether each carries the canary can be checked from the report.
              replies: attack.canary === null ? replies.map(cut) : replies,
              outcome: j.judgement.outcome as ReportAttackOutcome,
              rules: j.judgement.rules,
              reward: j.judgement.reward,
              llm: j.judgement.llm,
              rewardScore: j.rewardScore,
              evidence: j.judgement.evidence,
              followedInjection: attack.canary === null ? null : replies.some((r) => r.includes(attack.canary as string)),
            },
          ],
        ];
      }),
    ),
  }));
  const variants = Object.fromEntries(
    input.variants.map((variant) => {
      const byId = new Map(attacks.map((a) => [a.id, a]));
      // The generated attacks and the adaptive attempts (strategy 'adaptive', judged on their last round) alike.
      const mine: Array<{ attack: Attack; judged: Judged }> = [
        ...[...(judged.get(variant)?.entries() ?? [])].map(([id, j]) => ({ attack: byId.get(id) as Attack, judged: j })),
        ...adaptive
          .filter((a) => a.variant === variant)
          .map((a) => ({ attack: a.attack, judged: (a.rounds.at(-1) as AdaptiveAttempt['rounds'][number]).judged })),
      ];
      const stats = attackSuccess(mine.map((m) => ({ attack: m.attack, judgement: m.judged.judgement })));
      const rewards = mine.map((m) => m.judged.rewardScore).filter((s): s is number => s !== null);
      return [
        variant,
        {
          success: stats,
          meanReward: rewards.length === 0 ? null : rewards.reduce((a, b) => a + b, 0) / rewards.length,
          agreement: agreementRows(judgeAgreement(mine.map((m) => m.judged.judgement))),
        },
      ];
    }),
  );
  const injected = attacks.filter((a) => a.injection !== null);
  const rag = answered.get('aligned_rag');
  const injection =
    injected.length > 0 && rag
      ? (() => {
          const asked = injected.filter((a) => rag.has(a.id));
          const followed = asked.filter(
            (a) => a.canary !== null && (rag.get(a.id) as AnsweredAttack).replies.some((r) => r.includes(a.canary as string)),
          );
          const inPrompt = asked.filter((a) =>
            (rag.get(a.id) as AnsweredAttack).system.includes((a.injection as { text: string }).text),
          ).length;
          return { variant: 'aligned_rag' as const, attacks: asked.length, inPrompt, followed: wilson(followed.length, asked.length) };
        })()
      : null;
  return { goals, attacks: attacks.length, variants, injection, results, adaptive: adaptiveReport(input, plan, adaptive) };
}

function benignReport(
  variants: readonly AuditVariant[],
  probes: ReturnType<typeof benignProbes>,
  answers: ReadonlyMap<AuditVariant, ReadonlyMap<string, string>>,
): BenignReport {
  const scored = new Map(
    variants.map((v) => [
      v,
      new Map(probes.map((p) => [p.id, { answer: answers.get(v)?.get(p.id) ?? '', ...scoreBenign(p, answers.get(v)?.get(p.id) ?? '') }])),
    ]),
  );
  return {
    probes: probes.length,
    variants: Object.fromEntries(
      variants.map((v) => {
        const mine = [...(scored.get(v)?.values() ?? [])];
        return [v, { refusal: benignRefusal(mine), helpful: benignHelpful(mine) }];
      }),
    ),
    results: probes.map((p) => ({
      probeId: p.id,
      clauseIds: p.clauseIds,
      source: p.source,
      prompt: p.prompt,
      expectedGist: p.expectedGist,
      variants: Object.fromEntries(
        variants.map((v) => {
          const s = scored.get(v)?.get(p.id) as { answer: string; refused: boolean; helpful: boolean; keyTermCoverage: number };
          return [v, { answer: cut(s.answer), refused: s.refused, helpful: s.helpful, keyTermCoverage: s.keyTermCoverage }];
        }),
      ),
    })),
  };
}

function generalAbilityReport(
  input: RedTeamAuditInput,
  items: typeof GENERAL_ABILITY_SET.items,
  answers: ReadonlyMap<AuditVariant, Readonly<Record<string, string>>>,
): GeneralAbilityReport {
  const variants = Object.fromEntries(
    input.variants.map((v) => {
      const scored = generalAbility(answers.get(v) ?? {});
      return [v, { correct: scored.correct, accuracy: scored.accuracy }];
    }),
  ) as GeneralAbilityReport['variants'];
  const gate = input.gateVariant;
  const base = variants.base?.accuracy.rate ?? 0;
  const gated = variants[gate]?.accuracy.rate ?? 0;
  return {
    version: GENERAL_ABILITY_SET.version,
    provenance: GENERAL_ABILITY_SET.provenance,
    items: items.length,
    variants,
    gateVariant: gate,
    regression: base - gated,
    results: items.map((item) => ({
      itemId: item.id,
      category: item.category,
      question: item.question,
      variants: Object.fromEntries(
        input.variants.map((v) => {
          const answer = answers.get(v)?.[item.id] ?? '';
          return [v, { answer: cut(answer), correct: scoreGeneralAbility(item, answer) }];
        }),
      ),
    })),
  };
}
