// Live updates: one EventSource on `/api/v1/events` for the whole app. Views subscribe to the
// changes they care about. A lost connection sets `live.connected = false` (the shell shows a
// banner) and EventSource reconnects by itself; on reconnect, and when the server says the client
// lagged (`resync`), subscribers get a `resync` so they reload instead of missing changes.

export type Change =
  | { type: 'run_created'; run: string; project: string; name: string; status: string }
  | { type: 'run_status'; run: string; project: string; status: string }
  | { type: 'points'; run: string; project: string; key: string; count: number; last_step: number }
  | { type: 'resync' }

type Listener = (c: Change) => void

export const live = $state({ connected: true, everConnected: false })

const listeners = new Set<Listener>()
let source: EventSource | null = null
let wasDown = false

function emit(c: Change) {
  for (const l of listeners) l(c)
}

export function startEvents() {
  if (source || typeof EventSource === 'undefined') return
  source = new EventSource('/api/v1/events')
  source.addEventListener('hello', () => {
    live.connected = true
    if (wasDown || live.everConnected) emit({ type: 'resync' })
    live.everConnected = true
    wasDown = false
  })
  for (const name of ['run_created', 'run_status', 'points']) {
    source.addEventListener(name, (e) => {
      try {
        emit(JSON.parse((e as MessageEvent).data) as Change)
      } catch {
        /* a malformed event is ignored; the next resync repairs any gap */
      }
    })
  }
  source.addEventListener('resync', () => emit({ type: 'resync' }))
  source.onerror = () => {
    live.connected = false
    wasDown = true
    // EventSource retries by itself unless the server answered with an error status.
    if (source && source.readyState === EventSource.CLOSED) {
      source = null
      setTimeout(startEvents, 2000)
    }
  }
}

/** Subscribe to changes; returns the unsubscribe function (use it in `$effect` cleanup). */
export function onChange(l: Listener): () => void {
  listeners.add(l)
  return () => listeners.delete(l)
}
