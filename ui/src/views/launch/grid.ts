// Sweep grids and A/B arms in the launch forms: parsing the editor's rows and arm assignments
// into what the request sends, and counting the jobs for the form's checks. Expanding and
// sampling the grid is the launcher's alone: the preview asks the server's dry run for it.

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

/** How many combinations the axes make. */
export function gridSize(axes: Axes): number {
  return axes.reduce((n, [, vs]) => n * vs.length, axes.length ? 1 : 0)
}

/** How many jobs a sweep starts: every combination, or `random` of them. */
export function jobCount(axes: Axes, random?: number | null): number {
  const all = gridSize(axes)
  return random && random > 0 ? Math.min(random, all) : all
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
