// The runs table's data logic, kept out of the components so it is unit-tested: column ids, their
// values and cell texts, the runs list's `columns=`, sort specs as the query language's
// `order_by`, filter error positions, recent filter history and saved columns, grouping with
// aggregated rows, and the flat row list the virtual scroller draws.
import type { MetricSummary, Run } from '../../lib/api.svelte'
import { num } from '../../lib/api.svelte'
import { fmtAgo, fmtDuration, fmtNum, fmtTime, fmtValue, runDuration } from '../../lib/format'
import { OWNER_TAG, runOwner } from '../../lib/access.svelte'

/** A column: a run attribute, `params.KEY` or `metrics.KEY` (the metric's last value). */
export type ColumnId = string

export const ATTRIBUTE_COLUMNS: { id: ColumnId; label: string; order: string }[] = [
  { id: 'status', label: 'Status', order: 'status' },
  { id: 'name', label: 'Name', order: 'run_name' },
  { id: 'created', label: 'Created', order: 'created' },
  { id: 'duration', label: 'Duration', order: 'duration' },
  { id: 'group', label: 'Group', order: 'group' },
  { id: 'host', label: 'Host', order: 'host' },
]

/** The tags column: a run's tags (the runs list's `tags.KEY` columns), not sortable. */
export const TAGS_COLUMN: ColumnId = 'tags'

/** The owner column: the user who created the run (its `trackbench.owner` tag), not sortable. */
export const OWNER_COLUMN: ColumnId = 'owner'

/** Whether a column header sorts the table. */
export const sortable = (id: ColumnId) => id !== TAGS_COLUMN && id !== OWNER_COLUMN

/** Tag key prefixes the launcher (`launch.device`, `launch.pid`…) and A/B runs (`ab.id`,
 * `ab.arm`, `ab.seed`) write for their own bookkeeping. */
export const SYSTEM_TAG_PREFIXES = ['launch.', 'ab.', 'trackbench.']

export const isSystemTag = (key: string) => SYSTEM_TAG_PREFIXES.some((p) => key.startsWith(p))

/** A run's tags split for display: the user's own shown, bookkeeping ones folded behind a
 * "+N system tags" toggle; each part sorted by key. */
export interface FoldedTags {
  user: [string, string][]
  system: [string, string][]
}

export function foldTags(tags: Record<string, string>): FoldedTags {
  const entries = Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return { user: entries.filter(([k]) => !isSystemTag(k)), system: entries.filter(([k]) => isSystemTag(k)) }
}

/** A run's tags from the runs list (its `tags.KEY` columns). */
export function runTags(run: Run): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(run.columns ?? {})) if (k.startsWith('tags.')) out[k.slice(5)] = String(v ?? '')
  return out
}

/** The fold toggle's text: `+3 system tags` while folded. */
export const systemTagsLabel = (n: number, open: boolean) => (open ? 'hide system tags' : `+${n} system tag${n === 1 ? '' : 's'}`)

/** `key=value` (or `key` for an empty value). */
export const tagText = ([k, v]: [string, string]) => (v === '' ? k : `${k}=${v}`)

/** `foo/bar` → `` `foo/bar` `` : keys are always quoted so any character is safe. */
export function quoteKey(key: string): string {
  return '`' + key.replaceAll('`', '') + '`'
}

export function columnLabel(id: ColumnId): string {
  if (id === TAGS_COLUMN) return 'Tags'
  if (id === OWNER_COLUMN) return 'Owner'
  const a = ATTRIBUTE_COLUMNS.find((c) => c.id === id)
  if (a) return a.label
  return id.replace(/^(params|metrics)\./, '')
}

export function columnKind(id: ColumnId): 'attribute' | 'param' | 'metric' {
  if (id.startsWith('params.')) return 'param'
  if (id.startsWith('metrics.')) return 'metric'
  return 'attribute'
}

/** The query language's order-by term for a column. */
export function orderTerm(id: ColumnId, descending: boolean): string {
  const a = ATTRIBUTE_COLUMNS.find((c) => c.id === id)
  const field = a ? a.order : id.replace(/^(params|metrics)\.(.*)$/, (_, kind, key) => `${kind}.${quoteKey(key)}`)
  return `${field} ${descending ? 'desc' : 'asc'}`
}

/** Parses `?sort=col:desc`; unknown shapes give null. */
export function parseSort(s: string | null): { col: ColumnId; desc: boolean } | null {
  if (!s) return null
  const i = s.lastIndexOf(':')
  if (i <= 0) return { col: s, desc: false }
  return { col: s.slice(0, i), desc: s.slice(i + 1) === 'desc' }
}

/** The raw value of a column for one run (numbers for sorting/aggregation, else strings). */
export function cellValue(run: Run, id: ColumnId, now = Date.now()): unknown {
  switch (id) {
    case 'status':
      return run.status
    case 'name':
      return run.name
    case 'created':
      return run.created_ms
    case 'duration':
      return runDuration(run, now)
    case 'group':
      return run.group
    case 'host':
      return run.host
    case OWNER_COLUMN:
      return runOwner(run)
    case TAGS_COLUMN:
      // The user's tags only: bookkeeping tags differ per run and would split every group.
      return foldTags(runTags(run)).user.map(tagText).join(', ') || null
  }
  const v = run.columns?.[id]
  if (columnKind(id) === 'metric') {
    const m = v as MetricSummary | undefined
    return m ? num(m.last) : null
  }
  return v ?? null
}

/** A cell's text. */
export function cellText(run: Run, c: ColumnId, now = Date.now()): string {
  const v = cellValue(run, c, now)
  if (c === 'created') return fmtAgo(v as number, now)
  if (c === 'duration') return fmtDuration(v as number)
  return fmtValue(v)
}

/** A cell's tooltip: the full time, a metric's summary, else the cell's text. */
export function cellTitle(run: Run, c: ColumnId, now = Date.now()): string {
  if (c === 'created') return fmtTime(run.created_ms)
  if (columnKind(c) === 'metric') {
    const m = run.columns?.[c] as { min?: unknown; max?: unknown; count?: number; last_step?: number } | undefined
    return m ? `last ${fmtNum(cellValue(run, c))} at step ${m.last_step} · min ${fmtNum(m.min)} · max ${fmtNum(m.max)} · ${m.count} points` : ''
  }
  return cellText(run, c, now)
}

/** The rows' CSS grid columns: the checkbox, then each column (name wide, status narrow). */
export function gridTemplate(columns: ColumnId[]): string {
  return ['32px', ...columns.map((c) => (c === 'name' ? 'minmax(180px, 2fr)' : c === 'status' ? '90px' : 'minmax(90px, 1fr)'))].join(' ')
}

/** The runs list's `columns=` for the shown columns: params, metrics, tags and a param grouped by
 * (attributes always come). */
export function columnsParam(cols: ColumnId[], groupBy: string): string {
  const extra = cols.filter((c) => columnKind(c) !== 'attribute')
  // The owner always comes along: the "mine" filter needs it whether or not its column shows.
  extra.push(cols.includes(TAGS_COLUMN) ? 'tags.*' : `tags.${OWNER_TAG}`)
  if (groupBy.startsWith('params.') && !extra.includes(groupBy)) extra.push(groupBy)
  return extra.join(',')
}

/** The columns the chooser offers, narrowed by its search text. */
export function choosableColumns(found: Found, search: string): ColumnId[] {
  return [...['created', 'duration', 'group', 'host', OWNER_COLUMN, TAGS_COLUMN], ...found.params, ...found.metrics].filter((c) => c.toLowerCase().includes(search.toLowerCase()))
}

/** A run as a `run_status` event leaves it: ended now unless running again (or ended already). */
export function withStatus(run: Run, status: string, now = Date.now()): Run {
  return { ...run, status: status as Run['status'], ended_ms: status === 'running' ? null : (run.ended_ms ?? now) }
}

/** Where the server's filter error points: "… at position 13" → 13 (byte offset → char index). */
export function errorPosition(message: string, input: string): number | null {
  const m = /at position (\d+)/.exec(message)
  if (!m) return null
  const byte = Number(m[1])
  // The server counts UTF-8 bytes; map back to a JS string index.
  const bytes = new TextEncoder().encode(input)
  return new TextDecoder().decode(bytes.slice(0, Math.min(byte, bytes.length))).length
}

/** Most recent first, no duplicates, at most `max`. */
export function pushHistory(history: string[], filter: string, max = 12): string[] {
  const f = filter.trim()
  if (!f) return history
  return [f, ...history.filter((h) => h !== f)].slice(0, max)
}

/** The stored filter history (JSON): its strings, or none when unreadable. */
export function readHistory(stored: string | null): string[] {
  try {
    const v = JSON.parse(stored ?? '[]')
    return Array.isArray(v) ? v.filter((x) => typeof x === 'string') : []
  } catch {
    return []
  }
}

/** The stored column choice (JSON), or null when there is none to use. */
export function readColumns(stored: string | null): ColumnId[] | null {
  let saved: unknown
  try {
    saved = JSON.parse(stored ?? 'null')
  } catch {
    saved = null
  }
  return Array.isArray(saved) && saved.length ? saved : null
}

export interface GroupAgg {
  key: string
  runs: Run[]
  /** Per numeric column: mean, min, max over the group's runs that have a value. */
  stats: Record<ColumnId, { mean: number; min: number; max: number; std: number; n: number }>
  /** Per non-numeric column: the value when every run shares it, else how many distinct values. */
  shared: Record<ColumnId, { value: unknown } | { distinct: number }>
  statuses: Record<string, number>
}

/** The value runs are grouped by: `group` or a param (`params.KEY`). Missing → "(none)". */
export function groupKey(run: Run, by: string): string {
  const v = by === 'group' ? run.group : run.columns?.[by]
  if (v === null || v === undefined || v === '') return '(none)'
  return typeof v === 'object' ? JSON.stringify(v) : String(v)
}

export function groupRuns(runs: Run[], by: string, columns: ColumnId[], now = Date.now()): GroupAgg[] {
  const groups = new Map<string, Run[]>()
  for (const r of runs) {
    const k = groupKey(r, by)
    let g = groups.get(k)
    if (!g) groups.set(k, (g = []))
    g.push(r)
  }
  const out: GroupAgg[] = []
  for (const [key, members] of groups) {
    const stats: GroupAgg['stats'] = {}
    const shared: GroupAgg['shared'] = {}
    for (const c of columns) {
      if (c === 'status' || c === 'name') continue
      const values = members.map((r) => cellValue(r, c, now))
      const nums = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
      if (nums.length > 0 && nums.length === values.filter((v) => v !== null && v !== undefined).length) {
        const n = nums.length
        const mean = nums.reduce((a, b) => a + b, 0) / n
        const std = n > 1 ? Math.sqrt(nums.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0
        stats[c] = { mean, min: Math.min(...nums), max: Math.max(...nums), std, n }
      } else {
        const distinct = new Set(values.map((v) => JSON.stringify(v ?? null)))
        shared[c] = distinct.size === 1 ? { value: values[0] } : { distinct: distinct.size }
      }
    }
    const statuses: Record<string, number> = {}
    for (const r of members) statuses[r.status] = (statuses[r.status] ?? 0) + 1
    out.push({ key, runs: members, stats, shared, statuses })
  }
  return out
}

export type DisplayRow = { kind: 'run'; run: Run; depth: number } | { kind: 'group'; group: GroupAgg; open: boolean }

/** The rows the virtual list draws: runs, or group headers each followed by its runs when open. */
export function displayRows(runs: Run[], groups: GroupAgg[] | null, open: Set<string>): DisplayRow[] {
  if (!groups) return runs.map((run) => ({ kind: 'run', run, depth: 0 }))
  const rows: DisplayRow[] = []
  for (const g of groups) {
    const isOpen = open.has(g.key)
    rows.push({ kind: 'group', group: g, open: isOpen })
    if (isOpen) for (const run of g.runs) rows.push({ kind: 'run', run, depth: 1 })
  }
  return rows
}

/** The slice of rows to render for a scroll position (with `overscan` rows either side). */
export function visibleRange(scrollTop: number, viewport: number, rowHeight: number, total: number, overscan = 8) {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan)
  const last = Math.min(total, Math.ceil((scrollTop + viewport) / rowHeight) + overscan)
  return { first, last }
}

/** Keys of params and metrics seen in a sample of runs fetched with `columns=params.*,metrics.*`. */
/** The params and metrics a sample of runs has, and the params whose values differ among them. */
export function discoverColumns(sample: Run[]): Found {
  const params = new Map<string, Set<string>>()
  const metrics = new Set<string>()
  for (const r of sample) {
    for (const k of Object.keys(r.columns ?? {})) {
      if (k.startsWith('params.')) params.set(k, new Set())
      else if (k.startsWith('metrics.')) metrics.add(k)
    }
  }
  // A run without the param counts as a value of its own.
  for (const r of sample) for (const [k, seen] of params) seen.add(JSON.stringify(r.columns?.[k] ?? null))
  const keys = [...params.keys()].sort()
  const owned = sample.some((r) => runOwner(r) !== null)
  return { params: keys, metrics: [...metrics].sort(), varying: keys.filter((k) => params.get(k)!.size > 1), owned }
}

export interface Found {
  params: string[]
  metrics: string[]
  /** Params whose values differ within the sample (what tells its runs apart). */
  varying: string[]
  /** Some run of the sample has an owner (runs logged to a team server by its users). */
  owned?: boolean
}

/** Default visible columns: a few params (those that differ between runs, when some do: a
 * param every run shares says nothing in a table), then non-system metrics. */
export function defaultColumns(found: { params: string[]; metrics: string[]; varying?: string[]; owned?: boolean }): ColumnId[] {
  const metrics = found.metrics.filter((m) => !m.startsWith('metrics.sys/'))
  const params = found.varying?.length ? found.varying : found.params
  return ['status', 'name', 'created', 'duration', 'group', ...(found.owned ? [OWNER_COLUMN] : []), TAGS_COLUMN, ...params.slice(0, 6), ...metrics.slice(0, 6)]
}
