import { scoreCurveGeometry } from '../lib/loss-curve';
import type { CheckpointEvalPoint } from '../lib/model';
import type { EarlyStopStanding } from '../lib/run-events';

const BOX = { width: 720, height: 240, left: 52, right: 52, top: 14, bottom: 36 };

function summaryOf(points: readonly CheckpointEvalPoint[], earlyStop: EarlyStopStanding | null): string {
  const first = points[0];
  const last = points[points.length - 1];
  if (!first || !last) return 'No checkpoint evaluation yet.';
  const best = points.reduce((b, p) => (p.tokenF1 > b.tokenF1 ? p : b), first);
  let text =
    `Held-out token F1 from ${first.tokenF1.toFixed(3)} at step ${first.step} to ${last.tokenF1.toFixed(3)} at step ${last.step} ` +
    `(best ${best.tokenF1.toFixed(3)} at step ${best.step}); held-out loss from ${first.heldoutLoss.toFixed(3)} to ${last.heldoutLoss.toFixed(3)}.`;
  if (earlyStop?.stopped)
    text += ` Stopped early${earlyStop.regressions > 0 ? ` after ${earlyStop.regressions} evaluations worse than the best` : ''}; the adapter is step ${earlyStop.bestStep}'s (${earlyStop.metric} ${earlyStop.bestValue.toFixed(3)}).`;
  else if (earlyStop)
    text += ` Early stop watches ${earlyStop.metric}: best ${earlyStop.bestValue.toFixed(3)} at step ${earlyStop.bestStep}${earlyStop.patience > 0 ? `, ${earlyStop.regressions} of ${earlyStop.patience} regressions` : ''}.`;
  return text;
}

/**
 * The checkpoint evaluations of a run beside its loss curve: token F1 of the greedy answers to the held-out slice
 * (left axis) and the held-out reference loss (right axis, dashed), one dot per evaluation; the early-stop best step
 * is marked. SVG without a chart library, with a text summary for screen readers.
 */
export function ScoreCurve({
  points,
  totalSteps,
  earlyStop,
}: {
  points: CheckpointEvalPoint[];
  totalSteps: number | null;
  earlyStop: EarlyStopStanding | null;
}) {
  const g = scoreCurveGeometry(points, totalSteps, BOX);
  const summary = summaryOf(points, earlyStop);
  const best = earlyStop ? g.dots.find((d) => d.point.step === earlyStop.bestStep) : undefined;
  return (
    <figure className="loss-curve score-curve" data-testid="score-curve">
      <svg viewBox={`0 0 ${BOX.width} ${BOX.height}`} role="img" aria-label={summary} data-points={points.length}>
        {g.f1Ticks.map((t) => (
          <g key={`f${t.value}`}>
            <line x1={BOX.left} x2={BOX.width - BOX.right} y1={t.y} y2={t.y} className="grid" />
            <text x={BOX.left - 6} y={t.y + 4} textAnchor="end" className="tick">
              {t.value.toFixed(2)}
            </text>
          </g>
        ))}
        {g.lossTicks.map((t) => (
          <text key={`l${t.value}`} x={BOX.width - BOX.right + 6} y={t.y + 4} textAnchor="start" className="tick">
            {t.value.toFixed(2)}
          </text>
        ))}
        {g.xTicks.map((t) => (
          <text key={`x${t.value}`} x={t.x} y={BOX.height - BOX.bottom + 16} textAnchor="middle" className="tick">
            {t.value}
          </text>
        ))}
        <line x1={BOX.left} x2={BOX.width - BOX.right} y1={BOX.height - BOX.bottom} y2={BOX.height - BOX.bottom} className="axis" />
        <line x1={BOX.left} x2={BOX.left} y1={BOX.top} y2={BOX.height - BOX.bottom} className="axis" />
        <line x1={BOX.width - BOX.right} x2={BOX.width - BOX.right} y1={BOX.top} y2={BOX.height - BOX.bottom} className="axis" />
        <text x={(BOX.left + BOX.width - BOX.right) / 2} y={BOX.height - 4} textAnchor="middle" className="label">
          step
        </text>
        <text x={4} y={BOX.top + 8} className="label">
          token F1
        </text>
        <text x={BOX.width - 4} y={BOX.top + 8} textAnchor="end" className="label">
          held-out loss
        </text>
        {g.lossPath ? <path d={g.lossPath} className="curve curve-secondary" /> : null}
        {g.f1Path ? <path d={g.f1Path} className="curve" /> : null}
        {g.dots.map((d) => (
          <circle key={d.point.step} cx={d.x} cy={d.f1Y} r={3.5} className="curve-dot">
            <title>{`step ${d.point.step}: token F1 ${d.point.tokenF1.toFixed(3)}, held-out loss ${d.point.heldoutLoss.toFixed(3)}`}</title>
          </circle>
        ))}
        {best ? <circle cx={best.x} cy={best.f1Y} r={7} className="curve-best" data-testid="score-curve-best" /> : null}
      </svg>
      <figcaption>{summary}</figcaption>
    </figure>
  );
}
