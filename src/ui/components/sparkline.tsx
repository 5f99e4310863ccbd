/** Props of {@link Sparkline}. */
export interface SparklineProps {
  /** Oldest first; values above `max` are drawn at the top. */
  readonly values: readonly number[]
  /** What the line is, for screen readers ("Jobs per second over the last minute"). */
  readonly label: string
  /** Top of the scale; default the largest value (at least 1e-9 so a flat zero line draws). */
  readonly max?: number
  /** Drawing units; the SVG scales to its container's width. */
  readonly width?: number
  /** Drawing units and the rendered height in pixels (only the width stretches). */
  readonly height?: number
}

/** A small SVG line of `values` (oldest first), scaled to the panel's width. No chart library. */
export function Sparkline ({ values, label, max, width = 240, height = 48 }: SparklineProps) {
  const top = Math.max(max ?? Math.max(0, ...values), 1e-9)
  const pad = 2
  const n = values.length
  const x = (i: number): number => (n <= 1 ? width - 4 : (i / (n - 1)) * width)
  const y = (v: number): number => height - pad - (Math.min(v, top) / top) * (height - 2 * pad)
  const points = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')
  return (
    <svg className='sparkline' role='img' aria-label={label} viewBox={`0 0 ${width} ${height}`} preserveAspectRatio='none' width='100%' height={height}>
      <line x1={0} x2={width} y1={height - pad} y2={height - pad} className='sparkline-axis' />
      {n > 0 && <polygon points={`${x(0)},${height - pad} ${points} ${x(n - 1)},${height - pad}`} className='sparkline-area' />}
      {n > 1 && <polyline points={points} className='sparkline-line' vectorEffect='non-scaling-stroke' />}
      {n === 1 && <circle cx={width - 4} cy={y(values[0])} r={3} className='sparkline-dot' />}
    </svg>
  )
}
