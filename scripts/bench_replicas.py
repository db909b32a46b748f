#!/usr/bin/env python3
"""Helper of scripts/bench-replicas.sh (a benchmark, not a test).

  setup BASE                    a project, a pipeline and a matching card through BASE;
                                prints JSON with the card's listener URL and an access token
  latency SETUP.json A C [N]    a browser signed in on C follows the live stream while N
                                deliveries are posted one at a time to A; prints the time from
                                each 2xx to C's event showing that execution RUNNING or later,
                                as "p50 / p99" in ms
"""
import http.client, json, re, sys, threading, time, urllib.parse, urllib.request

EMAIL, PASSWORD = "bench@example.com", "bench password 2026"
PIPELINE = """kind: PIPELINE
name: deploy
input: {DOCKER_EVENT_OWNER_NAME: x, DOCKER_IMAGE: x, DOCKER_REPO_NAME: x, DOCKER_REPO_NAMESPACE: x, DOCKER_TAG: x, DOCKER_DIGEST: x}
concurrency: 100
stageOrder: [Check]
stages:
  Check:
    taskOrder: [Tag]
    tasks:
      Tag: { type: Condition, input: { condition: '${input.DOCKER_TAG} matches "."' } }
"""


def call(base, path, body=None, token=None):
    req = urllib.request.Request(base + "/pipelines/api" + path, method="POST" if body is not None else "GET")
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(req, data) as r:
        return json.load(r)


def setup(base):
    refresh = call(base, "/tokens", {"email": EMAIL, "password": PASSWORD, "name": "bench"})["refreshToken"]
    token = call(base, "/login", {"refreshToken": refresh})["token"]
    project = call(base, "/projects", {"name": "bench"}, token)["id"]
    endpoint = call(base, f"/projects/{project}/endpoints",
                    {"name": "hub", "serverType": "docker_registry", "url": "http://127.0.0.1:1"}, token)["id"]
    pipeline = call(base, f"/projects/{project}/pipelines", {"yaml": PIPELINE}, token)["id"]
    card = call(base, f"/projects/{project}/docker-webhooks",
                {"name": "testhook", "endpointId": endpoint, "pipelineId": pipeline,
                 "apiToken": refresh, "image": "svendowideit/testhook"}, token)["id"]
    url = call(base, f"/docker-webhooks/{card}/listener-url", None, token)["url"]
    secure = url.split("secureToken=")[1]
    print(json.dumps({"listener": f"{base}/pipelines/api/docker-hub-webhooks?secureToken={secure}",
                      "secure": secure, "token": token}))


def sign_in(host, port):
    c = http.client.HTTPConnection(host, port)
    c.request("GET", "/login")
    page = c.getresponse().read()
    action = re.search(rb'action="(/api/sign_in[0-9]*)"', page).group(1).decode()
    form = urllib.parse.urlencode({"email": EMAIL, "password": PASSWORD})
    c.request("POST", action, form, {"content-type": "application/x-www-form-urlencoded",
                                      "origin": f"http://{host}:{port}"})
    r = c.getresponse(); r.read()
    cookie = r.getheader("set-cookie").split(";")[0]
    return cookie


def latency(setup_file, a, c, n=50):
    s = json.load(open(setup_file))
    cu = urllib.parse.urlparse(c)
    cookie = sign_in(cu.hostname, cu.port)
    seen = {}  # execution id -> first time seen RUNNING or later
    lock = threading.Condition()

    def follow():
        conn = http.client.HTTPConnection(cu.hostname, cu.port)
        conn.request("GET", "/live/executions", headers={"cookie": cookie, "accept": "text/event-stream"})
        r = conn.getresponse()
        buf = b""
        while True:
            chunk = r.read1(65536)
            if not chunk:
                return
            buf += chunk
            while b"\n\n" in buf:
                block, buf = buf.split(b"\n\n", 1)
                for line in block.split(b"\n"):
                    if line.startswith(b"data:"):
                        try:
                            row = json.loads(line[5:])["row"]
                        except (ValueError, KeyError, TypeError):
                            continue
                        if row.get("status") in ("RUNNING", "COMPLETED", "FAILED"):
                            with lock:
                                seen.setdefault(row["id"], time.monotonic())
                                lock.notify_all()

    threading.Thread(target=follow, daemon=True).start()
    time.sleep(0.5)
    au = urllib.parse.urlparse(a)
    out = []
    conn = http.client.HTTPConnection(au.hostname, au.port)
    for i in range(n):
        payload = {"push_data": {"pushed_at": 2.0e9 + i, "pusher": "trustedbuilder", "tag": f"lat{i}"},
                   "repository": {"repo_name": "svendowideit/testhook", "namespace": "svendowideit",
                                  "name": "testhook"}}
        before = set(seen)
        conn.request("POST", f"/pipelines/api/docker-hub-webhooks?secureToken={s['secure']}",
                     json.dumps(payload), {"content-type": "application/json"})
        r = conn.getresponse(); r.read()
        t0 = time.monotonic()
        assert 200 <= r.status < 300, r.status
        with lock:
            ok = lock.wait_for(lambda: set(seen) - before, timeout=10)
            if ok:
                new = min(set(seen) - before, key=lambda k: seen[k])
                out.append((seen[new] - t0) * 1000)
        time.sleep(0.05)
    out.sort()
    if not out:
        print("none seen")
        return
    print(f"{out[len(out) // 2]:.1f} / {out[min(len(out) - 1, len(out) * 99 // 100)]:.1f}")


if __name__ == "__main__":
    if sys.argv[1] == "setup":
        setup(sys.argv[2])
    else:
        latency(sys.argv[2], sys.argv[3], sys.argv[4], *(int(x) for x in sys.argv[5:]))
