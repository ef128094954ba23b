#!/usr/bin/env python3
"""Fake polled services for bench/monitoring/run.sh: one threaded HTTP server on 127.0.0.1
answering /t<N>/health (200) and /t<N>/metrics for any N with the Prometheus text a service of
the platform exports (libs/core's server metrics: requests by route/method/status and the latency
histogram with the default buckets, over ROUTES routes), counters growing between scrapes.
Prints the port on stdout, then serves until killed."""
import http.server
import socketserver
import sys
import threading

ROUTES = int(sys.argv[1]) if len(sys.argv) > 1 else 8
BUCKETS = ["0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025",
           "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]
lock = threading.Lock()
scrapes = {}


def metrics(n):
    lines = ["# HELP http_requests_total HTTP requests by route, method and status.",
             "# TYPE http_requests_total counter"]
    for r in range(ROUTES):
        lines.append(f'http_requests_total{{route="/api/x/r{r}",method="GET",status="200"}} {n * 10 + r}')
        lines.append(f'http_requests_total{{route="/api/x/r{r}",method="POST",status="500"}} {n}')
    lines += ["# HELP http_request_duration_seconds HTTP request latency by route.",
              "# TYPE http_request_duration_seconds histogram"]
    for r in range(ROUTES):
        total = n * 11 + r
        for i, b in enumerate(BUCKETS):
            lines.append(f'http_request_duration_seconds_bucket{{route="/api/x/r{r}",le="{b}"}} '
                         f'{total if b == "+Inf" else total * (i + 1) // len(BUCKETS)}')
        lines.append(f'http_request_duration_seconds_sum{{route="/api/x/r{r}"}} {total * 0.004}')
        lines.append(f'http_request_duration_seconds_count{{route="/api/x/r{r}"}} {total}')
    lines += ["# HELP http_open_connections Open client connections.",
              "# TYPE http_open_connections gauge", "http_open_connections 3",
              "# HELP enkisys_build_info Build information.", "# TYPE enkisys_build_info gauge",
              'enkisys_build_info{service="fake",version="bench"} 1']
    return ("\n".join(lines) + "\n").encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        parts = self.path.split("/")
        if len(parts) == 3 and parts[2] == "health":
            body = b'{"status":"ok"}'
        elif len(parts) == 3 and parts[2] == "metrics":
            with lock:
                scrapes[parts[1]] = scrapes.get(parts[1], 0) + 1
                n = scrapes[parts[1]]
            body = metrics(n)
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a poller that went away mid-answer (the end of the run)


server = Server(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
