// URL paths → views: pure, so it is unit-tested without a browser (router.svelte.ts uses it).

export interface Route {
  path: string
  query: URLSearchParams
  /** The matched view and its path parameters. */
  view: 'projects' | 'runs' | 'run' | 'compare' | 'drift' | 'launch' | 'ab-list' | 'ab' | 'models' | 'model' | 'not-found'
  params: Record<string, string>
}

export function match(path: string): Pick<Route, 'view' | 'params'> {
  const parts = path.split('/').filter(Boolean).map((p) => decodeURIComponent(p))
  if (parts.length === 0) return { view: 'projects', params: {} }
  if (parts[0] === 'p' && parts.length === 2) return { view: 'runs', params: { project: parts[1] } }
  if (parts[0] === 'runs' && parts.length === 2) return { view: 'run', params: { id: parts[1] } }
  if (parts[0] === 'compare' && parts.length === 1) return { view: 'compare', params: {} }
  if (parts[0] === 'drift' && parts.length === 1) return { view: 'drift', params: {} }
  if (parts[0] === 'launch' && parts.length === 1) return { view: 'launch', params: {} }
  if (parts[0] === 'ab' && parts.length === 1) return { view: 'ab-list', params: {} }
  if (parts[0] === 'ab' && parts.length === 2) return { view: 'ab', params: { id: parts[1] } }
  if (parts[0] === 'models' && parts.length === 1) return { view: 'models', params: {} }
  if (parts[0] === 'models' && parts.length === 2) return { view: 'model', params: { name: parts[1] } }
  return { view: 'not-found', params: {} }
}


/** The page of registered model `name` (a name may hold spaces, `%`, `#`, `?`…). */
export function modelHref(name: string): string {
  return `/models/${encodeURIComponent(name)}`
}
