// Loads a model folder's tokenizer with transformers.js, offline, and prints for each input string
// the ids it encodes to and the text it decodes back, as one JSON document on stdout.
// Usage: node tokenize.mjs <model folder> <file with a JSON array of strings>
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';

const [modelDir, inputsFile] = process.argv.slice(2);
env.allowRemoteModels = false;          // a missing file must fail, never fall back to the Hub
env.allowLocalModels = true;
env.localModelPath = path.dirname(path.resolve(modelDir));

const tokenizer = await AutoTokenizer.from_pretrained(path.basename(path.resolve(modelDir)));
const inputs = JSON.parse(readFileSync(inputsFile, 'utf8'));
const results = inputs.map((text) => {
  const ids = tokenizer.encode(text);
  return {
    text,
    ids,
    decoded: tokenizer.decode(ids, { skip_special_tokens: true }),
    decodedWithSpecial: tokenizer.decode(ids, { skip_special_tokens: false }),
  };
});
const special = {
  bos: [tokenizer.bos_token, tokenizer.bos_token_id],
  eos: [tokenizer.eos_token, tokenizer.eos_token_id],
  pad: [tokenizer.pad_token, tokenizer.pad_token_id],
  modelMaxLength: tokenizer.model_max_length,
};
process.stdout.write(JSON.stringify({ special, results }) + '\n');
