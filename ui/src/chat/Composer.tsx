// The prompt box. Enter sends, Shift+Enter is a new line, Escape clears, ArrowUp/ArrowDown at
// the start/end of the text walk through the prompts sent before. Its text is controlled by the
// caller (ChatView keeps it in the chat store). The mic dictates: the transcript is inserted at
// the caret and, like typed text, waits for the user to send it.
import { useId, useLayoutEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { MicButton, VoiceStatus } from "../features/voice/VoiceControls";
import { useVoiceInput } from "../features/voice/useVoiceInput";
import { Button, SendIcon } from "../shared/ui";
import type { AgentChoice } from "./types";

export type AgentPicker = {
  agents: AgentChoice[] | undefined;
  value: string | null;
  onChange: (agentId: string) => void;
  error?: string | null;
};

type ComposerProps = {
  value: string;
  onChange: (text: string) => void;
  onSend: (text: string) => void;
  /** Why sending is not possible right now (shown); null when it is. Typing stays possible. */
  blockedReason: string | null;
  /** No composing at all (no workspace or session). */
  disabled?: boolean;
  placeholder?: string;
  /** Prompts sent before, oldest first. */
  history?: readonly string[];
  /** For a new chat: which agent to start. */
  agentPicker?: AgentPicker;
  /** A send is on its way. */
  sending?: boolean;
  error?: string | null;
};

/** Where to put the caret after the text changes: an end, an offset, or leave it. */
type Caret = "start" | "end" | number | null;

export function Composer({
  value,
  onChange,
  onSend,
  blockedReason,
  disabled = false,
  placeholder = "Message the agent",
  history = [],
  agentPicker,
  sending = false,
  error = null,
}: ComposerProps) {
  const inputId = useId();
  const noteId = useId();
  const agentId = useId();
  const textarea = useRef<HTMLTextAreaElement>(null);
  // Where we are in the history while walking it, and the draft we left to do so.
  const [position, setPosition] = useState<number | null>(null);
  const stash = useRef("");
  const caret = useRef<Caret>(null);
  // The latest text, for a transcript that arrives after renders.
  const latest = useRef(value);
  latest.current = value;
  const voiceStatusId = useId();
  const voice = useVoiceInput(insertTranscript);

  useLayoutEffect(() => {
    const element = textarea.current;
    if (!element || caret.current === null) return;
    const at = typeof caret.current === "number" ? Math.min(caret.current, element.value.length) : caret.current === "start" ? 0 : element.value.length;
    element.setSelectionRange(at, at);
    caret.current = null;
  }, [value]);

  const noAgent = agentPicker !== undefined && (agentPicker.value === null || !agentPicker.agents?.some((agent) => agent.id === agentPicker.value && agent.available));
  const reason = disabled ? null : (blockedReason ?? (noAgent ? "Pick an available agent first" : null));
  const canSend = !disabled && !sending && reason === null && value.trim().length > 0;

  function send() {
    if (!canSend) return;
    setPosition(null);
    onSend(value);
  }

  /** Puts dictated text where the caret is (replacing a selection), spaced from its neighbours. */
  function insertTranscript(text: string) {
    const element = textarea.current;
    const current = latest.current;
    const start = Math.min(element?.selectionStart ?? current.length, current.length);
    const end = Math.max(start, Math.min(element?.selectionEnd ?? current.length, current.length));
    const before = current.slice(0, start);
    const after = current.slice(end);
    const lead = before !== "" && !/\s$/.test(before) ? " " : "";
    const trail = after !== "" && !/^\s/.test(after) ? " " : "";
    caret.current = start + lead.length + text.length;
    setPosition(null);
    onChange(`${before}${lead}${text}${trail}${after}`);
    element?.focus();
  }

  function recall(next: number | null, at: Caret) {
    setPosition(next);
    caret.current = at;
    onChange(next === null ? stash.current : (history[next] ?? ""));
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.nativeEvent.isComposing) return;
    const element = event.currentTarget;
    const modified = event.altKey || event.ctrlKey || event.metaKey;
    if (event.key === "Enter" && !event.shiftKey && !modified) {
      event.preventDefault();
      send();
    } else if (event.key === "Escape") {
      if (value === "" && position === null) return; // nothing to clear: let Escape mean what it means elsewhere
      event.preventDefault();
      event.stopPropagation();
      setPosition(null);
      onChange("");
    } else if (event.key === "ArrowUp" && !event.shiftKey && !modified) {
      if (element.selectionStart !== 0 || element.selectionEnd !== 0 || history.length === 0) return;
      const next = position === null ? history.length - 1 : position - 1;
      if (next < 0) return;
      event.preventDefault();
      if (position === null) stash.current = value;
      recall(next, "start");
    } else if (event.key === "ArrowDown" && !event.shiftKey && !modified) {
      if (position === null || element.selectionStart !== value.length || element.selectionEnd !== value.length) return;
      event.preventDefault();
      recall(position + 1 >= history.length ? null : position + 1, "end");
    }
  }

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    send();
  }

  return (
    <form className="composer chat-composer" aria-label="Message composer" onSubmit={onSubmit} data-testid="chat-composer">
      {agentPicker ? (
        <div className="chat-composer__agent">
          <label htmlFor={agentId} className="chat-composer__agent-label">
            Agent
          </label>
          <select
            id={agentId}
            className="select chat-composer__agent-select"
            value={agentPicker.value ?? ""}
            disabled={disabled || agentPicker.agents === undefined}
            onChange={(event) => agentPicker.onChange(event.target.value)}
          >
            {agentPicker.agents === undefined ? <option value="">Loading agents…</option> : null}
            {agentPicker.agents?.length === 0 ? <option value="">No agents</option> : null}
            {agentPicker.agents?.map((agent) => (
              <option key={agent.id} value={agent.id} disabled={!agent.available}>
                {agent.available ? agent.name : `${agent.name} — ${agent.reason ?? "unavailable"}`}
              </option>
            ))}
          </select>
          {agentPicker.error ? (
            <span className="field__error" role="alert">
              {agentPicker.error}
            </span>
          ) : null}
        </div>
      ) : null}
      <div className="chat-composer__row">
        <label htmlFor={inputId} className="sr-only">
          Message
        </label>
        <textarea
          id={inputId}
          ref={textarea}
          className="composer__input"
          rows={2}
          value={value}
          disabled={disabled}
          placeholder={placeholder}
          aria-describedby={noteId}
          onChange={(event) => {
            setPosition(null);
            onChange(event.target.value);
          }}
          onKeyDown={onKeyDown}
        />
        <MicButton voice={voice} disabled={disabled} describedBy={voice.phase === "idle" ? undefined : voiceStatusId} />
        <Button type="submit" variant="primary" className="composer__send" disabled={!canSend} aria-describedby={noteId}>
          <SendIcon /> <span>{sending ? "Sending…" : "Send"}</span>
        </Button>
      </div>
      <VoiceStatus voice={voice} id={voiceStatusId} />
      <p id={noteId} className={reason ? "chat-composer__note" : "sr-only"} data-testid="chat-composer-note">
        {disabled ? "The composer is disabled until a workspace is selected." : (reason ?? "Enter sends, Shift+Enter starts a new line, Escape clears.")}
      </p>
      {error ? (
        <p className="field__error" role="alert" data-testid="chat-composer-error">
          {error}
        </p>
      ) : null}
    </form>
  );
}
