// Unit tests of a metric chart's data loading (lib/chart/loader.svelte.ts): batched first loads,
// the cache of runs that are not live, per-run errors, metric changes, live incremental reads and
// the zoomed full-resolution refetch, against a fake series API.
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Series } from '../src/lib/api.svelte'
import { Lru } from '../src/lib/chart/fetch'
import { errorMessage, pointsFor, SeriesLoader, type SeriesQuery } from '../src/lib/chart/loader.svelte'
import type { Loaded, XMode } from '../src/lib/chart/series'
import type { Change } from '../src/lib/events.svelte'

// The app's event bus, replaced so a test can emit changes to the loader's subscription.
const listeners = vi.hoisted(() => new Set<(c: Change) => void>())
vi.mock('../src/lib/events.svelte', () => ({
  onChange: (f: (c: Change) => void) => {
    listeners.add(f)
    return () => listeners.delete(f)
  },
}))

const raw = (steps: number[], values: number[]): Series => ({
  downsampled: false,
  key: 'loss',
  total: steps.length,
  x: 'step',
  points: { steps, values, wall_ms: steps.map((s) => 1000 + s), x: null },
})

const buckets = (x: number[], last: number[], total = 10_000): Series => ({
  downsampled: true,
  key: 'loss',
  total,
  x: 'step',
  method: 'minmax',
  buckets: { x, count: x.map(() => 10), min: last.map((v) => v - 1), max: last.map((v) => v + 1), last, last_step: x },
})

interface Call {
  id: string
  q: SeriesQuery
}

/** A fake series API: `answer` decides each reply; every call is recorded. */
function fakeApi(answer: (id: string, q: SeriesQuery) => Series | Promise<Series>) {
  const calls: Call[] = []
  const fetch = async (id: string, q: SeriesQuery) => {
    calls.push({ id, q })
    return answer(id, q)
  }
  return { calls, fetch }
}

function source(over: Partial<{ metric: string; xMode: XMode; live: boolean; points: number }> = {}) {
  const s = { metric: 'loss', xMode: 'step' as XMode, live: false, points: 500, ...over }
  return {
    s,
    src: {
      get metric() {
        return s.metric
      },
      get xMode() {
        return s.xMode
      },
      get live() {
        return s.live
      },
      maxPoints: () => s.points,
    },
  }
}

/** Resolves once `cond` holds (polling the microtask/timer queue). */
async function until(cond: () => boolean, ms = 2000) {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 5))
  }
}

function deferred<T>() {
  let resolve!: (v: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

const ys = (d: Loaded | undefined) => d?.y

afterEach(() => {
  vi.useRealTimers()
})

describe('pointsFor and errorMessage', () => {
  it('asks for about one point per pixel, within 200..2000', () => {
    expect(pointsFor(640.4)).toBe(640)
    expect(pointsFor(10)).toBe(200)
    expect(pointsFor(5000)).toBe(2000)
  })
  it('shows an error by its message', () => {
    expect(errorMessage(new Error('boom'))).toBe('boom')
    expect(errorMessage('plain')).toBe('plain')
  })
})

describe('SeriesLoader.load', () => {
  it('applies every run together once all have answered, asking at the chart width', async () => {
    const a = deferred<Series>()
    const b = deferred<Series>()
    const api = fakeApi((id) => (id === 'a' ? a.promise : b.promise))
    const { src } = source({ points: 321 })
    const l = new SeriesLoader(src, { fetch: api.fetch, cache: new Lru(10) })
    expect(l.loading).toBe(true)
    l.load(['a', 'b'])
    expect(api.calls.map((c) => c.id)).toEqual(['a', 'b'])
    expect(api.calls[0].q).toEqual({ key: 'loss', x: 'step', max_points: 321 })
    a.resolve(raw([0, 1], [1, 2]))
    await until(() => api.calls.length === 2)
    await new Promise((r) => setTimeout(r, 10))
    expect(l.base.size).toBe(0) // b has not answered: nothing is applied yet
    expect(l.loading).toBe(true)
    b.resolve(raw([0, 1], [3, 4]))
    await until(() => !l.loading)
    expect(ys(l.base.get('a'))).toEqual([1, 2])
    expect(ys(l.base.get('b'))).toEqual([3, 4])
    // Nothing missing: no new request, and runs no longer charted are dropped.
    l.load(['b'])
    expect(api.calls).toHaveLength(2)
    expect([...l.base.keys()]).toEqual(['b'])
    expect(l.loading).toBe(false)
  })

  it('serves finished runs from the cache, but never caches live ones', async () => {
    const api = fakeApi(() => raw([0], [7]))
    const cache = new Lru<Loaded>(10)
    const first = new SeriesLoader(source().src, { fetch: api.fetch, cache })
    first.load(['a'])
    await until(() => !first.loading)
    const again = new SeriesLoader(source().src, { fetch: api.fetch, cache })
    again.load(['a'])
    await until(() => !again.loading)
    expect(api.calls).toHaveLength(1)
    expect(ys(again.base.get('a'))).toEqual([7])
    // Another width is another cache entry.
    const wider = new SeriesLoader(source({ points: 900 }).src, { fetch: api.fetch, cache })
    wider.load(['a'])
    await until(() => !wider.loading)
    expect(api.calls).toHaveLength(2)

    const liveCache = new Lru<Loaded>(10)
    for (let i = 0; i < 2; i++) {
      const l = new SeriesLoader(source({ live: true }).src, { fetch: api.fetch, cache: liveCache })
      l.load(['a'])
      await until(() => !l.loading)
    }
    expect(api.calls).toHaveLength(4)
    expect(liveCache.size).toBe(0)
  })

  it('keeps each failed run as an error with empty data', async () => {
    const api = fakeApi((id) => (id === 'bad' ? Promise.reject(new Error('no such run')) : raw([0], [1])))
    const l = new SeriesLoader(source().src, { fetch: api.fetch, cache: new Lru(10) })
    l.load(['ok', 'bad'])
    await until(() => !l.loading)
    expect([...l.errors]).toEqual([['bad', 'no such run']])
    expect(l.base.get('bad')?.x).toEqual([])
    expect(ys(l.base.get('ok'))).toEqual([1])
    l.load(['ok'])
    expect(l.errors.size).toBe(0)
  })

  it('starts over when the metric changes, dropping answers for the old one', async () => {
    const slow = deferred<Series>()
    const api = fakeApi((_id, q) => (q.key === 'loss' ? slow.promise : raw([0], [42])))
    const { s, src } = source()
    const l = new SeriesLoader(src, { fetch: api.fetch, cache: new Lru(10) })
    l.load(['a'])
    s.metric = 'acc'
    l.load(['a'])
    expect(api.calls.map((c) => c.q.key)).toEqual(['loss', 'acc'])
    await until(() => !l.loading)
    expect(ys(l.base.get('a'))).toEqual([42])
    slow.resolve(raw([0], [1]))
    await new Promise((r) => setTimeout(r, 10))
    expect(ys(l.base.get('a'))).toEqual([42])
  })
})

describe('SeriesLoader live reads', () => {
  it('appends new points of a small raw run with a since= read', async () => {
    const api = fakeApi((_id, q) => (q.since !== undefined ? raw([2, 3], [30, 40]) : raw([0, 1], [10, 20])))
    const l = new SeriesLoader(source({ live: true }).src, { fetch: api.fetch, cache: new Lru(10) })
    l.load(['a'])
    await until(() => !l.loading)
    l.reread(['a'])
    l.reread(['a']) // coalesced into one read
    await until(() => l.base.get('a')!.x.length === 4)
    expect(api.calls.slice(1).map((c) => c.q.since)).toEqual([1])
    expect(ys(l.base.get('a'))).toEqual([10, 20, 30, 40])
  })

  it('reads a downsampled run whole again', async () => {
    let n = 0
    const api = fakeApi(() => (n++ === 0 ? buckets([0, 100], [1, 2]) : buckets([0, 100, 200], [1, 2, 3])))
    const l = new SeriesLoader(source({ live: true }).src, { fetch: api.fetch, cache: new Lru(10) })
    l.load(['a'])
    await until(() => !l.loading)
    l.reread(['a'])
    await until(() => l.base.get('a')!.x.length === 3)
    expect(api.calls[1].q.since).toBeUndefined()
    expect(l.base.get('a')!.downsampled).toBe(true)
  })

  it('switches to the downsampled view once raw data outgrows twice the chart width', async () => {
    const many = Array.from({ length: 350 }, (_, i) => i + 2)
    const api = fakeApi((_id, q) => (q.since !== undefined ? raw(many, many) : api.calls.length > 1 ? buckets([0, 300], [5, 6]) : raw([0, 1], [0, 1])))
    const l = new SeriesLoader(source({ live: true, points: 100 }).src, { fetch: api.fetch, cache: new Lru(10) })
    l.load(['a'])
    await until(() => !l.loading)
    l.reread(['a'])
    await until(() => l.base.get('a')!.downsampled)
    expect(api.calls.map((c) => c.q.since)).toEqual([undefined, 1, undefined])
  })

  it('follows points events of its metric and runs, and resyncs', () => {
    const l = new SeriesLoader(source({ live: true }).src, { fetch: fakeApi(() => raw([], [])).fetch, cache: new Lru(10) })
    const reread = vi.spyOn(l, 'reread').mockImplementation(() => {})
    const off = l.follow(new Set(['a', 'b']), 'loss')
    const emit = (c: Change) => listeners.forEach((f) => f(c))
    const points = (run: string, key: string): Change => ({ type: 'points', run, project: 'p', key, count: 1, last_step: 5 })
    emit(points('a', 'loss'))
    emit(points('a', 'acc'))
    emit(points('c', 'loss'))
    emit({ type: 'run_status', run: 'a', project: 'p', status: 'finished' })
    expect(reread.mock.calls.map((c) => [...c[0]])).toEqual([['a']])
    emit({ type: 'resync' })
    expect([...reread.mock.calls[1][0]].sort()).toEqual(['a', 'b'])
    off()
    emit(points('b', 'loss'))
    expect(reread).toHaveBeenCalledTimes(2)
  })
})

describe('SeriesLoader zoom', () => {
  it('refetches a zoomed range of downsampled runs at full resolution, and drops it on reset', async () => {
    vi.useFakeTimers()
    const api = fakeApi((id, q) => (q.min_step !== undefined ? raw([40, 50, 60], [4, 5, 6]) : id === 'a' ? buckets([0, 30, 70, 100], [0, 3, 7, 10]) : raw([0, 50], [1, 1])))
    const l = new SeriesLoader(source().src, { fetch: api.fetch, cache: new Lru(10) })
    l.load(['a', 'b'])
    await vi.waitFor(() => expect(l.loading).toBe(false))
    l.zoomTo(40, 60)
    l.zoomTo(45, 60) // debounced: only the last range is read
    expect(l.zoom).toEqual({ min: 45, max: 60 })
    await vi.advanceTimersByTimeAsync(200)
    expect(api.calls.slice(2)).toEqual([{ id: 'a', q: { key: 'loss', x: 'step', max_points: 500, min_step: 31, max_step: 70 } }])
    expect(l.detail).toMatchObject({ min: 45, max: 60 })
    expect(ys(l.detail!.data.get('a'))).toEqual([4, 5, 6])
    expect(l.detail!.data.get('b')).toBe(l.base.get('b')) // raw runs are kept as they are
    expect(l.resetZoom()).toBe(true)
    expect(l.detail).toBeNull()
    expect(l.zoom).toBeNull()
    expect(l.resetZoom()).toBe(false)
  })

  it('fetches nothing when every run is raw already, and drops a refetch the user zoomed away from', async () => {
    vi.useFakeTimers()
    const slow = deferred<Series>()
    let downsampled = false
    const api = fakeApi((_id, q) => (q.min_step !== undefined ? slow.promise : downsampled ? buckets([0, 100], [0, 10]) : raw([0, 100], [0, 10])))
    const l = new SeriesLoader(source().src, { fetch: api.fetch, cache: new Lru(10) })
    l.load(['a'])
    await vi.waitFor(() => expect(l.loading).toBe(false))
    l.zoomTo(10, 20)
    await vi.advanceTimersByTimeAsync(200)
    expect(api.calls).toHaveLength(1)
    expect(l.detail).toBeNull()

    downsampled = true
    const m = new SeriesLoader(source().src, { fetch: api.fetch, cache: new Lru(10) })
    m.load(['a'])
    await vi.waitFor(() => expect(m.loading).toBe(false))
    m.zoomTo(10, 20)
    await vi.advanceTimersByTimeAsync(200)
    expect(api.calls.at(-1)!.q.min_step).toBe(1)
    m.zoomTo(12, 20) // zoomed elsewhere while the first range was read
    slow.resolve(raw([10, 20], [1, 2]))
    await vi.advanceTimersByTimeAsync(10)
    expect(m.detail).toBeNull()
    await vi.advanceTimersByTimeAsync(200)
    expect(m.detail).toMatchObject({ min: 12, max: 20 })
  })
})
