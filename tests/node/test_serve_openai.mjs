// The official `openai` npm package, unmodified, against minions-secure serve (a real
// supervisor and llm-sim behind it): models, plain and streamed completions with usage, an
// error case, a stream cut inside the channel. Run by test_serve_e2e (mode "node"), which
// starts the stack and sets MS_SERVE_URL and MS_SERVE_KEY. Prints "openai-npm: all checks
// passed" and exits 0, or names the failed check and exits 1.
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const baseURL = process.env.MS_SERVE_URL;
const apiKey = process.env.MS_SERVE_KEY;
if (!baseURL || !apiKey) {
  console.error('openai-npm: MS_SERVE_URL and MS_SERVE_KEY must be set');
  process.exit(2);
}
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 60000 });
const user = (content) => [{ role: 'user', content }];

async function check(name, fn) {
  try {
    await fn();
    console.log(`ok - ${name}`);
  } catch (e) {
    console.log(`FAILED - ${name}: ${e && e.stack ? e.stack : e}`);
    process.exitCode = 1;
  }
}

await check('models.list', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids, ['minions-secure']);
});

await check('chat.completions.create', async () => {
  const r = await client.chat.completions.create({ model: 'any', messages: user('alpha') });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(r.choices[0].message.content, 'Answer alpha. END more text');
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.ok(r.usage.total_tokens >= r.usage.completion_tokens);
});

await check('stop and max_tokens', async () => {
  const r = await client.chat.completions.create({
    model: 'any', messages: user('alpha'), stop: [' END'], max_tokens: 20, temperature: 0,
  });
  assert.equal(r.choices[0].message.content, 'Answer alpha.');
});

await check('streamed, with usage', async () => {
  const stream = await client.chat.completions.create({
    model: 'any', messages: user('unicode'), stream: true,
    stream_options: { include_usage: true },
  });
  let text = '', finish = null, usage = null;
  for await (const chunk of stream) {
    if (chunk.choices.length) {
      text += chunk.choices[0].delta.content ?? '';
      finish = chunk.choices[0].finish_reason ?? finish;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, 'caf\u00e9 \u65e5\u672c \u{1F600} ok');
  assert.equal(finish, 'stop');
  assert.ok(usage && usage.completion_tokens > 0);
});

await check('the stream helper (chat.completions.stream)', async () => {
  const runner = client.chat.completions.stream({ model: 'any', messages: user('alpha') });
  const final = await runner.finalChatCompletion();
  assert.equal(final.choices[0].message.content, 'Answer alpha. END more text');
});

await check('a cut stream is an error, never an answer', async () => {
  const stream = await client.chat.completions.create({
    model: 'any', messages: user('cut me'), stream: true,
  });
  let text = '';
  await assert.rejects(async () => {
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  }, (e) => e instanceof OpenAI.APIError);
  assert.ok(!text.includes('eight'), 'the whole reply arrived');
});

await check('the token limit stays visible (finish_reason "length")', async () => {
  const r = await client.chat.completions.create({ model: 'any', messages: user('too long') });
  assert.equal(r.choices[0].finish_reason, 'length');
});

await check('a wrong key is an AuthenticationError', async () => {
  const bad = new OpenAI({ baseURL, apiKey: 'ms-not-the-key-0000000000000000000000', maxRetries: 0 });
  await assert.rejects(bad.models.list(), (e) => e instanceof OpenAI.AuthenticationError &&
    e.status === 401 && e.code === 'invalid_api_key');
});

await check('an unsupported parameter is a BadRequestError naming it', async () => {
  await assert.rejects(client.chat.completions.create({
    model: 'any', messages: user('alpha'),
    tools: [{ type: 'function', function: { name: 'f', parameters: {} } }],
  }), (e) => e instanceof OpenAI.BadRequestError && e.param === 'tools');
});

await check('an unknown path is a NotFoundError', async () => {
  await assert.rejects(client.embeddings.create({ model: 'any', input: 'x' }),
    (e) => e instanceof OpenAI.NotFoundError);
});

if (process.exitCode) {
  console.log('openai-npm: FAILED');
} else {
  console.log('openai-npm: all checks passed');
}
