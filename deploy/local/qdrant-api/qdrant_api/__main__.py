"""Run the stand-in: python -m qdrant_api --host 127.0.0.1 --port 6333 --storage DIR

The API key comes from QDRANT__SERVICE__API_KEY (Qdrant's own variable), or from the first line of
--api-key-file; never from an argument, which `ps` would show."""

import argparse

import uvicorn

from .app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description="Qdrant REST API stand-in (tests and local work)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6333)
    parser.add_argument("--storage", default=":memory:", help='data directory, or ":memory:"')
    parser.add_argument(
        "--api-key-file",
        help="file whose first line is the API key every request but the health checks needs "
        "(default: QDRANT__SERVICE__API_KEY; neither: no key)",
    )
    args = parser.parse_args()
    api_key = None
    if args.api_key_file:
        with open(args.api_key_file, encoding="utf-8") as f:
            api_key = f.readline().strip()
        if not api_key:
            parser.error(f"--api-key-file {args.api_key_file} holds no key")
    app = create_app(args.storage, api_key)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
