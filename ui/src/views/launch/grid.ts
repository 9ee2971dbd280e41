// Sweep grids and A/B arms in the launch forms: parsing the editor's rows, the cartesian product
// (last axis fastest) and the seeded random sample — the same algorithms as the launcher's
// `grid.rs`, so the preview shows exactly the jobs the server will start.

/** One assignment of values to parameter names, in the order the names were given. */
export type Params = [string, string][]

export interface GridRow {
  name: string
  /** Comma-separated values, as typed. */
  values: string
}

export type Axes = [string, string[]][]

const NAME = /^[A-Za-z0-9_.-]+$/

export function checkName(name: string): string | null {
  if (!name) return 'a parameter needs a name'
  if (!NAME.test(name)) return `\`${name}\`: a name is letters, digits, \`_\`, \`-\` or \`.\``
  return null
}

export function splitValues(s: string): string[] {
  return s.split(',').map((v) => v.trim())
}

/** The grid's axes from the editor rows (rows left wholly empty are ignored), or the errors. */
export function parseGrid(rows: GridRow[]): { axes: Axes; errors: string[] } {
  const axes: Axes = []
  const errors: string[] = []
  rows.forEach((r, i) => {
    const name = r.name.trim()
    if (!name && !r.values.trim()) return
    const where = `row ${i + 1}`
    const bad = checkName(name)
    if (bad) {
      errors.push(`${where}: ${bad}`)
      return
    }
    if (axes.some(([n]) => n === name)) {
      errors.push(`${where}: \`${name}\` is given twice`)
      return
    }
    const values = splitValues(r.values)
    if (values.some((v) => v === '')) {
      errors.push(`${where}: \`${name}\` has an empty value (expected V1,V2,…)`)
      return
    }
    axes.push([name, values])
  })
  if (!errors.length && !axes.length) errors.push('add at least one parameter and its values')
  return { axes, errors }
}

/**
 * The axes in the order the server expands them: sorted by name (it reads the grid into a
 * sorted map), so the preview lists the jobs in the order they start.
 */
export function serverOrder(axes: Axes): Axes {
  return [...axes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

/** How many combinations the axes make. */
export function gridSize(axes: Axes): number {
  return axes.reduce((n, [, vs]) => n * vs.length, axes.length ? 1 : 0)
}

/** How many jobs a sweep starts: every combination, or `random` of them. */
export function jobCount(axes: Axes, random?: number | null): number {
  const all = gridSize(axes)
  return random && random > 0 ? Math.min(random, all) : all
}

/** Every combination (the last axis varies fastest). */
export function product(axes: Axes): Params[] {
  let out: Params[] = [[]]
  for (const [name, values] of axes) out = out.flatMap((p) => values.map((v): Params => [...p, [name, v]]))
  return out
}

/** The first `limit` combinations without building the whole product. */
export function firstCombinations(axes: Axes, limit: number): Params[] {
  const total = gridSize(axes)
  const out: Params[] = []
  for (let i = 0; i < Math.min(limit, total); i++) out.push(nth(axes, i))
  return out
}

function nth(axes: Axes, i: number): Params {
  const p: Params = []
  for (let a = axes.length - 1; a >= 0; a--) {
    const [name, vs] = axes[a]
    p.unshift([name, vs[i % vs.length]])
    i = Math.floor(i / vs.length)
  }
  return p
}

const MASK = (1n << 64n) - 1n

/** `n` distinct combinations picked with the launcher's seeded xorshift (partial Fisher–Yates). */
export function sample<T>(all: T[], n: number, seed: number | bigint): T[] {
  const a = [...all]
  let state = ((BigInt(seed) * 0x9e3779b97f4a7c15n) & MASK) | 1n
  const next = () => {
    state ^= state >> 12n
    state ^= (state << 25n) & MASK
    state ^= state >> 27n
    return (state * 0x2545f4914f6cdd1dn) & MASK
  }
  const take = Math.min(n, a.length)
  for (let i = 0; i < take; i++) {
    const j = i + Number(next() % BigInt(a.length - i))
    ;[a[i], a[j]] = [a[j], a[i]]
  }
  return a.slice(0, take)
}

/** The combinations a sweep runs, capped at `limit` for a preview (a random sample needs all). */
export function previewCombinations(axes: Axes, random: number | null | undefined, seed: number, limit: number): Params[] {
  if (random && random > 0) {
    if (gridSize(axes) > 100_000) return []
    return sample(product(axes), random, seed).slice(0, limit)
  }
  return firstCombinations(axes, limit)
}

/** `lr=0.01 hidden=64`. */
export function describe(p: Params): string {
  return p.map(([k, v]) => `${k}=${v}`).join(' ')
}

/**
 * Parses `a=1,b=2` or `a=1 b=2` (an A/B arm, a base) into single assignments: at least one
 * (unless `allowEmpty`), no name twice, no empty value.
 */
export function parseAssignments(spec: string, allowEmpty = false): { params: Params; error: string | null } {
  const params: Params = []
  const parts = spec
    .split(/[,\s]+/)
    .map((p) => p.trim())
    .filter(Boolean)
  for (const part of parts) {
    const eq = part.indexOf('=')
    if (eq < 0) return { params, error: `\`${part}\` has no \`=\` (expected NAME=VALUE)` }
    const k = part.slice(0, eq).trim()
    const v = part.slice(eq + 1).trim()
    const bad = checkName(k)
    if (bad) return { params, error: bad }
    if (!v) return { params, error: `\`${k}\` has an empty value` }
    if (params.some(([x]) => x === k)) return { params, error: `\`${k}\` is given twice` }
    params.push([k, v])
  }
  if (!params.length && !allowEmpty) return { params, error: 'assign at least one parameter (NAME=VALUE)' }
  return { params, error: null }
}

/** Names in `{name}` placeholders of the arguments. */
export function placeholders(args: string[]): Set<string> {
  const out = new Set<string>()
  for (const a of args) for (const m of a.matchAll(/\{([A-Za-z0-9_.-]+)\}/g)) out.add(m[1])
  return out
}
