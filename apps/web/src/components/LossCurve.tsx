import { lossCurveGeometry } from '../lib/loss-curve';
import type { LossPoint } from '../lib/model';

const BOX = { width: 720, height: 280, left: 52, right: 16, top: 14, bottom: 36 };

/** The training loss by step, drawn as SVG (no chart library), with a text summary for screen readers. */
export function LossCurve({ points, totalSteps }: { points: LossPoint[]; totalSteps: number | null }) {
  const g = lossCurveGeometry(points, totalSteps, BOX);
  const tickStep = g.yTicks.length > 1 ? Math.abs((g.yTicks[1]?.value ?? 0) - (g.yTicks[0]?.value ?? 0)) : 1;
  const digits = Math.min(6, Math.max(0, -Math.floor(Math.log10(tickStep || 1))));
  const first = points[0];
  const last = points[points.length - 1];
  const summary =
    first && last
      ? `Training loss from ${first.loss.toFixed(3)} at step ${first.step} to ${last.loss.toFixed(3)} at step ${last.step}${totalSteps ? ` of ${totalSteps}` : ''}.`
      : 'No loss logged yet.';
  return (
    <figure className="loss-curve">
      <svg viewBox={`0 0 ${BOX.width} ${BOX.height}`} role="img" aria-label={summary} data-points={points.length}>
        {g.yTicks.map((t) => (
          <g key={`y${t.value}`}>
            <line x1={BOX.left} x2={BOX.width - BOX.right} y1={t.y} y2={t.y} className="grid" />
            <text x={BOX.left - 6} y={t.y + 4} textAnchor="end" className="tick">
              {t.value.toFixed(digits)}
            </text>
          </g>
        ))}
        {g.xTicks.map((t) => (
          <text key={`x${t.value}`} x={t.x} y={BOX.height - BOX.bottom + 16} textAnchor="middle" className="tick">
            {t.value}
          </text>
        ))}
        <line x1={BOX.left} x2={BOX.width - BOX.right} y1={BOX.height - BOX.bottom} y2={BOX.height - BOX.bottom} className="axis" />
        <line x1={BOX.left} x2={BOX.left} y1={BOX.top} y2={BOX.height - BOX.bottom} className="axis" />
        <text x={(BOX.left + BOX.width - BOX.right) / 2} y={BOX.height - 4} textAnchor="middle" className="label">
          step
        </text>
        <text x={12} y={BOX.top + 8} className="label">
          loss
        </text>
        {g.path ? <path d={g.path} className="curve" /> : null}
        {g.last ? <circle cx={g.last.x} cy={g.last.y} r={4} className="curve-dot" /> : null}
      </svg>
      <figcaption>{summary}</figcaption>
    </figure>
  );
}
