// The web UI of minions-secure serve (docs/serve.md): plain JavaScript, no framework, nothing
// fetched but this gateway's own API. Every text that comes from a model, a document or the
// gateway is put into the page with textContent, never as HTML.
'use strict';

const MAX_TEXT_ATTACHMENT = 1 << 20; // bytes of one text file attached to a chat message

const $ = (id) => document.getElementById(id);

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function fact(dl, name, value) {
  dl.appendChild(el('dt', null, name));
  dl.appendChild(el('dd', null, value));
}

function fatal(text) {
  const f = $('fatal');
  f.textContent = text;
  f.hidden = false;
}

// The gateway answers errors as OpenAI's error object.
async function errorOf(resp) {
  try {
    const j = await resp.json();
    if (j && j.error && j.error.message) return `${resp.status}: ${j.error.message}`;
  } catch (e) { /* not JSON */ }
  return `HTTP ${resp.status}`;
}

// --- the attestation panel -----------------------------------------------------------------

// Nested evidence fields as rows "a.b.c = value".
function flatten(prefix, v, out) {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const k of Object.keys(v)) flatten(prefix ? `${prefix}.${k}` : k, v[k], out);
  } else if (Array.isArray(v)) {
    v.forEach((x, i) => flatten(`${prefix}[${i}]`, x, out));
  } else {
    out.push([prefix, v]);
  }
}

async function loadAttestation() {
  const status = $('att-status');
  const facts = $('att-facts');
  const evid = $('att-evidence');
  const checks = $('att-checks');
  status.className = 'status';
  status.textContent = 'Asking the gateway\u2026';
  facts.replaceChildren();
  evid.replaceChildren();
  checks.replaceChildren();
  let a;
  try {
    const resp = await fetch('/v1/attestation', { credentials: 'same-origin' });
    if (resp.status === 401) {
      fatal('Not logged in: open the login URL that minions-secure serve printed at start (it works once).');
    }
    if (!resp.ok) throw new Error(await errorOf(resp));
    a = await resp.json();
  } catch (e) {
    status.className = 'status bad';
    status.textContent = `Cannot read what was verified: ${e.message}`;
    return;
  }
  const report = a.report || {};
  const good = a.verified && report.ok !== false;
  status.className = good ? 'status ok' : 'status bad';
  status.textContent = good ? 'Verified: every check of the policy passed.'
                            : 'NOT verified: see the checks below.';
  $('devmode').hidden = !a.dev_mode;
  fact(facts, 'Evidence type', a.evidence_type);
  fact(facts, 'Mode', a.mode);
  fact(facts, 'Valid until', a.valid_until);
  fact(facts, 'Supervisor', a.supervisor_url);
  fact(facts, 'TLS', a.tls);
  if (a.dev_key) fact(facts, 'Dev key', a.dev_key);
  if (a.sessions) {
    fact(facts, 'Sessions', `${a.sessions.busy}/${a.sessions.pool} busy, ${a.sessions.handshakes} handshakes`);
  }
  if (report.evidence) {
    const rows = [];
    flatten('', report.evidence, rows);
    for (const [k, v] of rows) fact(evid, k, v);
  }
  for (const c of report.checks || []) {
    const r = String(c.result || '').toLowerCase();
    const cls = r === 'pass' ? 'pass' : (r === 'fail' ? 'fail' : 'other');
    const detail = c.detail || c.message || '';
    checks.appendChild(el('li', cls, detail ? `${c.name}: ${detail}` : c.name));
  }
}

// --- Server-Sent Events over fetch ---------------------------------------------------------

// Calls onEvent(name, data) for each event of the body; resolves when the body ends.
async function readSSE(resp, onEvent) {
  const reader = resp.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let at;
    while ((at = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, at);
      buf = buf.slice(at + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) name = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length) onEvent(name, data.join('\n'));
    }
  }
}

// --- chat ----------------------------------------------------------------------------------

const history = []; // the conversation, kept in the page only

function readFile(file, how) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    if (how === 'url') r.readAsDataURL(file); else r.readAsText(file);
  });
}

async function takeAttachments() {
  const input = $('chat-attach');
  const out = [];
  for (const f of input.files) {
    if (/^image\/(png|jpeg|webp|gif)$/.test(f.type)) {
      out.push({ kind: 'image', name: f.name, url: await readFile(f, 'url') });
    } else if (/\.pdf$/i.test(f.name) || f.type === 'application/pdf') {
      // read by serve (in memory), attached as its text, as `chat` attaches a PDF
      const resp = await fetch('/v1/minions/documents', {
        method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: f.name.endsWith('.pdf') ? f.name : `${f.name}.pdf`,
                               data: base64Of(await readFile(f, 'url')) }),
      });
      if (!resp.ok) throw new Error(`${f.name}: ${await errorOf(resp)}`);
      const d = await resp.json();
      out.push({ kind: 'PDF', name: f.name, text: d.text.replace(/\f/g, '\n\n') });
    } else {
      if (f.size > MAX_TEXT_ATTACHMENT) throw new Error(`${f.name}: over 1 MiB of text`);
      out.push({ kind: 'text', name: f.name, text: await readFile(f, 'text') });
    }
  }
  return out;
}

function showMessage(role, text, attachments) {
  const m = el('div', `msg ${role}`);
  m.appendChild(el('span', 'who', role === 'user' ? 'you' : (role === 'assistant' ? 'model' : 'error')));
  for (const a of attachments || []) m.appendChild(el('span', 'att', `attached: ${a.name} (${a.kind})`));
  const body = el('span', 'text', text);
  m.appendChild(body);
  $('chat-log').appendChild(m);
  $('chat-log').scrollTop = $('chat-log').scrollHeight;
  return body;
}

// The message as the API takes it: text (attached text files inlined), images as parts.
function contentOf(text, atts) {
  let t = text;
  for (const a of atts.filter((x) => x.kind !== 'image')) {
    t += `\n\n--- attached file: ${a.name} ---\n${a.text}\n--- end of ${a.name} ---`;
  }
  const images = atts.filter((x) => x.kind === 'image');
  if (!images.length) return t;
  return [{ type: 'text', text: t }, ...images.map((a) => ({ type: 'image_url', image_url: { url: a.url } }))];
}

async function sendChat(ev) {
  ev.preventDefault();
  const input = $('chat-input');
  const text = input.value.trim();
  if (!text) return;
  let atts;
  try {
    atts = await takeAttachments();
  } catch (e) {
    showMessage('error', e.message);
    return;
  }
  $('chat-send').disabled = true;
  showMessage('user', text, atts);
  history.push({ role: 'user', content: contentOf(text, atts) });
  input.value = '';
  $('chat-attach').value = '';
  $('chat-files').textContent = '';
  const out = showMessage('assistant', '');
  let reply = '';
  let done = false;
  let failed = null;
  try {
    const resp = await fetch('/v1/chat/completions', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'minions-secure', messages: history, stream: true,
                             stream_options: { include_usage: true } }),
    });
    if (!resp.ok) throw new Error(await errorOf(resp));
    await readSSE(resp, (name, data) => {
      if (data === '[DONE]') { done = true; return; }
      const j = JSON.parse(data);
      if (j.error) { failed = j.error.message || 'the stream failed'; return; }
      const d = j.choices && j.choices[0] && j.choices[0].delta;
      if (d && typeof d.content === 'string') {
        reply += d.content;
        out.textContent = reply;
        $('chat-log').scrollTop = $('chat-log').scrollHeight;
      }
    });
    if (!done && !failed) failed = 'the stream was cut: the reply above is INCOMPLETE';
  } catch (e) {
    failed = e.message;
  }
  if (failed) {
    showMessage('error', failed);
    history.pop(); // not answered: the next message starts from the last complete exchange
  } else {
    history.push({ role: 'assistant', content: reply });
  }
  $('chat-send').disabled = false;
}

// --- Minion / Minions runs -----------------------------------------------------------------

function base64Of(dataUrl) {
  const at = dataUrl.indexOf(',');
  return at >= 0 ? dataUrl.slice(at + 1) : '';
}

function showResult(r) {
  const box = $('run-result');
  const facts = $('run-facts');
  box.hidden = false;
  facts.replaceChildren();
  const res = r.result || {};
  $('run-answer').textContent = res.final_answer != null ? res.final_answer
    : `No answer: ${r.error || res.outcome || 'the run failed'}`;
  fact(facts, 'Outcome', res.outcome || (r.success ? 'answer' : 'failed'));
  if (res.rounds !== undefined) fact(facts, 'Rounds', res.rounds);
  if (res.jobs_run !== undefined) fact(facts, 'Jobs', `${res.jobs_run} run, ${res.jobs_failed} failed`);
  if (res.evidence) fact(facts, 'Evidence', `${res.evidence.type} (${res.evidence.mode})`);
  fact(facts, 'Session log', res.log || 'none');
  if (res.log_verification) {
    const v = res.log_verification;
    fact(facts, 'Log verification', `${v.verdict.toUpperCase()}: ${v.events} events, signed by ${v.key.slice(0, 16)}\u2026`);
  }
  if (!r.success && r.error) fact(facts, 'Error', r.error);
}

async function sendRun(ev) {
  ev.preventDefault();
  const task = $('run-task').value.trim();
  if (!task) return;
  const progress = $('run-progress');
  const docs = $('run-docs');
  $('run-go').disabled = true;
  $('run-result').hidden = true;
  docs.textContent = '';
  progress.className = 'status';
  progress.textContent = 'Reading the documents\u2026';
  let gotResult = false;
  try {
    const uploads = [];
    for (const f of $('run-files').files) {
      uploads.push({ name: f.name, data: base64Of(await readFile(f, 'url')) });
    }
    const body = {
      protocol: $('run-protocol').value,
      call_params: { task, max_rounds: Number($('run-rounds').value) || 3 },
      uploads,
      stream: true,
    };
    const resp = await fetch('/v1/minions/runs', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!resp.ok) throw new Error(await errorOf(resp));
    progress.textContent = 'Verifying the supervisor\u2026';
    await readSSE(resp, (name, data) => {
      const j = JSON.parse(data);
      if (name === 'documents') {
        docs.textContent = `Documents: ${j.summary}`;
      } else if (name === 'progress') {
        const jobs = j.jobs_total ? ` \u00b7 jobs ${j.jobs_done}/${j.jobs_total}` : '';
        progress.textContent = `Round ${j.round}/${j.max_rounds} \u00b7 ${j.phase || ''}${jobs}`;
      } else if (name === 'result') {
        gotResult = true;
        progress.className = j.success ? 'status ok' : 'status bad';
        progress.textContent = j.success ? 'Done.' : 'The run did not give an answer.';
        showResult(j);
      }
    });
    if (!gotResult) throw new Error('the stream was cut before the result');
  } catch (e) {
    progress.className = 'status bad';
    progress.textContent = `The run failed: ${e.message}`;
  }
  $('run-go').disabled = false;
}

function listFiles(input, out) {
  out.textContent = Array.from(input.files).map((f) => f.name).join(', ');
}

document.addEventListener('DOMContentLoaded', () => {
  $('att-refresh').addEventListener('click', loadAttestation);
  $('chat-form').addEventListener('submit', sendChat);
  $('chat-clear').addEventListener('click', () => {
    history.length = 0;
    $('chat-log').replaceChildren();
  });
  $('chat-attach').addEventListener('change', () => listFiles($('chat-attach'), $('chat-files')));
  $('run-files').addEventListener('change', () => listFiles($('run-files'), $('run-names')));
  $('run-form').addEventListener('submit', sendRun);
  loadAttestation();
});
