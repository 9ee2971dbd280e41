// The Compare view's data logic, kept free of the DOM so it is unit-tested: which metrics to show,
// how runs group, which params differ, and the scales of the parallel-coordinates and scatter plots.

/** Run ids from `?runs=a,b` (deduplicated, order kept). */
export function parseIds(q: string | null): string[] {
  return [...new Set((q ?? '').split(',').map((s) => s.trim()).filter(Boolean))]
}

/** A metric-name filter: a case-insensitive regex when the text is one, else a substring match. */
export function metricMatcher(text: string): (key: string) => boolean {
  const t = text.trim()
  if (!t) return () => true
  try {
    const re = new RegExp(t, 'i')
    return (k) => re.test(k)
  } catch {
    const low = t.toLowerCase()
    return (k) => k.toLowerCase().includes(low)
  }
}

/** Metric keys split into the main ones and `sys/…` system metrics, each sorted. */
export function splitMetrics(keys: Iterable<string>): { main: string[]; sys: string[] } {
  const all = [...new Set(keys)].sort()
  return { main: all.filter((k) => !k.startsWith('sys/')), sys: all.filter((k) => k.startsWith('sys/')) }
}

/** A param value as a comparable string (objects and arrays as JSON). */
export function valueKey(v: unknown): string {
  if (v === undefined) return '\u0000missing'
  return typeof v === 'string' ? v : JSON.stringify(v)
}

export interface DiffRow {
  key: string
  values: unknown[]
  /** Missing in some run, or not the same in all. */
  differs: boolean
}

/** Rows of the param table: every key of any run, and whether its value differs across runs. */
export function paramDiff(params: Record<string, unknown>[]): DiffRow[] {
  const keys = [...new Set(params.flatMap((p) => Object.keys(p)))].sort()
  return keys.map((key) => {
    const values = params.map((p) => (Object.prototype.hasOwnProperty.call(p, key) ? p[key] : undefined))
    const first = valueKey(values[0])
    return { key, values, differs: values.some((v) => valueKey(v) !== first) }
  })
}

export interface Grouping {
  name: string
  runIds: string[]
}

/** Groups runs by their `group` (by = 'group') or by a param's value (by = 'param:KEY'); order of first appearance. */
export function groupRuns(
  runs: { id: string; group: string | null; params: Record<string, unknown> }[],
  by: string,
): Grouping[] {
  const groups = new Map<string, string[]>()
  for (const r of runs) {
    let name: string
    if (by === 'group') name = r.group ?? '(no group)'
    else if (by.startsWith('param:')) {
      const v = r.params[by.slice(6)]
      name = v === undefined ? '(unset)' : `${by.slice(6)}=${valueKey(v)}`
    } else name = r.id
    const g = groups.get(name)
    if (g) g.push(r.id)
    else groups.set(name, [r.id])
  }
  return [...groups].map(([name, runIds]) => ({ name, runIds }))
}

// ---- axes for parallel coordinates and the scatter plot ----

export interface PcAxis {
  key: string
  kind: 'num' | 'cat'
  log: boolean
  min: number
  max: number
  /** Categories in axis order (kind 'cat'). */
  categories: string[]
  /** Position 0..1 (0 = bottom) of a value, null when the run has none. */
  pos: (v: unknown) => number | null
}

function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v)
}

/**
 * One axis over `values` (a param or a metric of each run). All-numeric values give a linear axis
 * (log when all positive and spanning more than two decades); anything else gives evenly spaced
 * categories in sorted order. A single value sits in the middle.
 */
export function makeAxis(key: string, values: unknown[]): PcAxis {
  const present = values.filter((v) => v !== undefined && v !== null)
  if (present.length > 0 && present.every(isNum)) {
    const nums = present as number[]
    let min = Math.min(...nums)
    let max = Math.max(...nums)
    const log = min > 0 && max / min > 100
    const f = log ? Math.log10 : (x: number) => x
    const lo = f(min)
    const hi = f(max)
    return {
      key,
      kind: 'num',
      log,
      min,
      max,
      categories: [],
      pos: (v) => (isNum(v) && (!log || v > 0) ? (hi === lo ? 0.5 : (f(v) - lo) / (hi - lo)) : null),
    }
  }
  const categories = [...new Set(present.map(valueKey))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
  const n = categories.length
  return {
    key,
    kind: 'cat',
    log: false,
    min: 0,
    max: Math.max(0, n - 1),
    categories,
    pos: (v) => {
      if (v === undefined || v === null) return null
      const i = categories.indexOf(valueKey(v))
      if (i < 0) return null
      return n === 1 ? 0.5 : i / (n - 1)
    },
  }
}

/**
 * Params worth an axis, most useful first: scalar params set in at least half of the runs that
 * differ across runs (all such params when none differ), at most `max` of them.
 */
export function axisParams(params: Record<string, unknown>[], max = 12): string[] {
  const present = (r: DiffRow) => r.values.filter((v) => v !== undefined && v !== null).length
  const rows = paramDiff(params).filter(
    (r) => r.values.every((v) => v === undefined || v === null || typeof v !== 'object') && present(r) * 2 >= params.length,
  )
  const differing = rows.filter((r) => r.differs)
  return (differing.length ? differing : rows)
    .sort((a, b) => present(b) - present(a))
    .slice(0, max)
    .map((r) => r.key)
}

/** The metric most runs have (the first such in `keys` order): a sensible default to plot. */
export function commonest(keys: string[], perRun: string[][]): string {
  let best = ''
  let bestN = 0
  for (const k of keys) {
    const n = perRun.filter((ks) => ks.includes(k)).length
    if (n > bestN) {
      best = k
      bestN = n
    }
  }
  return best
}

/** About `count` round tick values covering [min, max] (1, 2, 5 × 10^k steps). */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return []
  if (min === max) return [min]
  const span = max - min
  const raw = span / Math.max(1, count)
  const mag = Math.pow(10, Math.floor(Math.log10(raw)))
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag
  const out: number[] = []
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)))
  return out
}
