// The run selection shared by the runs table, Compare and Export. Kept in sessionStorage so a
// reload keeps it; `window.trackbench.selection()` exposes it to the desktop shell.

const KEY = 'trackbench.selection'

function load(): string[] {
  try {
    const v = JSON.parse(sessionStorage.getItem(KEY) ?? '[]')
    return Array.isArray(v) ? v.filter((x) => typeof x === 'string') : []
  } catch {
    return []
  }
}

export const selection = $state({ ids: load() })

function save() {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(selection.ids))
  } catch {
    /* storage full or disabled: the selection lives for this page only */
  }
}

export function isSelected(id: string): boolean {
  return selection.ids.includes(id)
}

export function toggle(id: string, on?: boolean) {
  const has = selection.ids.includes(id)
  const want = on ?? !has
  if (want && !has) selection.ids = [...selection.ids, id]
  if (!want && has) selection.ids = selection.ids.filter((x) => x !== id)
  save()
}

export function setSelection(ids: string[]) {
  selection.ids = [...new Set(ids)]
  save()
}
