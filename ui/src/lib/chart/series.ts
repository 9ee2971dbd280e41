// Wire series → chart data. The series API answers either raw points or min/max/last buckets;
// both become one shape here (`Loaded`): ascending x, the line's y, and for buckets the min–max
// envelope. Non-finite values ("NaN", "Infinity" on the wire) become null, which uPlot draws as a gap.
import type { Series } from '../api.svelte'

export type XMode = 'step' | 'relative' | 'wall'

export interface Loaded {
  /** x of each point (step, seconds since start, or wall ms), ascending. */
  x: number[]
  /** The line: the value, or a bucket's last value; null where not finite. */
  y: (number | null)[]
  /** A bucket's min and max (null arrays when the series is raw). */
  lo: (number | null)[] | null
  hi: (number | null)[] | null
  /** The step at each x (a bucket's last step): maps a zoomed x range back to steps. */
  steps: number[]
  downsampled: boolean
  /** The largest step loaded (-1 when empty): `since=` for incremental live reads. */
  lastStep: number
  /** Points in the whole series on the server. */
  total: number
}

/** A finite number, or null (NaN, ±inf, null, anything else). */
export function finite(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null
}

export function emptyLoaded(): Loaded {
  return { x: [], y: [], lo: null, hi: null, steps: [], downsampled: false, lastStep: -1, total: 0 }
}

function finiteArray(a: readonly unknown[]): (number | null)[] {
  const out = new Array<number | null>(a.length)
  for (let i = 0; i < a.length; i++) out[i] = finite(a[i])
  return out
}

/** Converts a series API response into `Loaded`, sorting by x if the server's x is not ascending. */
export function fromWire(s: Series): Loaded {
  let out: Loaded
  if (s.downsampled) {
    const b = s.buckets
    out = {
      x: b.x.slice(),
      y: finiteArray(b.last),
      lo: finiteArray(b.min),
      hi: finiteArray(b.max),
      steps: b.last_step.slice(),
      downsampled: true,
      lastStep: maxOf(b.last_step),
      total: s.total,
    }
  } else {
    const p = s.points
    out = {
      x: (p.x ?? p.steps).slice(),
      y: finiteArray(p.values),
      lo: null,
      hi: null,
      steps: p.steps.slice(),
      downsampled: false,
      lastStep: p.steps.length ? p.steps[p.steps.length - 1] : -1,
      total: s.total,
    }
  }
  return sortByX(out)
}

function maxOf(a: readonly number[]): number {
  let m = -1
  for (const v of a) if (v > m) m = v
  return m
}

function isSorted(x: readonly number[]): boolean {
  for (let i = 1; i < x.length; i++) if (!(x[i] >= x[i - 1])) return false
  return true
}

/** Returns `d` with its points ordered by x (wall clocks can step back); NaN x points are dropped. */
export function sortByX(d: Loaded): Loaded {
  if (isSorted(d.x)) return d
  const idx = [...d.x.keys()].filter((i) => !Number.isNaN(d.x[i])).sort((a, b) => d.x[a] - d.x[b])
  const pick = <T>(a: T[]) => idx.map((i) => a[i])
  return {
    ...d,
    x: pick(d.x),
    y: pick(d.y),
    lo: d.lo && pick(d.lo),
    hi: d.hi && pick(d.hi),
    steps: pick(d.steps),
  }
}

/** Appends newer raw points (a `since=` read) to raw data; points at or before lastStep are skipped. */
export function appendRaw(d: Loaded, more: Loaded): Loaded {
  if (d.downsampled || more.downsampled) return more
  let start = 0
  while (start < more.steps.length && more.steps[start] <= d.lastStep) start++
  if (start >= more.x.length) return { ...d, total: Math.max(d.total, more.total) }
  const merged: Loaded = {
    x: d.x.concat(more.x.slice(start)),
    y: d.y.concat(more.y.slice(start)),
    lo: null,
    hi: null,
    steps: d.steps.concat(more.steps.slice(start)),
    downsampled: false,
    lastStep: Math.max(d.lastStep, more.lastStep),
    total: Math.max(d.total, more.total, d.x.length + more.x.length - start),
  }
  return sortByX(merged)
}

/**
 * The step range to fetch for a zoomed x window [x0, x1]: from the step after the last point left
 * of the window to the step of the first point right of it, so the window's edges are covered.
 * Null when the data has no point near the window.
 */
export function stepRange(d: Loaded, x0: number, x1: number): { min_step: number; max_step: number } | null {
  const n = d.x.length
  if (n === 0) return null
  const i0 = lowerBound(d.x, x0) // first index with x >= x0
  const i1 = upperBound(d.x, x1) - 1 // last index with x <= x1
  const before = i0 - 1
  const after = i1 + 1
  const min_step = before >= 0 ? d.steps[before] + 1 : 0
  const max_step = after < n ? d.steps[after] : d.steps[n - 1]
  if (max_step < min_step) return null
  return { min_step, max_step }
}

export function lowerBound(a: readonly number[], v: number): number {
  let lo = 0
  let hi = a.length
  while (lo < hi) {
    const m = (lo + hi) >> 1
    if (a[m] < v) lo = m + 1
    else hi = m
  }
  return lo
}

export function upperBound(a: readonly number[], v: number): number {
  let lo = 0
  let hi = a.length
  while (lo < hi) {
    const m = (lo + hi) >> 1
    if (a[m] <= v) lo = m + 1
    else hi = m
  }
  return lo
}

/** For a log y axis: values ≤ 0 become gaps (null); null/undefined stay. Same array when nothing changes. */
export function positiveOnly<T extends number | null | undefined>(a: T[]): (T | null)[] {
  let ok = true
  for (const v of a) if (typeof v === 'number' && v <= 0) ok = false
  if (ok) return a
  return a.map((v) => (typeof v === 'number' && v <= 0 ? null : v))
}
