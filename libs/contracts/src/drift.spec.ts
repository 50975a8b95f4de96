import { AuditDriftDetectedV1, ChatConversationSampledV1, DriftJobV1, isTopic, JOBS, SCORE_DRIFT_JOB } from './index';

const drift = {
  version: 'v1' as const,
  contextId: 'ctx-1',
  deploymentId: 'dep-1',
  runId: 'run-1',
  auditRunId: 'audit-1',
  window: { from: '2026-12-01T12:00:00.000Z', to: '2026-12-01T13:00:00.000Z', samples: 20 },
  metrics: [{ name: 'answered', release: 0.95, observed: 0.4, margin: 0.15 }],
  detectedAt: '2026-12-01T13:01:00.000Z',
};

const sample = {
  version: 'v1' as const,
  contextId: 'ctx-1',
  conversationId: 'chatcmpl-1',
  deploymentId: 'dep-1',
  runId: 'run-1',
  adapterId: 'adapter-1',
  auditRunId: null,
  systemPrompt: 'You follow the policy.',
  messages: [{ role: 'user' as const, content: 'May I?' }],
  answer: 'No (§4.1).',
  modelText: 'No (§4.1).',
  clauses: [{ clauseId: 'c-1', numbering: '4.1', citation: '§4.1', text: 'Employees must not.', cited: true }],
  finishReason: 'stop',
  stream: false,
  sampledAt: '2026-12-01T12:10:00.000Z',
};

describe('drift contracts', () => {
  it('registers both topics and the score-drift job on its own queue', () => {
    expect(isTopic('chat.conversation.sampled.v1')).toBe(true);
    expect(isTopic('audit.drift.detected.v1')).toBe(true);
    expect(JOBS[SCORE_DRIFT_JOB].queue).toBe('drift');
  });

  it('accepts a sampled conversation and refuses one without messages or with an unknown role', () => {
    expect(ChatConversationSampledV1.parse(sample)).toEqual(sample);
    expect(ChatConversationSampledV1.safeParse({ ...sample, messages: [] }).success).toBe(false);
    expect(ChatConversationSampledV1.safeParse({ ...sample, messages: [{ role: 'tool', content: 'x' }] }).success).toBe(false);
  });

  it('accepts a drift event and refuses an empty window order, no metrics or a negative margin', () => {
    expect(AuditDriftDetectedV1.parse(drift)).toEqual(drift);
    const backwards = AuditDriftDetectedV1.safeParse({ ...drift, window: { ...drift.window, to: drift.window.from } });
    expect(backwards.error?.issues[0]).toMatchObject({ path: ['window', 'to'], message: 'from must be before to' });
    expect(AuditDriftDetectedV1.safeParse({ ...drift, metrics: [] }).success).toBe(false);
    expect(AuditDriftDetectedV1.safeParse({ ...drift, metrics: [{ ...drift.metrics[0], margin: -0.1 }] }).success).toBe(false);
  });

  it('refuses a score-drift job whose window ends before it starts', () => {
    const job = {
      schema_version: 'v1' as const,
      tenant_id: 'acme',
      context_id: 'ctx-1',
      deployment_id: 'dep-1',
      window_from: '2026-12-01T12:00:00.000Z',
      window_to: '2026-12-01T13:00:00.000Z',
    };
    expect(DriftJobV1.parse(job)).toEqual(job);
    expect(DriftJobV1.safeParse({ ...job, window_to: job.window_from }).error?.issues[0]?.message).toBe(
      'window_from must be before window_to',
    );
  });
});
