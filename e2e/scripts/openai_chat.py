"""Chat with a deployed model through the gateway with the official Python `openai` client.

Run by e2e/src/chat.int-spec.ts with the model runtime's interpreter:

    OPENAI_BASE_URL=http://127.0.0.1:3000/v1 OPENAI_API_KEY=sk-studio-... python openai_chat.py <model> <question>

Prints one JSON object: the listed model ids, the answer and citations of a plain completion and
of a streamed one, and the status and body of a chat with a model that does not exist.
"""

import json
import sys

import openai


def main() -> None:
    model, question = sys.argv[1], sys.argv[2]
    client = openai.OpenAI(max_retries=0, timeout=120)
    models = [m.id for m in client.models.list()]
    messages = [{"role": "user", "content": question}]

    completion = client.chat.completions.create(model=model, messages=messages, max_tokens=24, temperature=0)
    extra = completion.model_extra or {}

    text, citations, finish = "", None, None
    for chunk in client.chat.completions.create(model=model, messages=messages, max_tokens=24, temperature=0, stream=True):
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
        chunk_extra = chunk.model_extra or {}
        if chunk_extra.get("citations") is not None:
            citations = chunk_extra["citations"]

    try:
        client.chat.completions.create(model=f"{model}-missing", messages=messages, max_tokens=4)
        missing = {"status": 200}
    except openai.NotFoundError as error:
        missing = {"status": error.status_code, "body": error.body}

    print(
        json.dumps(
            {
                "models": models,
                "completion": {
                    "content": completion.choices[0].message.content,
                    "finish_reason": completion.choices[0].finish_reason,
                    "citations": extra.get("citations"),
                },
                "stream": {"content": text, "finish_reason": finish, "citations": citations},
                "missing": missing,
            }
        )
    )


if __name__ == "__main__":
    main()
