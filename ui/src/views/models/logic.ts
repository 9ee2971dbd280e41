// Pure logic of the Models pages and the A/B page's "register B's best run" form: alias chips,
// which two versions to put side by side, the side-by-side rows of their runs' params and last
// metric values, and when promoting is allowed. Unit-tested in tests/models-*.test.ts.

import type { MetricSummary, RunDetail } from '../../lib/api.svelte'

/** `v3`: how a version is named in the UI. */
export const versionLabel = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `v${v}`)

export interface AliasChip {
  alias: string
  version: number
  /** `champion → v3` */
  text: string
}

/** A model's aliases as chips, newest version first, then by alias. */
export function aliasChips(aliases: Record<string, number> | null | undefined): AliasChip[] {
  return Object.entries(aliases ?? {})
    .map(([alias, version]) => ({ alias, version, text: `${alias} → ${versionLabel(version)}` }))
    .sort((x, y) => y.version - x.version || (x.alias < y.alias ? -1 : x.alias > y.alias ? 1 : 0))
}

/**
 * The two versions compared by default: the latest two, older on the left. `versions` are
 * newest first, as the server sends them. With one version, it is on the right alone.
 */
export function defaultPair(versions: { version: number }[]): [number | null, number | null] {
  const sorted = [...versions].map((v) => v.version).sort((x, y) => y - x)
  if (sorted.length === 0) return [null, null]
  if (sorted.length === 1) return [null, sorted[0]]
  return [sorted[1], sorted[0]]
}

/**
 * The pair to show given what the URL asks for (`?a=2&b=5`): a version that does not exist
 * falls back to the default pair's.
 */
export function pickPair(versions: { version: number }[], a: string | null, b: string | null): [number | null, number | null] {
  const have = new Set(versions.map((v) => v.version))
  const want = (s: string | null) => {
    if (s === null || !/^\d+$/.test(s.trim())) return null
    const n = Number(s)
    return have.has(n) ? n : null
  }
  const [da, db] = defaultPair(versions)
  return [want(a) ?? da, want(b) ?? db]
}

export interface SideRow {
  kind: 'param' | 'metric'
  key: string
  /** `undefined`: that run has no such param or metric (or there is no run). */
  a: unknown
  b: unknown
  /** Both sides have a run and the values are not the same (one missing counts). */
  differs: boolean
}

/** Two values from the wire are the same: NaN is NaN, objects compare by their JSON. */
export function sameValue(x: unknown, y: unknown): boolean {
  if (x === y) return true
  if (typeof x === 'number' && typeof y === 'number') return Number.isNaN(x) && Number.isNaN(y)
  if (x !== null && y !== null && typeof x === 'object' && typeof y === 'object') return JSON.stringify(x) === JSON.stringify(y)
  return false
}

function lastValues(metrics: MetricSummary[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const m of metrics ?? []) out[m.key] = m.last
  return out
}

function rowsOf(kind: SideRow['kind'], a: Record<string, unknown> | null, b: Record<string, unknown> | null): SideRow[] {
  const keys = [...new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])].sort()
  const both = a !== null && b !== null
  return keys.map((key) => {
    const va = a && Object.hasOwn(a, key) ? a[key] : undefined
    const vb = b && Object.hasOwn(b, key) ? b[key] : undefined
    return { kind, key, a: va, b: vb, differs: both && !sameValue(va, vb) }
  })
}

/**
 * One table of two runs: every param, then every metric's last value, each key once, sorted;
 * `differs` marks the rows to highlight. A side without a run (`null`) shows nothing and
 * nothing differs against it.
 */
export function sideBySide(a: Pick<RunDetail, 'params' | 'metrics'> | null, b: Pick<RunDetail, 'params' | 'metrics'> | null): SideRow[] {
  return [
    ...rowsOf('param', a ? (a.params ?? {}) : null, b ? (b.params ?? {}) : null),
    ...rowsOf('metric', a ? lastValues(a.metrics) : null, b ? lastValues(b.metrics) : null),
  ]
}

/** Why a registered model name is refused before asking the server (as MLflow refuses them), or null. */
export function modelNameProblem(name: string): string | null {
  const n = name.trim()
  if (!n) return 'Give the model a name.'
  if (n.includes('/') || n.includes(':')) return 'A model name cannot hold “/” or “:”.'
  return null
}

/**
 * Why an alias is refused (the store's rule: letters, digits, `_` and `-`; not `latest` or
 * `v<number>`), or null; an empty alias means none. Checked here too because the server
 * registers the version before it sets the alias, so a refused alias would still leave a version.
 */
export function aliasProblem(alias: string): string | null {
  const a = alias.trim()
  if (!a) return null
  if (a.length > 255) return 'An alias is at most 255 characters.'
  if (!/^[\p{L}\p{N}_-]+$/u.test(a)) return 'An alias holds only letters, digits, “_” and “-”.'
  if (a.toLowerCase() === 'latest' || /^[vV]\d+$/.test(a)) return `“${a}” is reserved (it reads as a version).`
  return null
}

export interface PromoteGate {
  /** The verdict says B is better: promoting needs no force. */
  bWon: boolean
  /** The button is enabled (a valid name, and B won or force is ticked). */
  enabled: boolean
  /** Why the button is disabled, for its tooltip; empty when enabled. */
  why: string
}

const outcomeWords = (o: string) => o.replaceAll('_', ' ')

/**
 * Whether "Register B's best run" may be pressed: the A/B must have ended with a verdict that B
 * is better, or `force` is ticked (the server refuses otherwise); the name and alias must be valid.
 */
export function promoteGate(
  ab: { status: string; result: { comparison?: { outcome?: string } } | null } | null,
  name: string,
  force: boolean,
  alias = '',
): PromoteGate {
  const outcome = ab?.result?.comparison?.outcome ?? ''
  const bWon = outcome === 'b_better' && ab?.status !== 'running'
  let why = ''
  if (!ab) why = 'The A/B test is not loaded.'
  else if (ab.status === 'running') why = 'The A/B test is still running; B is registered once it has won.'
  else if (!bWon && !force)
    why = outcome
      ? `The verdict is not that B is better (${outcomeWords(outcome)}); tick “force” to register B's best run anyway.`
      : `The A/B test has no verdict; tick “force” to register B's best run anyway.`
  else why = modelNameProblem(name) ?? aliasProblem(alias) ?? ''
  return { bWon, enabled: why === '', why }
}
