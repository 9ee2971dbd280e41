// Unit tests of URL → view matching (lib/router.svelte.ts) and wire floats (lib/api.svelte.ts).
import { describe, expect, it } from 'vitest'
import { num, url } from '../src/lib/api.svelte'
import { match, modelHref } from '../src/lib/routes'

describe('routes', () => {
  it('maps every view URL, decoding names', () => {
    expect(match('/')).toEqual({ view: 'projects', params: {} })
    expect(match('/p/my%20project')).toEqual({ view: 'runs', params: { project: 'my project' } })
    expect(match('/runs/abc')).toEqual({ view: 'run', params: { id: 'abc' } })
    expect(match('/compare')).toEqual({ view: 'compare', params: {} })
    expect(match('/launch')).toEqual({ view: 'launch', params: {} })
    expect(match('/ab')).toEqual({ view: 'ab-list', params: {} })
    expect(match('/ab/x1')).toEqual({ view: 'ab', params: { id: 'x1' } })
    expect(match('/p/a/b').view).toBe('not-found')
    expect(match('/nowhere').view).toBe('not-found')
  })
  it('maps the model registry pages, decoding model names', () => {
    expect(match('/models')).toEqual({ view: 'models', params: {} })
    expect(match('/models/')).toEqual({ view: 'models', params: {} })
    expect(match('/models/my%20model')).toEqual({ view: 'model', params: { name: 'my model' } })
    expect(match('/models/a/b').view).toBe('not-found')
  })
  it('builds model links that round-trip through match', () => {
    for (const name of ['plain', 'with space', 'odd%#?&name', 'ünï']) {
      const href = modelHref(name)
      expect(href.startsWith('/models/')).toBe(true)
      expect(href.slice('/models/'.length)).not.toMatch(/[ %#?&](?![0-9A-F]{2})/)
      expect(match(href)).toEqual({ view: 'model', params: { name } })
    }
  })
})

describe('api helpers', () => {
  it('reads non-finite floats from the wire', () => {
    expect(num('NaN')).toBeNaN()
    expect(num('Infinity')).toBe(Infinity)
    expect(num('-Infinity')).toBe(-Infinity)
    expect(num(1.5)).toBe(1.5)
    expect(num('x')).toBeNull()
  })
  it('builds query strings without empty parameters', () => {
    expect(url('/api/v1/runs', { project: 'a b', filter: '', limit: 5, x: undefined })).toBe('/api/v1/runs?project=a+b&limit=5')
  })
})
