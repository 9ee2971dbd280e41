// History-API routing: every view has a real URL, so back/forward, reload and links work.
// `route` is reactive; `navigate` pushes (or replaces) an entry; links to "/…" are intercepted in
// `interceptLinks` so they do not reload the page.

import { match, type Route } from './routes'

export { match, type Route }

function current(): Route {
  return { path: location.pathname, query: new URLSearchParams(location.search), ...match(location.pathname) }
}

export const route: Route = $state(current())

function refresh() {
  Object.assign(route, current())
}

export function navigate(to: string, opts: { replace?: boolean } = {}) {
  if (to === location.pathname + location.search) return
  history[opts.replace ? 'replaceState' : 'pushState'](null, '', to)
  refresh()
}

/** Replace one query parameter of the current URL (a view's state: filter, sort, tab…). */
export function setQuery(changes: Record<string, string | null | undefined>, opts: { replace?: boolean } = { replace: true }) {
  const q = new URLSearchParams(location.search)
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === undefined || v === '') q.delete(k)
    else q.set(k, v)
  }
  const s = q.toString()
  navigate(location.pathname + (s ? `?${s}` : ''), opts)
}

export const hrefs = {
  project: (p: string) => `/p/${encodeURIComponent(p)}`,
  run: (id: string) => `/runs/${encodeURIComponent(id)}`,
  compare: (ids: string[]) => `/compare?runs=${ids.map(encodeURIComponent).join(',')}`,
  ab: (id: string) => `/ab/${encodeURIComponent(id)}`,
}

export function interceptLinks() {
  window.addEventListener('popstate', refresh)
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
    const a = (e.target as Element | null)?.closest?.('a')
    if (!a || a.target || a.hasAttribute('download')) return
    const href = a.getAttribute('href')
    if (!href || !href.startsWith('/') || href.startsWith('//') || href.startsWith('/api/')) return
    e.preventDefault()
    navigate(href)
  })
}
