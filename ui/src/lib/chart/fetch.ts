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
