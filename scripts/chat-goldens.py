#!/usr/bin/python3
"""Makes the chat-template golden fixtures of the job's tests (job/src/test/resources/chat-templates/).

Each published chat template below is copied verbatim from its model's tokenizer_config.json and
rendered here by Python's Jinja2 the way transformers' apply_chat_template renders it: a sandboxed
environment with trim_blocks and lstrip_blocks, the loopcontrols extension, a raise_exception
global, and render(messages=..., add_generation_prompt=True, <special tokens>). The Java test
(ChatTemplateGoldenTest) renders the same inputs with Jinjava and compares byte for byte, so it
runs without Python. Rerun after changing the cases:

    apt-get install -y python3-jinja2      # Debian's package; this script uses /usr/bin/python3
    scripts/chat-goldens.py
"""
import datetime
import json
import pathlib

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

OUT = pathlib.Path(__file__).resolve().parent.parent / "job/src/test/resources/chat-templates"

# meta-llama/Meta-Llama-3-8B-Instruct, tokenizer_config.json "chat_template"
LLAMA3 = ("{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>'"
          " + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0"
          " == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt"
          " %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}")

# Qwen/Qwen2-7B-Instruct, tokenizer_config.json "chat_template"
QWEN2 = ("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n"
         "You are a helpful assistant.<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message"
         "['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
         "{% endif %}")

# mistralai/Mistral-7B-Instruct-v0.2, tokenizer_config.json "chat_template"
MISTRAL = ("{%- if messages[0]['role'] == 'system' %}\n    {%- set system_message = messages[0]['content'] %}\n"
           "    {%- set loop_messages = messages[1:] %}\n{%- else %}\n    {%- set loop_messages = messages %}\n"
           "{%- endif %}\n\n{{- bos_token }}\n{%- for message in loop_messages %}\n"
           "    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\n"
           "        {{- raise_exception('After the optional system message, conversation roles must alternate"
           " user/assistant/user/assistant/...') }}\n    {%- endif %}\n    {%- if message['role'] == 'user' %}\n"
           "        {%- if loop.first and system_message is defined %}\n"
           "            {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}\n"
           "        {%- else %}\n            {{- ' [INST] ' + message['content'] + ' [/INST]' }}\n"
           "        {%- endif %}\n    {%- elif message['role'] == 'assistant' %}\n"
           "        {{- ' ' + message['content'] + eos_token}}\n    {%- else %}\n"
           "        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial"
           " optional system message!') }}\n    {%- endif %}\n{%- endfor %}\n")

# meta-llama/Llama-2-7b-chat-hf, tokenizer_config.json "chat_template" (Python string methods: .strip())
LLAMA2 = ("{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message ="
          " messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}"
          "{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
          "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
          "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message +"
          " '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}"
          "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif"
          " message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}")

# Not a published template: the Python behaviours that templates lean on and Jinjava does otherwise.
FEATURES = ("{% for message in messages %}{{ loop.index0 }}{% if loop.first %}F{% endif %}{% if loop.last %}L{% endif %}"
            "|{{ message | tojson }}|{{ message['content'].strip() }}|{{ message['content'] | trim }}|"
            "{{ 'x' + message['role'] + 'y' }}|{% if unknown is defined %}D{% else %}U{% endif %}"
            "{% if bos_token is defined %}D{% else %}U{% endif %}\n{% endfor %}"
            "{{ messages | length }}{{ [1, 'two', none, true] | tojson }}\n"
            "{% for key in messages[0] %}{{ key }},{% endfor %}|{{ [1, 'a'] }}|{{ {'k': 1} }}|"
            "{{ 1 + 2 * 3 }}|{% if not false and true %}T{% endif %}"
            "{% if strftime_now is defined and raise_exception is defined %}|functions{% endif %}\n")

# The project's own template for its base model (deploy/chat-templates/plain.jinja), checked the same way.
PLAIN = (pathlib.Path(__file__).resolve().parent.parent / "deploy/chat-templates/plain.jinja").read_text("utf-8")

SYSTEM = {"role": "system", "content": "You are a concise assistant."}
CONVERSATIONS = {
    "user-only": [{"role": "user", "content": "Hello!"}],
    "system-and-user": [SYSTEM, {"role": "user", "content": "What is the capital of France?"}],
    "multi-turn": [SYSTEM, {"role": "user", "content": "Name a prime."},
                   {"role": "assistant", "content": "Seven."}, {"role": "user", "content": "And another one?"}],
    "whitespace": [{"role": "user", "content": "  \n\tPadded question?  \n\n"},
                   {"role": "assistant", "content": "\nAn answer with\n\ninner lines. \n"},
                   {"role": "user", "content": " trailing only\n"}],
    "unicode": [{"role": "user", "content": "Grüße aus Köln, 世界 🙂 — “quotes” ∑"}],
    "unicode-space": [{"role": "user", "content": "\u00a0\u3000 Spaced\u2003\n\u202f"}],
    "not-alternating": [{"role": "user", "content": "one"}, {"role": "user", "content": "two"}],
    "unknown-role": [{"role": "user", "content": "hi"}, {"role": "tool", "content": "42"}],
}

MODELS = {
    # name: (template, special tokens as tokenizer_config.json holds them, conversations)
    "llama3": (LLAMA3, {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
               ["user-only", "system-and-user", "multi-turn", "whitespace", "unicode", "unicode-space"]),
    "qwen2": (QWEN2, {"bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
              ["user-only", "system-and-user", "multi-turn", "whitespace", "unicode"]),
    "mistral": (MISTRAL, {"bos_token": {"content": "<s>", "lstrip": False, "normalized": False, "rstrip": False,
                                        "single_word": False, "__type": "AddedToken"},
                          "eos_token": "</s>", "unk_token": "<unk>"},
                ["user-only", "system-and-user", "multi-turn", "whitespace", "unicode", "not-alternating",
                 "unknown-role"]),
    "llama2": (LLAMA2, {"bos_token": {"content": "<s>", "__type": "AddedToken"}, "eos_token": "</s>",
                        "unk_token": "<unk>", "pad_token": None},
               ["user-only", "system-and-user", "multi-turn", "whitespace", "unicode-space", "not-alternating"]),
    "features": (FEATURES, {"bos_token": "<s>"}, ["multi-turn", "whitespace", "unicode", "unicode-space"]),
    "plain": (PLAIN, {}, ["user-only", "system-and-user", "multi-turn", "whitespace", "unicode"]),
}


class TemplateRaised(Exception):
    pass


def raise_exception(message):
    raise TemplateRaised(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    """transformers replaces Jinja2's HTML-safe tojson with plain json.dumps."""
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(format):
    return datetime.datetime.now().strftime(format)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def token_text(value):
    """transformers passes a special token to the template as its text, whichever form the file uses."""
    return value["content"] if isinstance(value, dict) else value


def render(template, tokens, messages):
    variables = {name: token_text(value) for name, value in tokens.items()}
    try:
        text = environment().from_string(template).render(messages=messages, add_generation_prompt=True, **variables)
        return {"expected": text}
    except TemplateRaised as e:
        return {"error": str(e)}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (template, tokens, conversations) in MODELS.items():
        folder = OUT / name
        folder.mkdir(exist_ok=True)
        if name != "plain":   # plain.jinja is read from deploy/ by the test
            config = dict(tokens)
            config["chat_template"] = template
            (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n",
                                                          "utf-8")
        cases = []
        for conversation in conversations:
            messages = CONVERSATIONS[conversation]
            cases.append({"name": conversation, "messages": messages, **render(template, tokens, messages)})
        golden = {"made_by": "scripts/chat-goldens.py with Jinja2 " + jinja2.__version__, "cases": cases}
        (folder / "goldens.json").write_text(json.dumps(golden, indent=2, ensure_ascii=False) + "\n", "utf-8")
        print(name, len(cases), "cases")


if __name__ == "__main__":
    main()
