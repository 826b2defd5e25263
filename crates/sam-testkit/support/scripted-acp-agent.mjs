#!/usr/bin/env node
// A scripted ACP agent for tests: speaks ACP v1 (JSON-RPC 2.0, one message per line) on stdio
// and does what the prompt text says, deterministically. Test support only.
//
// Start-up behaviour (env SCRIPTED_AGENT_MODE): "normal" (default), "no_initialize" (never
// answers initialize), "exit_at_once" (exits 7 before reading anything), "stdout_garbage"
// (prints a non-JSON banner before answering).
//
// Loading sessions (env SCRIPTED_AGENT_LOAD_SESSION): unset or "0" advertises no loadSession;
// "1" advertises it, keeps each session's conversation in a small JSON file (in
// SCRIPTED_AGENT_STATE_DIR, else the system's temp folder) and on session/load replays it as
// user_message_chunk / agent_message_chunk updates before answering (and sends one
// available_commands_update right after the answer, as Codex does); "fail" advertises it but
// answers every session/load with an error. A load of an id without a file is an error too.
//
// Prompt commands (the first word of the prompt's text):
//   echo <text>          stream <text> back in chunks of 4 characters, end_turn
//   stream <n>           n agent_message_chunk updates "chunk <i>\n", end_turn
//   flood <n>            n updates as fast as possible (alternating text and thought), end_turn
//   rate <n> <per_sec>   n agent_message_chunk updates at per_sec a second (in 10 ms ticks), end_turn
//   tool <path>          a tool_call (edit, with a location and a diff) then its completion, end_turn
//   write <path> <text>  ask permission to write; on allow write the file (in cwd), end_turn
//   permission           ask permission; report the chosen option; end_turn
//   slow                 stream a chunk every 50 ms until cancelled (stopReason cancelled)
//   silent <ms>          say nothing for <ms>, then end_turn
//   after <ms> <command> wait <ms> (saying nothing), then do <command> as above
//   crash                stream a chunk, write to stderr, exit 3 mid-turn
//   garbage              print a non-JSON line, then a chunk, end_turn
//   unknown              an update of a kind no client knows, end_turn
//   huge <mb>            one agent_message_chunk of <mb> MiB, end_turn
//   plan                 a plan with three entries, a usage_update, end_turn
//   context              reply with the first 200 characters of the prompt text
//   envlen <NAME>        reply with the length of the environment variable NAME (never its value)
//   recall               reply with the earlier prompts of this session, as this agent remembers them
//   pid                  reply with this process's id
//   whereami             reply with JSON facts about where this process runs: { containerenv
//                        (whether /run/.containerenv exists, podman's marker inside a container),
//                        processCwd, sessionCwd (the cwd of session/new or session/load),
//                        hostname, pid }
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

const mode = process.env.SCRIPTED_AGENT_MODE ?? "normal";
if (mode === "exit_at_once") {
  process.stderr.write("scripted agent: exiting at once as asked\n");
  process.exit(7);
}
if (mode === "stdout_garbage") process.stdout.write("Welcome to the agent! (not JSON)\n");

let nextId = 1000;
const waiting = new Map();
let cwd = process.cwd();
let cancelled = false;
let sessionId = null;
const loadSession = process.env.SCRIPTED_AGENT_LOAD_SESSION ?? "0";
const stateDir = process.env.SCRIPTED_AGENT_STATE_DIR || tmpdir();
// The conversation: [{ user, agent }], persisted when loadSession is "1".
let history = [];

function statePath(id) {
  return join(stateDir, `scripted-acp-${id.replace(/[^A-Za-z0-9_-]/g, "_")}.json`);
}
function persist() {
  if (loadSession !== "1" || !sessionId) return;
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(statePath(sessionId), JSON.stringify({ cwd, history }));
}

function send(message) {
  process.stdout.write(JSON.stringify({ jsonrpc: "2.0", ...message }) + "\n");
}
function update(update) {
  send({ method: "session/update", params: { sessionId, update } });
}
function text(t) {
  if (history.length > 0) history[history.length - 1].agent += t;
  update({ sessionUpdate: "agent_message_chunk", content: { type: "text", text: t } });
}
function call(method, params) {
  const id = nextId++;
  send({ id, method, params });
  return new Promise((resolve) => waiting.set(id, resolve));
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function askPermission(title, path) {
  const toolCallId = `perm-${nextId}`;
  update({ sessionUpdate: "tool_call", toolCallId, title, kind: "edit", status: "pending",
           locations: path ? [{ path, line: 1 }] : [] });
  const answer = await call("session/request_permission", {
    sessionId,
    toolCall: { toolCallId, title, kind: "edit", locations: path ? [{ path, line: 1 }] : [] },
    options: [
      { optionId: "allow", name: "Allow once", kind: "allow_once" },
      { optionId: "allow-always", name: "Always allow", kind: "allow_always" },
      { optionId: "reject", name: "Reject", kind: "reject_once" },
    ],
  });
  return { toolCallId, outcome: answer.result?.outcome };
}

async function runPrompt(promptText, fullText = promptText) {
  const [command, ...rest] = promptText.trim().split(/\s+/);
  const arg = rest.join(" ");
  switch (command) {
    case "echo":
      for (let i = 0; i < arg.length; i += 4) text(arg.slice(i, i + 4));
      return "end_turn";
    case "stream":
      for (let i = 0; i < Number(arg); i++) text(`chunk ${i}\n`);
      return "end_turn";
    case "flood":
      for (let i = 0; i < Number(arg); i++) {
        if (i % 2 === 0) text(`t${i} `);
        else update({ sessionUpdate: "agent_thought_chunk", content: { type: "text", text: `th${i} ` } });
      }
      return "end_turn";
    case "rate": {
      const [n, perSec] = rest.map(Number);
      const perTick = Math.max(1, Math.round(perSec / 100));
      const started = Date.now();
      for (let i = 0; i < n && !cancelled; ) {
        for (let k = 0; k < perTick && i < n; k++, i++) text(`rate ${i} `);
        const due = started + ((i / perSec) * 1000);
        await sleep(Math.max(0, due - Date.now()));
      }
      return cancelled ? "cancelled" : "end_turn";
    }
    case "tool": {
      const toolCallId = "tool-1";
      update({ sessionUpdate: "tool_call", toolCallId, title: `Edit ${arg}`, kind: "edit",
               status: "in_progress", locations: [{ path: arg, line: 42 }] });
      update({ sessionUpdate: "tool_call_update", toolCallId, status: "completed",
               content: [{ type: "diff", path: arg, oldText: "old line\n", newText: "new line\n" }] });
      text(`I changed \`${arg}:42\`.`);
      return "end_turn";
    }
    case "write": {
      const [path, ...words] = rest;
      const { toolCallId, outcome } = await askPermission(`Write ${path}`, path);
      if (cancelled || outcome?.outcome === "cancelled") return "cancelled";
      if (outcome?.optionId?.startsWith("allow")) {
        writeFileSync(join(cwd, path), words.join(" ") + "\n");
        update({ sessionUpdate: "tool_call_update", toolCallId, status: "completed" });
        text(`Wrote ${path}.`);
      } else {
        update({ sessionUpdate: "tool_call_update", toolCallId, status: "failed" });
        text(`Did not write ${path}.`);
      }
      return "end_turn";
    }
    case "permission": {
      const { outcome } = await askPermission("Run the tests", null);
      if (cancelled || outcome?.outcome === "cancelled") return "cancelled";
      text(`chosen: ${outcome?.optionId}`);
      return "end_turn";
    }
    case "slow":
      for (let i = 0; !cancelled; i++) {
        text(`slow ${i}\n`);
        await sleep(50);
      }
      return "cancelled";
    case "silent":
      await sleep(Number(arg));
      text("done being silent");
      return "end_turn";
    case "after": {
      const [ms, ...command] = rest;
      await sleep(Number(ms));
      if (cancelled) return "cancelled";
      return runPrompt(command.join(" "), fullText);
    }
    case "crash":
      text("about to crash");
      await sleep(20);
      process.stderr.write("scripted agent: simulated crash (segfault in the model)\n");
      process.exit(3);
    case "garbage":
      process.stdout.write("this line is not JSON-RPC\n");
      text("after garbage");
      return "end_turn";
    case "unknown":
      update({ sessionUpdate: "brand_new_kind", payload: { x: 1 } });
      text("after unknown");
      return "end_turn";
    case "huge":
      text("x".repeat(Math.round(Number(arg) * 1024 * 1024)));
      return "end_turn";
    case "plan":
      update({ sessionUpdate: "plan", entries: [
        { content: "Read the code", priority: "high", status: "completed" },
        { content: "Change it", priority: "medium", status: "in_progress" },
        { content: "Test it", priority: "low", status: "pending" } ] });
      update({ sessionUpdate: "usage_update", used: 1200, size: 200000, cost: { amount: 0.01, currency: "USD" } });
      return "end_turn";
    case "envlen":
      text(`length ${(process.env[arg] ?? "").length}`);
      return "end_turn";
    case "context":
      text(fullText.slice(0, 200));
      return "end_turn";
    case "recall":
      text(`remembered: ${history.slice(0, -1).map((h) => h.user).join(" | ")}`);
      return "end_turn";
    case "pid":
      text(`pid ${process.pid}`);
      return "end_turn";
    case "whereami":
      text(JSON.stringify({ containerenv: existsSync("/run/.containerenv"), processCwd: process.cwd(),
                            sessionCwd: cwd, hostname: hostname(), pid: process.pid }));
      return "end_turn";
    default:
      text(`unknown command: ${command}`);
      return "end_turn";
  }
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on("line", async (line) => {
  if (!line.trim()) return;
  const message = JSON.parse(line);
  if (message.id !== undefined && message.method === undefined) {
    const resolve = waiting.get(message.id);
    waiting.delete(message.id);
    resolve?.(message);
    return;
  }
  switch (message.method) {
    case "initialize":
      if (mode === "no_initialize") return;
      send({ id: message.id, result: {
        protocolVersion: 1,
        agentCapabilities: { loadSession: loadSession === "1" || loadSession === "fail" },
        authMethods: [],
        agentInfo: { name: "scripted-acp-agent", version: "1.0.0" },
      } });
      return;
    case "session/new":
      cwd = message.params.cwd;
      sessionId = `scripted-${process.pid}-${Date.now()}`;
      history = [];
      persist();
      send({ id: message.id, result: { sessionId,
        modes: { currentModeId: "auto", availableModes: [
          { id: "auto", name: "Auto" }, { id: "default", name: "Default" } ] } } });
      update({ sessionUpdate: "available_commands_update", availableCommands: [] });
      return;
    case "session/load": {
      const id = message.params.sessionId;
      if (loadSession === "fail") {
        send({ id: message.id, error: { code: -32603, message: "scripted agent: loading sessions is broken" } });
        return;
      }
      const path = statePath(String(id));
      if (loadSession !== "1" || !existsSync(path)) {
        send({ id: message.id, error: { code: -32002, message: `unknown session ${id}` } });
        return;
      }
      const saved = JSON.parse(readFileSync(path, "utf8"));
      sessionId = id;
      cwd = message.params.cwd;
      history = saved.history;
      for (const entry of history) {
        update({ sessionUpdate: "user_message_chunk", content: { type: "text", text: entry.user } });
        if (entry.agent) update({ sessionUpdate: "agent_message_chunk", content: { type: "text", text: entry.agent } });
      }
      send({ id: message.id, result: {
        modes: { currentModeId: "auto", availableModes: [
          { id: "auto", name: "Auto" }, { id: "default", name: "Default" } ] } } });
      // Right after the answer, as Codex does: an update that is new, not history.
      update({ sessionUpdate: "available_commands_update", availableCommands: [] });
      return;
    }
    case "session/set_mode":
      update({ sessionUpdate: "current_mode_update", currentModeId: message.params.modeId });
      send({ id: message.id, result: {} });
      return;
    case "session/prompt": {
      cancelled = false;
      const promptText = message.params.prompt.map((b) => b.text ?? "").join("");
      // A prompt with earlier conversation as context ends with the user's own text after a
      // separator: the command is there.
      const own = promptText.split("\n\n---\n\n").pop();
      history.push({ user: own, agent: "" });
      persist();
      const stopReason = await runPrompt(own, promptText);
      persist();
      send({ id: message.id, result: { stopReason } });
      return;
    }
    case "session/cancel":
      cancelled = true;
      return;
    default:
      if (message.id !== undefined) {
        send({ id: message.id, error: { code: -32601, message: `method not found: ${message.method}` } });
      }
  }
});
rl.on("close", () => process.exit(0));
