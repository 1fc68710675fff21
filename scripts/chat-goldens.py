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

# meta-llama/Meta-Llama-3.1-8B-Instruct, tokenizer_config.json "chat_template" (date_string, tools, tojson(indent=4))
LLAMA31 = "{{- bos_token }}\n{%- if custom_tools is defined %}\n    {%- set tools = custom_tools %}\n{%- endif %}\n{%- if not tools_in_user_message is defined %}\n    {%- set tools_in_user_message = true %}\n{%- endif %}\n{%- if not date_string is defined %}\n    {%- set date_string = \"26 Jul 2024\" %}\n{%- endif %}\n{%- if not tools is defined %}\n    {%- set tools = none %}\n{%- endif %}\n\n{#- This block extracts the system message, so we can slot it into the right place. #}\n{%- if messages[0]['role'] == 'system' %}\n    {%- set system_message = messages[0]['content']|trim %}\n    {%- set messages = messages[1:] %}\n{%- else %}\n    {%- set system_message = \"\" %}\n{%- endif %}\n\n{#- System message + builtin tools #}\n{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}\n{%- if builtin_tools is defined or tools is not none %}\n    {{- \"Environment: ipython\\n\" }}\n{%- endif %}\n{%- if builtin_tools is defined %}\n    {{- \"Tools: \" + builtin_tools | reject('equalto', 'code_interpreter') | join(\", \") + \"\\n\\n\"}}\n{%- endif %}\n{{- \"Cutting Knowledge Date: December 2023\\n\" }}\n{{- \"Today Date: \" + date_string + \"\\n\\n\" }}\n{%- if tools is not none and not tools_in_user_message %}\n    {{- \"You have access to the following functions. To call a function, please respond with JSON for a function call.\" }}\n    {{- 'Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}.' }}\n    {{- \"Do not use variables.\\n\\n\" }}\n    {%- for t in tools %}\n        {{- t | tojson(indent=4) }}\n        {{- \"\\n\\n\" }}\n    {%- endfor %}\n{%- endif %}\n{{- system_message }}\n{{- \"<|eot_id|>\" }}\n\n{#- Custom tools are passed in a user message with some extra guidance #}\n{%- if tools_in_user_message and not tools is none %}\n    {#- Extract the first user message so we can plug it in here #}\n    {%- if messages | length != 0 %}\n        {%- set first_user_message = messages[0]['content']|trim %}\n        {%- set messages = messages[1:] %}\n    {%- else %}\n        {{- raise_exception(\"Cannot put tools in the first user message when there's no first user message!\") }}\n{%- endif %}\n    {{- '<|start_header_id|>user<|end_header_id|>\\n\\n' -}}\n    {{- \"Given the following functions, please respond with a JSON for a function call \" }}\n    {{- \"with its proper arguments that best answers the given prompt.\\n\\n\" }}\n    {{- 'Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}.' }}\n    {{- \"Do not use variables.\\n\\n\" }}\n    {%- for t in tools %}\n        {{- t | tojson(indent=4) }}\n        {{- \"\\n\\n\" }}\n    {%- endfor %}\n    {{- first_user_message + \"<|eot_id|>\"}}\n{%- endif %}\n\n{%- for message in messages %}\n    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}\n        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}\n    {%- elif 'tool_calls' in message %}\n        {%- if not message.tool_calls|length == 1 %}\n            {{- raise_exception(\"This model only supports single tool-calls at once!\") }}\n        {%- endif %}\n        {%- set tool_call = message.tool_calls[0].function %}\n        {%- if builtin_tools is defined and tool_call.name in builtin_tools %}\n            {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}\n            {{- \"<|python_tag|>\" + tool_call.name + \".call(\" }}\n            {%- for arg_name, arg_val in tool_call.arguments | items %}\n                {{- arg_name + '=\"' + arg_val + '\"' }}\n                {%- if not loop.last %}\n                    {{- \", \" }}\n                {%- endif %}\n                {%- endfor %}\n            {{- \")\" }}\n        {%- else  %}\n            {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}\n            {{- '{\"name\": \"' + tool_call.name + '\", ' }}\n            {{- '\"parameters\": ' }}\n            {{- tool_call.arguments | tojson }}\n            {{- \"}\" }}\n        {%- endif %}\n        {%- if builtin_tools is defined %}\n            {#- This means we're in ipython mode #}\n            {{- \"<|eom_id|>\" }}\n        {%- else %}\n            {{- \"<|eot_id|>\" }}\n        {%- endif %}\n    {%- elif message.role == \"tool\" or message.role == \"ipython\" %}\n        {{- \"<|start_header_id|>ipython<|end_header_id|>\\n\\n\" }}\n        {%- if message.content is mapping or message.content is iterable %}\n            {{- message.content | tojson }}\n        {%- else %}\n            {{- message.content }}\n        {%- endif %}\n        {{- \"<|eot_id|>\" }}\n    {%- endif %}\n{%- endfor %}\n{%- if add_generation_prompt %}\n    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n{%- endif %}\n"

# meta-llama/Llama-3.2-1B-Instruct (and -3B-), tokenizer_config.json "chat_template" (today's date by strftime_now)
LLAMA32 = "{{- bos_token }}\n{%- if custom_tools is defined %}\n    {%- set tools = custom_tools %}\n{%- endif %}\n{%- if not tools_in_user_message is defined %}\n    {%- set tools_in_user_message = true %}\n{%- endif %}\n{%- if not date_string is defined %}\n    {%- if strftime_now is defined %}\n        {%- set date_string = strftime_now(\"%d %b %Y\") %}\n    {%- else %}\n        {%- set date_string = \"26 Jul 2024\" %}\n    {%- endif %}\n{%- endif %}\n{%- if not tools is defined %}\n    {%- set tools = none %}\n{%- endif %}\n\n{#- This block extracts the system message, so we can slot it into the right place. #}\n{%- if messages[0]['role'] == 'system' %}\n    {%- set system_message = messages[0]['content']|trim %}\n    {%- set messages = messages[1:] %}\n{%- else %}\n    {%- set system_message = \"\" %}\n{%- endif %}\n\n{#- System message #}\n{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}\n{%- if tools is not none %}\n    {{- \"Environment: ipython\\n\" }}\n{%- endif %}\n{{- \"Cutting Knowledge Date: December 2023\\n\" }}\n{{- \"Today Date: \" + date_string + \"\\n\\n\" }}\n{%- if tools is not none and not tools_in_user_message %}\n    {{- \"You have access to the following functions. To call a function, please respond with JSON for a function call.\" }}\n    {{- 'Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}.' }}\n    {{- \"Do not use variables.\\n\\n\" }}\n    {%- for t in tools %}\n        {{- t | tojson(indent=4) }}\n        {{- \"\\n\\n\" }}\n    {%- endfor %}\n{%- endif %}\n{{- system_message }}\n{{- \"<|eot_id|>\" }}\n\n{#- Custom tools are passed in a user message with some extra guidance #}\n{%- if tools_in_user_message and not tools is none %}\n    {#- Extract the first user message so we can plug it in here #}\n    {%- if messages | length != 0 %}\n        {%- set first_user_message = messages[0]['content']|trim %}\n        {%- set messages = messages[1:] %}\n    {%- else %}\n        {{- raise_exception(\"Cannot put tools in the first user message when there's no first user message!\") }}\n{%- endif %}\n    {{- '<|start_header_id|>user<|end_header_id|>\\n\\n' -}}\n    {{- \"Given the following functions, please respond with a JSON for a function call \" }}\n    {{- \"with its proper arguments that best answers the given prompt.\\n\\n\" }}\n    {{- 'Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}.' }}\n    {{- \"Do not use variables.\\n\\n\" }}\n    {%- for t in tools %}\n        {{- t | tojson(indent=4) }}\n        {{- \"\\n\\n\" }}\n    {%- endfor %}\n    {{- first_user_message + \"<|eot_id|>\"}}\n{%- endif %}\n\n{%- for message in messages %}\n    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}\n        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}\n    {%- elif 'tool_calls' in message %}\n        {%- if not message.tool_calls|length == 1 %}\n            {{- raise_exception(\"This model only supports single tool-calls at once!\") }}\n        {%- endif %}\n        {%- set tool_call = message.tool_calls[0].function %}\n        {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}\n        {{- '{\"name\": \"' + tool_call.name + '\", ' }}\n        {{- '\"parameters\": ' }}\n        {{- tool_call.arguments | tojson }}\n        {{- \"}\" }}\n        {{- \"<|eot_id|>\" }}\n    {%- elif message.role == \"tool\" or message.role == \"ipython\" %}\n        {{- \"<|start_header_id|>ipython<|end_header_id|>\\n\\n\" }}\n        {%- if message.content is mapping or message.content is iterable %}\n            {{- message.content | tojson }}\n        {%- else %}\n            {{- message.content }}\n        {%- endif %}\n        {{- \"<|eot_id|>\" }}\n    {%- endif %}\n{%- endfor %}\n{%- if add_generation_prompt %}\n    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n{%- endif %}\n"

# Qwen/Qwen2.5-7B-Instruct, tokenizer_config.json "chat_template" (message.role attributes, tools, loop.last)
QWEN25 = "{%- if tools %}\n    {{- '<|im_start|>system\\n' }}\n    {%- if messages[0]['role'] == 'system' %}\n        {{- messages[0]['content'] }}\n    {%- else %}\n        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}\n    {%- endif %}\n    {{- \"\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are provided with function signatures within <tools></tools> XML tags:\\n<tools>\" }}\n    {%- for tool in tools %}\n        {{- \"\\n\" }}\n        {{- tool | tojson }}\n    {%- endfor %}\n    {{- \"\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\\"name\\\": <function-name>, \\\"arguments\\\": <args-json-object>}\\n</tool_call><|im_end|>\\n\" }}\n{%- else %}\n    {%- if messages[0]['role'] == 'system' %}\n        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n    {%- else %}\n        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}\n    {%- endif %}\n{%- endif %}\n{%- for message in messages %}\n    {%- if (message.role == \"user\") or (message.role == \"system\" and not loop.first) or (message.role == \"assistant\" and not message.tool_calls) %}\n        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\n    {%- elif message.role == \"assistant\" %}\n        {{- '<|im_start|>' + message.role }}\n        {%- if message.content %}\n            {{- '\\n' + message.content }}\n        {%- endif %}\n        {%- for tool_call in message.tool_calls %}\n            {%- if tool_call.function is defined %}\n                {%- set tool_call = tool_call.function %}\n            {%- endif %}\n            {{- '\\n<tool_call>\\n{\"name\": \"' }}\n            {{- tool_call.name }}\n            {{- '\", \"arguments\": ' }}\n            {{- tool_call.arguments | tojson }}\n            {{- '}\\n</tool_call>' }}\n        {%- endfor %}\n        {{- '<|im_end|>\\n' }}\n    {%- elif message.role == \"tool\" %}\n        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != \"tool\") %}\n            {{- '<|im_start|>user' }}\n        {%- endif %}\n        {{- '\\n<tool_response>\\n' }}\n        {{- message.content }}\n        {{- '\\n</tool_response>' }}\n        {%- if loop.last or (messages[loop.index0 + 1].role != \"tool\") %}\n            {{- '<|im_end|>\\n' }}\n        {%- endif %}\n    {%- endif %}\n{%- endfor %}\n{%- if add_generation_prompt %}\n    {{- '<|im_start|>assistant\\n' }}\n{%- endif %}\n"

# microsoft/Phi-3-mini-4k-instruct, tokenizer_config.json "chat_template"
PHI3 = "{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}"

# google/gemma-2-2b-it, tokenizer_config.json "chat_template" (assistant shown as "model", no system role)
GEMMA2 = "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}"

# TinyLlama/TinyLlama-1.1B-Chat-v1.0, tokenizer_config.json "chat_template" (zephyr's <|user|> turns, one block a line)
TINYLLAMA = "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}"

# mistralai/Mistral-7B-Instruct-v0.3, tokenizer_config.json "chat_template" (the system message joins the last
# user turn; selectattr, namespace, tools)
MISTRAL3 = "{%- if messages[0][\"role\"] == \"system\" %}\n    {%- set system_message = messages[0][\"content\"] %}\n    {%- set loop_messages = messages[1:] %}\n{%- else %}\n    {%- set loop_messages = messages %}\n{%- endif %}\n{%- if not tools is defined %}\n    {%- set tools = none %}\n{%- endif %}\n{%- set user_messages = loop_messages | selectattr(\"role\", \"equalto\", \"user\") | list %}\n\n{#- This block checks for alternating user/assistant messages, skipping tool calling messages #}\n{%- set ns = namespace() %}\n{%- set ns.index = 0 %}\n{%- for message in loop_messages %}\n    {%- if not (message.role == \"tool\" or message.role == \"tool_results\" or (message.tool_calls is defined and message.tool_calls is not none)) %}\n        {%- if (message[\"role\"] == \"user\") != (ns.index % 2 == 0) %}\n            {{- raise_exception(\"After the optional system message, conversation roles must alternate user/assistant/user/assistant/...\") }}\n        {%- endif %}\n        {%- set ns.index = ns.index + 1 %}\n    {%- endif %}\n{%- endfor %}\n\n{{- bos_token }}\n{%- for message in loop_messages %}\n    {%- if message[\"role\"] == \"user\" %}\n        {%- if tools is not none and (message == user_messages[-1]) %}\n            {{- \"[AVAILABLE_TOOLS] [\" }}\n            {%- for tool in tools %}\n                {%- set tool = tool.function %}\n                {{- '{\"type\": \"function\", \"function\": {' }}\n                {%- for key, val in tool.items() if key != \"return\" %}\n                    {%- if val is string %}\n                        {{- '\"' + key + '\": \"' + val + '\"' }}\n                    {%- else %}\n                        {{- '\"' + key + '\": ' + val|tojson }}\n                    {%- endif %}\n                    {%- if not loop.last %}\n                        {{- \", \" }}\n                    {%- endif %}\n                {%- endfor %}\n                {{- \"}}\" }}\n                {%- if not loop.last %}\n                    {{- \", \" }}\n                {%- else %}\n                    {{- \"]\" }}\n                {%- endif %}\n            {%- endfor %}\n            {{- \"[/AVAILABLE_TOOLS]\" }}\n            {%- endif %}\n        {%- if loop.last and system_message is defined %}\n            {{- \"[INST] \" + system_message + \"\\n\\n\" + message[\"content\"] + \"[/INST]\" }}\n        {%- else %}\n            {{- \"[INST] \" + message[\"content\"] + \"[/INST]\" }}\n        {%- endif %}\n    {%- elif message.tool_calls is defined and message.tool_calls is not none %}\n        {{- \"[TOOL_CALLS] [\" }}\n        {%- for tool_call in message.tool_calls %}\n            {%- set out = tool_call.function|tojson %}\n            {{- out[:-1] }}\n            {%- if not tool_call.id is defined or tool_call.id|length != 9 %}\n                {{- raise_exception(\"Tool call IDs should be alphanumeric strings with length 9!\") }}\n            {%- endif %}\n            {{- ', \"id\": \"' + tool_call.id + '\"}' }}\n            {%- if not loop.last %}\n                {{- \", \" }}\n            {%- else %}\n                {{- \"]\" + eos_token }}\n            {%- endif %}\n        {%- endfor %}\n    {%- elif message[\"role\"] == \"assistant\" %}\n        {{- \" \" + message[\"content\"]|trim + eos_token}}\n    {%- elif message[\"role\"] == \"tool_results\" or message[\"role\"] == \"tool\" %}\n        {%- if message.content is defined and message.content.content is defined %}\n            {%- set content = message.content.content %}\n        {%- else %}\n            {%- set content = message.content %}\n        {%- endif %}\n        {{- '[TOOL_RESULTS] {\"content\": ' + content|string + \", \" }}\n        {%- if not message.tool_call_id is defined or message.tool_call_id|length != 9 %}\n            {{- raise_exception(\"Tool call IDs should be alphanumeric strings with length 9!\") }}\n        {%- endif %}\n        {{- '\"call_id\": \"' + message.tool_call_id + '\"}[/TOOL_RESULTS]' }}\n    {%- else %}\n        {{- raise_exception(\"Only user and assistant roles are supported, with the exception of an initial optional system message!\") }}\n    {%- endif %}\n{%- endfor %}\n"

# HuggingFaceTB/SmolLM2-1.7B-Instruct, tokenizer_config.json "chat_template"
SMOLLM2 = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"

# Not a published template: the Python behaviours that templates lean on and Jinjava does otherwise.
FEATURES = ("{% for message in messages %}{{ loop.index0 }}{% if loop.first %}F{% endif %}{% if loop.last %}L{% endif %}"
            "|{{ message | tojson }}|{{ message['content'].strip() }}|{{ message['content'] | trim }}|"
            "{{ 'x' + message['role'] + 'y' }}|{% if unknown is defined %}D{% else %}U{% endif %}"
            "{% if bos_token is defined %}D{% else %}U{% endif %}\n{% endfor %}"
            "{{ messages | length }}{{ [1, 'two', none, true] | tojson }}\n"
            "{% for key in messages[0] %}{{ key }},{% endfor %}|{{ [1, 'a'] }}|{{ {'k': 1} }}|"
            "{{ 1 + 2 * 3 }}|{% if not false and true %}T{% endif %}"
            "{% if strftime_now is defined and raise_exception is defined %}|functions{% endif %}\n"
            # Python's string methods, as the published templates call them.
            "{% set c = messages[0]['content'] %}{{ c.startswith('You') }}|{{ c.endswith(('.', '?')) }}|"
            "{{ c.split() }}|{{ c.split(' ', 1) }}|{{ c.strip(' .Y') }}|{{ c.lstrip('You ') }}|{{ c.rstrip('.\\n ') }}|"
            "{{ c.replace('a', 'A') }}|{{ c.title() }}|{{ c.upper() }}|{{ c.lower() }}|{{ c.capitalize() }}|"
            "{{ c.split('a')[-1] }}|{{ messages[-1].content.strip().split('\\n')[0] }}\n"
            # Python's literals, tests and numbers, and tojson's keyword arguments.
            "{{ true }}|{{ false }}|{{ none }}|{{ {'k': none}.k }}|{{ {'k': none}['k'] }}|"
            "{{ unknown }}|{{ messages[0].unknown }}|{{ [true, none, 'x'] }}|{{ {'k': none, 'b': false} }}|"
            "{{ messages[0] is mapping }}{{ c is string }}{{ 1 is string }}{{ messages is mapping }}|"
            "{{ 1.5 }}|{{ 7 / 2 }}|{{ 2.0 }}|{{ 0.1 + 0.2 }}|{{ 7 // 2 }}\n"
            "{{ {'f': {}, 'a': [1, 2.5, none], 'b': {'c': 'd', 'e': []} } | tojson(indent=2) }}\n"
            "{{ messages[0] | tojson(indent=4) }}\n"
            "{{ c.split(none, 1) }}|{{ c.replace(' ', '_', 2) }}|{{ 'ab'.replace('', '-') }}|{{ '-'.join(c.split()) }}|"
            "{{ 'ßtraße ǆ'.capitalize() }}|{{ \"it's 1st ßa ﬁx\".title() }}|{{ 1e20 }}|{{ 1.5e-5 }}|{{ -0.25 }}|"
            "{{ {'b': 1, 'a': [true, 0.5]} | tojson(sort_keys=true) }}\n"
            "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}\n")

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
    "multi-turn-no-system": [{"role": "user", "content": "Name a prime."}, {"role": "assistant", "content": "Seven."},
                             {"role": "user", "content": "And another one?"}],
    "system-later": [{"role": "user", "content": "Hi."}, {"role": "assistant", "content": "Hello."},
                     {"role": "system", "content": "Answer in French."}, {"role": "user", "content": "Bye."}],
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
    "llama3.1": (LLAMA31, {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
                 ["user-only", "system-and-user", "multi-turn", "whitespace", "unicode", "unicode-space"]),
    "llama3.2": (LLAMA32, {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
                 ["user-only", "system-and-user", "multi-turn", "whitespace", "unicode"]),
    "qwen2.5": (QWEN25, {"bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
                ["user-only", "system-and-user", "multi-turn", "whitespace", "unicode", "system-later"]),
    "phi3": (PHI3, {"bos_token": "<s>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
                    "unk_token": "<unk>"},
             ["user-only", "system-and-user", "multi-turn", "whitespace", "unicode", "unknown-role"]),
    "gemma2": (GEMMA2, {"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>", "unk_token": "<unk>"},
               ["user-only", "multi-turn-no-system", "whitespace", "unicode-space", "system-and-user",
                "not-alternating"]),
    "tinyllama": (TINYLLAMA, {"bos_token": "<s>", "eos_token": "</s>", "pad_token": "</s>", "unk_token": "<unk>"},
                  ["user-only", "system-and-user", "multi-turn", "whitespace", "unicode"]),
    "mistral3": (MISTRAL3, {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
                 ["user-only", "system-and-user", "multi-turn", "whitespace", "unicode", "not-alternating",
                  "unknown-role"]),
    "smollm2": (SMOLLM2, {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "pad_token": "<|im_end|>",
                          "unk_token": "<|endoftext|>"},
                ["user-only", "system-and-user", "multi-turn", "unicode"]),
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


# transformers' strftime_now writes today's date; the goldens are rendered on this fixed day instead,
# and the Java test sets the same day (TemplateFunctions.useClock).
FIXED_NOW = datetime.datetime(2024, 9, 25, 14, 30, 0)


def strftime_now(format):
    return FIXED_NOW.strftime(format)


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
    # transformers passes the special tokens that are set; one that is None stays undefined.
    variables = {name: token_text(value) for name, value in tokens.items() if value is not None}
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
