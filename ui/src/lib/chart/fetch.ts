// A small concurrency limit shared by every chart: a compare of 20 runs × many metrics queues its
// series requests instead of opening a hundred at once (the first charts then paint sooner).

const LIMIT = 8
let active = 0
const waiting: (() => void)[] = []

export async function limited<T>(f: () => Promise<T>): Promise<T> {
  // A finished request hands its slot straight to the next waiter, so `active` never overshoots.
  if (active >= LIMIT) await new Promise<void>((r) => waiting.push(r))
  else active++
  try {
    return await f()
  } finally {
    const next = waiting.shift()
    if (next) next()
    else active--
  }
}

/**
 * A small least-recently-used cache of finished runs' chart data, so a chart that is unmounted and
 * mounted again (metric filter, collapsed section, navigation back) draws at once.
 */
export class Lru<V> {
  private map = new Map<string, V>()
  constructor(private readonly cap: number) {}

  get(key: string): V | undefined {
    const v = this.map.get(key)
    if (v !== undefined) {
      this.map.delete(key)
      this.map.set(key, v)
    }
    return v
  }

  set(key: string, v: V) {
    this.map.delete(key)
    this.map.set(key, v)
    while (this.map.size > this.cap) this.map.delete(this.map.keys().next().value as string)
  }

  get size(): number {
    return this.map.size
  }
}
