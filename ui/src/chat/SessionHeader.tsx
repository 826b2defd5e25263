import { useState } from "react";
import { Banner } from "../shared/ui";
import { formatUsage } from "./format";
import type { Usage } from "./reducer";
import { StateBadge } from "./SessionList";
import type { ChatSession, SessionState } from "./types";

type SessionHeaderProps = {
  session: ChatSession | undefined;
  /** From the events: session_info_update's title, the running agent, live state and usage. */
  title: string | null;
  agentName: string | null;
  state: SessionState | null;
  usage: Usage | null;
  onOpenSession: (sessionId: string, seq?: number) => void;
  /** Ready workspaces to go on in when this chat's was deleted; null: not offered. */
  targets?: Array<{ id: string; name: string }> | null;
  /** Continues the chat (its whole history as context) in that workspace. */
  onContinueIn?: (workspaceId: string) => void;
  continuing?: boolean;
};

export function SessionHeader({ session, title, agentName, state, usage, onOpenSession, targets = null, onContinueIn, continuing = false }: SessionHeaderProps) {
  const shownState = state ?? session?.state ?? null;
  const [target, setTarget] = useState("");
  const chosen = targets?.find((workspace) => workspace.id === target)?.id ?? targets?.[0]?.id ?? null;
  return (
    <div className="chat-session-header" data-testid="chat-session-header">
      <div className="chat-session-header__row">
        <h2 className="chat-session-header__title" data-testid="chat-session-title">
          {title ?? session?.title ?? "Chat"}
        </h2>
        <span className="chat-session-header__agent muted small">{agentName ?? session?.agent ?? ""}</span>
        {shownState ? <StateBadge state={shownState} /> : null}
        {usage ? (
          <span className="chat-session-header__usage muted small" data-testid="chat-usage" title="Context used / context size">
            {formatUsage(usage)}
          </span>
        ) : null}
      </div>
      {session?.forked_from ? (
        <p className="muted small">
          Forked from{" "}
          <button type="button" className="chat-link-button" onClick={() => onOpenSession(session.forked_from!.session_id, session.forked_from!.seq)}>
            an earlier chat
          </button>
        </p>
      ) : null}
      {session?.workspace_gone ? (
        <Banner tone="info" title="Workspace deleted — history kept" compact data-testid="chat-workspace-gone">
          <p>{session.workspace_name} was deleted. This chat can still be read, searched and forked.</p>
          {targets && onContinueIn ? (
            targets.length === 0 ? (
              <p className="muted small">Create a workspace to go on with this conversation there.</p>
            ) : (
              <div className="chat-continue">
                <label htmlFor="chat-continue-target" className="small">
                  Go on in
                </label>
                <select id="chat-continue-target" className="select select--small" value={chosen ?? ""} onChange={(event) => setTarget(event.target.value)} data-testid="chat-continue-target">
                  {targets.map((workspace) => (
                    <option key={workspace.id} value={workspace.id}>
                      {workspace.name}
                    </option>
                  ))}
                </select>
                <button type="button" className="button button--small" disabled={chosen === null || continuing} onClick={() => chosen && onContinueIn(chosen)} data-testid="chat-continue">
                  {continuing ? "Continuing…" : "Continue there"}
                </button>
              </div>
            )
          ) : null}
        </Banner>
      ) : null}
    </div>
  );
}
