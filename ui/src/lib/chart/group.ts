// Grouped lines: the mean of a group's runs at each aligned x, with a band (min–max or ±1 std).
// Runs are first interpolated across their own gaps so a group's mean does not jump where runs
// log at different x; outside a run's span it simply does not count.
import { interpolate, type Cell } from './align'

export type BandKind = 'minmax' | 'std'

export interface GroupLine {
  mean: (number | null)[]
  lo: (number | null)[]
  hi: (number | null)[]
  /** How many runs contributed at each x. */
  n: number[]
}

export function groupStats(x: readonly number[], ys: readonly (readonly Cell[])[], band: BandKind): GroupLine {
  const len = x.length
  const filled = ys.map((y) => interpolate(x, y))
  const mean = new Array<number | null>(len).fill(null)
  const lo = new Array<number | null>(len).fill(null)
  const hi = new Array<number | null>(len).fill(null)
  const n = new Array<number>(len).fill(0)
  for (let i = 0; i < len; i++) {
    let sum = 0
    let sq = 0
    let mn = Infinity
    let mx = -Infinity
    let c = 0
    for (const y of filled) {
      const v = y[i]
      if (v === null || !Number.isFinite(v)) continue
      sum += v
      sq += v * v
      if (v < mn) mn = v
      if (v > mx) mx = v
      c++
    }
    n[i] = c
    if (c === 0) continue
    const m = sum / c
    mean[i] = m
    if (band === 'minmax') {
      lo[i] = mn
      hi[i] = mx
    } else {
      const sd = Math.sqrt(Math.max(0, sq / c - m * m))
      lo[i] = m - sd
      hi[i] = m + sd
    }
  }
  return { mean, lo, hi, n }
}
