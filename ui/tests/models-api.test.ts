// The registry's typed client (lib/modelsApi.ts): the URLs it reads, the promote body it sends
// (as a JSON write), and the server's refusal surfacing as the error's message.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '../src/lib/api.svelte'
import { modelsApi } from '../src/lib/modelsApi'

type Sent = { url: string; method: string; contentType: string | null; body: unknown }

function serve(status: number, reply: unknown): Sent[] {
  const sent: Sent[] = []
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    sent.push({ url, method: init.method ?? 'GET', contentType: new Headers(init.headers).get('content-type'), body: init.body === undefined ? undefined : JSON.parse(String(init.body)) })
    return new Response(JSON.stringify(reply), { status, headers: { 'Content-Type': 'application/json' } })
  })
  return sent
}

afterEach(() => vi.unstubAllGlobals())

describe('models client', () => {
  it('lists models', async () => {
    const sent = serve(200, { models: [{ name: 'm', versions: 2, latest_version: 2, aliases: { champion: 2 } }] })
    const models = await modelsApi.list()
    expect(sent[0]).toMatchObject({ url: '/api/v1/models', method: 'GET', contentType: null })
    expect(models.map((m) => m.name)).toEqual(['m'])
  })
  it('reads one model by its encoded name', async () => {
    const sent = serve(200, { model: { name: 'a b/c' }, versions: [] })
    const d = await modelsApi.model('a b/c')
    expect(sent[0].url).toBe('/api/v1/models/a%20b%2Fc')
    expect(d.model.name).toBe('a b/c')
  })
  it('promotes with a JSON POST of name, alias and force', async () => {
    const sent = serve(200, { version: { name: 'm', version: 3 }, run: 'r1', value: 0.9, forced: false })
    const p = await modelsApi.promote('ab 1', { name: 'm', alias: 'champion', force: false })
    expect(sent[0]).toEqual({ url: '/api/v1/ab/ab%201/promote', method: 'POST', contentType: 'application/json', body: { name: 'm', alias: 'champion', force: false } })
    expect(p.version.version).toBe(3)
  })
  it("turns the server's refusal into its message", async () => {
    serve(400, { error_code: 'INVALID_PARAMETER_VALUE', message: 'the verdict is not that B is better; --force promotes anyway' })
    const e = await modelsApi.promote('x', { name: 'm' }).catch((e: unknown) => e)
    expect(e).toBeInstanceOf(ApiError)
    expect((e as ApiError).status).toBe(400)
    expect((e as ApiError).message).toMatch(/force promotes anyway/)
  })
})
