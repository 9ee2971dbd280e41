// The Data tab's and the drift view's display logic, pure so it is unit-tested: specs and links,
// the order of a drift table (by severity), number formats, and a chart's geometry. Nothing here
// decides a verdict or runs a test: those come from the server.

import type { ChartData, ColumnDrift, ColumnOverview } from '../../lib/dataApi'
import { fmtNum } from '../../lib/format'

/** `RUN:DATASET[@STEP]`, as the server's drift route and `trackbench drift` read it. */
export function spec(run: string, dataset: string, step: number | null | undefined): string {
  return `${run}:${dataset}${step === null || step === undefined ? '' : `@${step}`}`
}

/** Splits a spec as the server does (the first `:` ends the run; `@` and an integer at the end
 * is a step), for labels; `null` when it is not one. */
export function parseSpec(s: string): { run: string; dataset: string; step: number | null } | null {
  const at = s.indexOf(':')
  if (at <= 0 || at === s.length - 1) return null
  const run = s.slice(0, at)
  const rest = s.slice(at + 1)
  const m = /^(.*)@(-?\d+)$/.exec(rest)
  if (m && m[1]) return { run, dataset: m[1], step: Number(m[2]) }
  return { run, dataset: rest, step: null }
}

/** The drift view's URL. */
export function driftHref(q: { reference: string; current: string; test?: string | null; threshold?: string | null }): string {
  const p = new URLSearchParams({ reference: q.reference, current: q.current })
  if (q.test && q.test !== 'auto') p.set('test', q.test)
  if (q.threshold) p.set('threshold', q.threshold)
  return `/drift?${p.toString()}`
}

/** Which tests judge a p-value (drift below the threshold) rather than a distance (drift at or
 * above it), as the server's `Test::uses_p_value`. */
export function usesPValue(test: string | null): boolean {
  return test === 'ks' || test === 'chi2'
}

/** How far a column is from its threshold, as a ratio: above 1 it is past it (drifted), below 1
 * short of it. For p-value tests threshold / p, for distances statistic / threshold. `null`
 * when the column was not tested. */
export function pastThreshold(c: ColumnDrift): number | null {
  if (c.test === null || c.threshold === null) return null
  if (usesPValue(c.test)) {
    if (c.p_value === null) return null
    return c.threshold / Math.max(c.p_value, 1e-300)
  }
  if (c.statistic === null) return null
  if (c.threshold === 0) return c.statistic > 0 ? Infinity : 1
  return c.statistic / c.threshold
}

/** The drift table's order: drifted columns first, then the rest, each by how far past (or how
 * close to) the threshold, most first; untested columns last; then by name. */
export function bySeverity(columns: ColumnDrift[]): ColumnDrift[] {
  const rank = (c: ColumnDrift) => (c.drift === true ? 0 : c.drift === false ? 1 : 2)
  return [...columns].sort((a, b) => {
    const r = rank(a) - rank(b)
    if (r) return r
    const pa = pastThreshold(a) ?? -Infinity
    const pb = pastThreshold(b) ?? -Infinity
    if (pa !== pb) return pb > pa ? 1 : -1
    return a.column < b.column ? -1 : a.column > b.column ? 1 : 0
  })
}

/** A ratio past the threshold as a label: `×12`, `×0.31`, `×1e+6`. */
export function fmtRatio(r: number | null): string {
  if (r === null || Number.isNaN(r)) return ''
  if (!Number.isFinite(r)) return '×∞'
  if (r >= 1e4) return `×${r.toExponential(0)}`
  return `×${Number(r.toPrecision(2))}`
}

/** A share (0–1) as a percentage. */
export function fmtShare(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return ''
  const p = v * 100
  if (p !== 0 && Math.abs(p) < 0.1) return `${p.toPrecision(1)}%`
  return `${Number(p.toFixed(1))}%`
}

/** A distinct count: exact as an integer, sketched as an estimate (an HLL estimate may pass the
 * number of non-null values, which bounds it: shown at most that). */
export function fmtDistinct(o: Pick<ColumnOverview, 'distinct' | 'exact' | 'count' | 'nulls'>): string {
  if (o.exact) return String(Math.round(o.distinct))
  return `≈${Math.round(Math.min(o.distinct, Math.max(0, o.count - o.nulls)))}`
}

/** The distribution cell of a summary row: five quantiles for numbers, top categories else. */
export function distributionText(o: Pick<ColumnOverview, 'quantiles' | 'top'>): string {
  if (o.quantiles && o.quantiles.length) return o.quantiles.map(fmtNum).join(' · ')
  return o.top.map(([k, n]) => `${k} (${n})`).join(', ')
}

/** NaN/±inf counts of a numeric column, when there are any: `2 NaN, 1 +inf`. */
export function nonFinite(o: Pick<ColumnOverview, 'nan' | 'pos_inf' | 'neg_inf'>): string {
  const parts: string[] = []
  if (o.nan) parts.push(`${o.nan} NaN`)
  if (o.pos_inf) parts.push(`${o.pos_inf} +inf`)
  if (o.neg_inf) parts.push(`${o.neg_inf} -inf`)
  return parts.join(', ')
}

/** A chart's drawing: bars (x, y, width, height in pixels) per series, CDF polylines, and the
 * labels a tooltip names. Series overlay (numeric) or sit side by side in a category's slot. */
export interface Geometry {
  bars: { series: number; x: number; y: number; w: number; h: number; label: string; share: number }[]
  /** Per series, SVG polyline points of its CDF (numeric charts). */
  cdf: string[]
  /** The highest share drawn (the y axis' top). */
  top: number
  /** The x axis' end labels. */
  left: string
  right: string
  /** A categorical chart's slot labels, left to right (`(other)` last when shown). */
  slots: string[]
}

/** Lays out `chart` in a `w` × `h` box; `mode` `cdf` draws the CDF lines instead of bars. */
export function geometry(chart: ChartData, w: number, h: number, mode: 'hist' | 'cdf' = 'hist'): Geometry {
  const g: Geometry = { bars: [], cdf: [], top: 0, left: '', right: '', slots: [] }
  if (chart.kind === 'none') return g
  const n = chart.shares.length
  if (chart.kind === 'numeric') {
    const { edges, shares, cdf } = chart
    const lo = edges[0]
    const hi = edges[edges.length - 1]
    const span = hi - lo || 1
    const px = (v: number) => ((v - lo) / span) * w
    g.left = fmtNum(lo)
    g.right = fmtNum(hi)
    if (mode === 'cdf') {
      g.top = 1
      const r = (v: number) => Math.round(v * 100) / 100
      // The CDF is known at the edges only: a line through those points (an ogive).
      g.cdf = cdf.map((c) => c.map((v, i) => `${r(px(edges[i]))},${r(h - v * h)}`).join(' '))
      return g
    }
    g.top = Math.max(0, ...shares.flat())
    const scale = g.top > 0 ? h / g.top : 0
    for (let s = 0; s < n; s++) {
      shares[s].forEach((v, i) => {
        const x0 = px(edges[i])
        const x1 = px(edges[i + 1])
        const bh = v * scale
        const last = i === shares[s].length - 1
        g.bars.push({ series: s, x: x0, y: h - bh, w: Math.max(0.5, x1 - x0 - (x1 - x0 > 3 ? 1 : 0)), h: bh, share: v, label: `[${fmtNum(edges[i])}, ${fmtNum(edges[i + 1])}${last ? ']' : ')'}` })
      })
    }
    return g
  }
  const labels = chart.other.some((o) => o > 0) ? [...chart.labels, '(other)'] : chart.labels
  const rows = chart.shares.map((r, s) => (labels.length > chart.labels.length ? [...r, chart.other[s]] : r))
  g.top = Math.max(0, ...rows.flat())
  const scale = g.top > 0 ? h / g.top : 0
  const slot = labels.length ? w / labels.length : w
  const bw = Math.max(0.5, (slot * 0.8) / Math.max(1, n))
  for (let s = 0; s < n; s++) {
    rows[s].forEach((v, i) => {
      const bh = v * scale
      g.bars.push({ series: s, x: i * slot + slot * 0.1 + s * bw, y: h - bh, w: bw, h: bh, share: v, label: labels[i] })
    })
  }
  g.left = labels[0] ?? ''
  g.right = labels.length > 1 ? labels[labels.length - 1] : ''
  g.slots = labels
  return g
}

/** A run's dataset names and steps from its raw inputs (the run detail's `inputs`, MLflow's
 * DatasetInput form), for links; inputs that are not datasets are skipped. */
export function inputDatasets(inputs: unknown[]): { name: string; step: number | null }[] {
  const out: { name: string; step: number | null }[] = []
  for (const i of inputs) {
    const input = i as { dataset?: { name?: unknown }; tags?: { key?: unknown; value?: unknown }[] } | null
    const name = input?.dataset?.name
    if (typeof name !== 'string') continue
    const tag = (input?.tags ?? []).find((t) => t?.key === 'trackbench.data.step')
    const step = typeof tag?.value === 'string' && /^-?\d+$/.test(tag.value) ? Number(tag.value) : null
    out.push({ name, step })
  }
  return out
}

/** For the compare view: dataset names two runs share, with the latest step of each (a name
 * logged without a step is taken as is). */
export function sharedDatasets(a: unknown[], b: unknown[]): { name: string; a: number | null; b: number | null }[] {
  const latest = (inputs: unknown[]) => {
    const m = new Map<string, number | null>()
    for (const d of inputDatasets(inputs)) {
      const had = m.get(d.name)
      if (!m.has(d.name) || d.step === null || (had !== null && had !== undefined && d.step !== null && d.step > had)) m.set(d.name, d.step)
    }
    return m
  }
  const la = latest(a)
  const lb = latest(b)
  return [...la.keys()].filter((k) => lb.has(k)).sort().map((name) => ({ name, a: la.get(name) ?? null, b: lb.get(name) ?? null }))
}
