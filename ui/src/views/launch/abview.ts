// What the A/B result view derives from an A/B object and the server's statistics of it: each
// arm's per-seed values, the arms' means and intervals as numbers (computed by the server, never
// here), live progress, plain-words verdicts and the strip plot's scale. Pure, so it is
// unit-tested.

import type { Ab, AbLive, AbLiveArm, Job } from '../../lib/launchApi'

export type ArmKey = 'a' | 'b'

export interface SeedValue {
  arm: ArmKey
  run: string
  name: string | null
  status: string
  value: number | null
  seq: number
}

/** One arm's statistics as numbers, for the strip plot and the table. */
export interface ArmSummary {
  n: number
  mean: number
  /** Sample standard deviation; null with one value. */
  std: number | null
  sem: number | null
  median: number | null
  min: number | null
  max: number | null
  /** The interval of the mean; the mean itself with one value. */
  low: number
  high: number
}

/** The server's statistics of an arm (`GET /api/v1/ab/{id}/stats`) as numbers; null without a mean. */
export function armSummary(s: AbLiveArm | null | undefined): ArmSummary | null {
  const mean = s ? wireNum(s.mean) : null
  if (!s || !s.n || mean === null || !Number.isFinite(mean)) return null
  const low = wireNum(s.ci_low)
  const high = wireNum(s.ci_high)
  return {
    n: s.n,
    mean,
    std: wireNum(s.std),
    sem: wireNum(s.sem),
    median: wireNum(s.median),
    min: wireNum(s.min),
    max: wireNum(s.max),
    low: low ?? mean,
    high: high ?? mean,
  }
}

function wireNum(v: unknown): number | null {
  if (typeof v === 'number') return v
  if (v === 'NaN') return NaN
  if (v === 'Infinity') return Infinity
  if (v === '-Infinity') return -Infinity
  return null
}

/**
 * Each run of the A/B with its value of the metric: from the stored result when there is one,
 * else from `live` (the server's view of the A/B now, fetched while it runs).
 */
export function seedValues(ab: Ab, live: AbLive | null = null): SeedValue[] {
  const fromResult = new Map((ab.result?.runs ?? []).map((r) => [r.run, r]))
  const now = new Map((live?.runs ?? []).map((r) => [r.run, r]))
  const out: SeedValue[] = []
  const seen = new Set<string>()
  for (const r of [...ab.runs].sort((x, y) => x.seq - y.seq)) {
    seen.add(r.run_id)
    const res = fromResult.get(r.run_id)
    const l = now.get(r.run_id)
    out.push({
      arm: r.arm,
      run: r.run_id,
      name: res?.name ?? l?.name ?? null,
      status: res?.status ?? l?.status ?? 'running',
      value: res ? wireNum(res.value) : l ? wireNum(l.value) : null,
      seq: r.seq,
    })
  }
  // A result may list runs the link table does not (older stores): keep them too.
  for (const r of ab.result?.runs ?? []) {
    if (seen.has(r.run)) continue
    out.push({ arm: r.arm, run: r.run, name: r.name, status: r.status, value: wireNum(r.value), seq: out.length + 1 })
  }
  return out
}

export interface Progress {
  /** Runs the A/B will have (2 × seeds), when known. */
  total: number | null
  done: number
  running: number
  queued: number
  failed: number
}

const DONE = new Set(['finished', 'failed', 'crashed', 'killed', 'cancelled'])

/** How far a running A/B has come, from its runs and (when given) its queue jobs. */
export function progress(ab: Ab, values: SeedValue[], jobs: Job[] = []): Progress {
  const seeds = typeof ab.spec?.seeds === 'number' ? ab.spec.seeds : null
  const mine = jobs.filter((j) => j.ab_id === ab.id)
  const total = seeds !== null ? 2 * seeds : mine.length || null
  if (mine.length) {
    return {
      total,
      done: mine.filter((j) => DONE.has(j.state)).length,
      running: mine.filter((j) => j.state === 'running').length,
      queued: mine.filter((j) => j.state === 'queued').length,
      failed: mine.filter((j) => j.state === 'failed' || j.state === 'killed' || j.state === 'cancelled').length,
    }
  }
  const done = values.filter((v) => DONE.has(v.status)).length
  const running = values.filter((v) => v.status === 'running').length
  return {
    total,
    done,
    running,
    queued: total !== null ? Math.max(0, total - done - running) : 0,
    failed: values.filter((v) => v.status !== 'finished' && DONE.has(v.status)).length,
  }
}

export type Tone = 'good' | 'bad' | 'neutral' | 'pending' | 'error'

/** The verdict in plain words and its tone (B better = good, A better = bad). */
export function verdict(ab: Ab, p: Progress): { text: string; tone: Tone } {
  const c = ab.result?.comparison
  if (ab.status === 'running') {
    const of = p.total !== null ? ` of ${p.total}` : ''
    return { text: `Running: ${p.done}${of} runs done${p.running ? `, ${p.running} running` : ''}. The verdict comes when every seed has finished.`, tone: 'pending' }
  }
  if (c?.verdict) {
    const tone: Tone = c.outcome === 'b_better' ? 'good' : c.outcome === 'a_better' ? 'bad' : 'neutral'
    const prefix = ab.status === 'killed' ? 'Cancelled before the end; on the runs that finished: ' : ''
    return { text: prefix + c.verdict, tone }
  }
  if (ab.status === 'killed') return { text: 'Cancelled before any verdict could be reached.', tone: 'error' }
  return { text: ab.error ? `No verdict: ${ab.error.replace(/^no verdict: /, '')}` : 'No verdict.', tone: 'error' }
}

export function outcomeLabel(outcome: string | undefined): string {
  switch (outcome) {
    case 'b_better':
      return 'B better'
    case 'a_better':
      return 'A better'
    case 'no_detectable_difference':
      return 'no detectable difference'
    default:
      return outcome ? outcome.replaceAll('_', ' ') : ''
  }
}

/** `lr=0.001, epochs=3` (or `group base` for an A/B made from groups). */
export function armLabel(ab: Ab, arm: ArmKey): string {
  const p = ab.spec?.[arm] as Record<string, unknown> | undefined
  if (!p || typeof p !== 'object') return ''
  if (ab.spec?.source === 'groups' && typeof p.group === 'string') return `group ${p.group}`
  return Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ')
}

/** A padded y range covering every value and interval, for the strip plot. */
export function yRange(nums: number[]): [number, number] {
  const v = nums.filter(Number.isFinite)
  if (!v.length) return [0, 1]
  let lo = Math.min(...v)
  let hi = Math.max(...v)
  if (lo === hi) {
    const d = Math.abs(lo) * 0.05 || 0.5
    lo -= d
    hi += d
  }
  const pad = (hi - lo) * 0.08
  return [lo - pad, hi + pad]
}

/** About `count` round tick values between lo and hi. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo]
  const raw = (hi - lo) / count
  const mag = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw
  const out: number[] = []
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)))
  return out
}

/** Deterministic horizontal jitter in [-1, 1] for the i-th of n dots (spread evenly, no randomness). */
export function jitter(i: number, n: number): number {
  if (n <= 1) return 0
  return (i / (n - 1)) * 2 - 1
}

/** Arm A's runs take shades of blue, arm B's shades of orange, so the arms read apart at a glance. */
export const ARM_COLOURS: Record<ArmKey, string[]> = {
  a: ['#2563eb', '#1e40af', '#3b82f6', '#1d4ed8', '#60a5fa', '#1e3a8a', '#93c5fd'],
  b: ['#e4572e', '#b8400f', '#f97316', '#c2410c', '#fb923c', '#9a3412', '#fdba74'],
}

/** The i-th run of an arm's colour. */
export function armColour(arm: ArmKey, i: number): string {
  const f = ARM_COLOURS[arm]
  return f[((i % f.length) + f.length) % f.length]
}
