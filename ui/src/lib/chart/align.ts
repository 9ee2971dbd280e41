// Aligns several runs' series onto one x array for uPlot: the sorted union of their x values, each
// series holding `undefined` where it has no point. uPlot draws across `undefined` but breaks the
// line at `null`, so a run's own gaps (NaN, ±inf) stay visible while other runs' x values do not
// cut its line. Every input x array is ascending, so the union is a linear merge and each series
// is placed with one two-pointer walk.

/** A value on the aligned x: a number, null (a gap in the run's own data) or undefined (no point there). */
export type Cell = number | null | undefined

/** The sorted union (without duplicates) of ascending arrays. */
export function unionX(xs: readonly (readonly number[])[]): number[] {
  const nonEmpty = xs.filter((x) => x.length > 0)
  if (nonEmpty.length === 0) return []
  // Common case: every run has the same x (same steps, same buckets).
  const first = nonEmpty[0]
  if (nonEmpty.every((x) => sameArray(x, first))) return dedupe(first)
  let acc = dedupe(first)
  for (let k = 1; k < nonEmpty.length; k++) acc = merge(acc, nonEmpty[k])
  return acc
}

function sameArray(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function dedupe(a: readonly number[]): number[] {
  const out: number[] = []
  for (let i = 0; i < a.length; i++) if (i === 0 || a[i] !== a[i - 1]) out.push(a[i])
  return out
}

/** Merges an ascending duplicate-free `a` with an ascending `b` into an ascending duplicate-free array. */
function merge(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = []
  let i = 0
  let j = 0
  let prev = NaN
  while (i < a.length || j < b.length) {
    let v: number
    if (j >= b.length || (i < a.length && a[i] <= b[j])) v = a[i++]
    else v = b[j++]
    if (v !== prev) out.push(v)
    prev = v
  }
  return out
}

/**
 * Places `y` (values at ascending `x`) onto `union` (which contains every x): undefined where the
 * series has no point. Where a series has several points at one x, the last one wins.
 */
export function place(union: readonly number[], x: readonly number[], y: readonly Cell[]): Cell[] {
  if (sameArray(union, x)) return y.slice()
  const out = new Array<Cell>(union.length).fill(undefined)
  let j = 0
  for (let i = 0; i < x.length; i++) {
    while (j < union.length && union[j] < x[i]) j++
    if (j >= union.length) break
    if (union[j] === x[i]) out[j] = y[i]
  }
  return out
}

/** Aligns `series` (each with its own ascending x) onto the union of their x values. */
export function align(series: readonly { x: readonly number[]; ys: readonly (readonly Cell[])[] }[]): {
  x: number[]
  ys: Cell[][][]
} {
  const x = unionX(series.map((s) => s.x))
  return { x, ys: series.map((s) => s.ys.map((y) => place(x, s.x, y))) }
}

/**
 * Fills missing values (null or undefined) strictly inside a series' first and last value by
 * linear interpolation in x (used before averaging runs whose points fall at different x).
 * Outside that span they become null.
 */
export function interpolate(x: readonly number[], y: readonly Cell[]): (number | null)[] {
  const out: (number | null)[] = y.map((v) => (v === undefined ? null : v))
  let prev = -1
  for (let i = 0; i < y.length; i++) {
    const v = y[i]
    if (v === null || v === undefined) continue
    if (prev >= 0 && i - prev > 1) {
      const pv = y[prev] as number
      const x0 = x[prev]
      const dx = x[i] - x0
      for (let k = prev + 1; k < i; k++) out[k] = dx === 0 ? pv : pv + ((v - pv) * (x[k] - x0)) / dx
    }
    prev = i
  }
  return out
}
