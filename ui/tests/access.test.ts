// Unit tests of what the UI shows per user (lib/access.svelte.ts) and the owner column
// (views/runs/table.ts): owner, "mine", and which edit controls a permission allows.
import { describe, expect, it } from 'vitest'
import type { Run } from '../src/lib/api.svelte'
import { EVERYONE, OWNER_TAG, allows, canEdit, canManage, isMine, mineOnly, parseWhoami, runOwner, type Whoami } from '../src/lib/access.svelte'
import { OWNER_COLUMN, cellText, columnLabel, columnsParam, defaultColumns, discoverColumns, foldTags, sortable } from '../src/views/runs/table'

const run = (id: string, owner?: string, extra: Record<string, unknown> = {}): Run => ({
  id,
  name: id,
  project: 'vision',
  status: 'finished',
  group: null,
  notes: null,
  command: null,
  host: null,
  pid: null,
  git_commit: null,
  git_dirty: null,
  env: null,
  error: null,
  created_ms: 0,
  started_ms: null,
  ended_ms: null,
  heartbeat_ms: null,
  deleted: false,
  columns: { ...(owner ? { [`tags.${OWNER_TAG}`]: owner } : {}), ...extra },
})

const ana: Whoami = { user: 'ana', admin: false, projects: { vision: 'EDIT', audio: 'READ', nlp: 'MANAGE' } }

describe('permissions', () => {
  const check = (who: Whoami, project: string, expected: [boolean, boolean]) =>
    expect([canEdit(who, project), canManage(who, project)], `${who.user} on ${project}`).toEqual(expected)

  it('follow READ < EDIT < MANAGE per project', () => {
    check(ana, 'audio', [false, false])
    check(ana, 'vision', [true, false])
    check(ana, 'nlp', [true, true])
    check(ana, 'elsewhere', [false, false])
    expect(allows(ana, 'audio', 'READ')).toBe(true)
    expect(allows(ana, 'elsewhere', 'READ')).toBe(false)
  })

  it('allow everything to an admin and to the server token', () => {
    check({ user: 'root', admin: true, projects: {} }, 'vision', [true, true])
    check(EVERYONE, 'anything', [true, true])
  })

  it('read whoami answers, anything odd as the single-user mode', () => {
    expect(parseWhoami({ user: null, admin: true, projects: { a: 'MANAGE' } })).toEqual({ user: null, admin: true, projects: { a: 'MANAGE' } })
    expect(parseWhoami({ user: 'bo', admin: false, projects: { a: 'READ', b: 'OWNER', c: 3 } })).toEqual({ user: 'bo', admin: false, projects: { a: 'READ' } })
    // The server's own token is an admin whatever the flag says.
    expect(parseWhoami({ user: null, admin: false }).admin).toBe(true)
    expect(parseWhoami(null)).toEqual(EVERYONE)
    expect(parseWhoami('nope')).toEqual(EVERYONE)
  })
})

describe('owner and mine', () => {
  it('finds the owner in the runs list column or in the tags', () => {
    expect(runOwner(run('a', 'ana'))).toBe('ana')
    expect(runOwner(run('a'))).toBeNull()
    expect(runOwner(run('a'), { [OWNER_TAG]: 'bo' })).toBe('bo')
    expect(runOwner(run('a', 'ana'), {})).toBeNull()
  })

  it('keeps only the user\'s runs while "mine" is on', () => {
    const runs = [run('a', 'ana'), run('b', 'bo'), run('c')]
    expect(mineOnly(runs, ana, true).map((r) => r.id)).toEqual(['a'])
    expect(mineOnly(runs, ana, false)).toHaveLength(3)
    // The server's own token owns nothing: the filter is not offered and keeps every run.
    expect(mineOnly(runs, EVERYONE, true)).toHaveLength(3)
    expect(isMine(run('c'), { ...ana, user: null })).toBe(false)
  })
})

describe('the owner column', () => {
  it('shows the owner, is not sortable, and always comes with the runs list', () => {
    expect(columnLabel(OWNER_COLUMN)).toBe('Owner')
    expect(cellText(run('a', 'ana'), OWNER_COLUMN)).toBe('ana')
    expect(sortable(OWNER_COLUMN)).toBe(false)
    expect(columnsParam(['name', 'metrics.loss'], '')).toBe(`metrics.loss,tags.${OWNER_TAG}`)
    expect(columnsParam(['name', 'tags'], '')).toBe('tags.*')
  })

  it('is a default column only where runs have owners', () => {
    expect(defaultColumns(discoverColumns([run('a', 'ana'), run('b')]))).toContain(OWNER_COLUMN)
    expect(defaultColumns(discoverColumns([run('a'), run('b')]))).not.toContain(OWNER_COLUMN)
  })

  it('folds the owner tag with the bookkeeping tags', () => {
    expect(foldTags({ [OWNER_TAG]: 'ana', stage: 'x' })).toEqual({ user: [['stage', 'x']], system: [[OWNER_TAG, 'ana']] })
  })
})
