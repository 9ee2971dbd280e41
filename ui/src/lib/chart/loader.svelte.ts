// A metric chart's data: each run's full-range series fetched at the chart's width (cached for
// runs that are not live), per-run errors, live updates read incrementally (`since=`) at most ~4
// times a second, and a full-resolution refetch of a zoomed x range. Reactive state for
// MetricChart, which wires it to its props and events and draws what it holds.
import { api, ApiError, type Series } from '../api.svelte'
import { onChange } from '../events.svelte'
import { limited, Lru } from './fetch'
import { appendRaw, emptyLoaded, fromWire, stepRange, type Loaded, type XMode } from './series'

/** What the loader reads from its chart, at the moment it reads (getters onto the props). */
export interface LoaderSource {
  readonly metric: string
  readonly xMode: XMode
  /** Whether the runs may still grow: their data is then never cached. */
  readonly live: boolean
  /** Points to ask for per run (see `pointsFor`). */
  maxPoints(): number
}

/** The series query beyond the run: a metric read at some resolution, maybe a step range or `since=`. */
export type SeriesQuery = { key: string; x: XMode; max_points: number; since?: number; min_step?: number; max_step?: number }

export interface LoaderDeps {
  /** Reads one series (the API's, through the shared request limit, unless a test swaps it). */
  fetch?: (id: string, q: SeriesQuery) => Promise<Series>
  cache?: Lru<Loaded>
}

/** A zoomed x range and its data at full resolution. */
export interface Detail {
  min: number
  max: number
  data: Map<string, Loaded>
}

/** Full-range data of runs that are not live, by run, metric, x mode and width (shared by every chart). */
const sharedCache = new Lru<Loaded>(400)

/** Points per run for a plot `width` CSS pixels wide: about one per pixel, within 200..2000. */
export function pointsFor(width: number): number {
  return Math.max(200, Math.min(2000, Math.round(width)))
}

/** The text shown for a failed fetch. */
export function errorMessage(e: unknown): string {
  return e instanceof ApiError || e instanceof Error ? e.message : String(e)
}

export class SeriesLoader {
  /** Full-range data per run (for the current metric and x mode). */
  base = $state.raw(new Map<string, Loaded>())
  /** Full-resolution data of the zoomed x range, once fetched. */
  detail = $state.raw<Detail | null>(null)
  errors = $state.raw(new Map<string, string>())
  loading = $state(true)
  /** The user's zoomed x range (null: whole range). Not reactive: the plot keeps its own scale. */
  zoom: { min: number; max: number } | null = null

  private readonly src: LoaderSource
  private readonly fetchWire: (id: string, q: SeriesQuery) => Promise<Series>
  private readonly cache: Lru<Loaded>
  private cacheKey = ''
  /** Bumped when the metric or x mode changes: answers to older requests are dropped. */
  private gen = 0
  /** Runs whose first fetch is under way. */
  private inflight = new Set<string>()

  // Live updates.
  private readonly pending = new Set<string>()
  private timer: ReturnType<typeof setTimeout> | null = null
  private lastFlush = 0
  private flushing = false
  private again = false

  private zoomTimer: ReturnType<typeof setTimeout> | null = null

  constructor(src: LoaderSource, deps: LoaderDeps = {}) {
    this.src = src
    this.fetchWire = deps.fetch ?? ((id, q) => limited(() => api.series(id, q)))
    this.cache = deps.cache ?? sharedCache
  }

  private async fetchSeries(id: string, extra: { since?: number; min_step?: number; max_step?: number } = {}): Promise<Loaded> {
    const s = await this.fetchWire(id, { key: this.src.metric, x: this.src.xMode, max_points: this.src.maxPoints(), ...extra })
    return fromWire(s)
  }

  /** A run's full-range data: from the cache unless the chart is live (its runs may still grow). */
  private async fetchBase(id: string): Promise<Loaded> {
    const key = `${id}\u0000${this.src.metric}\u0000${this.src.xMode}\u0000${this.src.maxPoints()}`
    const hit = this.src.live ? undefined : this.cache.get(key)
    if (hit) return hit
    const d = await this.fetchSeries(id)
    if (!this.src.live) this.cache.set(key, d)
    return d
  }

  /** Loads every run not loaded yet (everything when the metric or x mode changed); drops runs not in `ids`. */
  load(ids: string[]) {
    const key = `${this.src.metric}\u0000${this.src.xMode}`
    if (key !== this.cacheKey) {
      this.cacheKey = key
      this.gen++
      this.base = new Map()
      this.errors = new Map()
      this.detail = null
      this.zoom = null
      this.inflight = new Set()
    }
    const g = this.gen
    const flying = this.inflight
    const keep = new Set(ids)
    if ([...this.base.keys()].some((id) => !keep.has(id))) this.base = new Map([...this.base].filter(([id]) => keep.has(id)))
    if ([...this.errors.keys()].some((id) => !keep.has(id))) this.errors = new Map([...this.errors].filter(([id]) => keep.has(id)))
    const missing = ids.filter((id) => !this.base.has(id) && !flying.has(id))
    if (missing.length === 0) {
      this.loading = flying.size > 0
      return
    }
    for (const id of missing) flying.add(id)
    this.loading = true
    // Results are applied together once every requested run has answered: the chart is built
    // once with all its series instead of being rebuilt as each run arrives.
    const got = new Map<string, Loaded>()
    const failed = new Map<string, string>()
    const apply = () => {
      if (g !== this.gen) return
      if (got.size) this.base = new Map([...this.base, ...got])
      if (failed.size) this.errors = new Map([...this.errors, ...failed])
      got.clear()
      failed.clear()
      this.loading = false
    }
    const done = (id: string) => {
      flying.delete(id)
      if (flying.size === 0) apply()
    }
    for (const id of missing) {
      this.fetchBase(id)
        .then((d) => got.set(id, d))
        .catch((e) => {
          got.set(id, emptyLoaded())
          failed.set(id, errorMessage(e))
        })
        .finally(() => done(id))
    }
  }

  // ---- live updates: incremental reads, at most ~4 redraws a second ----

  /** Follows new points of `key` in `ids` (and resyncs); returns the unsubscribe function. */
  follow(ids: Set<string>, key: string): () => void {
    return onChange((c) => {
      if (c.type === 'resync') this.reread(ids)
      else if (c.type === 'points' && c.key === key && ids.has(c.run)) this.reread([c.run])
    })
  }

  /** Reads `ids` again soon (new points of a run, incrementally while its data is small and raw). */
  reread(ids: Iterable<string>) {
    for (const id of ids) this.pending.add(id)
    this.schedule()
  }

  private schedule() {
    if (this.flushing) this.again = true
    if (this.timer || this.flushing) return
    this.timer = setTimeout(() => this.flush(), Math.max(0, 250 - (performance.now() - this.lastFlush)))
  }

  private async flush() {
    this.timer = null
    this.lastFlush = performance.now()
    this.flushing = true
    try {
      await this.flushOnce()
    } finally {
      this.flushing = false
    }
    // Changes that came while reading are read now (one flush at a time: no stale overwrite).
    if (this.again) {
      this.again = false
      this.schedule()
    }
  }

  private async flushOnce() {
    const ids = [...this.pending]
    this.pending.clear()
    const g = this.gen
    const updates = await Promise.all(
      ids.map(async (id): Promise<[string, Loaded] | null> => {
        const old = this.base.get(id)
        try {
          if (old && !old.downsampled && old.x.length > 0) {
            const more = await this.fetchSeries(id, { since: old.lastStep })
            // Still small enough to keep raw? Otherwise switch to the downsampled view.
            if (!more.downsampled && old.x.length + more.x.length <= this.src.maxPoints() * 2) return [id, appendRaw(old, more)]
          }
          return [id, await this.fetchSeries(id)]
        } catch {
          return null // the next change or resync retries
        }
      }),
    )
    if (g !== this.gen) return
    const next = new Map(this.base)
    for (const up of updates) if (up) next.set(up[0], up[1])
    this.base = next
  }

  // ---- zoom: refetch the visible range at full resolution (debounced) ----

  /** The user zoomed to [min, max]: its full-resolution data is fetched shortly after. */
  zoomTo(min: number, max: number) {
    this.zoom = { min, max }
    if (this.zoomTimer) clearTimeout(this.zoomTimer)
    this.zoomTimer = setTimeout(() => this.fetchDetail(min, max), 150)
  }

  private async fetchDetail(min: number, max: number) {
    const src = this.detail ?? { data: this.base }
    const ids = [...src.data.keys()]
    if (!ids.some((id) => src.data.get(id)!.downsampled)) return // everything is already raw
    const g = this.gen
    const data = new Map<string, Loaded>()
    await Promise.all(
      ids.map(async (id) => {
        const d = src.data.get(id)!
        const r = d.downsampled ? stepRange(d, min, max) : null
        if (!r) {
          data.set(id, d)
          return
        }
        try {
          data.set(id, await this.fetchSeries(id, r))
        } catch {
          data.set(id, d)
        }
      }),
    )
    if (g !== this.gen || !this.zoom || this.zoom.min !== min || this.zoom.max !== max) return
    this.detail = { min, max, data }
  }

  /** Back to the whole range. True when zoomed data was dropped (the chart redraws from `base`). */
  resetZoom(): boolean {
    this.zoom = null
    if (this.zoomTimer) clearTimeout(this.zoomTimer)
    if (!this.detail) return false
    this.detail = null
    return true
  }

  /** Stops pending timers (the chart is gone). */
  dispose() {
    if (this.timer) clearTimeout(this.timer)
    if (this.zoomTimer) clearTimeout(this.zoomTimer)
  }
}
