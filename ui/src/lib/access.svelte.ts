// Who the UI acts for and what they may do: the server's `GET /api/v1/whoami` (the user, or null
// for the server's own token; the admin flag; READ/EDIT/MANAGE per project), read once per page
// load. The pure helpers below decide what the pages show: a run's owner (the `trackbench.owner`
// tag the server stamps on a user's runs), whether a run is "mine", and whether edit controls
// (EDIT: rename, notes, tags, launch; MANAGE: delete, restore) appear. The server checks every
// request anyway; this only keeps controls off the page that would be refused. With the server's
// own token (single-user mode) or a server without `whoami`, everything stays allowed.
import { get, type Run } from './api.svelte'

/** The run tag that names a run's owner (the server's `trackbench_store::OWNER_TAG`). */
export const OWNER_TAG = 'trackbench.owner'

export type Permission = 'READ' | 'EDIT' | 'MANAGE'

export interface Whoami {
  /** The user, or null for the server's own token. */
  user: string | null
  admin: boolean
  /** Project name -> permission (projects with none are absent). */
  projects: Record<string, Permission>
}

/** Everything allowed: the server's own token, and the answer until `whoami` is in. */
export const EVERYONE: Whoami = { user: null, admin: true, projects: {} }

const RANK: Record<Permission, number> = { READ: 1, EDIT: 2, MANAGE: 3 }

/** Whether `who` holds at least `need` on `project`. */
export function allows(who: Whoami, project: string, need: Permission): boolean {
  if (who.admin) return true
  const have = who.projects[project]
  return have !== undefined && RANK[have] >= RANK[need]
}

/** May rename, tag, write notes on runs of `project`, and launch into it. */
export const canEdit = (who: Whoami, project: string) => allows(who, project, 'EDIT')
/** May delete and restore runs of `project`. */
export const canManage = (who: Whoami, project: string) => allows(who, project, 'MANAGE')

/** A run's owner from the runs list's `tags.trackbench.owner` column, or a run's tags. */
export function runOwner(run: Run, tags?: Record<string, string>): string | null {
  const v = tags ? tags[OWNER_TAG] : run.columns?.[`tags.${OWNER_TAG}`]
  return typeof v === 'string' && v !== '' ? v : null
}

/** Whether `run` is the signed-in user's own (never, for the server's own token). */
export const isMine = (run: Run, who: Whoami) => who.user !== null && runOwner(run) === who.user

/** The runs the "mine" filter keeps (all of them while it is off). */
export const mineOnly = (runs: Run[], who: Whoami, on: boolean) => (on && who.user !== null ? runs.filter((r) => isMine(r, who)) : runs)

/** Reads a `whoami` answer; anything unexpected counts as the single-user mode. */
export function parseWhoami(v: unknown): Whoami {
  if (!v || typeof v !== 'object') return EVERYONE
  const o = v as Record<string, unknown>
  const user = typeof o.user === 'string' ? o.user : null
  const projects: Record<string, Permission> = {}
  if (o.projects && typeof o.projects === 'object') {
    for (const [k, p] of Object.entries(o.projects as Record<string, unknown>)) {
      if (p === 'READ' || p === 'EDIT' || p === 'MANAGE') projects[k] = p
    }
  }
  return { user, admin: user === null || o.admin === true, projects }
}

/** The current answer (all allowed until it is in). */
export const access = $state<{ who: Whoami; loaded: boolean }>({ who: EVERYONE, loaded: false })

let started: Promise<void> | null = null

/** Asks the server once; a failure (an older server) leaves everything allowed. */
export function loadAccess(): Promise<void> {
  started ??= get<unknown>('/api/v1/whoami')
    .then((v) => {
      access.who = parseWhoami(v)
    })
    .catch(() => {})
    .finally(() => {
      access.loaded = true
    })
  return started
}
