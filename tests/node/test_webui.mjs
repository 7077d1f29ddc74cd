// The web UI of minions-secure serve in a real browser: Debian's headless Chromium driven by
// playwright-core (pinned in package-lock.json). Started by test_serve_ui_e2e (C), which runs
// llm-sim, a supervisor and serve, and gives this script, in the environment:
//   MS_UI_URL        http://127.0.0.1:PORT (serve)
//   MS_UI_LOGIN      the one-time login URL serve printed
//   MS_UI_KEY        serve's API key (for the foreign-Host request)
//   MS_UI_ARTIFACTS  a folder for the screenshots (the build tree)
//   MS_UI_TEXT, MS_UI_PDF  a text file and a PDF to attach and upload
//   MS_UI_CHAT_PDF   a PDF to attach to a chat message
//   MS_UI_SIM_LOG    the supervisor engine's request log (what reached the model)
//   MS_UI_ROOT       serve's --context-root (MS_UI_TEXT is in it; ../outside.txt is not)
//   MS_UI_DOC_SHOT   optional: where to copy the README's screenshot
// Exit status 0 when every check passed; each failure is said on stderr.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, readFileSync, copyFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const URL_ = env('MS_UI_URL');
const LOGIN = env('MS_UI_LOGIN');
const KEY = env('MS_UI_KEY');
const ART = env('MS_UI_ARTIFACTS');
const TEXT = env('MS_UI_TEXT');
const PDF = env('MS_UI_PDF');
const SIM_LOG = env('MS_UI_SIM_LOG');
const ROOT = env('MS_UI_ROOT');
const CHAT_PDF = env('MS_UI_CHAT_PDF');
const STEP_MS = 60000;

let failures = 0;
function check(cond, what) {
  if (cond) {
    console.log(`ok   ${what}`);
  } else {
    failures++;
    console.error(`FAIL ${what}`);
  }
}

// A second, unrelated origin: a page that tries to use the gateway's API with the user's
// cookie (fetch with credentials), and to fire a simple no-cors POST (no preflight).
function foreignServer() {
  const page = `<!doctype html><html><head><title>foreign</title></head><body><script>
    const gw = ${JSON.stringify(URL_)};
    const out = {};
    (async () => {
      try {
        const r = await fetch(gw + '/v1/attestation', { credentials: 'include' });
        out.read = 'status ' + r.status + ' ' + (await r.text()).slice(0, 40);
      } catch (e) { out.read = 'blocked'; }
      try {
        await fetch(gw + '/v1/minions/runs', { method: 'POST', mode: 'no-cors', credentials: 'include',
          headers: { 'Content-Type': 'text/plain' },
          body: JSON.stringify({ call_params: { task: 'marker-cross-origin', context: 'x' } }) });
        out.post = 'sent';
      } catch (e) { out.post = 'blocked'; }
      try {
        await fetch(gw + '/v1/chat/completions', { method: 'POST', mode: 'no-cors', credentials: 'include',
          headers: { 'Content-Type': 'text/plain' },
          body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'marker-cross-origin' }] }) });
      } catch (e) { /* either way */ }
      document.title = 'done ' + JSON.stringify(out);
    })();
  </script></body></html>`;
  const srv = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(page);
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

// One request with a Host header that does not name serve (DNS rebinding), with the key.
function foreignHost() {
  const u = new URL(URL_);
  return new Promise((resolve) => {
    const req = http.request({ host: u.hostname, port: u.port, path: '/v1/models', method: 'GET',
      headers: { Host: `evil.example:${u.port}`, Authorization: `Bearer ${KEY}` } }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}

async function main() {
  const profile = mkdtempSync(join(tmpdir(), 'ms-webui-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  const foreign = await foreignServer();
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    page.setDefaultTimeout(STEP_MS);
    const csp = [];
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) csp.push(m.text()); });

    // Login: the one-time URL sets the session cookie and lands on the UI.
    const first = await page.goto(LOGIN);
    check(first && first.ok(), 'the login URL opens the UI');
    check(new URL(page.url()).pathname === '/', 'the login URL redirects to /');
    const again = await page.request.get(LOGIN, { maxRedirects: 0 });
    check(again.status() >= 400, `the login URL works once (again: ${again.status()})`);
    const root = await page.request.get(`${URL_}/`);
    const policy = root.headers()['content-security-policy'] || '';
    check(/default-src 'self'/.test(policy) && !/unsafe-inline|unsafe-eval/.test(policy),
          `the page has a strict Content-Security-Policy (${policy})`);

    // The attestation panel.
    await page.locator('#att-status.ok').waitFor();
    check((await page.locator('#att-status').textContent()).includes('Verified'), 'attestation: verified');
    check(await page.locator('#devmode').isVisible(), 'attestation: the DEVELOPMENT MODE banner shows');
    const facts = await page.locator('#att-facts').textContent();
    check(facts.includes('dev-key') && facts.includes('Valid until'), 'attestation: type and validity');
    check(await page.locator('#att-checks li.pass').count() > 0, 'attestation: the checks are listed');
    check(await page.locator('#att-evidence dd').count() > 0, 'attestation: evidence facts are listed');
    await page.screenshot({ path: join(ART, 'webui-attestation.png'), fullPage: true });

    // Chat: a streamed reply with a text attachment; model output is text, never HTML.
    await page.locator('#chat-input').fill('hello, what does the attached file say?');
    await page.locator('#chat-attach').setInputFiles([TEXT, CHAT_PDF]);
    await page.locator('#chat-send').click();
    const reply = page.locator('.msg.assistant .text').last();
    await page.waitForFunction(() => {
      const m = document.querySelectorAll('.msg.assistant .text');
      return m.length && m[m.length - 1].textContent.includes('attested supervisor');
    });
    check((await reply.textContent()).includes('<b>not bold</b>'), 'chat: markup in a reply is shown as text');
    check(await page.locator('.msg.assistant b').count() === 0, 'chat: no element made from model output');
    check(await page.locator('.msg.user .att').count() === 2, 'chat: the attachments are listed');
    const simLog = readFileSync(SIM_LOG, 'utf8');
    check(simLog.includes('ATTACHED-TEXT-MARKER'), 'chat: the text attachment reached the model');
    check(simLog.includes('CHAT-PDF-MARKER'), "chat: the PDF attachment's text reached the model");
    // a second turn carries the history
    await page.locator('#chat-input').fill('and again?');
    await page.locator('#chat-send').click();
    await page.waitForFunction(() => document.querySelectorAll('.msg.assistant .text').length === 2 &&
      document.querySelectorAll('.msg.assistant .text')[1].textContent.length > 0);
    await page.waitForFunction(() => !document.querySelector('#chat-send').disabled);
    check(await page.locator('.msg.error').count() === 0, 'chat: two turns, no error');
    await page.screenshot({ path: join(ART, 'webui-chat.png'), fullPage: true });

    // A Minion run over an uploaded PDF: progress, the answer, the log and its verification.
    await page.locator('#run-task').fill('What happened to badge 4471?');
    await page.locator('#run-files').setInputFiles(PDF);
    await page.locator('#run-go').click();
    await page.locator('#run-result').waitFor({ state: 'visible', timeout: 120000 });
    const answer = await page.locator('#run-answer').textContent();
    check(answer.includes('cloned in the car park'), `minion: the final answer (${answer})`);
    const rf = await page.locator('#run-facts').textContent();
    check(/\.ndjson/.test(rf), 'minion: the session log path is shown');
    check(rf.includes('VALID'), 'minion: the session log verifies as VALID');
    check((await page.locator('#run-docs').textContent()).includes('PDF'), 'minion: the PDF was read');
    check((await page.locator('#run-progress').textContent()).includes('Done'), 'minion: progress ended in Done');
    const shot = join(ART, 'serve-ui.png');
    await page.screenshot({ path: shot, fullPage: true });
    if (process.env.MS_UI_DOC_SHOT) copyFileSync(shot, process.env.MS_UI_DOC_SHOT);
    check(csp.length === 0, `no Content-Security-Policy violation on the page (${csp.join('; ')})`);

    // Another origin, with the user's cookie in the same browser, cannot use the API.
    const other = await ctx.newPage();
    await other.goto(`http://127.0.0.1:${foreign.address().port}/`);
    await other.waitForFunction(() => document.title.startsWith('done'));
    const result = JSON.parse((await other.title()).slice(5));
    check(result.read === 'blocked', `another origin cannot read the API (${result.read})`);
    await new Promise((r) => setTimeout(r, 500));
    check(!readFileSync(SIM_LOG, 'utf8').includes('marker-cross-origin'),
          'another origin cannot make the gateway call the model');
    await other.screenshot({ path: join(ART, 'webui-foreign-origin.png') });

    // The Minions API with the key: context paths under --context-root only.
    const api = async (body) => {
      const r = await fetch(`${URL_}/v1/minions/runs`, { method: 'POST',
        headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body) });
      return { status: r.status, json: await r.json() };
    };
    let r = await api({ call_params: { task: 'What happened to badge 4471?', context_paths: ['notes.txt'] } });
    check(r.status === 200 && r.json.success && r.json.result.final_answer.includes('car park') &&
          r.json.result.log_verification.verdict === 'valid' && r.json.exit_code === 0,
          `api: a run over a file under --context-root (${r.status})`);
    // Minions, streamed: documents, progress with jobs, the result last.
    const sr = await fetch(`${URL_}/v1/minions/runs`, { method: 'POST',
      headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ protocol: 'minions', stream: true,
        call_params: { task: 'Which door?', context: ['04:02 badge north-door granted\n\nnothing else'] } }) });
    const events = [];
    const text = await sr.text();
    for (const block of text.split('\n\n')) {
      const m = /^event: (\w+)\ndata: (.*)$/s.exec(block);
      if (m) events.push([m[1], JSON.parse(m[2])]);
    }
    const names = events.map((e) => e[0]);
    const last = events[events.length - 1] || ['', {}];
    check(sr.status === 200 && (sr.headers.get('content-type') || '').startsWith('text/event-stream'),
          `api: a streamed run is SSE (${sr.status})`);
    check(names[0] === 'documents' && last[0] === 'result' && names.filter((n) => n === 'result').length === 1,
          `api: documents first, the result last (${names.join(',')})`);
    check(events.some(([n, d]) => n === 'progress' && d.jobs_total > 0 && d.jobs_done === d.jobs_total),
          'api: progress counts the jobs done');
    check(last[1].success && last[1].result.final_answer.includes('north door') && last[1].result.jobs_run >= 1,
          'api: the Minions result (answer, jobs_run)');
    // Two runs at once, each with its own session and its own sealed log.
    const both = await Promise.all([1, 2].map(() => api({ call_params: { task: 'What happened to badge 4471?', context: 'x' } })));
    check(both.every((b) => b.status === 200 && b.json.success && b.json.result.log_verification.verdict === 'valid') &&
          both[0].json.result.log !== both[1].json.result.log, 'api: two runs at once, two valid logs');
    r = await api({ call_params: { task: 't', context_paths: [`${ROOT}/../outside.txt`] } });
    check(r.status === 400 && !r.json.success && r.json.result === null &&
          r.json.error.includes('--context-root'), `api: a path out of the root is refused (${r.status})`);
    r = await api({ remote_client: { supervisor_url: 'https://evil.example' }, call_params: { task: 't' } });
    check(r.status === 400 && r.json.error.includes('remote_client.supervisor_url'),
          `api: the request cannot choose the supervisor (${r.status})`);

    // A foreign Host header is refused, key or not.
    const fh = await foreignHost();
    check(fh.status >= 400 && fh.status < 500 && !fh.body.includes('"data"'),
          `a foreign Host header is refused (${fh.status})`);
  } finally {
    foreign.close();
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
  }
  check(existsSync(join(ART, 'serve-ui.png')), 'the screenshot is saved');
  console.log(failures ? `${failures} failed` : 'all passed');
  process.exit(failures ? 1 : 0);
}

main().catch((e) => {
  console.error(`FAIL ${e.stack || e}`);
  process.exit(1);
});
