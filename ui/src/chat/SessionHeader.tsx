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
};

export function SessionHeader({ session, title, agentName, state, usage, onOpenSession }: SessionHeaderProps) {
  const shownState = state ?? session?.state ?? null;
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
        </Banner>
      ) : null}
    </div>
  );
}
