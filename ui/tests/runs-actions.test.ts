// Unit tests of the runs page's keyboard (views/runs/keys.ts) and its actions on the selection
// (views/runs/bulk.ts): tag specs, bulk tag and delete against a fake API, compare.
import { beforeEach, describe, expect, it, vi } from 'vitest'

const fake = vi.hoisted(() => ({
  edits: [] as [string, unknown][],
  removed: [] as string[],
  failOn: '',
  navigated: [] as string[],
}))
vi.mock('../src/lib/api.svelte', () => ({
  api: {
    edit: async (id: string, body: unknown) => {
      if (id === fake.failOn) throw new Error('forbidden')
      fake.edits.push([id, body])
    },
    remove: async (id: string) => {
      if (id === fake.failOn) throw new Error('gone')
      fake.removed.push(id)
    },
  },
}))
vi.mock('../src/lib/router.svelte', () => ({
  hrefs: { compare: (ids: string[]) => `/compare?runs=${ids.join(',')}` },
  navigate: (to: string) => fake.navigated.push(to),
}))

import { compareSelection, deleteRuns, parseTagSpec, tagRuns } from '../src/views/runs/bulk'
import { isTyping, keyCommand } from '../src/views/runs/keys'
import { selection, setSelection } from '../src/lib/selection.svelte'

const key = (k: string, mods: Partial<{ metaKey: boolean; ctrlKey: boolean; altKey: boolean }> = {}) => ({ key: k, metaKey: false, ctrlKey: false, altKey: false, ...mods })

describe('keys', () => {
  it('knows when the user is typing', () => {
    expect(isTyping({ tagName: 'INPUT' })).toBe(true)
    expect(isTyping({ tagName: 'SELECT' })).toBe(true)
    expect(isTyping({ tagName: 'DIV', isContentEditable: true })).toBe(true)
    expect(isTyping({ tagName: 'DIV', isContentEditable: false })).toBe(false)
  })

  it('maps keys to commands, none while typing or with a modifier', () => {
    expect(['/', 'ArrowDown', 'j', 'ArrowUp', 'k', 'Enter', ' ', 'x', 'c', 'q'].map((k) => keyCommand(key(k), false))).toEqual([
      'filter', 'down', 'down', 'up', 'up', 'open', 'select', 'select', 'compare', null,
    ])
    expect(keyCommand(key('/'), true)).toBeNull()
    expect(keyCommand(key('j'), true)).toBeNull()
    expect(keyCommand(key('c', { metaKey: true }), false)).toBeNull()
    expect(keyCommand(key('ArrowDown', { altKey: true }), false)).toBeNull()
    expect(keyCommand(key('/', { ctrlKey: true }), false)).toBe('filter')
  })
})

describe('bulk actions', () => {
  beforeEach(() => {
    fake.edits = []
    fake.removed = []
    fake.failOn = ''
    fake.navigated = []
    setSelection([])
  })

  it('reads tag specs: key=value, a bare key as true, key= as removal', () => {
    expect(parseTagSpec(' stage = prod ')).toEqual({ key: 'stage', value: 'prod' })
    expect(parseTagSpec('best')).toEqual({ key: 'best', value: 'true' })
    expect(parseTagSpec('stage=')).toEqual({ key: 'stage', value: null })
    expect(parseTagSpec('a=b=c')).toEqual({ key: 'a', value: 'b=c' })
    expect(parseTagSpec(' =x')).toBeNull()
  })

  it('tags every run and says how it went', async () => {
    expect(await tagRuns(['a', 'b'], { key: 'stage', value: 'prod' })).toBe('Tagged 2 run(s) stage=prod.')
    expect(fake.edits).toEqual([
      ['a', { tags: { stage: 'prod' } }],
      ['b', { tags: { stage: 'prod' } }],
    ])
    expect(await tagRuns(['a'], { key: 'stage', value: null })).toBe('Tagged 1 run(s) stage (removed).')
    expect(fake.edits[2]).toEqual(['a', { tags: { stage: null } }])
    fake.failOn = 'b'
    expect(await tagRuns(['b'], { key: 'x', value: '1' })).toBe('Tagging failed: forbidden')
  })

  it('deletes runs and drops them from the selection', async () => {
    setSelection(['a', 'b', 'other'])
    expect(await deleteRuns(['a', 'b'])).toBe('Deleted 2 run(s).')
    expect(fake.removed).toEqual(['a', 'b'])
    expect(selection.ids).toEqual(['other'])
    setSelection(['c'])
    fake.failOn = 'c'
    expect(await deleteRuns(['c'])).toBe('Delete failed: gone')
    expect(selection.ids).toEqual(['c'])
  })

  it('compares the selection, if there is one', () => {
    compareSelection()
    expect(fake.navigated).toEqual([])
    setSelection(['a', 'b'])
    compareSelection()
    expect(fake.navigated).toEqual(['/compare?runs=a,b'])
  })
})
