// The lines a metric chart draws, built from loaded series: one per run (with its min–max
// envelope and, when smoothed, the raw series for the legend), or one mean line with a band per
// run group. Pure functions: MetricChart's loader (loader.svelte.ts) loads the data and plot.ts
// renders what this returns.
import { align, type Cell } from './align'
import { groupStats, type BandKind } from './group'
import type { Loaded } from './series'
import { ema } from './smooth'

export interface ChartRun {
  id: string
  name: string
  colour: string
}

export interface ChartGroup {
  name: string
  colour: string
  runIds: string[]
}

export interface Line {
  label: string
  colour: string
  x: number[]
  y: (number | null)[]
  /** The unsmoothed values, when the line is smoothed. */
  raw: (number | null)[] | null
  lo: (number | null)[] | null
  hi: (number | null)[] | null
}

export interface LineOptions {
  runs: ChartRun[]
  /** When set, one mean line (with a band) per group instead of one line per run. */
  groups: ChartGroup[] | null
  /** EMA weight 0..0.99 (0 = off). */
  smoothing: number
  /** Keep the min–max envelope of downsampled buckets. */
  envelope: boolean
  band: BandKind
}

export function buildLines(src: Map<string, Loaded>, o: LineOptions): Line[] {
  const w = o.smoothing > 0 ? o.smoothing : 0
  const smooth = (y: (number | null)[]) => (w > 0 ? ema(y, w) : y)
  if (o.groups) {
    const groups = o.groups
    const members = groups.map((g) => g.runIds.map((id) => src.get(id)).filter((d): d is Loaded => !!d && d.x.length > 0))
    const all = members.flat()
    if (all.length === 0) return []
    const al = align(all.map((d) => ({ x: d.x, ys: [smooth(d.y)] })))
    let k = 0
    const lines: Line[] = []
    groups.forEach((g, gi) => {
      const ys = members[gi].map(() => al.ys[k++][0])
      if (ys.length === 0) return
      const st = groupStats(al.x, ys, o.band)
      lines.push({ label: `${g.name} (${ys.length})`, colour: g.colour, x: al.x, y: st.mean, raw: null, lo: st.lo, hi: st.hi })
    })
    return lines
  }
  const lines: Line[] = []
  for (const r of o.runs) {
    const d = src.get(r.id)
    if (!d || d.x.length === 0) continue
    const env = o.envelope && d.downsampled && d.lo && d.hi
    lines.push({
      label: r.name,
      colour: r.colour,
      x: d.x,
      y: smooth(d.y),
      raw: w > 0 ? d.y : null,
      lo: env ? d.lo : null,
      hi: env ? d.hi : null,
    })
  }
  return lines
}

/** The lines that have a value to draw (the chart's `data-series-count`). */
export function countDrawn(lines: Line[]): number {
  return lines.filter((l) => l.y.some((v) => v !== null)).length
}

/**
 * The non-null value closest to index `i`, only inside the series' span (a value on both sides
 * within 2000 points): past a run's end the legend stays blank rather than repeat its last value.
 */
export function nearest(a: Cell[], i: number): number | null {
  let l = -1
  let r = -1
  for (let k = i - 1; k >= 0 && k > i - 2000; k--) if (a[k] !== null && a[k] !== undefined) { l = k; break }
  if (l < 0) return null
  for (let k = i + 1; k < a.length && k < i + 2000; k++) if (a[k] !== null && a[k] !== undefined) { r = k; break }
  if (r < 0) return null
  return (i - l <= r - i ? a[l] : a[r]) as number
}
