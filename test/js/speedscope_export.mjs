// Runs the real speedscope (npm `speedscope`, its release build) in a
// headless Chromium on profiles written by pstats2callgrind: each file is
// handed to the app as its command line does (speedscope.loadFileFromBase64
// through #localProfilePath), imported by whichever importer speedscope
// picks, then exported with the app's Export button. Writes
// OUTDIR/<name>.speedscope.json and prints one JSON line per file:
//   {"file", "importer", "ok", "error"}
// usage: node speedscope_export.mjs CHROMIUM SPEEDSCOPE_DIR OUTDIR FILE...
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'

// playwright-core lives where test/js/install.sh put it: $JS_TOOLS/node_modules
const { chromium } = createRequire(process.env.JS_TOOLS + '/')('playwright-core')

const [exe, ssdir, outdir, ...files] = process.argv.slice(2).map(a => path.resolve(a))
const index = path.join(ssdir, 'dist', 'release', 'index.html')
const browser = await chromium.launch({
  executablePath: exe,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
})
const context = await browser.newContext({ acceptDownloads: true })
const page = await context.newPage()
let importer = null
const problems = []
page.on('console', m => {
  const t = m.text()
  const k = /^Importing as (.*)$/.exec(t)
  if (k) importer = k[1]
  if (m.type() === 'error') problems.push(t)
})
page.on('pageerror', e => problems.push(String(e)))
page.on('dialog', d => { problems.push('alert: ' + d.message()); d.dismiss() })
let failed = 0
// The first file is loaded with the page; the others through the same
// speedscope.loadFileFromBase64 in that page (the app stays up).
for (const [n, file] of files.entries()) {
  const name = path.basename(file)
  const b64 = fs.readFileSync(file).toString('base64')
  importer = null
  problems.length = 0
  let ok = false
  try {
    if (n === 0) {
      const loader = path.join(outdir, name + '.load.js')
      fs.writeFileSync(loader, `speedscope.loadFileFromBase64(${JSON.stringify(name)}, ${JSON.stringify(b64)})`)
      await page.goto('file://' + index + '#localProfilePath=' + loader)
      await page.getByText('Export').waitFor({ timeout: 30000 })
      fs.unlinkSync(loader)
    } else {
      await page.evaluate(([nm, data]) => window.speedscope.loadFileFromBase64(nm, data), [name, b64])
    }
    let json = null
    for (let tries = 0; tries < 100 && !json; tries++) {
      const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 30000 }),
        page.getByText('Export').click()])
      const text = fs.readFileSync(await dl.path(), 'utf8')
      if (JSON.parse(text).name === name) json = text
      else await page.waitForTimeout(50)
    }
    if (!json) throw new Error('speedscope did not load ' + name)
    fs.writeFileSync(path.join(outdir, name + '.speedscope.json'), json)
    ok = problems.length === 0 && importer !== null
    if (importer === null) problems.push('no importer took the file')
  } catch (e) {
    problems.push(String(e).split('\n')[0])
  }
  if (!ok) failed++
  console.log(JSON.stringify({ file, importer, ok, error: problems.slice(0, 3).join('; ') }))
}
await browser.close()
process.exit(failed ? 1 : 0)
