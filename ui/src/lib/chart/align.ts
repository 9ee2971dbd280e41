// Aligns several runs' series onto one x array for uPlot: the sorted union of their x values, each
// series holding null where it has no point (drawn across with `spanGaps`). Every input x array is
// ascending, so the union is a linear merge and each series is placed with one two-pointer walk.

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
 * Places `y` (values at ascending `x`) onto `union` (which contains every x): null where the series
 * has no point. Where a series has several points at one x, the last one wins.
 */
export function place(union: readonly number[], x: readonly number[], y: readonly (number | null)[]): (number | null)[] {
  if (sameArray(union, x)) return y.slice()
  const out = new Array<number | null>(union.length).fill(null)
  let j = 0
  for (let i = 0; i < x.length; i++) {
    while (j < union.length && union[j] < x[i]) j++
    if (j >= union.length) break
    if (union[j] === x[i]) out[j] = y[i]
  }
  return out
}

export interface Aligned {
  x: number[]
  /** One array per input series, aligned on x. */
  ys: (number | null)[][]
}

/** Aligns `series` (each with its own ascending x) onto the union of their x values. */
export function align(series: readonly { x: readonly number[]; ys: readonly (readonly (number | null)[])[] }[]): {
  x: number[]
  ys: (number | null)[][][]
} {
  const x = unionX(series.map((s) => s.x))
  return { x, ys: series.map((s) => s.ys.map((y) => place(x, s.x, y))) }
}

/**
 * Fills nulls strictly inside a series' first and last value by linear interpolation in x (used
 * before averaging runs whose points fall at different x). Outside that span stays null.
 */
export function interpolate(x: readonly number[], y: readonly (number | null)[]): (number | null)[] {
  const out = y.slice()
  let prev = -1
  for (let i = 0; i < y.length; i++) {
    const v = y[i]
    if (v === null) continue
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
