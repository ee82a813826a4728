// Opens flame graph SVGs written by `pstats2callgrind --format svg` in a
// real headless Chromium (Debian's, driven by playwright-core) and checks
// that they work as a person uses them: the frames render with the sizes
// their data give, a click zooms (the frame fills the width, frames outside
// it hide, its ancestors stay), Reset Zoom restores, the Search button
// (a prompt) highlights exactly the frames whose label matches and reports
// their share. Prints one JSON line per file:
//   {"file", "frames", "ok", "errors": [...]}
// and writes a screenshot of the first file when SHOT names a PNG path.
// usage: node flame_check.mjs CHROMIUM REGEX FILE.svg...
import { createRequire } from 'node:module'

// playwright-core lives where test/js/install.sh put it: $JS_TOOLS/node_modules
const { chromium } = createRequire(process.env.JS_TOOLS + '/')('playwright-core')

const [exe, regex, ...files] = process.argv.slice(2)
const browser = await chromium.launch({
  executablePath: exe,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
})
let failed = 0
const page = await browser.newPage({ viewport: { width: 1200, height: 800 } })
const pageErrors = []
page.on('pageerror', e => pageErrors.push(String(e)))
page.on('dialog', d => d.accept(regex))

function frameState () {
  return [...document.querySelectorAll('#frames > g')].map(g => {
    const r = g.querySelector('rect')
    return {
      x: +g.getAttribute('data-x'), t: +g.getAttribute('data-t'), d: +g.getAttribute('data-d'),
      label: g.querySelector('title').textContent.split('\n')[0],
      rx: +r.getAttribute('x'), rw: +r.getAttribute('width'), fill: r.getAttribute('fill'),
      hidden: g.classList.contains('hide'),
    }
  })
}

for (const [n, file] of files.entries()) {
  const errors = []
  pageErrors.length = 0
  await page.goto('file://' + file)
  const total = await page.evaluate(() => +document.documentElement.getAttribute('data-total'))
  let fr = await page.evaluate(frameState)
  const span = 1200 - 2 * 10
  // the static drawing: each frame where its numbers put it, and painted
  for (const f of fr) {
    if (Math.abs(f.rx - (10 + f.x / total * span)) > 0.02 || Math.abs(f.rw - f.t / total * span) > 0.02)
      errors.push(`frame ${f.label} drawn at ${f.rx}+${f.rw}`)
    if (f.hidden)
      errors.push(`frame ${f.label} hidden before any zoom`)
  }
  // what Chromium lays out: the widest frame's box, and hidden ones not drawn
  const widest = await page.evaluate(() => Math.max(0, ...[...document.querySelectorAll('#frames > g rect')]
    .slice(0, 50).map(r => r.getBoundingClientRect().width)))
  if (fr.length && widest < 100)
    errors.push(`no frame is rendered wider than 100 px (${widest})`)
  if (n === 0 && process.env.SHOT)
    await page.screenshot({ path: process.env.SHOT })
  // zoom: click the widest frame of depth 1 (else the widest root)
  const cand = fr.map((f, i) => [f, i]).filter(([f]) => f.d === (fr.some(g => g.d === 1) ? 1 : 0))
    .sort((a, b) => b[0].t - a[0].t)[0]
  if (cand) {
    const [z, zi] = cand
    await page.locator('#frames > g').nth(zi).locator('rect').click({ force: true })
    fr = await page.evaluate(frameState)
    for (const f of fr) {
      const inside = f.d >= z.d && f.x >= z.x && f.x + f.t <= z.x + z.t
      const above = f.d < z.d && f.x <= z.x && f.x + f.t >= z.x + z.t
      if ((inside || above) === f.hidden)
        errors.push(`after zooming on ${z.label}: ${f.label} ${f.hidden ? 'hidden' : 'shown'}`)
      if (inside && Math.abs(f.rw - f.t / z.t * span) > 0.02)
        errors.push(`after zooming: ${f.label} is ${f.rw} px wide`)
    }
    if (Math.abs(fr[zi].rw - span) > 0.02)
      errors.push(`the zoomed frame is ${fr[zi].rw} px wide, not ${span}`)
    if (await page.locator('#unzoom').evaluate(e => e.classList.contains('hide')))
      errors.push('Reset Zoom not offered after a zoom')
    const drawn = await page.evaluate(() => [...document.querySelectorAll('#frames > g.hide')]
      .slice(0, 50).filter(g => g.getBoundingClientRect().width > 0).length)
    if (drawn)
      errors.push(`${drawn} frames hidden by the zoom are still drawn`)
    await page.locator('#unzoom').click()
    fr = await page.evaluate(frameState)
    if (fr.some(f => f.hidden))
      errors.push('frames still hidden after Reset Zoom')
  }
  // search through the button (the prompt is answered with REGEX)
  await page.locator('#search').click()
  fr = await page.evaluate(frameState)
  const re = new RegExp(regex)
  for (const f of fr)
    if (re.test(f.label) !== (f.fill === 'rgb(230,0,230)'))
      errors.push(`search ${regex}: ${f.label} ${re.test(f.label) ? 'not ' : ''}highlighted`)
  const matched = await page.locator('#matched').textContent()
  if (fr.some(f => re.test(f.label)) && !/^Matched: \d+ frames, [0-9.]+%/.test(matched))
    errors.push(`search reports "${matched}"`)
  errors.push(...pageErrors.map(e => 'page error: ' + e))
  if (errors.length)
    failed++
  console.log(JSON.stringify({ file, frames: fr.length, ok: errors.length === 0, errors: errors.slice(0, 5) }))
}
await browser.close()
process.exit(failed ? 1 : 0)
