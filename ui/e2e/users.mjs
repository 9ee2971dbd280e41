// The UI against a team server with users (issue 16 part 5): a store of its own with a reader
// (`rita`, READ on `demo`) and an editor (`eddy`, EDIT on `demo`), made with the real CLI's
// `users add`, `tokens create` and `projects grant` before `trackbench serve` starts; `eddy`
// creates a run through the API with his token, so the server stamps him as its owner. Each user
// browses in a context of their own, signed in with their token's cookie. Checks: the owner
// column and the run page's owner, the "mine" filter, and that the reader sees no edit controls
// while the editor does (EDIT: tag, rename, notes; delete needs MANAGE, which neither holds).
import { assert, assertEq, cleanup, cli, newPage, serve, tempStore, until } from './harness.mjs'

export function usersTests(b) {
  const folder = tempStore('users')
  let server = null
  const users = {}
  let eddyRun = ''

  async function signedIn(ctx, who) {
    const page = await newPage(b)
    await page.context().addCookies([{ name: 'trackbench_token', value: users[who], url: server.base }])
    ctx.page = page
    return page
  }

  async function openDemo(page) {
    await page.goto(`${server.base}/p/demo`)
    await page.waitForSelector('[data-testid="runs-table"] [data-testid="run-row"]')
  }

  const tests = [
    ['users: a reader and an editor made with the CLI; the editor logs a run that carries him as owner', async () => {
      cli(folder, ['demo'])
      for (const name of ['rita', 'eddy']) {
        cli(folder, ['users', 'add', name])
        users[name] = cli(folder, ['tokens', 'create', name]).trim()
        assert(/^tbu_[0-9a-f]{64}$/.test(users[name]), `a user token: ${users[name]}`)
      }
      cli(folder, ['projects', 'grant', 'demo', 'rita', 'read'])
      cli(folder, ['projects', 'grant', 'demo', 'eddy', 'edit'])
      server = await serve(folder, { token: 'e2e-users-' + Math.random().toString(36).slice(2) })
      const res = await fetch(`${server.base}/api/v1/runs`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${users.eddy}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ project: 'demo', name: 'eddy-run' }),
      })
      const body = await res.json()
      assert(res.ok, `eddy creates a run: ${res.status} ${JSON.stringify(body)}`)
      eddyRun = body.id ?? body.run?.id
      assert(eddyRun, `the new run's id in ${JSON.stringify(body)}`)
      const who = await (await fetch(`${server.base}/api/v1/whoami`, { headers: { Authorization: `Bearer ${users.rita}` } })).json()
      assertEq([who.user, who.admin, who.projects], ['rita', false, { demo: 'READ' }], 'whoami for the reader')
    }],

    ['users: the owner shows in the runs table and on the run page; "mine" keeps only the editor\'s run', async (ctx) => {
      const page = await signedIn(ctx, 'eddy')
      await openDemo(page)
      await page.waitForSelector('[data-testid="sort-owner"]')
      const row = page.locator(`[data-testid="run-row"][data-run-id="${eddyRun}"]`)
      assert(((await row.textContent()) ?? '').includes('eddy'), 'the owner in the run row')
      const all = await page.locator('[data-testid="run-row"]').count()
      assertEq(all, 7, 'the demo runs and eddy-run')
      await page.locator('[data-testid="mine-filter"]').check()
      await until(async () => (await page.locator('[data-testid="run-row"]').count()) === 1, 'only eddy\'s run')
      assertEq(await page.locator('[data-testid="run-link"]').allTextContents(), ['eddy-run'], 'mine')
      assert(page.url().includes('mine=1'), `the filter is in the URL: ${page.url()}`)
      await page.locator('[data-testid="mine-filter"]').uncheck()
      await until(async () => (await page.locator('[data-testid="run-row"]').count()) === all, 'every run again')
      await page.goto(`${server.base}/runs/${eddyRun}`)
      assertEq(await page.locator('[data-testid="run-owner"]').textContent(), 'eddy', 'the owner on the run page')
      await page.context().close()
    }],

    ['users: a reader sees no edit controls; an editor sees them, but no delete (MANAGE)', async (ctx) => {
      const reader = await signedIn(ctx, 'rita')
      await openDemo(reader)
      await reader.waitForSelector('[data-testid="read-only"]')
      for (const id of ['tag-button', 'delete-button']) assertEq(await reader.locator(`[data-testid="${id}"]`).count(), 0, `the reader's ${id}`)
      await reader.goto(`${server.base}/runs/${eddyRun}`)
      await reader.waitForSelector('[data-testid="run-owner"]')
      for (const id of ['tag-add', 'notes-add', 'run-delete']) assertEq(await reader.locator(`[data-testid="${id}"]`).count(), 0, `the reader's ${id}`)
      assertEq(await reader.locator('button[data-testid="run-name"]').count(), 0, 'the reader cannot rename')
      assertEq(reader.errors.filter((e) => !/EventSource|net::ERR/.test(e)), [], 'no errors for the reader')
      await reader.context().close()

      const editor = await signedIn(ctx, 'eddy')
      await openDemo(editor)
      await editor.waitForSelector('[data-testid="tag-button"]')
      assertEq(await editor.locator('[data-testid="read-only"]').count(), 0, 'no read-only label for the editor')
      assertEq(await editor.locator('[data-testid="delete-button"]').count(), 0, 'bulk delete needs MANAGE')
      await editor.goto(`${server.base}/runs/${eddyRun}`)
      await editor.waitForSelector('[data-testid="tag-add"]')
      for (const id of ['notes-add', 'tag-add']) assertEq(await editor.locator(`[data-testid="${id}"]`).count(), 1, `the editor's ${id}`)
      assertEq(await editor.locator('button[data-testid="run-name"]').count(), 1, 'the editor can rename')
      assertEq(await editor.locator('[data-testid="run-delete"]').count(), 0, 'delete needs MANAGE')
      // And the edit goes through: the server agrees with what the page offered.
      await editor.locator('[data-testid="tag-add"]').click()
      await editor.locator('[data-testid="tag-input"]').fill('stage=review')
      await editor.locator('[data-testid="tag-input"]').press('Enter')
      await editor.waitForSelector('[data-testid="run-tag"][data-key="stage"]')
      await editor.context().close()
    }],
  ]

  async function teardown() {
    if (server) await server.stop()
    cleanup(folder)
  }
  return { tests, teardown }
}
