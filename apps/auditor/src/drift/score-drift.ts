import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  compareWithRelease,
  parseStoredAuditReport,
  releaseFigures,
  releaseVariant,
  scoreSample,
  windowFigures,
  type DriftFigures,
} from '@studio/auditing';
import { AUDIT_DRIFT_DETECTED_V1, buildCloudEvent, type AuditDriftDetectedV1, type DriftJobV1 } from '@studio/contracts';
import { EVENT_BUS } from '@studio/nest';
import type { AuditRunRecord } from '@studio/pipeline';
import { tenantId, type ChatMessage, type EventBus, type Repository } from '@studio/ports';
import { INSTRUCTOR_CLIENT, type InstructorClient } from '../audits/instructor-client';
import { AUDIT_PORTS, AUDITOR_SOURCE, AUDITS_REPOSITORY, type AuditServicePorts } from '../audits/run-audit';
import { CHAT_SAMPLES_REPOSITORY, DRIFT_WINDOWS_REPOSITORY, driftWindowId, type ChatSample, type DriftWindowRecord } from './drift-records';
import { DRIFT_SETTINGS, type DriftSettings } from './drift-settings';

/** Conversations sent to the reward model per request. */
const REWARD_BATCH = 16;

/**
 * The `score-drift` job: the deployment's sampled conversations of one window, scored with the
 * reference-free metrics of @studio/auditing drift (answered, faithfulness, consistency, and the
 * reward model's score when the release audit has one and the same model is still the context's),
 * compared with the release audit of the deployed run. The window is recorded (GET
 * /v1/contexts/{c}/drift); when a metric is below its release figure by more than its margin,
 * `audit.drift.detected.v1` is published — once: its id is the window's, and a window already
 * published is not scored again.
 */
@Injectable()
export class ScoreDrift {
  private readonly logger = new Logger(ScoreDrift.name);

  constructor(
    @Inject(CHAT_SAMPLES_REPOSITORY) private readonly samples: Repository<ChatSample>,
    @Inject(DRIFT_WINDOWS_REPOSITORY) private readonly windows: Repository<DriftWindowRecord>,
    @Inject(AUDITS_REPOSITORY) private readonly audits: Repository<AuditRunRecord>,
    @Inject(INSTRUCTOR_CLIENT) private readonly instructor: Pick<InstructorClient, 'latestRewardModel'>,
    @Inject(AUDIT_PORTS) private readonly ports: Pick<AuditServicePorts, 'artifacts' | 'rewards'>,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    @Inject(DRIFT_SETTINGS) private readonly settings: DriftSettings,
  ) {}

  async execute(job: DriftJobV1): Promise<{ windowId: string; status: string; drifted: string[] }> {
    const tenant = tenantId(job.tenant_id);
    const id = driftWindowId(job.deployment_id, job.window_from);
    const done = await this.windows.get(tenant, id);
    if (done?.eventId) return { windowId: id, status: done.status, drifted: done.drifted };
    const samples = (await this.samples.find(tenant, { deploymentId: job.deployment_id, windowFrom: job.window_from })).sort((a, b) =>
      a.sampledAt.localeCompare(b.sampledAt),
    );
    // None: the tenant was erased since the job was queued. Nothing to record.
    if (samples.length === 0) return { windowId: id, status: 'no-samples', drifted: [] };
    const last = samples[samples.length - 1] as ChatSample;
    const base: Omit<DriftWindowRecord, 'status' | 'note'> = {
      id,
      contextId: job.context_id,
      deploymentId: job.deployment_id,
      runId: last.runId,
      auditRunId: last.auditRunId,
      window: { from: job.window_from, to: job.window_to, samples: samples.length },
      releaseVariant: null,
      release: null,
      observed: null,
      metrics: [],
      drifted: [],
      rewardModel: null,
      eventId: null,
      scoredAt: new Date().toISOString(),
    };
    const record = async (window: DriftWindowRecord) => {
      await this.windows.upsert(tenant, window);
      return { windowId: id, status: window.status, drifted: window.drifted };
    };
    if (samples.length < this.settings.minSamples)
      return record({
        ...base,
        status: 'too-few-samples',
        note: `${samples.length} sampled conversations, fewer than the ${this.settings.minSamples} a window needs (DRIFT_MIN_SAMPLES)`,
      });
    const audit = last.auditRunId ? await this.audits.get(tenant, last.auditRunId) : null;
    if (!audit)
      return record({
        ...base,
        status: 'no-release-audit',
        note: last.auditRunId
          ? `the release audit ${last.auditRunId} of run ${last.runId} is not among the auditor's audits`
          : `deployment ${job.deployment_id} has no release audit to compare with`,
      });
    const report = parseStoredAuditReport(await this.ports.artifacts.read(audit.reportJsonUri), `${audit.id} (${audit.reportJsonUri})`);
    if (!releaseVariant(report))
      return record({
        ...base,
        status: 'no-release-audit',
        note: `the release audit ${audit.id} has no aligned or aligned_rag answers to compare the deployment with`,
      });
    const release = releaseFigures(report);
    // The model's own text, as the release audit scored its answers (not the sources line the gateway adds).
    const scores = samples.map((s) => scoreSample({ answer: s.modelText, clauses: s.clauses }));
    const notes: string[] = [];
    let rewards: number[] | null = null;
    let rewardModel: string | null = null;
    if (report.rewards && release.figures.reward !== null) {
      const latest = await this.instructor.latestRewardModel(tenant, job.context_id);
      if (latest && latest.id === report.rewards.model.adapterId) {
        rewards = await this.rewardsOf(latest, samples);
        rewardModel = latest.id;
      } else
        notes.push(
          `reward not compared: the release audit was scored by reward model ${report.rewards.model.adapterId}, the context's is now ${latest?.id ?? 'none'}`,
        );
    }
    const observed: DriftFigures = windowFigures(scores, rewards);
    const metrics = compareWithRelease(release.figures, observed, this.settings.margins);
    const drifted = metrics.filter((m) => m.drifted);
    const scored: DriftWindowRecord = {
      ...base,
      status: 'scored',
      releaseVariant: release.variant,
      release: release.figures,
      observed,
      metrics,
      drifted: drifted.map((m) => m.name),
      rewardModel,
      note: notes.length > 0 ? notes.join('; ') : null,
    };
    if (drifted.length === 0) return record(scored);
    // Recorded before the event: a reader that saw the event finds the window.
    await this.windows.upsert(tenant, scored);
    const event = buildCloudEvent<AuditDriftDetectedV1>({
      id,
      topic: AUDIT_DRIFT_DETECTED_V1,
      source: AUDITOR_SOURCE,
      tenantId: tenant,
      contextId: job.context_id,
      subject: job.deployment_id,
      data: {
        version: 'v1',
        contextId: job.context_id,
        deploymentId: job.deployment_id,
        runId: last.runId,
        auditRunId: audit.id,
        window: scored.window,
        metrics: drifted.map(({ name, release: r, observed: o, margin }) => ({ name, release: r, observed: o, margin })),
        detectedAt: scored.scoredAt,
      },
    });
    await this.bus.publish(AUDIT_DRIFT_DETECTED_V1, event);
    this.logger.warn({
      msg: 'drift detected',
      tenantId: tenant,
      contextId: job.context_id,
      deploymentId: job.deployment_id,
      window: scored.window,
      metrics: event.data.metrics,
    });
    return record({ ...scored, eventId: event.id });
  }

  /** Each sample's reward, scored as the release audit scored its answers: the system prompt, the question, the answer. */
  private async rewardsOf(model: { id: string; artifactDir: string }, samples: readonly ChatSample[]): Promise<number[]> {
    await this.ports.rewards.loadRewardModel(model.id, model.artifactDir);
    const out: number[] = [];
    for (let i = 0; i < samples.length; i += REWARD_BATCH) {
      const batch = samples.slice(i, i + REWARD_BATCH);
      const conversations = batch.map((s): ChatMessage[] => [
        { role: 'system', content: s.systemPrompt },
        { role: 'user', content: [...s.messages].reverse().find((m) => m.role === 'user')?.content ?? '' },
        { role: 'assistant', content: s.modelText },
      ]);
      const scores = await this.ports.rewards.score(model.id, conversations);
      if (scores.length !== batch.length)
        throw new Error(`reward model ${model.id} returned ${scores.length} scores for ${batch.length} answers`);
      out.push(...scores);
    }
    return out;
  }
}
