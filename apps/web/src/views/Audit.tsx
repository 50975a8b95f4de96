import { useEffect, useState } from 'react';
import { ErrorBox, Link, Loading, percent, section, shortId, useStudio } from '../components/ui';
import { ApiError, enc } from '../lib/api';
import { adaptiveSummary, rateText, strategyRows } from '../lib/red-team-report';
import {
  BUCKET_LABELS,
  BUCKETS,
  isReport,
  VARIANT_LABELS,
  type AuditReport,
  type AuditState,
  type ClauseComplianceRow,
  type OutcomeItem,
  type RedTeamView,
  type BenignView,
  type GeneralAbilityView,
} from '../lib/model';

/** Every variant an audit may have, in report order: `sft` (the audited adapter's parent) only in a DPO round's audit. */
const ALL_VARIANTS = ['base', 'sft', 'aligned', 'aligned_rag'] as const;

/** The variants this report has. */
function variantsOf(report: AuditReport): string[] {
  return ALL_VARIANTS.filter((v) => report.scores[v] !== undefined);
}

/** The audit of a run: verdict and gates, scores, the four outcome buckets with their items, per clause, report download. */
export function AuditView({ contextId, runId }: { contextId: string; runId: string }) {
  const { api } = useStudio();
  const [report, setReport] = useState<AuditReport | null>(null);
  const [state, setState] = useState<AuditState | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notYet, setNotYet] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const [reauditError, setReauditError] = useState<unknown>(null);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const controller = new AbortController();
    const load = async () => {
      try {
        const body = await api.get<unknown>(`/v1/runs/${enc(runId)}/audit`, controller.signal);
        if (isReport(body)) {
          setReport(body);
          return;
        }
        const s = body as AuditState;
        setNotYet(null);
        setState(s);
        if (s.state !== 'failed') timer = setTimeout(() => void load(), 2000);
      } catch (err) {
        if (controller.signal.aborted) return;
        // 404: the auditor has not seen the run complete (yet): wait for it rather than fail.
        if (err instanceof ApiError && err.status === 404) {
          setNotYet(err.detail);
          timer = setTimeout(() => void load(), 3000);
        } else setError(err);
      }
    };
    void load();
    return () => {
      controller.abort();
      if (timer) clearTimeout(timer);
    };
  }, [api, runId, tick]);

  const reaudit = async () => {
    setReauditError(null);
    try {
      setState(await api.post<AuditState>(`/v1/runs/${enc(runId)}/audit`));
      setTick((t) => t + 1);
    } catch (err) {
      setReauditError(err);
    }
  };

  if (error) return <ErrorBox error={error} what="reading the audit" />;
  if (!report)
    return (
      <section aria-labelledby="audit-title">
        <h1 id="audit-title">Audit</h1>
        {state ? (
          <p role="status">
            The audit is <strong data-testid="audit-state">{state.state}</strong>
            {state.state === 'failed' ? `: ${typeof state.error === 'string' ? state.error : JSON.stringify(state.error)}` : '…'}
          </p>
        ) : notYet ? (
          <p role="status">
            No audit yet ({notYet}); it starts when the run completes. Waiting…{' '}
            <Link to={`/contexts/${enc(contextId)}/runs/${enc(runId)}`}>The run</Link>
          </p>
        ) : (
          <Loading what="the audit" />
        )}
        {state?.state === 'failed' ? (
          <button type="button" onClick={() => void reaudit()}>
            Audit again
          </button>
        ) : null}
        <ErrorBox error={reauditError} what="requesting the audit again" />
      </section>
    );
  return <Report report={report} contextId={contextId} />;
}

function Report({ report, contextId }: { report: AuditReport; contextId: string }) {
  const { api } = useStudio();
  const [openBucket, setOpenBucket] = useState<string | null>(null);
  const [downloadError, setDownloadError] = useState<unknown>(null);
  const VARIANTS = variantsOf(report);
  const outcomes = bucketItems(report);
  const compliance = complianceRows(report, VARIANTS);

  const download = async (format: 'md' | 'json') => {
    setDownloadError(null);
    try {
      const path = `/v1/audits/${enc(report.auditRunId)}${format === 'md' ? '?format=md' : ''}`;
      const text = format === 'md' ? await api.text(path) : JSON.stringify(await api.get<unknown>(path), null, 2);
      const url = URL.createObjectURL(new Blob([text], { type: format === 'md' ? 'text/markdown' : 'application/json' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `audit-${report.auditRunId}.${format}`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setDownloadError(err);
    }
  };

  return (
    <section aria-labelledby="audit-title" className="audit">
      <h1 id="audit-title">
        Audit <code title={report.auditRunId}>{shortId(report.auditRunId)}</code>
      </h1>
      <p className="muted">
        Run{' '}
        <Link to={`/contexts/${enc(contextId)}/runs/${enc(report.runId)}`}>
          <code>{shortId(report.runId)}</code>
        </Link>{' '}
        · dataset <code>{shortId(report.datasetVersionId)}</code> · {report.items} items · base model {report.models.base}
      </p>
      <p className={`verdict verdict-${report.verdict}`} data-testid="verdict">
        Verdict: <strong>{report.verdict.toUpperCase()}</strong>
      </p>
      {report.stale ? (
        <p className="notice" role="note">
          Stale audit since {report.stale.since}: {report.stale.reason}
        </p>
      ) : null}
      <div className="actions">
        <button type="button" onClick={() => void download('md')}>
          Download report (Markdown)
        </button>
        <button type="button" onClick={() => void download('json')}>
          Download report (JSON)
        </button>
      </div>
      <ErrorBox error={downloadError} what="downloading the report" />

      <h2>Release gates</h2>
      <table className="table" aria-label="Release gates">
        <thead>
          <tr>
            <th scope="col">Gate</th>
            <th scope="col">Value</th>
            <th scope="col">Threshold</th>
            <th scope="col">Result</th>
          </tr>
        </thead>
        <tbody>
          {report.checks.map((c) => (
            <tr key={c.metric}>
              <td>{c.metric}</td>
              <td>{c.value.toFixed(3)}</td>
              <td>
                {c.comparator} {c.threshold}
              </td>
              <td className={c.passed ? 'pass' : 'fail'}>
                {c.passed ? 'passed' : 'failed'}
                {c.reason ? <div className="small muted">{c.reason}</div> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>Scores</h2>
      <table className="table" aria-label="Scores by model">
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Correctness</th>
            <th scope="col">Faithfulness</th>
            <th scope="col">Refusal rate</th>
            <th scope="col">Judge</th>
          </tr>
        </thead>
        <tbody>
          {VARIANTS.map((v) => {
            const s = report.scores[v];
            return (
              <tr key={v}>
                <th scope="row">{VARIANT_LABELS[v]}</th>
                <td>{percent(s?.correctness, 1)}</td>
                <td>{percent(s?.faithfulness, 1)}</td>
                <td>{percent(s?.refusalRate, 1)}</td>
                <td>{s?.judge === null || s?.judge === undefined ? '—' : percent(s.judge, 1)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {report.lineage ? (
        <p className="small muted" aria-label="Lineage">
          {report.lineage.method} adapter <code>{report.lineage.adapterId}</code>
          {report.lineage.parentAdapterId ? (
            <>
              {' '}
              trained from <code>{report.lineage.parentAdapterId}</code> (the {VARIANT_LABELS['sft']} row)
            </>
          ) : null}
          {report.lineage.preferenceDatasetId ? (
            <>
              {' '}
              on preference dataset <code>{report.lineage.preferenceDatasetId}</code>
            </>
          ) : null}
        </p>
      ) : null}

      {report.kinds && report.kinds.length > 0 ? (
        <>
          <h2>By kind of item</h2>
          <table className="table" aria-label="Scores by kind of item">
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Items</th>
                {VARIANTS.map((v) => (
                  <th scope="col" key={v}>
                    {VARIANT_LABELS[v]}: right · advises against
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {report.kinds.map((k) => (
                <tr key={k.kind}>
                  <th scope="row">{k.kind}</th>
                  <td>{k.items}</td>
                  {VARIANTS.map((v) => {
                    const s = k.variants[v];
                    return <td key={v}>{s ? `${s.right} · ${s.advisesAgainst} (${percent(s.advisesAgainstRate)})` : '—'}</td>;
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}

      <AttackSections
        redTeam={report.redTeam ?? null}
        benign={report.benign ?? null}
        generalAbility={report.generalAbility ?? null}
        variants={VARIANTS}
        gateVariant={report.thresholds?.gateVariant ?? 'aligned'}
      />

      <h2>Outcomes: base against aligned</h2>
      <div className="buckets" role="list">
        {BUCKETS.map((b) => {
          const bucketItems = report.results.filter((r) => r.bucket === b);
          return (
            <div key={b} role="listitem" className={`card bucket bucket-${b}`}>
              <button
                type="button"
                aria-expanded={openBucket === b}
                onClick={() => setOpenBucket(openBucket === b ? null : b)}
                aria-controls={`bucket-${b}`}
              >
                <span className="bucket-count">{report.buckets[b] ?? bucketItems.length}</span> {BUCKET_LABELS[b]}
              </button>
            </div>
          );
        })}
      </div>
      {openBucket ? (
        <div id={`bucket-${openBucket}`} className="bucket-items">
          <h3>{BUCKET_LABELS[openBucket]}</h3>
          <table className="table" aria-label={`Items: ${BUCKET_LABELS[openBucket]}`}>
            <thead>
              <tr>
                <th scope="col">Question</th>
                <th scope="col">Reference</th>
                {VARIANTS.map((v) => (
                  <th scope="col" key={v}>
                    {VARIANT_LABELS[v]}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {(outcomes[openBucket]?.items ?? []).map((r) => (
                <tr key={r.itemId}>
                  <td>{r.question}</td>
                  <td>{r.reference}</td>
                  {VARIANTS.map((v) => {
                    const a = r.answers[v];
                    return (
                      <td key={v} className={a?.right ? 'pass' : 'fail'}>
                        {a ? (
                          <>
                            {a.answer}
                            <div className="small muted">
                              {a.right ? 'right' : 'wrong'} · correctness {a.correctness.toFixed(2)}
                              {a.refused ? ' · refused' : ''}
                            </div>
                          </>
                        ) : (
                          '—'
                        )}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}

      <h2>Compliance by clause</h2>
      <table className="table" aria-label="Compliance by clause">
        <thead>
          <tr>
            <th scope="col">Clause</th>
            <th scope="col">Items</th>
            {VARIANTS.map((v) => (
              <th scope="col" key={v}>
                {VARIANT_LABELS[v]} compliant
              </th>
            ))}
            <th scope="col">Aligned correctness</th>
            <th scope="col">Aligned faithfulness</th>
          </tr>
        </thead>
        <tbody>
          {compliance.map((c) => (
            <tr key={c.clauseId}>
              <td>
                {c.numbering ? <strong>{section(c.numbering)} </strong> : null}
                {c.title ?? (c.numbering ? '' : <code>{shortId(c.clauseId)}</code>)}
              </td>
              <td>{c.items}</td>
              {VARIANTS.map((v) => {
                const row = c.variants[v];
                return <td key={v}>{row ? `${row.compliant} of ${c.items} (${percent(row.complianceRate)})` : '—'}</td>;
              })}
              <td>{percent(c.variants['aligned']?.correctness)}</td>
              <td>{percent(c.variants['aligned']?.faithfulness)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** The items of each bucket: the gateway's outcomes when it gives them, else from the report's item results. */
function bucketItems(report: AuditReport): Record<string, { count: number; items: OutcomeItem[] }> {
  if (report.outcomes) return report.outcomes;
  const out: Record<string, { count: number; items: OutcomeItem[] }> = {};
  for (const b of BUCKETS) {
    const items = report.results
      .filter((r) => r.bucket === b)
      .map((r) => ({ itemId: r.itemId, question: r.question, reference: r.reference, clauseIds: r.clauseIds, answers: r.variants }));
    out[b] = { count: report.buckets[b] ?? items.length, items };
  }
  return out;
}

/** Per-clause compliance: the gateway's table when it gives one, else from the report's clause breakdown and items. */
function complianceRows(report: AuditReport, VARIANTS: readonly string[]): ClauseComplianceRow[] {
  if (report.clauseCompliance) return report.clauseCompliance;
  const byId = new Map(report.results.map((r) => [r.itemId, r]));
  return report.clauses.map((c) => {
    const items = c.itemIds.map((id) => byId.get(id)).filter((r) => r !== undefined);
    const variants: ClauseComplianceRow['variants'] = {};
    for (const v of VARIANTS) {
      const compliant = items.filter((r) => r.variants[v]?.right).length;
      variants[v] = {
        compliant,
        complianceRate: items.length ? compliant / items.length : 0,
        correctness: c.scores[v]?.correctness ?? 0,
        faithfulness: c.scores[v]?.faithfulness ?? 0,
      };
    }
    return { clauseId: c.clauseId, numbering: null, title: c.title, items: c.items, variants };
  });
}

/** The red team (attack success per strategy with intervals, per variant), injections followed, over-refusal and general ability. */
function AttackSections({
  redTeam,
  benign,
  generalAbility,
  variants,
  gateVariant,
}: {
  redTeam: RedTeamView | null;
  benign: BenignView | null;
  generalAbility: GeneralAbilityView | null;
  variants: readonly string[];
  gateVariant: string;
}) {
  if (!redTeam && !benign && !generalAbility) return null;
  const rows = redTeam ? strategyRows(redTeam, variants, gateVariant) : [];
  const attacked = redTeam ? variants.filter((v) => redTeam.variants[v]) : [];
  const succeeded = redTeam ? redTeam.results.filter((r) => Object.values(r.variants).some((x) => x && x.outcome !== 'refused')) : [];
  return (
    <>
      {redTeam ? (
        <>
          <h2>Red team</h2>
          <p className="small muted">
            {redTeam.attacks} attacks on {redTeam.goals} goals derived from the rules. Attack success = the reply complied or partially
            leaked; 95 % Wilson intervals.
          </p>
          <table className="table" aria-label="Attack success by strategy">
            <thead>
              <tr>
                <th scope="col">Strategy</th>
                {attacked.map((v) => (
                  <th scope="col" key={v}>
                    {VARIANT_LABELS[v] ?? v}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.strategy}>
                  <th scope="row">{row.strategy === 'overall' ? <strong>overall</strong> : <code>{row.strategy}</code>}</th>
                  {attacked.map((v) => (
                    <td key={v}>{rateText(row.byVariant[v])}</td>
                  ))}
                </tr>
              ))}
              {attacked.some((v) => redTeam.variants[v]?.meanReward !== null) ? (
                <tr>
                  <th scope="row">reward (mean)</th>
                  {attacked.map((v) => {
                    const mean = redTeam.variants[v]?.meanReward ?? null;
                    return <td key={v}>{mean === null ? '—' : mean.toFixed(3)}</td>;
                  })}
                </tr>
              ) : null}
            </tbody>
          </table>
          {redTeam.injection ? (
            <p data-testid="injection-count">
              Instructions injected into retrieved clause text ({VARIANT_LABELS[redTeam.injection.variant] ?? redTeam.injection.variant}):{' '}
              {redTeam.injection.attacks} attacks, {redTeam.injection.inPrompt} in the prompt, followed{' '}
              <strong>{rateText(redTeam.injection.followed)}</strong>
            </p>
          ) : null}
          {attacked.some((v) => (redTeam.variants[v]?.agreement.length ?? 0) > 0) ? (
            <p className="small muted" aria-label="Judge agreement">
              Judge agreement:{' '}
              {attacked
                .flatMap((v) =>
                  (redTeam.variants[v]?.agreement ?? []).map(
                    (a) =>
                      `${VARIANT_LABELS[v] ?? v} ${a.judges} ${percent(a.rate)}${a.kappa === null ? '' : ` (κ ${a.kappa.toFixed(2)})`}`,
                  ),
                )
                .join(' · ')}
            </p>
          ) : null}
          {redTeam.adaptive ? (
            <div aria-label="Adaptive attacks">
              <p className="small muted" data-testid="adaptive-summary">
                {adaptiveSummary(redTeam.adaptive)}
              </p>
              {redTeam.adaptive.ran && redTeam.adaptive.attempts.length > 0 ? (
                <details>
                  <summary>Adaptive attempts, round by round ({redTeam.adaptive.attempts.length})</summary>
                  <table className="table" aria-label="Adaptive attempts">
                    <thead>
                      <tr>
                        <th scope="col">Variant</th>
                        <th scope="col">Rounds: prompt → reply</th>
                        <th scope="col">Outcome</th>
                      </tr>
                    </thead>
                    <tbody>
                      {redTeam.adaptive.attempts.slice(0, 50).map((a) => (
                        <tr key={`${a.variant}:${a.attackId}`}>
                          <td>{VARIANT_LABELS[a.variant] ?? a.variant}</td>
                          <td>
                            <ol>
                              {a.rounds.map((r) => (
                                <li key={r.round}>
                                  {r.prompt} → <span className="muted">{r.reply}</span> <span className="small">({r.outcome})</span>
                                </li>
                              ))}
                            </ol>
                          </td>
                          <td className={a.outcome === 'refused' ? 'pass' : 'fail'}>
                            {a.outcome}
                            <div className="small muted">
                              {a.stop.reason}: {a.stop.detail}
                            </div>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </details>
              ) : null}
            </div>
          ) : null}
          {succeeded.length > 0 ? (
            <details>
              <summary>Attacks that succeeded ({succeeded.length})</summary>
              <table className="table" aria-label="Attacks that succeeded">
                <thead>
                  <tr>
                    <th scope="col">Attack</th>
                    {attacked.map((v) => (
                      <th scope="col" key={v}>
                        {VARIANT_LABELS[v] ?? v}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {succeeded.slice(0, 50).map((r) => (
                    <tr key={r.attackId}>
                      <td>
                        <code>{r.strategies.join(' + ')}</code> {r.turns.at(-1)}
                      </td>
                      {attacked.map((v) => {
                        const reply = r.variants[v];
                        return (
                          <td key={v} className={reply ? (reply.outcome === 'refused' ? 'pass' : 'fail') : undefined}>
                            {reply ? (
                              <>
                                {reply.replies.at(-1)}
                                <div className="small muted">{reply.outcome}</div>
                              </>
                            ) : (
                              '—'
                            )}
                          </td>
                        );
                      })}
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>
          ) : null}
        </>
      ) : null}
      {benign || generalAbility ? (
        <>
          <h2>Over-refusal and general ability</h2>
          <table className="table" aria-label="Over-refusal and general ability">
            <thead>
              <tr>
                <th scope="col">Measure</th>
                {variants.map((v) => (
                  <th scope="col" key={v}>
                    {VARIANT_LABELS[v] ?? v}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {benign ? (
                <>
                  <tr>
                    <th scope="row">Benign probes refused ({benign.probes})</th>
                    {variants.map((v) => (
                      <td key={v}>{rateText(benign.variants[v]?.refusal)}</td>
                    ))}
                  </tr>
                  <tr>
                    <th scope="row">Benign probes answered helpfully</th>
                    {variants.map((v) => (
                      <td key={v}>{rateText(benign.variants[v]?.helpful)}</td>
                    ))}
                  </tr>
                </>
              ) : null}
              {generalAbility ? (
                <tr>
                  <th scope="row">General ability ({generalAbility.items} items)</th>
                  {variants.map((v) => (
                    <td key={v}>{rateText(generalAbility.variants[v]?.accuracy)}</td>
                  ))}
                </tr>
              ) : null}
            </tbody>
          </table>
          {generalAbility ? (
            <p className="small muted" data-testid="general-ability-regression">
              General-ability regression (base − {VARIANT_LABELS[generalAbility.gateVariant] ?? generalAbility.gateVariant}):{' '}
              {generalAbility.regression.toFixed(3)} · set {generalAbility.version}: {generalAbility.provenance}
            </p>
          ) : null}
        </>
      ) : null}
    </>
  );
}
