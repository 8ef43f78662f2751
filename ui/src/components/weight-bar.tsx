/**
 * A split as one bar: a segment per backend, as wide as its share. Preact
 * sets `style` through the CSSOM, which the console's CSP allows (it forbids
 * style attributes and elements).
 */
import { fmtPercent } from '../format.js'
import { colourOf } from './palette.js'

export function WeightBar ({ percent, order, label }: { percent: Readonly<Record<string, number>>, order: readonly string[], label?: string }) {
  const entries = Object.entries(percent)
  return (
    <div class='weights' role='img' aria-label={`${label ?? 'split'}: ${entries.map(([b, p]) => `${b} ${fmtPercent(p)}`).join(', ')}`}>
      <div class='bar'>
        {entries.filter(([, p]) => p > 0).map(([b, p]) => (
          <span key={b} class='seg' style={{ width: `${p}%`, background: colourOf(b, order) }} />
        ))}
      </div>
      <ul class='legend'>
        {entries.map(([b, p]) => (
          <li key={b} data-backend={b}>
            <i class='swatch' style={{ background: colourOf(b, order) }} />
            <b>{b}</b> <span class='pct'>{fmtPercent(p)}</span>
          </li>
        ))}
      </ul>
    </div>
  )
}
