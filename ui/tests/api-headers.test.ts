// Every write the UI sends says `Content-Type: application/json` (the server requires it of
// writes as a CSRF barrier); reads send no Content-Type.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { api, requestHeaders } from '../src/lib/api.svelte'
import { launchApi } from '../src/lib/launchApi'

type Sent = { url: string; method: string; contentType: string | null; body: unknown }

function capture(): Sent[] {
  const sent: Sent[] = []
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers)
    sent.push({ url, method: init.method ?? 'GET', contentType: headers.get('content-type'), body: init.body === undefined ? undefined : JSON.parse(String(init.body)) })
    return new Response('{}', { status: 200, headers: { 'Content-Type': 'application/json' } })
  })
  return sent
}

afterEach(() => vi.unstubAllGlobals())

describe('request headers', () => {
  it('marks every write as JSON, reads not', () => {
    for (const m of ['POST', 'PUT', 'PATCH', 'DELETE', 'delete']) expect(requestHeaders(m)).toEqual({ 'Content-Type': 'application/json' })
    for (const m of ['GET', 'HEAD']) expect(requestHeaders(m)).toEqual({})
  })

  it('every write of the typed clients sends the header', async () => {
    const sent = capture()
    await api.edit('r1', { tags: { a: 'b' } })
    await api.remove('r1')
    await api.restore('r1')
    await launchApi.launch({ kind: 'command' } as never)
    await launchApi.cancel(3)
    await launchApi.sweep({} as never)
    await launchApi.startAb({} as never)
    expect(sent.map((s) => s.method)).toEqual(['PATCH', 'DELETE', 'POST', 'POST', 'POST', 'POST', 'POST'])
    for (const s of sent) expect(s.contentType, `${s.method} ${s.url}`).toBe('application/json')
    expect(sent[0].body).toEqual({ tags: { a: 'b' } })
    expect(sent[1].body).toBeUndefined()
  })

  it('reads send no Content-Type', async () => {
    const sent = capture()
    await api.run('r1')
    expect(sent).toHaveLength(1)
    expect(sent[0].contentType).toBeNull()
  })
})
