// Drives specdec's OpenAI gateway with the official openai client, one case per output line (JSON).
// Usage: node check-gateway.mjs BASE_URL MODEL API_KEY
// OpenAiGatewayTest compares every text here with the job's own result for the same request id.
import OpenAI from 'openai';

const [baseURL, model, apiKey] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 120_000 });
const print = (o) => console.log(JSON.stringify(o));
const prompt = 'And God said';

async function collect(stream) {
  let text = '', id = null, finish = null, usage = null, events = 0;
  for await (const chunk of stream) {
    id = chunk.id;
    events++;
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      text += c.delta ? (c.delta.content ?? '') : (c.text ?? '');
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  return { id, text, finish_reason: finish, usage, events };
}

async function failure(call) {
  try {
    await call();
    return { status: 0 };
  } catch (e) {
    return { status: e.status ?? -1, type: e.type ?? e.error?.type ?? null, param: e.param ?? e.error?.param ?? null,
      name: e.constructor.name, message: e.message };
  }
}

const models = await client.models.list();
const one = await client.models.retrieve(model);
print({ case: 'models', ids: models.data.map((m) => m.id), retrieved: one.id });

const c = await client.completions.create({ model, prompt, max_tokens: 24, temperature: 0 });
print({ case: 'completion', id: c.id, text: c.choices[0].text, finish_reason: c.choices[0].finish_reason, usage: c.usage });

const chat = await client.chat.completions.create({
  model, temperature: 0, max_tokens: 20, tool_choice: 'none', user: 'test', n: 1, logprobs: false,
  messages: [{ role: 'system', content: 'You answer in the words of the King James Bible.' },
    { role: 'user', content: 'Who made the light?' }],
});
print({ case: 'chat', id: chat.id, text: chat.choices[0].message.content, role: chat.choices[0].message.role,
  finish_reason: chat.choices[0].finish_reason, usage: chat.usage });

const streamedChat = await collect(await client.chat.completions.create({
  model, temperature: 0.8, seed: 11, max_tokens: 32, stream: true, stream_options: { include_usage: true },
  messages: [{ role: 'user', content: 'Tell of the waters.' }],
}));
print({ case: 'chat_stream', ...streamedChat });

const streamedCompletion = await collect(await client.completions.create({
  model, prompt, max_tokens: 24, temperature: 0, stream: true,
}));
print({ case: 'completion_stream', ...streamedCompletion });

const stopped = await client.completions.create({ model, prompt, max_tokens: 48, temperature: 0, stop: [':'] });
print({ case: 'stop', id: stopped.id, text: stopped.choices[0].text, finish_reason: stopped.choices[0].finish_reason });

print({ case: 'invalid_n', ...(await failure(() => client.completions.create({ model, prompt, n: 2 }))) });
print({ case: 'invalid_temperature', ...(await failure(() => client.chat.completions.create({
  model, temperature: 7, messages: [{ role: 'user', content: 'hi' }] }))) });
print({ case: 'unknown_model', ...(await failure(() => client.completions.create({ model: 'no-such-model', prompt }))) });
print({ case: 'job_refusal', ...(await failure(() => client.completions.create({ model, prompt, max_tokens: 1000000 }))) });

// Sixteen calls at once, streamed and whole, sampled with their own seeds: each must get its own text.
const concurrent = await Promise.all(Array.from({ length: 16 }, async (_, i) => {
  const params = { model, temperature: 0.8, seed: 100 + i, max_tokens: 16 };
  if (i % 2 === 0) {
    const s = await collect(await client.chat.completions.create({ ...params, stream: true,
      messages: [{ role: 'user', content: `Psalm ${i}` }] }));
    return { id: s.id, text: s.text };
  }
  const c = await client.completions.create({ ...params, prompt: `And the ${i} sons of` });
  return { id: c.id, text: c.choices[0].text };
}));
print({ case: 'concurrent', calls: concurrent });

// A client that goes away mid-stream: the gateway must cancel the request in the job.
const abort = new AbortController();
const long = await client.completions.create({ model, prompt, max_tokens: 400, ignore_eos: true, stream: true },
  { signal: abort.signal });
let abortedId = null;
try {
  for await (const chunk of long) {
    abortedId = chunk.id;
    abort.abort();
  }
} catch (e) {
  // the abort ends the iteration
}
print({ case: 'stream_disconnect', id: abortedId });

// A client that gives up on a whole answer: the gateway must cancel that request too.
print({ case: 'wait_disconnect', ...(await failure(() => client.completions.create(
  { model, prompt: 'In the beginning', max_tokens: 400, ignore_eos: true }, { timeout: 1500 }))) });
