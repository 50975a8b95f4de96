"""Run the stand-in: python -m qdrant_api --host 127.0.0.1 --port 6333 --storage DIR"""

import argparse

import uvicorn

from .app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description="Qdrant REST API stand-in (tests and local work)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6333)
    parser.add_argument("--storage", default=":memory:", help='data directory, or ":memory:"')
    args = parser.parse_args()
    uvicorn.run(create_app(args.storage), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
