#!/usr/bin/env python3
"""Manual end-to-end check of the wasm build in headless Chromium (WebGL2 via SwiftShader).

    cargo build -p sam-fluid --target wasm32-unknown-unknown --release --no-default-features
    wasm-bindgen --target web --out-dir crates/sam-fluid/web-smoke/pkg \
        $CARGO_TARGET_DIR/wasm32-unknown-unknown/release/sam_fluid.wasm
    python3 crates/sam-fluid/web-smoke/smoke.py [--no-webgl] [screenshot.png]

Needs `chromium` (Debian package) and `websocket-client` (pip). Serves this folder on
127.0.0.1, loads index.html, runs ~3 s of frames on the synthetic voice, prints the page's
status line ("ok frames=N canvas=WxH" or the error the JS side would turn into the static
gradient) and saves a screenshot. With --no-webgl, Chromium runs without WebGL: the expected
result is a clean "create error: WebGL2 unavailable ...", not a crash.
"""
import base64, functools, http.server, json, subprocess, sys, threading, time, urllib.request

import websocket  # pip install websocket-client

here = __file__.rsplit("/", 1)[0] or "."
args = [a for a in sys.argv[1:] if not a.startswith("--")]
no_webgl = "--no-webgl" in sys.argv
shot_path = args[0] if args else "/tmp/sam-fluid-web-smoke.png"

server = http.server.ThreadingHTTPServer(
    ("127.0.0.1", 0), functools.partial(http.server.SimpleHTTPRequestHandler, directory=here))
threading.Thread(target=server.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{server.server_address[1]}/index.html"

port = 9333
flags = ["--headless=new", "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
         f"--remote-debugging-port={port}", "--window-size=800,500"]
if no_webgl:
    flags.append("--disable-3d-apis")
proc = subprocess.Popen(["chromium", *flags, "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    tabs = None
    for _ in range(100):
        try:
            tabs = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json"))
            break
        except OSError:
            time.sleep(0.2)
    page = [t for t in tabs or [] if t["type"] == "page"][0]
    ws = websocket.create_connection(page["webSocketDebuggerUrl"])
    counter = [0]

    def call(method, **params):
        counter[0] += 1
        ws.send(json.dumps({"id": counter[0], "method": method, "params": params}))
        while True:
            m = json.loads(ws.recv())
            if m.get("id") == counter[0]:
                return m

    call("Page.navigate", url=url)
    status = ""
    for _ in range(60):
        time.sleep(0.5)
        r = call("Runtime.evaluate", expression="document.title + ' | ' + document.getElementById('s').textContent")
        status = r["result"]["result"].get("value", "")
        if not status.startswith("pending"):
            break
    print(status)
    shot = call("Page.captureScreenshot", format="png")
    with open(shot_path, "wb") as f:
        f.write(base64.b64decode(shot["result"]["data"]))
    print("screenshot:", shot_path)
    sys.exit(0 if status.startswith("ok") or (no_webgl and "unavailable" in status) else 1)
finally:
    proc.terminate()
    server.shutdown()
