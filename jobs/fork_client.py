"""The command the DirectRunner starts for each SDK worker when `forked_workers` is on: it
asks the fork server for a worker and lives exactly as long as that worker.

Run by path with `python -S -I` (no site, no user environment), so it imports only the
standard library and starts in milliseconds; the worker itself is forked from a process
that has already imported Beam and longweave.

Protocol (one Unix socket connection): this process sends its environment as JSON (the
runner put the worker's control and logging endpoints there) with its stdin, stdout and
stderr as file descriptors; the worker answers with its exit code when it ends. A closed
connection without a code (the worker was killed) is exit code 1; if this process is
killed, the worker sees the connection close and kills itself.
"""

import json
import os
import socket
import struct
import sys


def main(socket_path: str) -> int:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(socket_path)
        payload = json.dumps(dict(os.environ)).encode()
        socket.send_fds(conn, [struct.pack("!I", len(payload))], [0, 1, 2])
        conn.sendall(payload)
        answer = b""
        while len(answer) < 4:
            chunk = conn.recv(4 - len(answer))
            if not chunk:
                return 1
            answer += chunk
        return struct.unpack("!i", answer)[0]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
