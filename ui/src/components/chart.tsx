/**
 * A small time chart (uPlot) of one measure, a line per backend. It is
 * created only once it scrolls into view, so a switchyard with many routes
 * renders its overview at once and draws charts as they are seen.
 */
import { useEffect, useRef } from 'preact/hooks'
import uPlot, { type AlignedData, type Options } from 'uplot'

export interface Line {
  readonly label: string
  readonly colour: string
  readonly dash?: boolean
}

export interface ChartProps {
  readonly title: string
  readonly lines: readonly Line[]
  /** [times in seconds, one column per line]. */
  readonly data: AlignedData
  readonly format: (v: number | null) => string
  /** The time the x axis spans, ending at the latest sample (seconds). */
  readonly windowSeconds: number
}

const WIDTH = 260
const HEIGHT = 110

export function Chart ({ title, lines, data, format, windowSeconds }: ChartProps) {
  const box = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)
  const latest = useRef(data)
  latest.current = data
  const shape = lines.map(l => `${l.label}:${l.colour}:${l.dash === true ? 1 : 0}`).join('|')

  useEffect(() => {
    const el = box.current
    if (el === null) return
    const opts: Options = {
      width: WIDTH,
      height: HEIGHT,
      legend: { show: false },
      cursor: { show: false },
      // The whole window, filling from the right, as a monitoring graph does (not stretched to the first samples).
      scales: { x: { time: true, range: (_u, _min, max) => [max - windowSeconds, max + windowSeconds / 50] }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        { size: 22, font: '10px system-ui', ticks: { show: false }, grid: { stroke: '#eef0f3' }, values: (_u, vals) => vals.map(v => new Date(v * 1000).toTimeString().slice(0, 5)) },
        { size: 46, font: '10px system-ui', ticks: { show: false }, grid: { stroke: '#eef0f3' }, values: (_u, vals) => vals.map(v => format(v)) }
      ],
      series: [{}, ...lines.map(l => ({ label: l.label, stroke: l.colour, width: 1.5, spanGaps: false, ...(l.dash === true ? { dash: [4, 3] } : {}) }))]
    }
    const create = (): void => {
      if (plot.current === null) plot.current = new uPlot(opts, latest.current, el)
    }
    const seen = new IntersectionObserver(entries => {
      if (entries.some(e => e.isIntersecting)) { create(); seen.disconnect() }
    })
    seen.observe(el)
    return () => {
      seen.disconnect()
      plot.current?.destroy()
      plot.current = null
    }
  }, [shape, windowSeconds])

  useEffect(() => {
    plot.current?.setData(data)
  }, [data])

  return (
    <figure class='chart'>
      <figcaption>{title}</figcaption>
      <div ref={box} class='plot' />
    </figure>
  )
}
