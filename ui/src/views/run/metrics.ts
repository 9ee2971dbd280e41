// Metric keys grouped for the run's charts: `sys/…` keys go to the System tab, the rest to the
// charts, in sections by prefix ("train/loss" -> "train"), like W&B's workspace.

export interface MetricSection {
  /** The prefix ("train"), or "" for keys without one. */
  name: string
  keys: string[]
}

export const isSystem = (key: string) => key.startsWith('sys/')

/** Sections shown first, in this order (what one opens a run to see); the rest alphabetically. */
const FIRST = ['train', 'val', 'valid', 'validation', 'eval', 'test']

/** Sections of `keys` by the part before the first "/" (after `strip`); no-prefix keys last. */
export function sections(keys: readonly string[], strip = ''): MetricSection[] {
  const map = new Map<string, string[]>()
  for (const k of keys) {
    const rest = strip && k.startsWith(strip) ? k.slice(strip.length) : k
    const slash = rest.indexOf('/')
    const name = slash > 0 ? rest.slice(0, slash) : ''
    let list = map.get(name)
    if (!list) map.set(name, (list = []))
    list.push(k)
  }
  const out = [...map.entries()].map(([name, ks]) => ({ name, keys: ks.sort(natural) }))
  const rank = (n: string) => (n === '' ? 99 : FIRST.includes(n.toLowerCase()) ? FIRST.indexOf(n.toLowerCase()) : 50)
  out.sort((a, b) => rank(a.name) - rank(b.name) || natural(a.name, b.name))
  return out
}

/** Natural order ("gpu2" before "gpu10"). */
export function natural(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true, sensitivity: 'base' })
}

/** Keys containing every whitespace-separated word of `filter` (case-insensitive). */
export function filterKeys(keys: readonly string[], filter: string): string[] {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean)
  if (words.length === 0) return [...keys]
  return keys.filter((k) => {
    const l = k.toLowerCase()
    return words.every((w) => l.includes(w))
  })
}

/**
 * Sections for `sys/…` keys: CPU, Memory, Disk, Network, one per GPU (`sys/gpu0/…`), then any
 * other nested prefix, then the rest ("Other").
 */
export function systemSections(keys: readonly string[]): MetricSection[] {
  const fixed: [string, RegExp][] = [
    ['CPU', /^sys\/(system_)?cpu/],
    ['Memory', /^sys\/(rss|system_memory|mem)/],
    ['Disk', /^sys\/disk/],
    ['Network', /^sys\/net/],
  ]
  const map = new Map<string, string[]>()
  const add = (name: string, k: string) => {
    let list = map.get(name)
    if (!list) map.set(name, (list = []))
    list.push(k)
  }
  for (const k of keys) {
    const hit = fixed.find(([, re]) => re.test(k))
    if (hit) {
      add(hit[0], k)
      continue
    }
    const rest = k.startsWith('sys/') ? k.slice(4) : k
    const slash = rest.indexOf('/')
    const gpu = /^gpu(\d+)$/i.exec(slash > 0 ? rest.slice(0, slash) : '')
    if (gpu) add(`GPU ${gpu[1]}`, k)
    else add(slash > 0 ? rest.slice(0, slash) : 'Other', k)
  }
  const rank = (n: string) => {
    const i = fixed.findIndex(([f]) => f === n)
    return i >= 0 ? i : n.startsWith('GPU ') ? 10 : n === 'Other' ? 30 : 20
  }
  return [...map.entries()]
    .map(([name, ks]) => ({ name, keys: ks.sort(natural) }))
    .sort((a, b) => rank(a.name) - rank(b.name) || natural(a.name, b.name))
}
